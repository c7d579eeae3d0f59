"""Tariff simulation for analysts: what does a grid cost each family, and the commune?

A :class:`Population` is a set of households (QF, number of children eating at the canteen,
expected meals per child per month, resident or not), built from records or from CSV text
(:meth:`Population.from_csv_text`). :func:`simulate` prices it with a
:class:`~canteen_core.domain.tariffs.TariffGrid` over a school year and reports revenue per
bracket, the
annual cost of every household and the "cantine à 1 EUR" State aid; :func:`compare` puts two
grids side by side (winners and losers). Results are plain records; ``to_dataframe()`` exports
them to pandas (imported lazily, extra ``notebook``). Plots live in
``canteen_adapters.simulation_plots``.

Assumptions, stated once:

- every child of a household eats ``meals_per_month`` meals a month for ``months`` months (10 by
  default: September to June);
- children are ranked 1..n for sibling discounts (the population gives counts, not birth dates);
- residents are priced with ``TariffCategory.RESIDENT_CHILD``, others with
  ``NON_RESIDENT_CHILD`` (falling back to the resident price if the grid has none);
- the QF is the one in the population, for the whole year.

The "cantine à 1 EUR" aid (see :class:`AidRules`): the State pays a fixed amount per meal billed
at 1 EUR or less, if the grid is a social tariff with at least three QF brackets, one at 1 EUR or
less and one above; only meals of households with a QF of at most 1,000 EUR count (the rule of
the conventions signed since August 2022). The amount is 3 EUR per meal, plus a 1 EUR bonus from
1 January 2024 for communes meeting the EGAlim objectives. Every figure is a parameter.

Speed: households are grouped by (resident, bracket or QF, number of children, meals) and each
group is priced once, so 100,000 households and two grids take a fraction of a second.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from canteen_core.domain.errors import ConfigurationError, InvalidInputError, NotFoundError
from canteen_core.domain.money import to_decimal
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    Pricing,
    TariffCategory,
    TariffGrid,
    round_cent,
)

__all__ = [
    "AidEligibility",
    "AidRules",
    "BandResult",
    "Comparison",
    "HouseholdDelta",
    "Population",
    "PopulationHousehold",
    "SimulationResult",
    "compare",
    "simulate",
    "simulate_many",
]

_ZERO = Decimal(0)


# -- population ------------------------------------------------------------------------------


def _optional_qf(value: object) -> Decimal | None:
    if value is None:
        return None
    result = to_decimal(value, path="quotient")
    if result < 0:
        raise InvalidInputError(f"QF must not be negative, got {result}", path="quotient")
    return result


def _count(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(
            f"must be a non-negative integer, got {value!r}", path=attribute.name
        )


def _meals(value: object) -> Decimal:
    result = to_decimal(value, path="meals_per_month")
    if result < 0:
        raise InvalidInputError(f"must not be negative, got {result}", path="meals_per_month")
    return result


@attrs.frozen(kw_only=True)
class PopulationHousehold:
    """One household of a simulated population (``quotient=None``: no QF on file)."""

    id: str
    quotient: Decimal | None = attrs.field(converter=_optional_qf)
    children: int = attrs.field(validator=_count)
    meals_per_month: Decimal = attrs.field(converter=_meals)
    resident: bool = True


_TRUE = {"1", "true", "vrai", "oui", "yes", "o", "y"}
_FALSE = {"0", "false", "faux", "non", "no", "n"}
_COLUMNS = ("household_id", "qf", "children", "meals_per_month")


@attrs.frozen(kw_only=True, eq=False)
class Population:
    """Households stored column by column (no per-household objects while simulating)."""

    ids: tuple[str, ...]
    quotients: tuple[Decimal | None, ...]
    children: tuple[int, ...]
    meals_per_month: tuple[Decimal, ...]
    resident: tuple[bool, ...]
    # Computed once per population, reused by every grid: the distinct QF values, the distinct
    # (children, meals) pairs, and per household a "profile" code (QF index x 2 + resident) and
    # a (children, meals) code. Simulations then work on small ints, not on Decimals.
    _qf_values: tuple[Decimal | None, ...] = attrs.field(init=False, repr=False)
    _profiles: tuple[int, ...] = attrs.field(init=False, repr=False)
    _usage_values: tuple[tuple[int, Decimal], ...] = attrs.field(init=False, repr=False)
    _usage_codes: tuple[int, ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        sizes = {
            len(self.ids),
            len(self.quotients),
            len(self.children),
            len(self.meals_per_month),
            len(self.resident),
        }
        if len(sizes) != 1:
            raise InvalidInputError("population columns have different lengths")
        if len(set(self.ids)) != len(self.ids):
            raise InvalidInputError("a household id appears twice in the population", path="ids")
        qf_index: dict[Decimal | None, int] = {}
        usage_index: dict[tuple[int, Decimal], int] = {}
        profiles = [
            qf_index.setdefault(q, len(qf_index)) * 2 + (1 if r else 0)
            for q, r in zip(self.quotients, self.resident, strict=True)
        ]
        usages = [
            usage_index.setdefault(pair, len(usage_index))
            for pair in zip(self.children, self.meals_per_month, strict=True)
        ]
        object.__setattr__(self, "_qf_values", tuple(qf_index))
        object.__setattr__(self, "_profiles", tuple(profiles))
        object.__setattr__(self, "_usage_values", tuple(usage_index))
        object.__setattr__(self, "_usage_codes", tuple(usages))

    @classmethod
    def from_records(cls, records: Iterable[PopulationHousehold]) -> Population:
        """Build from :class:`PopulationHousehold` records."""
        items = list(records)
        for index, item in enumerate(items):
            if not isinstance(item, PopulationHousehold):
                raise InvalidInputError("expected PopulationHousehold", path=f"records[{index}]")
        return cls(
            ids=tuple(i.id for i in items),
            quotients=tuple(i.quotient for i in items),
            children=tuple(i.children for i in items),
            meals_per_month=tuple(i.meals_per_month for i in items),
            resident=tuple(i.resident for i in items),
        )

    @classmethod
    def from_csv_text(cls, text: str) -> Population:
        """Parse CSV text with a header row.

        Columns: ``household_id``, ``qf`` (empty: no QF on file), ``children``,
        ``meals_per_month`` and optionally ``resident`` (1/0, true/false, oui/non; default yes).
        The separator is ``,`` or ``;`` (French spreadsheets); with ``;`` decimals may use a
        comma (``812,50``). Errors name the line and column.
        """
        if not isinstance(text, str):
            raise InvalidInputError("expected CSV text", path="text")
        body = text.lstrip("\ufeff")
        first = body.splitlines()[0] if body.strip() else ""
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.DictReader(io.StringIO(body), delimiter=delimiter)
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
        missing = [column for column in _COLUMNS if column not in header]
        if missing:
            raise InvalidInputError(f"missing CSV columns: {', '.join(missing)}", path="header")
        reader.fieldnames = header
        records: list[PopulationHousehold] = []
        for line, row in enumerate(reader, start=2):
            records.append(_parse_row(row, line))
        return cls.from_records(records)

    @classmethod
    def synthetic(cls, size: int, *, seed: int = 0) -> Population:
        """A reproducible made-up population (for notebooks, demos and benchmarks).

        QFs spread from 0 to about 3,000 EUR (5 % without QF), 1 to 4 children, 8 to 16 meals
        per child per month, 90 % residents.
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInputError("size must be a non-negative integer", path="size")
        rng = random.Random(seed)
        quotients: list[Decimal | None] = []
        for _ in range(size):
            if rng.random() < 0.05:
                quotients.append(None)
            else:
                quotients.append(Decimal(int(rng.triangular(0, 3200, 900))))
        return cls(
            ids=tuple(f"H{i:06d}" for i in range(size)),
            quotients=tuple(quotients),
            children=tuple(rng.choice((1, 1, 2, 2, 2, 3, 3, 4)) for _ in range(size)),
            meals_per_month=tuple(Decimal(rng.randint(8, 16)) for _ in range(size)),
            resident=tuple(rng.random() < 0.9 for _ in range(size)),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[PopulationHousehold]:
        for hid, qf, kids, meals, res in zip(
            self.ids, self.quotients, self.children, self.meals_per_month, self.resident,
            strict=True,
        ):  # fmt: skip
            yield PopulationHousehold(
                id=hid, quotient=qf, children=kids, meals_per_month=meals, resident=res
            )


def _parse_row(row: dict[str, Any], line: int) -> PopulationHousehold:
    def cell(name: str) -> str:
        value = row.get(name)
        return "" if value is None else str(value).strip()

    try:
        hid = cell("household_id")
        if not hid:
            raise InvalidInputError("household_id is empty", path="household_id")
        qf_text = cell("qf")
        children_text = cell("children")
        if not children_text.isdigit():
            raise InvalidInputError(
                f"children must be a whole number, got {children_text!r}", path="children"
            )
        resident_text = cell("resident").lower()
        if resident_text in _TRUE or resident_text == "":
            resident = True
        elif resident_text in _FALSE:
            resident = False
        else:
            raise InvalidInputError(f"not a yes/no value: {resident_text!r}", path="resident")
        return PopulationHousehold(
            id=hid,
            quotient=qf_text or None,
            children=int(children_text),
            meals_per_month=cell("meals_per_month"),
            resident=resident,
        )
    except InvalidInputError as error:
        raise InvalidInputError(
            error.message, path=f"line {line}" + (f".{error.path}" if error.path else "")
        ) from None


# -- aid rules -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AidEligibility:
    """Whether a grid qualifies for the "cantine à 1 EUR" aid, and why (French reason)."""

    eligible: bool
    reason: str


def _decimal(value: object) -> Decimal:
    return to_decimal(value, path="amount")


@attrs.frozen(kw_only=True)
class AidRules:
    """Parameters of the State "cantine à 1 EUR" aid (tarification sociale des cantines).

    - ``per_meal``: aid per eligible meal (3 EUR since April 2021);
    - ``egalim_bonus`` from ``egalim_bonus_from`` (1 EUR from 1 January 2024) when
      ``egalim_compliant`` (the commune meets the EGAlim objectives);
    - ``price_ceiling``: a meal counts when billed at this price or less (1 EUR);
    - ``max_quotient``: only households with a QF at most this much count (1,000 EUR; a household
      without QF on file never counts);
    - ``min_brackets``: a bracket grid needs at least this many brackets (3), one priced at or
      below the ceiling and one above;
    - ``effort_rate_counts``: whether an effort-rate grid whose minimum is at or below the
      ceiling and whose maximum is above qualifies (it is a progressive tariff too).
    """

    per_meal: Decimal = attrs.field(default=Decimal(3), converter=_decimal)
    egalim_bonus: Decimal = attrs.field(default=Decimal(1), converter=_decimal)
    egalim_bonus_from: date = date(2024, 1, 1)
    egalim_compliant: bool = True
    price_ceiling: Decimal = attrs.field(default=Decimal(1), converter=_decimal)
    max_quotient: Decimal = attrs.field(default=Decimal(1000), converter=_decimal)
    min_brackets: int = 3
    effort_rate_counts: bool = True

    def amount_per_meal(self, on: date) -> Decimal:
        """The aid per eligible meal on ``on``."""
        bonus = self.egalim_compliant and on >= self.egalim_bonus_from
        return self.per_meal + (self.egalim_bonus if bonus else _ZERO)

    def eligibility(self, pricing: Pricing) -> AidEligibility:
        """Whether a category's pricing makes the grid eligible."""
        ceiling = self.price_ceiling
        if isinstance(pricing, BracketPricing):
            prices = [round_cent(b.price.amount) for b in pricing.brackets]
            if len(prices) < self.min_brackets:
                return AidEligibility(
                    eligible=False,
                    reason=f"{len(prices)} tranches : il en faut au moins {self.min_brackets}",
                )
            if not any(p <= ceiling for p in prices):
                return AidEligibility(
                    eligible=False, reason=f"aucune tranche à {ceiling} € ou moins"
                )
            if not any(p > ceiling for p in prices):
                return AidEligibility(
                    eligible=False, reason=f"aucune tranche au-dessus de {ceiling} €"
                )
            return AidEligibility(eligible=True, reason="grille éligible")
        if isinstance(pricing, EffortRatePricing):
            if not self.effort_rate_counts:
                return AidEligibility(eligible=False, reason="taux d'effort non retenu")
            if pricing.minimum.amount <= ceiling < pricing.maximum.amount:
                return AidEligibility(eligible=True, reason="taux d'effort éligible")
            return AidEligibility(
                eligible=False, reason=f"le minimum doit être à {ceiling} € ou moins"
            )
        return AidEligibility(eligible=False, reason="tarif unique : pas de tarification sociale")


# -- results ---------------------------------------------------------------------------------


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


def _require_pandas() -> Any:
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas ships with the notebook extra
        raise ConfigurationError(
            "pandas is needed for to_dataframe(): pip install 'canteen[notebook]'"
        ) from None
    return pandas


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
        raise InvalidInputError(f"months must be 1-12, got {value!r}", path="months")
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


# -- comparison ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class HouseholdDelta:
    """How much more (``delta`` > 0) or less a household pays per year with the new grid."""

    household_id: str
    quotient: Decimal | None
    base_cost: Decimal
    new_cost: Decimal
    delta: Decimal


@attrs.frozen(kw_only=True, eq=False)
class Comparison:
    """Two grids over the same population: who wins, who loses, what it costs the commune.

    A *winner* pays less with ``candidate`` than with ``base``; a *loser* pays more.
    """

    base: SimulationResult
    candidate: SimulationResult
    deltas: tuple[Decimal, ...]
    winners: int
    losers: int
    unchanged: int

    @property
    def revenue_change(self) -> Decimal:
        """Change in what families pay in total (negative: the commune collects less)."""
        return self.candidate.revenue - self.base.revenue

    @property
    def aid_change(self) -> Decimal:
        """Change in State aid."""
        return self.candidate.state_aid - self.base.state_aid

    @property
    def income_change(self) -> Decimal:
        """Change in the commune's income (families plus State)."""
        return self.revenue_change + self.aid_change

    def _delta(self, index: int) -> HouseholdDelta:
        return HouseholdDelta(
            household_id=self.base.household_ids[index],
            quotient=self.base.quotients[index],
            base_cost=self.base.annual_costs[index],
            new_cost=self.candidate.annual_costs[index],
            delta=self.deltas[index],
        )

    def biggest_winners(self, count: int = 10) -> tuple[HouseholdDelta, ...]:
        """The ``count`` households saving the most."""
        order = sorted(range(len(self.deltas)), key=self.deltas.__getitem__)
        return tuple(self._delta(i) for i in order[:count] if self.deltas[i] < 0)

    def biggest_losers(self, count: int = 10) -> tuple[HouseholdDelta, ...]:
        """The ``count`` households paying the most extra."""
        order = sorted(range(len(self.deltas)), key=self.deltas.__getitem__, reverse=True)
        return tuple(self._delta(i) for i in order[:count] if self.deltas[i] > 0)

    def to_dataframe(self) -> Any:
        """One row per household (id, QF, base cost, new cost, delta) as a pandas DataFrame."""
        pandas = _require_pandas()
        return pandas.DataFrame(
            {
                "household_id": list(self.base.household_ids),
                "qf": [None if q is None else float(q) for q in self.base.quotients],
                "base_cost": [float(c) for c in self.base.annual_costs],
                "new_cost": [float(c) for c in self.candidate.annual_costs],
                "delta": [float(d) for d in self.deltas],
            }
        )


def compare(
    population: Population,
    base: TariffGrid,
    candidate: TariffGrid,
    *,
    months: int = 10,
    on: date | None = None,
    aid: AidRules | None = None,
) -> Comparison:
    """Simulate ``base`` and ``candidate`` on ``population`` and compare household by household."""
    first = simulate(population, base, months=months, on=on, aid=aid)
    second = simulate(population, candidate, months=months, on=on, aid=aid)
    if first.currency != second.currency:
        raise InvalidInputError("the two grids use different currencies", path="candidate")
    deltas = tuple(
        [new - old for old, new in zip(first.annual_costs, second.annual_costs, strict=True)]
    )
    winners = losers = 0
    for delta in deltas:
        if delta < 0:
            winners += 1
        elif delta:
            losers += 1
    return Comparison(
        base=first,
        candidate=second,
        deltas=deltas,
        winners=winners,
        losers=losers,
        unchanged=len(deltas) - winners - losers,
    )


def simulate_many(
    population: Population,
    grids: Sequence[TariffGrid],
    *,
    months: int = 10,
    on: date | None = None,
    aid: AidRules | None = None,
) -> tuple[SimulationResult, ...]:
    """:func:`simulate` each grid on the same population."""
    return tuple(simulate(population, g, months=months, on=on, aid=aid) for g in grids)
