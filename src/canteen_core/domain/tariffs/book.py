"""The grids of several services (:class:`TariffBook`), and the one valid on a given day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from itertools import pairwise

import attrs

from canteen_core.domain._validators import items_of
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.families import Household
from canteen_core.domain.tariffs.adjustments import SurchargeReason
from canteen_core.domain.tariffs.grid import PriceQuote, TariffGrid
from canteen_core.domain.tariffs.pricing import TariffCategory


def _grids(items: Iterable[TariffGrid]) -> tuple[TariffGrid, ...]:
    grids = items_of(TariffGrid, items, "grids")
    return tuple(sorted(grids, key=lambda g: (g.service_id, g.valid_from)))


@attrs.frozen(kw_only=True)
class TariffBook:
    """Every grid of every service; picks the grid valid on a day.

    Two grids of one service may not overlap in time (which price would apply?). Gaps are allowed
    (a service that does not run in summer) but pricing a day in a gap raises
    :class:`NotFoundError`.
    """

    grids: tuple[TariffGrid, ...] = attrs.field(converter=_grids)
    # A quote depends only on (grid, category, QF, rank, surcharge): a billing run prices the
    # same few combinations tens of thousands of times, so each is computed once per book.
    _quotes: dict[tuple[object, ...], PriceQuote] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )
    # Per grid id, the priced part of its quotes shared by every QF under one price rule (one
    # bracket...): a new household's quote only records its QF (see TariffGrid._quote).
    _priced: dict[str, dict[tuple[object, ...], PriceQuote]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )
    # Per service, the days a grid starts or the day after one ends (see quote_days).
    _edges: dict[str, frozenset[date]] = attrs.field(factory=dict, init=False, eq=False, repr=False)
    # (service id, day) -> the grid valid that day: a run prices a month's few days many times.
    _on_day: dict[tuple[str, date], TariffGrid] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        ids = [g.id for g in self.grids]
        if len(ids) != len(set(ids)):
            raise InvalidInputError("deux grilles ont le même identifiant", path="grids")
        for earlier, later in pairwise(self.grids):
            if earlier.service_id != later.service_id:
                continue
            if earlier.valid_until is None or earlier.valid_until >= later.valid_from:
                raise InvalidInputError(
                    f"les grilles {earlier.id} et {later.id} de la prestation "
                    f"{earlier.service_id} se chevauchent dans le temps",
                    path="grids",
                )

    def grid_on(self, service_id: str, day: date) -> TariffGrid:
        """The grid of ``service_id`` valid on ``day``; :class:`NotFoundError` if none."""
        found = self._on_day.get((service_id, day))
        if found is not None:
            return found
        for grid in self.grids:
            if grid.service_id == service_id and grid.covers(day):
                self._on_day[(service_id, day)] = grid
                return grid
        raise NotFoundError(f"no tariff grid for service {service_id!r} on {day.isoformat()}")

    def quote(
        self,
        *,
        service_id: str,
        day: date,
        category: TariffCategory | str,
        household: Household,
        sibling_rank: int = 1,
        surcharge: SurchargeReason | None = None,
    ) -> PriceQuote:
        """Price one meal on ``day`` with the household's QF valid that day."""
        if not isinstance(household, Household):
            raise InvalidInputError("expected a Household", path="household")
        if not isinstance(day, date):
            raise InvalidInputError("expected a date", path="day")
        return self._quote_on(service_id, day, category, household, sibling_rank, surcharge)

    def _quote_on(
        self,
        service_id: str,
        day: date,
        category: TariffCategory | str,
        household: Household,
        sibling_rank: int,
        surcharge: SurchargeReason | None,
    ) -> PriceQuote:
        """:meth:`quote` once its arguments are checked (:meth:`quote_days` checks them once
        for all its days)."""
        grid = self.grid_on(service_id, day)
        quotient = household.quotient_on(day)
        key = (grid.id, category, quotient, sibling_rank, surcharge)
        found = self._quotes.get(key)
        if found is None:
            priced = self._priced.get(grid.id)
            if priced is None:
                priced = self._priced[grid.id] = {}
            found = grid._quote(category, quotient, sibling_rank, surcharge, priced)
            self._quotes[key] = found
        return found

    def quote_days(
        self,
        *,
        service_id: str,
        days: Iterable[date],
        category: TariffCategory | str,
        household: Household,
        sibling_rank: int = 1,
        surcharge: SurchargeReason | None = None,
    ) -> list[tuple[PriceQuote, list[date]]]:
        """:meth:`quote` for many days: the days, in order, grouped by their quote.

        The grid and the household's QF only change on a few dates (a grid's or a quotient's
        first day, the day after its last), so one quote is looked up per stretch of days
        between two such dates instead of one per day. Same results and errors as calling
        :meth:`quote` for each day (in order).
        """
        if not isinstance(household, Household):
            raise InvalidInputError("expected a Household", path="household")
        ordered = sorted(days)
        grid_edges = self._edges.get(service_id)
        if grid_edges is None:
            grid_edges = self._edges[service_id] = frozenset(
                edge
                for grid in self.grids
                if grid.service_id == service_id
                for edge in (
                    grid.valid_from,
                    None if grid.valid_until is None else grid.valid_until + _ONE_DAY,
                )
                if edge is not None
            )
        if not ordered:
            return []
        first, last = ordered[0], ordered[-1]
        cuts = [edge for edge in grid_edges if first < edge <= last]
        for quotient in household.quotients:
            if first < quotient.valid_from <= last:
                cuts.append(quotient.valid_from)
            if quotient.valid_until is not None and first < quotient.valid_until + _ONE_DAY <= last:
                cuts.append(quotient.valid_until + _ONE_DAY)
        if cuts:
            cuts = sorted(set(cuts))

        if not isinstance(first, date):  # sorted: the others compared with it, dates too
            raise InvalidInputError("expected a date", path="day")
        quote_on = self._quote_on
        if not cuts:  # nothing changes within the days (the usual month): one quote
            return [
                (quote_on(service_id, first, category, household, sibling_rank, surcharge), ordered)
            ]
        # Quotes come from the book's cache: equal quotes within one call are one object.
        groups: dict[int, tuple[PriceQuote, list[date]]] = {}
        current: list[date] = []
        index, following = 0, None
        for position, day in enumerate(ordered):
            if position == 0 or (following is not None and day >= following):
                while index < len(cuts) and cuts[index] <= day:
                    index += 1
                following = cuts[index] if index < len(cuts) else None
                quote = quote_on(service_id, day, category, household, sibling_rank, surcharge)
                current = groups.setdefault(id(quote), (quote, []))[1]
            current.append(day)
        return list(groups.values())


_ONE_DAY = timedelta(days=1)
