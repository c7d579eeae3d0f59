"""The family's "Tarification": the commune's grids for a school year and each child's price,
with why.

The price is the billing run's own: the same tariff book (:meth:`BillingBase._tariff_book`),
the same category rule (:func:`~canteen_core.services.billing.facts.tariff_category_of`), the
quotient valid on the day and the sibling rank among the household's children enrolled in the
service (ranked by birth date, as the run ranks the children it bills). The reasons come from
:mod:`canteen_core.domain.tariff_explanation`.
"""

from __future__ import annotations

from datetime import date

import attrs

from canteen_core.domain._validators import check_year
from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_today
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import ConfigurationError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Household
from canteen_core.domain.policy import Action
from canteen_core.domain.tariff_explanation import (
    GridTable,
    PriceExplanation,
    explain_price,
    grid_table,
    grids_in,
)
from canteen_core.domain.tariffs import DEFAULT_DISCOUNTED_CATEGORIES, sibling_ranks
from canteen_core.services.billing._base import BillingBase
from canteen_core.services.billing.facts import tariff_category_of
from canteen_core.services.runner import school_year_of

__all__ = ["HouseholdTariffs", "TariffPrices"]


@attrs.frozen(kw_only=True)
class HouseholdTariffs:
    """What the "Tarification" page shows for a household and a school year.

    ``tables``: the grids in force during the school year; ``prices``: each enrolled child's
    price on ``day`` with its reasons; ``missing``: French sentences for enrollments no grid
    prices on that day.
    """

    household_id: str
    school_year: int
    day: date
    tables: tuple[GridTable, ...]
    prices: tuple[PriceExplanation, ...]
    missing: tuple[str, ...] = ()

    @property
    def school_year_fr(self) -> str:
        """``"2023-2024"``."""
        return f"{self.school_year}-{self.school_year + 1}"


def _year_bounds(year: int) -> tuple[date, date]:
    """August to July: the span :func:`school_year_of` gives to ``year``."""
    return date(year, 8, 1), date(year + 1, 7, 31)


def _ranks(household: Household, enrollments: list[Enrollment], day: date) -> dict[str, int]:
    """Sibling ranks per (service, child) among the children enrolled in the service on
    ``day`` in a discounted category (what a billing run of that month ranks)."""
    ranks: dict[str, int] = {}
    by_service: dict[str, set[str]] = {}
    for e in enrollments:
        if e.start <= day <= e.end and tariff_category_of(e, household) in (
            DEFAULT_DISCOUNTED_CATEGORIES
        ):
            by_service.setdefault(e.service.id, set()).add(e.child_id)
    for service_id, child_ids in by_service.items():
        children = [household.child(child_id) for child_id in child_ids]
        for child_id, rank in sibling_ranks(children).items():
            ranks[f"{service_id}/{child_id}"] = rank
    return ranks


class TariffPrices(BillingBase):
    """The tariff grids of a school year and the price each child of a household pays."""

    def household_tariffs(
        self,
        actor: Actor,
        household_id: str,
        *,
        school_year: int | None = None,
        on: date | None = None,
    ) -> HouseholdTariffs:
        """The grids of ``school_year`` (default: today's) and each enrolled child's price on
        ``on`` (default: today, brought into the school year), with the reasons in French
        (a family sees its own household; staff any)."""
        today = paris_today(self._ctx.clock)
        if school_year is not None:
            check_year(school_year, "school_year")
        year = school_year if school_year is not None else school_year_of(on or today)
        first, last = _year_bounds(year)
        if on is not None and not first <= on <= last:
            raise InvalidInputError(
                f"la date doit tomber dans l'année scolaire {year}-{year + 1}", path="on"
            )
        day = on if on is not None else min(max(today, first), last)
        with self._ctx.use_case(
            actor, Action.VIEW_HOUSEHOLD, household_id=household_id, read_only=True
        ) as tx:
            household = tx.uow.households.get(household_id)
            enrollments = list(tx.uow.enrollments.list(household_id=household_id))
            book = self._tariff_book(tx.uow)
            # The commune's grids name their services as the catalog does, enrolled or not.
            services = {entry.id: entry.service for entry in tx.uow.services.list()}
        services.update((e.service.id, e.service) for e in enrollments)
        grids = grids_in(book.grids, first, last)
        tables = tuple(
            grid_table(g, service_name=service.name, unit_fr=service.priced_unit_fr)
            if (service := services.get(g.service_id)) is not None
            else grid_table(g, service_name=g.service_id)
            for g in grids
        )
        ranks = _ranks(household, enrollments, day)
        prices: list[PriceExplanation] = []
        missing: list[str] = []
        for e in sorted(enrollments, key=lambda e: (e.child_id, e.service.id, e.start)):
            if e.end < first or last < e.start:
                continue
            when = min(max(day, e.start), e.end)
            child = household.child(e.child_id)
            category = tariff_category_of(e, household)
            try:
                quote = book.quote(
                    service_id=e.service.id,
                    day=when,
                    category=category,
                    household=household,
                    sibling_rank=ranks.get(f"{e.service.id}/{e.child_id}", 1),
                )
            except (NotFoundError, ConfigurationError):
                # No grid that day, or one without the category: billing would report it too.
                missing.append(
                    f"Aucun tarif n'est en vigueur le {when:%d/%m/%Y} pour "
                    f"{child.first_name} ({e.service.name}) : contactez le service restauration"
                )
                continue
            prices.append(
                explain_price(
                    quote,
                    grid=book.grid_on(e.service.id, when),
                    household=household,
                    child=child,
                    enrollment_id=e.id,
                    service_name=e.service.name,
                    day=when,
                    enrolled_category=tariff_category_of(e),
                )
            )
        return HouseholdTariffs(
            household_id=household_id,
            school_year=year,
            day=day,
            tables=tables,
            prices=tuple(prices),
            missing=tuple(missing),
        )
