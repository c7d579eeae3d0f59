"""Weekly menus per site, with their allergens, and the children a day's menu puts at risk.

A :class:`WeekMenu` is a site's menu for an ISO week: for each day served, a :class:`DayMenu`
with its starter, main course, side, dessert and the daily vegetarian option, each a
:class:`Dish` listing the allergens of regulation (EU) 1169/2011 it contains. The EGalim law
(art. L. 230-5-6 of the rural code) requires at least one vegetarian menu a week in school
restaurants: a week without a day marked ``vegetarian`` is refused.

:func:`allergy_flags` crosses a day's menu with the children booked that day: a child whose
PAI lists an allergen present in the menu is flagged for the kitchen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import attrs

from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain._validators import a_date, items_of, non_empty_str
from canteen_core.domain.allergens import Allergen, parse_allergens
from canteen_core.domain.errors import InvalidInputError

__all__ = ["AllergyFlag", "Course", "DayMenu", "Dish", "WeekMenu", "allergy_flags", "week_of"]


class Course(LabelledEnum):
    """A place in the day's menu; ``label`` is the French name: ``"Plat"``."""

    STARTER = "starter", "Entrée"
    MAIN = "main", "Plat"
    SIDE = "side", "Accompagnement"
    DESSERT = "dessert", "Dessert"
    VEGETARIAN_OPTION = "vegetarian_option", "Option végétarienne"


def _allergens(value: object) -> frozenset[Allergen]:
    return parse_allergens(value)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class Dish:
    """A dish and the regulated allergens it contains: ``Dish(name="Pâtes au pesto",
    allergens={"gluten", "nuts", "milk"})``."""

    name: str = attrs.field(validator=non_empty_str)
    allergens: frozenset[Allergen] = attrs.field(factory=frozenset, converter=_allergens)

    @property
    def allergen_labels(self) -> tuple[str, ...]:
        """The allergens in French, sorted."""
        return tuple(sorted(allergen.label for allergen in self.allergens))


def _dish(_: object, attribute: attrs.Attribute[Dish | None], value: object) -> None:
    if value is not None and not isinstance(value, Dish):
        raise InvalidInputError(f"plat attendu, reçu {type(value).__name__}", path=attribute.name)


def _main(_: object, attribute: attrs.Attribute[Dish], value: object) -> None:
    if not isinstance(value, Dish):
        raise InvalidInputError("le plat principal est obligatoire", path=attribute.name)


@attrs.frozen(kw_only=True)
class DayMenu:
    """One day's menu. ``vegetarian``: the whole menu is vegetarian (the EGalim weekly menu);
    ``vegetarian_option`` is the alternative main course offered every day."""

    day: date = attrs.field(validator=a_date)
    main: Dish = attrs.field(validator=_main)
    starter: Dish | None = attrs.field(default=None, validator=_dish)
    side: Dish | None = attrs.field(default=None, validator=_dish)
    dessert: Dish | None = attrs.field(default=None, validator=_dish)
    vegetarian_option: Dish | None = attrs.field(default=None, validator=_dish)
    vegetarian: bool = False

    def dishes(self) -> tuple[tuple[Course, Dish], ...]:
        """The day's dishes in menu order, with their course."""
        courses = (
            (Course.STARTER, self.starter),
            (Course.MAIN, self.main),
            (Course.SIDE, self.side),
            (Course.DESSERT, self.dessert),
            (Course.VEGETARIAN_OPTION, self.vegetarian_option),
        )
        return tuple((course, dish) for course, dish in courses if dish is not None)

    @property
    def allergens(self) -> frozenset[Allergen]:
        """Every allergen present in the day's menu."""
        return frozenset().union(*(dish.allergens for _, dish in self.dishes()))

    def dishes_with(self, allergens: Iterable[Allergen]) -> tuple[Dish, ...]:
        """The dishes containing one of ``allergens``."""
        wanted = frozenset(allergens)
        return tuple(dish for _, dish in self.dishes() if dish.allergens & wanted)


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInputError("une date (sans heure) est attendue", path="week")
    return day - timedelta(days=day.weekday())


