""":func:`simulate`: one grid priced over a population, revenue per bracket and State aid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.tariffs import (
    Pricing,
    TariffCategory,
    TariffGrid,
    round_cent,
)
from canteen_core.simulation.aid import AidEligibility, AidRules
from canteen_core.simulation.population import _ZERO, Population, _require_pandas


@attrs.frozen(kw_only=True)
class BandResult:
    """Revenue and aid of one QF band (bracket) over the simulated year."""

    band: str
    households: int
    children: int
    meals: Decimal
    revenue: Decimal
    aid_meals: Decimal
    state_aid: Decimal

    @property
    def average_meal_price(self) -> Decimal:
        """Family revenue per meal in the band (0 when no meal)."""
        return round_cent(self.revenue / self.meals) if self.meals else _ZERO


@attrs.frozen(kw_only=True, eq=False)
class SimulationResult:
    """One grid priced over one population for one year.

    ``annual_costs[i]`` is what household ``household_ids[i]`` pays in the year (rounded to the
    cent). ``revenue`` is what families pay; ``state_aid`` what the State pays on top.
    """

    grid_id: str
    months: int
    on: date
    currency: str
    household_ids: tuple[str, ...]
    quotients: tuple[Decimal | None, ...]
    annual_costs: tuple[Decimal, ...]
    bands: tuple[BandResult, ...]
    revenue: Decimal
    meals: Decimal
    aid: AidEligibility
    aid_per_meal: Decimal
    aid_meals: Decimal
    state_aid: Decimal

    @property
    def total_income(self) -> Decimal:
        """Families' payments plus the State aid."""
        return self.revenue + self.state_aid

    def cost_of(self, household_id: str) -> Decimal:
        """The annual cost of one household; :class:`NotFoundError` if not in the population."""
        try:
            return self.annual_costs[self.household_ids.index(household_id)]
        except ValueError:
            raise NotFoundError(f"household {household_id!r} is not in the population") from None

    def to_dataframe(self) -> Any:
        """Per-band results as a pandas DataFrame (pandas imported lazily)."""
        pandas = _require_pandas()
        return pandas.DataFrame(
            [
                {
                    "grid": self.grid_id,
                    "band": band.band,
                    "households": band.households,
                    "children": band.children,
                    "meals": float(band.meals),
                    "revenue": float(band.revenue),
                    "average_meal_price": float(band.average_meal_price),
                    "aid_meals": float(band.aid_meals),
                    "state_aid": float(band.state_aid),
                }
                for band in self.bands
            ]
        )

    def households_dataframe(self) -> Any:
        """One row per household (id, QF, annual cost) as a pandas DataFrame."""
        pandas = _require_pandas()
        return pandas.DataFrame(
            {
                "household_id": list(self.household_ids),
                "qf": [None if q is None else float(q) for q in self.quotients],
                "annual_cost": [float(c) for c in self.annual_costs],
            }
        )


def _category_pricing(grid: TariffGrid, resident: bool) -> tuple[TariffCategory, Pricing]:
    if not resident and TariffCategory.NON_RESIDENT_CHILD in grid.prices:
        return TariffCategory.NON_RESIDENT_CHILD, grid.prices[TariffCategory.NON_RESIDENT_CHILD]
    return TariffCategory.RESIDENT_CHILD, grid.pricing(TariffCategory.RESIDENT_CHILD)


def _units(
    cache: dict[tuple[int, int], tuple[Decimal, int]],
    grid: TariffGrid,
    price_rows: Sequence[tuple[TariffCategory, Decimal | None, str, bool]],
    price_code: int,
    children: int,
    ceiling: Decimal,
) -> tuple[Decimal, int]:
    """Sum of the unit prices of children ranked 1..n, and how many are at or below ``ceiling``."""
    found = cache.get((price_code, children))
    if found is None:
        category, quotient, _, _ = price_rows[price_code]
        prices = [
            grid.unit_amount(category, quotient, sibling_rank=rank)
            for rank in range(1, children + 1)
        ]
        found = (sum(prices, _ZERO), sum(1 for price in prices if price <= ceiling))
        cache[(price_code, children)] = found
    return found


