"""Kitchen headcounts: meals by diet and PAI baskets per site and day, for the caterer.

``canteen.kitchen`` on the facade. Counts come straight from the storage's headcount query
(one grouped query for any number of sites and a range), so they stay fast for a city.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._validators import check_date
from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.headcount import KitchenCount, without_counts
from canteen_core.domain.menus import AllergyFlag
from canteen_core.domain.policy import Action
from canteen_core.services.menus import day_allergy_flags
from canteen_core.services.runner import ServiceBase

__all__ = ["KitchenService"]

#: The longest range one call may count (a school year and a bit).
_MAX_DAYS = 400


def _site(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError("identifiant de site attendu", path="site_id")
    return value


class KitchenService(ServiceBase):
    """Headcounts for staff and scheduled jobs."""

    def headcounts(
        self,
        actor: Actor,
        site_id: str,
        start: date,
        end: date,
        *,
        service_id: str | None = None,
    ) -> tuple[KitchenCount, ...]:
        """One count per day from ``start`` to ``end`` at ``site_id`` (zeros included)."""
        site_id = _site(site_id)
        return self.headcounts_of_sites(actor, [site_id], start, end, service_id=service_id)[
            site_id
        ]

    def headcount(
        self, actor: Actor, site_id: str, day: date, *, service_id: str | None = None
    ) -> KitchenCount:
        """The count for one site and day."""
        return self.headcounts(actor, site_id, day, day, service_id=service_id)[0]

    def headcounts_by_site(
        self, actor: Actor, site_ids: Iterable[str], day: date, *, service_id: str | None = None
    ) -> dict[str, KitchenCount]:
        """Counts of one day for several sites, in one transaction (the caterer's order)."""
        day = check_date(day, "day")
        counts = self.headcounts_of_sites(actor, site_ids, day, day, service_id=service_id)
        return {site: days[0] for site, days in counts.items()}

    def headcounts_of_sites(
        self,
        actor: Actor,
        site_ids: Iterable[str],
        start: date,
        end: date,
        *,
        service_id: str | None = None,
    ) -> dict[str, tuple[KitchenCount, ...]]:
        """Each site's counts per day from ``start`` to ``end`` (zeros included), in one
        transaction and one grouped query: a caterer's month for a whole city.

        The result keeps the order of ``site_ids`` (repeated ids count once).
        """
        sites = [_site(site_id) for site_id in dict.fromkeys(site_ids)]
        first, last = check_date(start, "start"), check_date(end, "end")
        if last < first:
            raise InvalidInputError(ends_before_start_fr("la période", first, last), path="end")
        if (last - first).days >= _MAX_DAYS:
            raise InvalidInputError(
                f"une période de {_MAX_DAYS} jours au plus est attendue", path="end"
            )
        with self._ctx.use_case(actor, Action.VIEW_HEADCOUNT, read_only=True) as tx:
            if not sites:
                return {}
            counts = tx.uow.reservations.headcount(sites, first, last, service_id=service_id)
            if service_id is None:
                # Meals only: activities without a meal (evening care) are not cooked for.
                for entry in tx.uow.services.list():
                    if not entry.service.meal:
                        counts = without_counts(
                            counts,
                            tx.uow.reservations.headcount(
                                sites, first, last, service_id=entry.service.id
                            ),
                        )
        days = (last - first).days + 1
        # The port orders its counts by site, then day.
        return {site: tuple(counts[i * days : (i + 1) * days]) for i, site in enumerate(sites)}

    def allergy_flags(
        self, actor: Actor, site_id: str, day: date, *, service_id: str | None = None
    ) -> tuple[AllergyFlag, ...]:
        """The children booked at ``site_id`` on ``day`` whose PAI lists an allergen of the
        day's menu (see :meth:`canteen_core.services.menus.MenuService.allergy_flags`)."""
        day = check_date(day, "day")
        site = _site(site_id)
        with self._ctx.use_case(actor, Action.VIEW_HEADCOUNT, read_only=True) as tx:
            return day_allergy_flags(tx, site, day, service_id=service_id)