def _days(value: object) -> tuple[DayMenu, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise InvalidInputError("les menus du jour forment une liste", path="days")
    return tuple(sorted(items_of(DayMenu, value, "days"), key=lambda menu: menu.day))


def _monday(_: object, attribute: attrs.Attribute[date], value: object) -> None:
    a_date(_, attribute, value)
    assert isinstance(value, date)
    if value.weekday() != 0:
        raise InvalidInputError(
            f"une semaine de menus commence un lundi, pas le {value.isoformat()}",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class WeekMenu:
    """A site's menus for the ISO week starting on ``week`` (a Monday).

    Refused: a day outside the week or given twice, no day at all, and a week without a
    vegetarian menu (EGalim).
    """

    site_id: str = attrs.field(validator=non_empty_str)
    week: date = attrs.field(validator=_monday)
    days: tuple[DayMenu, ...] = attrs.field(converter=_days)

    def __attrs_post_init__(self) -> None:
        if not self.days:
            raise InvalidInputError("un menu de la semaine a au moins un jour", path="days")
        seen: set[date] = set()
        for menu in self.days:
            if not self.week <= menu.day < self.week + timedelta(days=7):
                raise InvalidInputError(
                    f"le {menu.day.isoformat()} n'est pas dans la semaine du "
                    f"{self.week.isoformat()}",
                    path="days",
                )
            if menu.day in seen:
                raise InvalidInputError(f"le {menu.day.isoformat()} a deux menus", path="days")
            seen.add(menu.day)
        if not any(menu.vegetarian for menu in self.days):
            raise InvalidInputError(
                "la loi EGalim impose au moins un menu végétarien par semaine : "
                "marquez un jour comme végétarien",
                path="days",
            )

    @property
    def id(self) -> str:
        """``"<site_id>:<week>"``: one menu per site and week."""
        return menu_id(self.site_id, self.week)

    def day(self, day: date) -> DayMenu | None:
        """The menu of ``day``, or ``None`` when the week has none that day."""
        for menu in self.days:
            if menu.day == day:
                return menu
        return None


def menu_id(site_id: str, week: date) -> str:
    """The id of a site's menu for the week starting on ``week``."""
    return f"{site_id}:{week.isoformat()}"


@attrs.frozen(kw_only=True)
class AllergyFlag:
    """A child booked on a day whose menu contains an allergen of the child's PAI."""

    day: date
    enrollment_id: str
    household_id: str
    child_id: str
    child_name: str
    allergens: frozenset[Allergen]
    dishes: tuple[str, ...]

    @property
    def message(self) -> str:
        """``"Alban CONCERTO : Arachides (Pâtes au pesto)"``: one line for the kitchen."""
        labels = ", ".join(sorted(allergen.label for allergen in self.allergens))
        return f"{self.child_name} : {labels} ({', '.join(self.dishes)})"


def allergy_flags(
    menu: DayMenu,
    children: Iterable[tuple[str, str, str, str, frozenset[Allergen]]],
) -> tuple[AllergyFlag, ...]:
    """The children at risk from ``menu``: ``children`` are ``(enrollment_id, household_id,
    child_id, child_name, pai_allergens)`` of the children booked that day."""
    present = menu.allergens
    flags = []
    for enrollment_id, household_id, child_id, name, allergens in children:
        common = present & allergens
        if not common:
            continue
        flags.append(
            AllergyFlag(
                day=menu.day,
                enrollment_id=enrollment_id,
                household_id=household_id,
                child_id=child_id,
                child_name=name,
                allergens=common,
                dishes=tuple(dish.name for dish in menu.dishes_with(common)),
            )
        )
    return tuple(sorted(flags, key=lambda flag: (flag.child_name, flag.enrollment_id)))
