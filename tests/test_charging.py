"""Post-paid charging rules: presence, absences, carence, closures, surcharges, traceability."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _billing_oracle import compute_charges
from canteen_core.domain.charging import (
    ChargeRule,
    ChargingPolicy,
    DayFacts,
    decide,
)
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import (
    BracketPricing,
    SiblingDiscount,
    Surcharge,
    TariffBook,
    TariffCategory,
    TariffGrid,
)

BOOK = TariffBook(
    grids=(
        TariffGrid(
            id="g2023",
            service_id="lunch",
            valid_from=date(2023, 9, 1),
            prices={
                TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
                    ["1.00", "3.05", "3.10", "3.15"], [700, 1000, 1400]
                )
            },
            sibling_discounts=(SiblingDiscount(from_rank=3, percent=Decimal(50)),),
            unbooked_surcharge=Surcharge.percent(50),
            late_booking_surcharge=Surcharge.add_amount("1"),
        ),
    )
)

# September 2023, school restaurant days (Mon, Tue, Thu, Fri): 16 days.
SEPTEMBER = [date(2023, 9, d) for d in (4, 5, 7, 8, 11, 12, 14, 15, 18, 19, 21, 22, 25, 26, 28, 29)]


def family(qf: int | None = 800, children: int = 1) -> Household:
    kids = tuple(
        Child(
            id=f"c{i}", first_name=f"Kid{i}", last_name="Concerto", birth_date=date(2012 + i, 1, 1)
        )
        for i in range(1, children + 1)
    )
    quotients = () if qf is None else (FamilyQuotient(value=qf, valid_from=date(2023, 1, 1)),)
    return Household(
        id="H1",
        payer=Guardian(id="G1", first_name="Maman", last_name="Concerto"),
        children=kids,
        quotients=quotients,
    )


def fact(day: date, /, child: str = "c1", **flags: object) -> DayFacts:
    values: dict[str, object] = {
        "child_id": child,
        "household_id": "H1",
        "enrollment_id": f"e-{child}",
        "service_id": "lunch",
        "day": day,
        "booked": True,
        "present": True,
    }
    values.update(flags)
    return DayFacts(**values)  # type: ignore[arg-type]


def test_worked_month_with_every_rule() -> None:
    # 15 booked days: 11 present, 1 unjustified absence, 3 justified (carence 1); 1 unbooked meal.
    facts = [fact(d) for d in SEPTEMBER[:11]]
    facts.append(fact(SEPTEMBER[11], present=False))
    facts += [fact(d, present=False, absence_justified=True) for d in SEPTEMBER[12:15]]
    facts.append(fact(SEPTEMBER[15], booked=False, present=True))
    result = compute_charges(facts, tariffs=BOOK, households={"H1": family(800)})
    rules = [c.rule for c in result.charges]
    assert rules.count(ChargeRule.PRESENT) == 11
    assert rules.count(ChargeRule.ABSENT_UNJUSTIFIED) == 1
    assert rules.count(ChargeRule.JUSTIFIED_ABSENCE_CARENCE) == 1
    assert rules.count(ChargeRule.UNBOOKED_PRESENT) == 1
    assert len(result.decisions) == 16
    free = [d for d in result.decisions if not d.charged]
    assert [d.rule for d in free] == [ChargeRule.JUSTIFIED_ABSENCE] * 2
    total = Money.sum(c.quote.unit_price for c in result.charges)
    # 13 x 3.05 = 39.65, plus 3.05 x 1.5 = 4.575 -> 4.58: 44.23
    assert total == Money.of("44.23")
    unbooked = next(c for c in result.charges if c.rule is ChargeRule.UNBOOKED_PRESENT)
    assert unbooked.day == SEPTEMBER[15]
    assert unbooked.quote.unit_price == Money.of("4.58")


def test_closed_by_organiser_is_never_charged() -> None:
    facts = [fact(SEPTEMBER[0], closed_by_organiser=True, present=None)]
    decision = decide(facts)[0]
    assert decision.rule is ChargeRule.CLOSED_BY_ORGANISER
    assert not decision.charged


def test_carence_counts_per_run_and_is_configurable() -> None:
    facts = [fact(d, present=False, absence_justified=True) for d in SEPTEMBER[:3]]
    facts.append(fact(SEPTEMBER[3]))  # back at school: the run ends
    facts += [fact(d, present=False, absence_justified=True) for d in SEPTEMBER[4:6]]
    charged = [d.charged for d in decide(facts, policy=ChargingPolicy(carence_days=1))]
    assert charged == [True, False, False, True, True, False]
    none = [d.charged for d in decide(facts, policy=ChargingPolicy(carence_days=0))]
    assert none == [False, False, False, True, False, False]
    two = [d.charged for d in decide(facts, policy=ChargingPolicy(carence_days=2))]
    assert two == [True, True, False, True, True, True]


def test_unbooked_and_closed_days_do_not_break_a_run() -> None:
    facts = [
        fact(SEPTEMBER[0], present=False, absence_justified=True),
        fact(SEPTEMBER[1], booked=False, present=False),
        fact(SEPTEMBER[2], closed_by_organiser=True),
        fact(SEPTEMBER[3], present=False, absence_justified=True),
    ]
    decisions = decide(facts)
    assert [d.charged for d in decisions] == [True, False, False, False]
    assert decisions[3].carence_position == 2


def test_a_run_carried_from_the_previous_month_is_continued() -> None:
    facts = [fact(SEPTEMBER[0], present=False, absence_justified=True)]
    assert decide(facts)[0].charged
    assert not decide(facts, carried_runs={"e-c1": 1})[0].charged
    with pytest.raises(InvalidInputError):
        decide(facts, carried_runs={"e-c1": -1})


def test_late_cancellation_per_policy() -> None:
    facts = [fact(SEPTEMBER[0], booked=False, present=None, late_cancellation=True)]
    assert decide(facts)[0].charged
    assert decide(facts)[0].rule is ChargeRule.LATE_CANCELLATION
    lenient = ChargingPolicy(charge_late_cancellation=False)
    assert not decide(facts, policies={"e-c1": lenient})[0].charged
    assert decide(facts, policies={"other": lenient})[0].charged


def test_unrecorded_attendance_per_policy() -> None:
    facts = [fact(SEPTEMBER[0], present=None)]
    assert decide(facts)[0].rule is ChargeRule.BOOKED_NOT_RECORDED
    assert decide(facts)[0].charged
    assert not decide(facts, policy=ChargingPolicy(charge_unrecorded=False))[0].charged


def test_late_booking_is_surcharged() -> None:
    result = compute_charges(
        [fact(SEPTEMBER[0], late_booking=True)], tariffs=BOOK, households={"H1": family(800)}
    )
    assert result.charges[0].quote.unit_price == Money.of("4.05")


def test_sibling_ranks_among_billed_children() -> None:
    h = family(800, children=3)
    facts = [fact(SEPTEMBER[0], child=f"c{i}") for i in (1, 2, 3)]
    result = compute_charges(facts, tariffs=BOOK, households={"H1": h})
    prices = {c.facts.child_id: c.quote.unit_price for c in result.charges}
    assert prices == {"c1": Money.of("3.05"), "c2": Money.of("3.05"), "c3": Money.of("1.53")}
    # Explicit ranks from the enrollment list override the default.
    ranked = compute_charges(facts[:1], tariffs=BOOK, households={"H1": h}, ranks={"c1": 3})
    assert ranked.charges[0].quote.unit_price == Money.of("1.53")


def test_no_qf_pays_the_highest_bracket() -> None:
    result = compute_charges([fact(SEPTEMBER[0])], tariffs=BOOK, households={"H1": family(None)})
    assert result.charges[0].quote.unit_price == Money.of("3.15")


@pytest.mark.parametrize(
    "flags",
    [
        {"booked": True, "present": True, "absence_justified": True},
        {"booked": False, "present": False, "absence_justified": True},
        {"booked": False, "present": True, "late_booking": True},
        {"booked": True, "present": True, "late_cancellation": True},
        {"booked": "yes"},
        {"present": 1},
        {"category": "martian"},
        {"day": "2023-09-04"},
    ],
)
def test_inconsistent_facts_are_refused(flags: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        fact(SEPTEMBER[0], **flags)


def test_duplicate_facts_and_unknown_household() -> None:
    with pytest.raises(InvalidInputError, match="two records"):
        decide([fact(SEPTEMBER[0]), fact(SEPTEMBER[0], present=False)])
    with pytest.raises(NotFoundError):
        compute_charges([fact(SEPTEMBER[0])], tariffs=BOOK, households={})
    with pytest.raises(InvalidInputError):
        ChargingPolicy(carence_days=-1)


day_facts = st.builds(
    lambda offset, booked, present, justified, closed, late_cancel: fact(
        date(2023, 9, 1) + timedelta(days=offset),
        booked=booked,
        present=present,
        absence_justified=justified and booked and present is False,
        closed_by_organiser=closed,
        late_cancellation=late_cancel and not booked,
    ),
    st.integers(0, 60),
    st.booleans(),
    st.sampled_from([True, False, None]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
fact_lists = st.lists(day_facts, max_size=40, unique_by=lambda f: f.day)


@given(fact_lists, st.integers(0, 3))
def test_no_charge_for_a_closed_day(facts: list[DayFacts], carence: int) -> None:
    result = compute_charges(
        facts,
        tariffs=BOOK,
        households={"H1": family(800)},
        policy=ChargingPolicy(carence_days=carence),
    )
    assert len(result.decisions) == len(facts)
    closed = {f.day for f in facts if f.closed_by_organiser}
    assert not any(c.day in closed for c in result.charges)


@given(fact_lists, st.integers(0, 3))
def test_justified_absence_after_the_carence_is_never_charged(
    facts: list[DayFacts], carence: int
) -> None:
    decisions = decide(facts, policy=ChargingPolicy(carence_days=carence))
    # Independent recount: the run grows on justified absences, resets on a booked day that is
    # not one (present, unrecorded or unjustified) and on an unbooked meal.
    run = 0
    for decision in decisions:
        f = decision.facts
        if f.closed_by_organiser:
            assert not decision.charged
            continue
        if f.absence_justified:
            run += 1
            assert decision.charged == (run <= carence)
            if run > carence:
                assert decision.rule is ChargeRule.JUSTIFIED_ABSENCE
        elif f.booked or f.present is True:
            run = 0
            assert decision.charged or decision.rule is ChargeRule.BOOKED_NOT_RECORDED


def test_wrong_types_are_refused() -> None:
    from canteen_core.domain.charging import price

    with pytest.raises(InvalidInputError):
        decide(["not a fact"])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError):
        price(["not a decision"], tariffs=BOOK, households={})  # type: ignore[list-item]
    with pytest.raises(InvalidInputError):
        price([], tariffs="book", households={})  # type: ignore[arg-type]
