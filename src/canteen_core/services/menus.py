"""Weekly menus per site and the allergy flags of the kitchen: ``canteen.menus`` on the facade.

Staff publish a site's menu for a week (:meth:`MenuService.publish`; a new version replaces
the week's menu); every portal user reads it (:meth:`MenuService.week`). The allergens of a
child's PAI are recorded on the child (:meth:`MenuService.set_pai_allergens`, when staff
accept the PAI), and the kitchen's sheet for a day flags the children booked that day whose PAI
lists an allergen of the day's menu (:meth:`MenuService.allergy_flags`, also
``canteen.kitchen.allergy_flags``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import attrs

from canteen_core.domain._validators import check_date
from canteen_core.domain.actors import Actor
from canteen_core.domain.allergens import Allergen, parse_allergens
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Child
from canteen_core.domain.menus import (
    AllergyFlag,
    DayMenu,
    WeekMenu,
    allergy_flags,
    menu_id,
    week_of,
)
from canteen_core.domain.policy import Action
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = ["MenuService", "day_allergy_flags"]


def _site(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError("identifiant de site attendu", path="site_id")
    return value


def day_allergy_flags(
    tx: Transaction, site_id: str, day: date, *, service_id: str | None = None
) -> tuple[AllergyFlag, ...]:
    """The children booked at ``site_id`` on ``day`` for a service with a meal whose PAI lists
    an allergen of the day's menu (none without a menu that day); a child booked for two
    services with a meal that day is flagged once."""
    week = tx.uow.menus.find(menu_id(site_id, week_of(day)))
    menu = week.day(day) if week is not None else None
    if menu is None:
        return ()
    enrollments = [
        enrollment
        for enrollment in tx.uow.enrollments.list(site_id=site_id)
        if enrollment.service.meal
        and (service_id is None or enrollment.service.id == service_id)
        and enrollment.start <= day <= enrollment.end
        and enrollment.is_bookable(day)
    ]
    books = tx.uow.reservations.load_many((e.id for e in enrollments), between=(day, day))
    booked = [e for e in enrollments if books[e.id].is_booked(day)]
    households = tx.uow.households.find_many({e.household_id for e in booked})
    children = []
    seen: set[tuple[str, str]] = set()
    for enrollment in booked:
        household = households.get(enrollment.household_id)
        if household is None or (enrollment.household_id, enrollment.child_id) in seen:
            continue
        seen.add((enrollment.household_id, enrollment.child_id))
        child = household.child(enrollment.child_id)
        children.append(
            (
                enrollment.id,
                enrollment.household_id,
                child.id,
                child.display_name,
                child.pai_allergens,
            )
        )
    return allergy_flags(menu, children)


class MenuService(ServiceBase):
    """Menus (staff publish, everyone reads), PAI allergens, the kitchen's allergy flags."""

    def publish(self, actor: Actor, menu: WeekMenu) -> WeekMenu:
        """Publish a site's menu for a week (replacing the one published before);
        ``NotFoundError`` for an unknown site."""
        if not isinstance(menu, WeekMenu):
            raise InvalidInputError(
                f"menu de la semaine attendu, reçu {type(menu).__name__}", path="menu"
            )
        with self._ctx.use_case(actor, Action.PUBLISH_MENUS) as tx:
            tx.uow.sites.get(menu.site_id)
            previous = tx.uow.menus.find(menu.id)
            tx.uow.menus.save(menu)
            tx.audit.change(f"menu:{menu.id}", "menu", previous, menu)
            tx.audit.describe(f"Menus de {menu.site_id}, semaine du {menu.week.isoformat()}")
        return menu

    def week(self, actor: Actor, site_id: str, week: date) -> WeekMenu | None:
        """The site's menu for the ISO week of ``week`` (any day of it), or ``None``."""
        monday = week_of(check_date(week, "week"))
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            tx.filtered()  # published menus are no household's data
            return tx.uow.menus.find(menu_id(_site(site_id), monday))

    def day(self, actor: Actor, site_id: str, day: date) -> DayMenu | None:
        """The site's menu of ``day``, or ``None``."""
        week = self.week(actor, site_id, day)
        return week.day(day) if week is not None else None

    def set_pai_allergens(
        self,
        actor: Actor,
        household_id: str,
        child_id: str,
        allergens: Iterable[Allergen | str],
    ) -> Child:
        """Record the allergens a child's PAI lists (codes or French names); a non-empty list
        marks the child as having a PAI. ``NotFoundError`` for an unknown household or child."""
        wanted = parse_allergens(allergens, path="allergens")
        with self._ctx.use_case(actor, Action.REVIEW_DOCUMENTS) as tx:
            tx.authorize(household_id)
            household = tx.uow.households.get(household_id)
            child = household.child(child_id)
            changed = attrs.evolve(child, pai_allergens=wanted, pai=child.pai or bool(wanted))
            tx.uow.households.save(household.with_child(changed))
            tx.audit.change(
                f"child:{child_id}",
                "pai_allergens",
                sorted(a.value for a in child.pai_allergens),
                sorted(a.value for a in wanted),
                household_id=household_id,
            )
        return changed

    def allergy_flags(
        self, actor: Actor, site_id: str, day: date, *, service_id: str | None = None
    ) -> tuple[AllergyFlag, ...]:
        """The children booked at the site on ``day`` whose PAI lists an allergen present in
        the day's menu, with the allergens and dishes concerned (for the kitchen)."""
        day = check_date(day, "day")
        site = _site(site_id)
        with self._ctx.use_case(actor, Action.VIEW_HEADCOUNT, read_only=True) as tx:
            return day_allergy_flags(tx, site, day, service_id=service_id)
