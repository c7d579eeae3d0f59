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

The rooms of this package:

* :mod:`~canteen_core.simulation.population`: the households priced (:class:`Population`), from
  records or CSV text;
* :mod:`~canteen_core.simulation.aid`: the "cantine à 1 EUR" aid rules (:class:`AidRules`);
* :mod:`~canteen_core.simulation.run`: :func:`simulate` and its :class:`SimulationResult`;
* :mod:`~canteen_core.simulation.comparison`: :func:`compare` (winners and losers) and
  :func:`simulate_many`.

Every name below is importable from ``canteen_core.simulation`` itself.
"""

from canteen_core.simulation.aid import AidEligibility, AidRules
from canteen_core.simulation.comparison import Comparison, HouseholdDelta, compare, simulate_many
from canteen_core.simulation.population import Population, PopulationHousehold
from canteen_core.simulation.run import BandResult, SimulationResult, simulate

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