def _months(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise InvalidInputError("un nombre de mois de 1 à 12 est attendu", path="months")
    return value


def simulate(
    population: Population,
    grid: TariffGrid,
    *,
    months: int = 10,
    on: date | None = None,
    aid: AidRules | None = None,
) -> SimulationResult:
    """Price ``population`` with ``grid`` for a year of ``months`` school months.

    ``on`` is the date used for the aid amount (default: the grid's start date).
    """
    if not isinstance(population, Population):
        raise InvalidInputError("expected a Population", path="population")
    if not isinstance(grid, TariffGrid):
        raise InvalidInputError("expected a TariffGrid", path="grid")
    months = _months(months)
    rules = aid or AidRules()
    day = on or grid.valid_from
    per_meal = rules.amount_per_meal(day)
    eligibility = rules.eligibility(grid.pricing(TariffCategory.RESIDENT_CHILD))
    month_factor = Decimal(months)
    ceiling = rules.price_ceiling
    max_qf = rules.max_quotient

    # Every household with the same price (interned per distinct QF and residence) and the same
    # (children, meals) pays the same: each such group is priced once, and the per-household work
    # is one list lookup (tight comprehensions over small ints, no per-household objects).
    price_ids: dict[tuple[TariffCategory, Decimal, str, bool], int] = {}
    price_rows: list[tuple[TariffCategory, Decimal | None, str, bool]] = []
    price_of_profile: list[int] = []
    for qf in population._qf_values:
        for resident in (False, True):  # profile = QF index x 2 + resident
            category, pricing = _category_pricing(grid, resident)
            band = pricing.band(qf)
            if category is not TariffCategory.RESIDENT_CHILD:
                band = f"hors commune – {band}"
            aid_qf = qf is not None and qf <= max_qf
            key = (category, pricing.unit_amount(qf), band, aid_qf)
            code = price_ids.get(key)
            if code is None:
                code = price_ids[key] = len(price_rows)
                price_rows.append((category, qf, band, aid_qf))
            price_of_profile.append(code)
    usages = population._usage_values
    width = len(usages) or 1
    units: dict[tuple[int, int], tuple[Decimal, int]] = {}
    table: list[Decimal] = []
    for price_code in range(len(price_rows)):
        for kids, meals in usages:
            unit_sum, _ = _units(units, grid, price_rows, price_code, kids, ceiling)
            table.append(round_cent(unit_sum * meals * month_factor))
    groups = [
        price_of_profile[profile] * width + usage
        for profile, usage in zip(population._profiles, population._usage_codes, strict=True)
    ]
    costs = [table[group] for group in groups]
    counts = Counter(groups)

    band_order = list(grid.pricing(TariffCategory.RESIDENT_CHILD).bands)
    totals: dict[str, list[Decimal]] = {band: [_ZERO] * 5 for band in band_order}
    for group, count in counts.items():
        price_code, usage = divmod(group, width)
        kids, meals = usages[usage]
        _, _, band, aid_qf = price_rows[price_code]
        _, cheap_children = _units(units, grid, price_rows, price_code, kids, ceiling)
        row = totals.get(band)
        if row is None:
            row = totals[band] = [_ZERO] * 5
            band_order.append(band)
        meals_year = meals * month_factor * count
        row[0] += count
        row[1] += kids * count
        row[2] += meals_year * kids
        row[3] += table[group] * count
        if aid_qf and cheap_children:
            row[4] += meals_year * cheap_children
    b_households = [int(totals[b][0]) for b in band_order]
    b_children = [int(totals[b][1]) for b in band_order]
    b_meals = [totals[b][2] for b in band_order]
    b_revenue = [totals[b][3] for b in band_order]
    b_aid_meals = [totals[b][4] for b in band_order]
    if not eligibility.eligible:
        b_aid_meals = [_ZERO] * len(band_order)
    bands = tuple(
        BandResult(
            band=band,
            households=b_households[i],
            children=b_children[i],
            meals=b_meals[i],
            revenue=b_revenue[i],
            aid_meals=b_aid_meals[i],
            state_aid=round_cent(b_aid_meals[i] * per_meal),
        )
        for i, band in enumerate(band_order)
    )
    aid_meals = sum(b_aid_meals, _ZERO)
    return SimulationResult(
        grid_id=grid.id,
        months=months,
        on=day,
        currency=grid.currency,
        household_ids=population.ids,
        quotients=population.quotients,
        annual_costs=tuple(costs),
        bands=bands,
        revenue=sum(b_revenue, _ZERO),
        meals=sum(b_meals, _ZERO),
        aid=eligibility,
        aid_per_meal=per_meal,
        aid_meals=aid_meals,
        state_aid=round_cent(aid_meals * per_meal),
    )
