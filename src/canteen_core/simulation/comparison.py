"""Two grids side by side (:func:`compare`): winners and losers per household, and several grids at
once (:func:`simulate_many`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.tariffs import (
    TariffGrid,
)
from canteen_core.simulation.aid import AidRules
from canteen_core.simulation.population import Population, _require_pandas
from canteen_core.simulation.run import SimulationResult, simulate


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
