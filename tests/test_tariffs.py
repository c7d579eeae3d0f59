"""Tariff grids: QF brackets, effort rate, flat, sibling discounts, surcharges, dated books."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.errors import ConfigurationError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import (
    Bracket,
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    SiblingDiscount,
    Surcharge,
    SurchargeReason,
    TariffBook,
    TariffCategory,
    TariffGrid,
    sibling_ranks,
)

# The worked grid of the issue: four QF brackets.
FOUR_BRACKETS = BracketPricing.from_thresholds(["1.00", "3.05", "3.10", "3.15"], [700, 1000, 1400])
EFFORT = EffortRatePricing.of("0.36", minimum="2.60", maximum="4.50")


def grid(**overrides: object) -> TariffGrid:
    values: dict[str, object] = {
        "id": "g2023",
        "service_id": "lunch",
        "valid_from": date(2023, 9, 1),
        "valid_until": date(2024, 8, 31),
        "prices": {
            TariffCategory.RESIDENT_CHILD: FOUR_BRACKETS,
            TariffCategory.NON_RESIDENT_CHILD: FlatPricing.of("4.20"),
            TariffCategory.ADULT: FlatPricing.of("5.80"),
        },
        "sibling_discounts": (SiblingDiscount(from_rank=3, percent=Decimal(50)),),
        "unbooked_surcharge": Surcharge.percent(50),
        "late_booking_surcharge": Surcharge.add_amount("1.00"),
    }
    values.update(overrides)
    return TariffGrid(**values)  # type: ignore[arg-type]


def household(*quotients: FamilyQuotient) -> Household:
    return Household(
        id="H1",
        payer=Guardian(id="G1", first_name="Maman", last_name="Concerto"),
        quotients=quotients,
    )


@pytest.mark.parametrize(
    ("qf", "price"),
    [
        ("0", "1.00"),
        ("699.99", "1.00"),
        ("700", "3.05"),  # a bound belongs to the next bracket
        ("999", "3.05"),
        ("1000", "3.10"),
        ("1399", "3.10"),
        ("1400", "3.15"),
        ("25000", "3.15"),
    ],
)
def test_four_brackets_worked_example(qf: str, price: str) -> None:
    assert FOUR_BRACKETS.unit_amount(Decimal(qf)) == Decimal(price)


def test_no_quotient_pays_the_highest_bracket_unless_configured() -> None:
    assert FOUR_BRACKETS.unit_amount(None) == Decimal("3.15")
    assert FOUR_BRACKETS.band(None) == "QF inconnu"
    configured = BracketPricing.from_thresholds(["1.00", "3.05"], [700], no_quotient_price="3.05")
    assert configured.unit_amount(None) == Decimal("3.05")
    assert EFFORT.unit_amount(None) == Decimal("4.50")


@pytest.mark.parametrize(
    ("qf", "price"),
    [
        ("0", "2.60"),
        ("500", "2.60"),  # 1.80 clamped to the minimum
        ("722.23", "2.60"),  # 2.600028 rounds to 2.60
        ("733", "2.64"),  # 2.6388 -> 2.64 (half-up)
        ("900", "3.24"),
        ("1000", "3.60"),
        ("1248", "4.49"),  # 4.4928
        ("1249", "4.50"),  # 4.4964 -> 4.50
        ("1250", "4.50"),
        ("3000", "4.50"),  # 10.80 clamped to the maximum
    ],
)
def test_effort_rate_worked_example(qf: str, price: str) -> None:
    assert EFFORT.unit_amount(Decimal(qf)) == Decimal(price)


def test_effort_rate_bands() -> None:
    assert EFFORT.band(Decimal(500)) == "minimum"
    assert EFFORT.band(Decimal(900)) == "taux d'effort"
    assert EFFORT.band(Decimal(2000)) == "maximum"


@given(st.decimals(min_value=0, max_value=100_000, places=2))
def test_effort_rate_is_clamped_and_monotonic(qf: Decimal) -> None:
    price = EFFORT.unit_amount(qf)
    assert Decimal("2.60") <= price <= Decimal("4.50")
    assert price == price.quantize(Decimal("0.01"))
    assert EFFORT.unit_amount(qf + 1) >= price


@given(st.decimals(min_value=0, max_value=100_000, places=2))
def test_every_qf_falls_in_exactly_one_bracket(qf: Decimal) -> None:
    matching = [b for b in FOUR_BRACKETS.brackets if b.contains(qf)]
    assert len(matching) == 1
    assert FOUR_BRACKETS.unit_amount(qf) == matching[0].price.amount


def test_overlapping_brackets_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="se chevauchent"):
        BracketPricing(
            brackets=(
                Bracket(qf_from=0, qf_to=800, price=Money.of("1.00")),
                Bracket(qf_from=700, qf_to=None, price=Money.of("3.05")),
            )
        )


def test_gapped_brackets_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="aucun prix pour un QF"):
        BracketPricing(
            brackets=(
                Bracket(qf_from=0, qf_to=700, price=Money.of("1.00")),
                Bracket(qf_from=701, qf_to=None, price=Money.of("3.05")),
            )
        )


@pytest.mark.parametrize(
    "brackets",
    [
        (),
        (Bracket(qf_from=100, qf_to=None, price=Money.of("1")),),  # no price below QF 100
        (Bracket(qf_from=0, qf_to=700, price=Money.of("1")),),  # no price above QF 700
    ],
)
def test_incomplete_bracket_grids_are_refused(brackets: tuple[Bracket, ...]) -> None:
    with pytest.raises(InvalidInputError):
        BracketPricing(brackets=brackets)


def test_bracket_bounds_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="avant ou là où elle commence"):
        Bracket(qf_from=700, qf_to=700, price=Money.of("1"))
    with pytest.raises(InvalidInputError, match="ne doit pas être négatif"):
        Bracket(qf_from=-1, qf_to=700, price=Money.of("1"))
    with pytest.raises(InvalidInputError, match="thresholds"):
        BracketPricing.from_thresholds(["1.00", "3.05"], [])


def test_prices_in_fractions_of_a_cent_are_refused() -> None:
    # A price is set once and reused by every bill: 3.355 would be rounded silently each time.
    sub_cent = "au plus deux décimales"
    with pytest.raises(InvalidInputError, match=sub_cent):
        FlatPricing.of("3.355")
    with pytest.raises(InvalidInputError, match=sub_cent):
        BracketPricing.from_thresholds(["1.00", "1.234"], [450])
    with pytest.raises(InvalidInputError, match=sub_cent):
        BracketPricing.from_thresholds(["1.00", "2.00"], [450], no_quotient_price="2.001")
    with pytest.raises(InvalidInputError, match=sub_cent):
        EffortRatePricing.of("0.36", minimum="1.005", maximum="4.50")
    with pytest.raises(InvalidInputError, match=sub_cent):
        EffortRatePricing.of("0.36", minimum="1.00", maximum="4.499")
    with pytest.raises(InvalidInputError, match=sub_cent):
        Surcharge.add_amount("0.505")
    # The effort rate is a percentage, a surcharge may be a percentage: more decimals are fine.
    assert EffortRatePricing.of("0.355", minimum="1", maximum="4.50").rate_percent == Decimal(
        "0.355"
    )
    assert Surcharge.percent("12.5").value == Decimal("12.5")
    assert FlatPricing.of("3.350").unit_amount(None) == Decimal("3.35")


def test_negative_and_float_prices_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="ne doit pas être négatif"):
        FlatPricing.of("-1.00")
    with pytest.raises(InvalidInputError, match="ne doit pas être négatif"):
        Bracket(qf_from=0, price=Money.of("-0.01"))
    with pytest.raises(InvalidInputError, match="virgule flottante"):
        FlatPricing.of(3.05)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="est inférieur au minimum"):
        EffortRatePricing.of("0.36", minimum="4.50", maximum="2.60")
    with pytest.raises(InvalidInputError, match="positif"):
        EffortRatePricing.of("0", minimum="1", maximum="2")
    with pytest.raises(InvalidInputError, match="ne doit pas être négative"):
        Surcharge.add_amount("-1")


def test_grid_without_a_price_for_a_category_in_use_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="pai_basket"):
        grid(
            required_categories={TariffCategory.RESIDENT_CHILD, TariffCategory.PAI_BASKET},
        )
    with pytest.raises(InvalidInputError, match="resident_child"):
        grid(prices={TariffCategory.ADULT: FlatPricing.of("5")})
    with pytest.raises(InvalidInputError, match="« martian » pour la catégorie tarifaire"):
        grid(prices={"martian": FlatPricing.of("5")})


def test_pricing_a_category_the_grid_lacks_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="occasional_meal"):
        grid().quote(TariffCategory.OCCASIONAL_MEAL, Decimal(500))


def test_sibling_discount_third_child_half_price() -> None:
    g = grid()
    assert g.quote("resident_child", Decimal(800), sibling_rank=1).unit_price == Money.of("3.05")
    assert g.quote("resident_child", Decimal(800), sibling_rank=2).unit_price == Money.of("3.05")
    third = g.quote("resident_child", Decimal(800), sibling_rank=3)
    assert third.unit_price == Money.of("1.53")  # 1.525 rounded half-up
    assert third.discount_percent == 50
    assert "3e enfant -50 %" in third.description
    assert g.quote("resident_child", Decimal(800), sibling_rank=4).unit_price == Money.of("1.53")
    # Adults are not discounted.
    assert g.quote("adult", None, sibling_rank=3).unit_price == Money.of("5.80")


def test_highest_applicable_sibling_discount_wins() -> None:
    g = grid(
        sibling_discounts=(
            SiblingDiscount(from_rank=2, percent=Decimal(10)),
            SiblingDiscount(from_rank=3, percent=Decimal(50)),
        )
    )
    assert g.unit_amount(TariffCategory.RESIDENT_CHILD, Decimal(1500), sibling_rank=2) == Decimal(
        "2.84"  # 3.15 x 0.9 = 2.835 -> 2.84
    )
    assert g.unit_amount(TariffCategory.RESIDENT_CHILD, Decimal(1500), sibling_rank=3) == Decimal(
        "1.58"  # 1.575 -> 1.58
    )
    with pytest.raises(InvalidInputError, match="same rank"):
        grid(
            sibling_discounts=(
                SiblingDiscount(from_rank=3, percent=Decimal(10)),
                SiblingDiscount(from_rank=3, percent=Decimal(50)),
            )
        )
    with pytest.raises(InvalidInputError):
        SiblingDiscount(from_rank=1, percent=Decimal(10))
    with pytest.raises(InvalidInputError):
        SiblingDiscount(from_rank=2, percent=Decimal(120))


def test_surcharges() -> None:
    g = grid()
    unbooked = g.quote("resident_child", Decimal(800), surcharge=SurchargeReason.UNBOOKED_MEAL)
    assert unbooked.unit_price == Money.of("4.58")  # 3.05 x 1.5 = 4.575 -> 4.58
    assert unbooked.base_price == Money.of("3.05")
    late = g.quote("resident_child", Decimal(800), surcharge=SurchargeReason.LATE_BOOKING)
    assert late.unit_price == Money.of("4.05")
    fixed = grid(unbooked_surcharge=Surcharge.fixed_price("6.00"))
    assert fixed.quote(
        "resident_child", Decimal(100), surcharge=SurchargeReason.UNBOOKED_MEAL
    ).unit_price == Money.of("6.00")
    none = grid(unbooked_surcharge=None)
    quote = none.quote("resident_child", Decimal(800), surcharge=SurchargeReason.UNBOOKED_MEAL)
    assert quote.unit_price == Money.of("3.05")
    assert quote.surcharge is None


def test_sibling_ranks_by_birth_date() -> None:
    children = [
        Child(id="c", first_name="C", last_name="X", birth_date=date(2018, 1, 1)),
        Child(id="a", first_name="A", last_name="X", birth_date=date(2014, 5, 1)),
        Child(id="b", first_name="B", last_name="X", birth_date=date(2016, 3, 1)),
        Child(id="b2", first_name="B", last_name="X", birth_date=date(2016, 3, 1)),  # twin
    ]
    assert sibling_ranks(children) == {"a": 1, "b": 2, "b2": 3, "c": 4}


def test_book_picks_the_grid_of_the_day_and_uses_the_qf_of_the_day() -> None:
    old = TariffGrid(
        id="g2022",
        service_id="lunch",
        valid_from=date(2022, 9, 1),
        valid_until=date(2023, 8, 31),
        prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of("2.90")},
    )
    book = TariffBook(grids=(grid(), old))
    h = household(
        FamilyQuotient(value=Decimal(1500), valid_from=date(2023, 1, 1)),
    ).with_quotient(FamilyQuotient(value=Decimal(650), valid_from=date(2023, 10, 1)))

    def price_on(day: date) -> Money:
        return book.quote(
            service_id="lunch", day=day, category="resident_child", household=h
        ).unit_price

    assert price_on(date(2023, 6, 1)) == Money.of("2.90")
    assert price_on(date(2023, 9, 29)) == Money.of("3.15")  # QF 1500 still applies
    assert price_on(date(2023, 10, 2)) == Money.of("1.00")  # QF 650 from 1 October
    with pytest.raises(NotFoundError):
        price_on(date(2024, 9, 2))
    with pytest.raises(NotFoundError):
        book.grid_on("breakfast", date(2023, 10, 2))


def test_book_refuses_overlapping_grids() -> None:
    with pytest.raises(InvalidInputError, match="se chevauchent dans le temps"):
        TariffBook(grids=(grid(), grid(id="other", valid_from=date(2024, 1, 1))))
    # Same dates for another service are fine.
    TariffBook(grids=(grid(), grid(id="other", service_id="breakfast")))


def test_quote_rejects_bad_input() -> None:
    g = grid()
    with pytest.raises(InvalidInputError):
        g.quote("resident_child", Decimal(800), sibling_rank=0)
    with pytest.raises(InvalidInputError):
        g.quote("resident_child", 800.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        g.quote("nobody", Decimal(800))
    with pytest.raises(InvalidInputError):
        FOUR_BRACKETS.unit_amount(Decimal(-1))


def test_book_rejects_wrong_types() -> None:
    with pytest.raises(InvalidInputError, match="TariffGrid"):
        TariffBook(grids=("not a grid",))  # type: ignore[arg-type]
    book = TariffBook(grids=(grid(),))
    with pytest.raises(InvalidInputError, match="Household"):
        book.quote(
            service_id="lunch",
            day=date(2023, 10, 2),
            category="resident_child",
            household="H1",  # type: ignore[arg-type]
        )


def test_grid_round_trips_through_the_serializer() -> None:
    from canteen_core.config.serialization import dumps, loads

    g = grid(
        prices={
            TariffCategory.RESIDENT_CHILD: FOUR_BRACKETS,
            TariffCategory.ADULT: EFFORT,
            TariffCategory.PAI_BASKET: FlatPricing.of("1.20"),
        }
    )
    again = loads(dumps(g), TariffGrid)
    assert again == g
    assert again.quote("resident_child", Decimal(800), sibling_rank=3).unit_price == Money.of(
        "1.53"
    )


@given(
    quotients=st.lists(
        st.one_of(st.none(), st.decimals(min_value=0, max_value=3000, places=2)), max_size=12
    ),
    category=st.sampled_from(
        [TariffCategory.RESIDENT_CHILD, TariffCategory.ADULT, TariffCategory.PAI_BASKET]
    ),
    rank=st.integers(1, 4),
    surcharge=st.sampled_from([None, *SurchargeReason]),
)
def test_book_quotes_share_the_priced_part_and_keep_each_qf(
    quotients: list[Decimal | None],
    category: TariffCategory,
    rank: int,
    surcharge: SurchargeReason | None,
) -> None:
    # The book prices a bracket (or clamp...) once; each household's quote keeps its own QF.
    g = grid(
        prices={
            TariffCategory.RESIDENT_CHILD: FOUR_BRACKETS,
            TariffCategory.ADULT: EffortRatePricing.of(
                "0.36", minimum="2.60", maximum="4.50", no_quotient_price="4.00"
            ),
            TariffCategory.PAI_BASKET: FlatPricing.of("1.20"),
        }
    )
    book = TariffBook(grids=(g,))
    for qf in quotients:
        h = (
            household()
            if qf is None
            else household(FamilyQuotient(value=qf, valid_from=date(2023, 1, 1)))
        )
        quote = book.quote(
            service_id="lunch",
            day=date(2023, 9, 4),
            category=category,
            household=h,
            sibling_rank=rank,
            surcharge=surcharge,
        )
        fresh = g.quote(category, qf, sibling_rank=rank, surcharge=surcharge)
        assert quote == fresh
        assert quote.quotient == h.quotient_on(date(2023, 9, 4)) == qf
