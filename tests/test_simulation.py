"""Tariff simulation: population CSV, revenue per bracket, State aid, grid comparison, plots."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_adapters.simulation_plots import (
    load_population,
    plot_cost_by_qf,
    plot_revenue_by_band,
)
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    SiblingDiscount,
    TariffCategory,
    TariffGrid,
)
from canteen_core.simulation import (
    AidRules,
    Population,
    PopulationHousehold,
    compare,
    simulate,
    simulate_many,
)

HALF_FOR_THIRD = (SiblingDiscount(from_rank=3, percent=Decimal(50)),)
BRACKETS = TariffGrid(
    id="tranches",
    service_id="lunch",
    valid_from=date(2023, 9, 1),
    prices={
        TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
            ["1.00", "3.05", "3.10", "3.15"], [700, 1000, 1400]
        ),
        TariffCategory.NON_RESIDENT_CHILD: FlatPricing.of("4.20"),
    },
    sibling_discounts=HALF_FOR_THIRD,
)
EFFORT = TariffGrid(
    id="taux",
    service_id="lunch",
    valid_from=date(2023, 9, 1),
    prices={
        TariffCategory.RESIDENT_CHILD: EffortRatePricing.of("0.36", minimum="2.60", maximum="4.50")
    },
    sibling_discounts=HALF_FOR_THIRD,
)

CSV = """household_id;qf;children;meals_per_month;resident
A;500;1;10;oui
B;800;3;12;oui
C;;2;8;oui
D;1200;1;16;non
E;650;4;10;1
"""


def population() -> Population:
    return Population.from_csv_text(CSV)


def test_csv_parsing() -> None:
    pop = population()
    assert len(pop) == 5
    records = list(pop)
    assert records[0] == PopulationHousehold(
        id="A", quotient=Decimal(500), children=1, meals_per_month=Decimal(10), resident=True
    )
    assert records[2].quotient is None
    assert records[3].resident is False
    comma = Population.from_csv_text(
        "\ufeffhousehold_id,qf,children,meals_per_month\nX,812.50,2,12.5\n"
    )
    assert next(iter(comma)).quotient == Decimal("812.50")
    french = Population.from_csv_text("household_id;qf;children;meals_per_month\nX;812,50;2;4\n")
    assert next(iter(french)).quotient == Decimal("812.50")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("household_id;qf;children\nA;1;1\n", "fichier CSV : meals_per_month"),
        ("household_id;qf;children;meals_per_month\nA;1;deux;4\n", "line 2.children"),
        ("household_id;qf;children;meals_per_month\nA;-5;1;4\n", "line 2.quotient"),
        ("household_id;qf;children;meals_per_month\nA;1;1;x\n", "line 2.meals_per_month"),
        ("household_id;qf;children;meals_per_month;resident\nA;1;1;4;peut-être\n", "resident"),
        ("household_id;qf;children;meals_per_month\nA;1;1;4\nA;2;1;4\n", "A figure deux fois"),
        ("household_id;qf;children;meals_per_month\n;1;1;4\n", "household_id est vide"),
        ("", "colonnes manquantes"),
    ],
)
def test_csv_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Population.from_csv_text(text)


def test_worked_simulation_with_hand_checked_totals() -> None:
    result = simulate(population(), BRACKETS, months=10, on=date(2023, 9, 1))
    # A: 100 meals x 1.00 = 100.00
    # B: (3.05 + 3.05 + 1.53) x 120 = 915.60 (third child half price: 1.525 -> 1.53)
    # C: no QF -> highest bracket: 3.15 x 2 x 80 = 504.00
    # D: non-resident flat 4.20 x 160 = 672.00
    # E: (1.00 + 1.00 + 0.50 + 0.50) x 100 = 300.00
    assert result.annual_costs == tuple(
        Decimal(x) for x in ("100.00", "915.60", "504.00", "672.00", "300.00")
    )
    assert result.cost_of("B") == Decimal("915.60")
    with pytest.raises(NotFoundError):
        result.cost_of("Z")
    assert result.revenue == Decimal("2491.60")
    bands = {band.band: band for band in result.bands}
    low = bands["QF 0-700"]
    assert (low.households, low.children, low.meals, low.revenue) == (2, 5, 500, Decimal("400.00"))
    assert low.average_meal_price == Decimal("0.80")
    assert bands["QF 700-1000"].revenue == Decimal("915.60")
    assert bands["QF 1000-1400"].households == 0
    assert bands["QF inconnu"].revenue == Decimal("504.00")
    assert bands["hors commune – forfait"].revenue == Decimal("672.00")
    # Aid: meals billed <= 1 EUR to households with QF <= 1000: A 100 + E 400 = 500 meals x 3.
    assert result.aid.eligible
    assert result.aid_meals == 500
    assert result.aid_per_meal == 3
    assert result.state_aid == Decimal("1500.00")
    assert result.total_income == Decimal("3991.60")
    assert sum(b.revenue for b in result.bands) == result.revenue


def test_aid_amount_follows_the_egalim_bonus() -> None:
    pop = population()
    assert simulate(pop, BRACKETS, on=date(2024, 1, 1)).state_aid == Decimal("2000.00")
    assert simulate(pop, BRACKETS, on=date(2023, 12, 31)).state_aid == Decimal("1500.00")
    not_egalim = AidRules(egalim_compliant=False)
    assert simulate(pop, BRACKETS, on=date(2024, 9, 1), aid=not_egalim).state_aid == Decimal(
        "1500.00"
    )
    stricter = AidRules(max_quotient=Decimal(600))  # only A (QF 500) counts
    assert simulate(pop, BRACKETS, on=date(2023, 9, 1), aid=stricter).aid_meals == 100


@pytest.mark.parametrize(
    ("pricing", "eligible"),
    [
        (BracketPricing.from_thresholds(["1.00", "3.05"], [700]), False),  # two brackets
        (BracketPricing.from_thresholds(["1.50", "3.05", "3.10"], [700, 1000]), False),
        (BracketPricing.from_thresholds(["0.50", "0.80", "1.00"], [700, 1000]), False),
        (BracketPricing.from_thresholds(["1.00", "3.05", "3.10"], [700, 1000]), True),
        (EffortRatePricing.of("0.36", minimum="2.60", maximum="4.50"), False),
        (EffortRatePricing.of("0.36", minimum="1.00", maximum="4.50"), True),
        (FlatPricing.of("1.00"), False),
    ],
)
def test_aid_grid_eligibility(
    pricing: BracketPricing | EffortRatePricing | FlatPricing, eligible: bool
) -> None:
    verdict = AidRules().eligibility(pricing)
    assert verdict.eligible is eligible
    assert verdict.reason


def test_ineligible_grid_gets_no_aid() -> None:
    result = simulate(population(), EFFORT, on=date(2023, 9, 1))
    assert not result.aid.eligible
    assert result.state_aid == 0
    assert all(band.state_aid == 0 for band in result.bands)


def test_winners_and_losers_between_two_grids() -> None:
    comparison = compare(population(), BRACKETS, EFFORT, on=date(2023, 9, 1))
    # Effort rate 0.36 % (min 2.60, max 4.50), third child half price:
    # A 2.60 x 100 = 260.00 (+160.00); B (2.88 + 2.88 + 1.44) x 120 = 864.00 (-51.60);
    # C 4.50 x 2 x 80 = 720.00 (+216.00); D (non-resident, resident price) 4.32 x 160 = 691.20
    # (+19.20); E (2.60 x 2 + 1.30 x 2) x 100 = 780.00 (+480.00).
    assert comparison.candidate.annual_costs == tuple(
        Decimal(x) for x in ("260.00", "864.00", "720.00", "691.20", "780.00")
    )
    assert comparison.deltas == tuple(
        Decimal(x) for x in ("160.00", "-51.60", "216.00", "19.20", "480.00")
    )
    assert (comparison.winners, comparison.losers, comparison.unchanged) == (1, 4, 0)
    assert comparison.revenue_change == Decimal("823.60")
    assert comparison.aid_change == Decimal("-1500.00")
    assert comparison.income_change == Decimal("-676.40")
    assert [d.household_id for d in comparison.biggest_winners()] == ["B"]
    assert [d.household_id for d in comparison.biggest_losers(2)] == ["E", "C"]
    same = compare(population(), BRACKETS, BRACKETS)
    assert (same.winners, same.losers, same.unchanged) == (0, 0, 5)


def test_dataframe_exports() -> None:
    result = simulate(population(), BRACKETS)
    frame = result.to_dataframe()
    assert list(frame.columns) == [
        "grid",
        "band",
        "households",
        "children",
        "meals",
        "revenue",
        "average_meal_price",
        "aid_meals",
        "state_aid",
    ]
    assert frame["revenue"].sum() == pytest.approx(2491.60)
    households = result.households_dataframe()
    assert list(households["household_id"]) == ["A", "B", "C", "D", "E"]
    deltas = compare(population(), BRACKETS, EFFORT).to_dataframe()
    assert deltas.loc[1, "delta"] == pytest.approx(-51.60)


def test_bad_simulation_input() -> None:
    with pytest.raises(InvalidInputError, match="months"):
        simulate(population(), BRACKETS, months=13)
    with pytest.raises(InvalidInputError):
        simulate("people", BRACKETS)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        PopulationHousehold(id="x", quotient=800.0, children=1, meals_per_month=4)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        PopulationHousehold(id="x", quotient=None, children=-1, meals_per_month=4)  # type: ignore[arg-type]


def test_a_city_sized_comparison_is_consistent() -> None:
    # Its speed is measured by the "simulation" benchmark, not here.
    pop = Population.synthetic(100_000, seed=3)
    assert len(pop) == 100_000
    comparison = compare(pop, BRACKETS, EFFORT)
    assert comparison.winners + comparison.losers + comparison.unchanged == 100_000
    assert sum(b.households for b in comparison.base.bands) == 100_000
    assert sum(comparison.base.annual_costs) == comparison.base.revenue


def test_simulate_many_and_plots(tmp_path: Path) -> None:
    source = tmp_path / "population.csv"
    source.write_text(CSV, encoding="utf-8")
    pop = load_population(source)
    results = simulate_many(pop, [BRACKETS, EFFORT])
    assert [r.grid_id for r in results] == ["tranches", "taux"]
    revenue_png = plot_revenue_by_band(results, tmp_path / "revenue.png")
    cost_png = plot_cost_by_qf(results[0], tmp_path / "cost.png")
    for png in (revenue_png, cost_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidInputError, match="no such"):
        load_population(tmp_path / "missing.csv")
    with pytest.raises(InvalidInputError, match="nothing to plot"):
        plot_revenue_by_band([], tmp_path / "empty.png")


households = st.lists(
    st.builds(
        PopulationHousehold,
        id=st.uuids().map(str),
        quotient=st.one_of(st.none(), st.integers(0, 3000).map(Decimal)),
        children=st.integers(0, 5),
        meals_per_month=st.integers(0, 20).map(Decimal),
        resident=st.booleans(),
    ),
    max_size=40,
    unique_by=lambda h: h.id,
)


@given(households, st.sampled_from([BRACKETS, EFFORT]), st.integers(1, 12))
def test_grouped_simulation_matches_a_naive_computation(
    records: list[PopulationHousehold], grid: TariffGrid, months: int
) -> None:
    result = simulate(Population.from_records(records), grid, months=months, on=date(2024, 3, 1))
    aid_meals = Decimal(0)
    for household, cost in zip(records, result.annual_costs, strict=True):
        category = (
            TariffCategory.RESIDENT_CHILD
            if household.resident or TariffCategory.NON_RESIDENT_CHILD not in grid.prices
            else TariffCategory.NON_RESIDENT_CHILD
        )
        prices = [
            grid.quote(category, household.quotient, sibling_rank=rank).unit_price.amount
            for rank in range(1, household.children + 1)
        ]
        meals = household.meals_per_month * months
        expected = sum(prices, Decimal(0)) * meals
        assert cost == expected.quantize(Decimal("0.01"))
        if household.quotient is not None and household.quotient <= 1000:
            aid_meals += meals * sum(1 for p in prices if p <= 1)
    assert result.revenue == sum(result.annual_costs, Decimal(0))
    assert sum(b.households for b in result.bands) == len(records)
    assert result.aid_meals == (aid_meals if result.aid.eligible else 0)
    assert result.state_aid == result.aid_meals * 4
