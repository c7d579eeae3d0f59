"""Billing by period (PeriodFacts, charge_periods, run_postpaid_periods): the same invoices as
billing day by day, without an object per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _billing_oracle import compute_charges, day_facts, run_postpaid
from _calendars import CALENDAR, HOUSEHOLD, enrollment
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.domain.calendar import Period
from canteen_core.domain.charging import (
    ChargeRule,
    ChargingPolicy,
    PeriodFacts,
    charge_periods,
)
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.invoice_runs import run_postpaid_periods
from canteen_core.domain.invoicing import NumberSequence
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import (
    BracketPricing,
    FlatPricing,
    SiblingDiscount,
    Surcharge,
    SurchargeReason,
    TariffBook,
    TariffCategory,
    TariffGrid,
)
from canteen_core.services.billing import period_facts

START, END = date(2023, 9, 1), date(2023, 9, 30)
SEPTEMBER = [START + timedelta(days=i) for i in range(30)]
ISSUED = datetime(2023, 10, 2, 8, 0, tzinfo=UTC)
_PRICES = BracketPricing.from_thresholds(["1.00", "3.05", "3.10", "3.15"], [700, 1000, 1400])
#: Two grids of the lunch service: the price changes on 18 September.
BOOK = TariffBook(
    grids=(
        TariffGrid(
            id="g-early",
            service_id="lunch",
            valid_from=date(2023, 1, 1),
            valid_until=date(2023, 9, 17),
            prices={
                TariffCategory.RESIDENT_CHILD: _PRICES,
                TariffCategory.PAI_BASKET: FlatPricing.of("0.80"),
            },
            sibling_discounts=(SiblingDiscount(from_rank=2, percent=Decimal(50)),),
            unbooked_surcharge=Surcharge.percent(50),
            late_booking_surcharge=Surcharge.add_amount("1"),
        ),
        TariffGrid(
            id="g-late",
            service_id="lunch",
            valid_from=date(2023, 9, 18),
            prices={
                TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
                    ["1.10", "3.05", "3.20", "3.25"], [700, 1000, 1400]
                ),
                TariffCategory.PAI_BASKET: FlatPricing.of("0.80"),
            },
            sibling_discounts=(SiblingDiscount(from_rank=3, percent=Decimal(25)),),
            late_booking_surcharge=Surcharge.fixed_price("5"),
        ),
    )
)


def _household(hid: str, children: int, quotients: tuple[FamilyQuotient, ...]) -> Household:
    return Household(
        id=hid,
        payer=Guardian(id=f"G-{hid}", first_name="Maman", last_name="Concerto"),
        children=tuple(
            Child(
                id=f"{hid}-c{i}",
                first_name=f"Kid{i}",
                last_name="Concerto",
                birth_date=date(2012 + i, 1, 1),
            )
            for i in range(1, children + 1)
        ),
        quotients=quotients,
    )


_QUOTIENTS = st.sampled_from(
    [
        (),
        (FamilyQuotient(value=500, valid_from=date(2023, 1, 1)),),
        (FamilyQuotient(value=800, valid_from=date(2023, 1, 1)),),
        (  # a new QF from 11 September, and none after the 25th
            FamilyQuotient(value=800, valid_from=date(2023, 1, 1), valid_until=date(2023, 9, 10)),
            FamilyQuotient(value=1200, valid_from=date(2023, 9, 11), valid_until=date(2023, 9, 25)),
        ),
    ]
)


@st.composite
def _periods(draw: st.DrawFn, child_id: str, household_id: str, enrollment_id: str) -> PeriodFacts:
    """Consistent period facts: each day gets one situation a DayFacts could describe."""
    booked: set[date] = set()
    closed: set[date] = set()
    present: set[date] = set()
    absent: set[date] = set()
    justified: set[date] = set()
    late_booked: set[date] = set()
    late_cancelled: set[date] = set()
    kinds = st.sampled_from(
        [
            *("none", "none", "present", "unrecorded", "absent", "justified", "closed"),
            *("unbooked", "unbooked_absent", "late_cancel"),
        ]
    )
    for day in draw(st.lists(st.sampled_from(SEPTEMBER), unique=True, max_size=12)):
        kind = draw(kinds)
        late = draw(st.booleans())
        if kind in ("present", "unrecorded", "absent", "justified"):
            booked.add(day)
            if late:
                late_booked.add(day)
        if kind == "present" or kind == "unbooked":
            present.add(day)
        elif kind == "absent" or kind == "unbooked_absent":
            absent.add(day)
        elif kind == "justified":
            justified.add(day)
            if draw(st.booleans()):
                absent.add(day)
        elif kind == "closed":
            closed.add(day)
        elif kind == "late_cancel":
            late_cancelled.add(day)
    return PeriodFacts(
        child_id=child_id,
        household_id=household_id,
        enrollment_id=enrollment_id,
        service_id="lunch",
        category=draw(st.sampled_from([TariffCategory.RESIDENT_CHILD, TariffCategory.PAI_BASKET])),
        booked=booked,
        closed=closed,
        present=present,
        absent=absent,
        justified=justified,
        late_booked=late_booked,
        late_cancelled=late_cancelled,
    )


@st.composite
def _cities(draw: st.DrawFn) -> tuple[list[Household], list[PeriodFacts]]:
    households: list[Household] = []
    facts: list[PeriodFacts] = []
    for h in range(1, draw(st.integers(1, 3)) + 1):
        hid = f"H{h}"
        children = draw(st.integers(1, 3))
        households.append(_household(hid, children, draw(_QUOTIENTS)))
        for c in range(1, children + 1):
            for e in range(draw(st.integers(0, 2))):  # a child may change enrollment mid-month
                facts.append(draw(_periods(f"{hid}-c{c}", hid, f"e-{hid}-{c}-{e}")))
    return households, draw(st.permutations(facts))


@given(
    city=_cities(),
    carence=st.integers(0, 3),
    late_cancellation=st.booleans(),
    unrecorded=st.booleans(),
    carried=st.integers(0, 2),
    billed=st.sets(st.sampled_from(["H1", "H2", "H3"])),
    explicit=st.booleans(),
)
def test_billing_by_period_equals_billing_by_day(
    city: tuple[list[Household], list[PeriodFacts]],
    carence: int,
    late_cancellation: bool,
    unrecorded: bool,
    carried: int,
    billed: set[str],
    explicit: bool,
) -> None:
    households, periods = city
    policy = ChargingPolicy(
        carence_days=carence,
        charge_late_cancellation=late_cancellation,
        charge_unrecorded=unrecorded,
    )
    carried_runs = {p.enrollment_id: carried for p in periods[::2]}
    # Explicit ranks and a lenient policy for some enrollments, or the defaults.
    ranks = {p.child_id: 1 + len(p.child_id) % 3 for p in periods} if explicit else None
    policies = {p.enrollment_id: ChargingPolicy(carence_days=0) for p in periods[1::3]}
    keys = {f"postpaid/regie/{h.id}/2023-09-01/2023-09-30" for h in households if h.id in billed}
    common = {
        "issuer_id": "regie",
        "period_start": START,
        "period_end": END,
        "households": households,
        "tariffs": BOOK,
        "sequence": NumberSequence(issuer_id="regie", year=2023, last_used=7),
        "issued_at": ISSUED,
        "policy": policy,
        "policies": policies,
        "ranks": ranks,
        "carried_runs": carried_runs,
        "already_billed": keys,
        "service_names": {"lunch": "Restauration scolaire"},
    }
    by_day = run_postpaid(facts=[f for p in periods for f in p.day_facts()], **common)  # type: ignore[arg-type]
    by_period = run_postpaid_periods(facts=periods, **common)  # type: ignore[arg-type]
    assert by_period.invoices == by_day.invoices
    assert by_period.sequence == by_day.sequence
    assert by_period.skipped_keys == by_day.skipped_keys
    assert by_period.without_charges == by_day.without_charges
    assert by_period.events == by_day.events
    # The grouped charges are the day-by-day charges.
    result = compute_charges(
        [f for p in periods for f in p.day_facts()],
        tariffs=BOOK,
        households={h.id: h for h in households},
        policy=policy,
        policies=policies,
        carried_runs=carried_runs,
        ranks=ranks,
    )
    grouped = charge_periods(
        periods,
        tariffs=BOOK,
        households={h.id: h for h in households},
        policy=policy,
        policies=policies,
        carried_runs=carried_runs,
        ranks=ranks,
    )
    assert sorted(
        (c.facts.enrollment_id, c.day, c.rule, c.quote) for c in result.charges
    ) == sorted((g.facts.enrollment_id, day, g.rule, g.quote) for g in grouped for day in g.days)
    assert all(g.quantity == len(g.days) > 0 for g in grouped)


@given(
    days=st.lists(st.sampled_from(SEPTEMBER), unique=True),
    quotients=_QUOTIENTS,
    rank=st.integers(1, 3),
    surcharge=st.sampled_from([None, *SurchargeReason]),
)
def test_quote_days_equals_a_quote_per_day(
    days: list[date],
    quotients: tuple[FamilyQuotient, ...],
    rank: int,
    surcharge: SurchargeReason | None,
) -> None:
    household = _household("H1", 1, quotients)
    grouped = BOOK.quote_days(
        service_id="lunch",
        days=days,
        category="resident_child",
        household=household,
        sibling_rank=rank,
        surcharge=surcharge,
    )
    per_day = {
        day: BOOK.quote(
            service_id="lunch",
            day=day,
            category="resident_child",
            household=household,
            sibling_rank=rank,
            surcharge=surcharge,
        )
        for day in days
    }
    assert sorted(day for _, group in grouped for day in group) == sorted(days)
    for quote, group in grouped:
        assert group == sorted(group)
        assert all(per_day[day] == quote for day in group)
    assert len({quote for quote, _ in grouped}) == len(grouped)


def test_quote_days_raises_like_quote_on_a_day_without_grid() -> None:
    household = _household("H1", 1, ())
    with pytest.raises(NotFoundError, match="2022-12-31"):
        BOOK.quote_days(
            service_id="lunch",
            days=[date(2023, 1, 2), date(2022, 12, 31)],
            category="resident_child",
            household=household,
        )
    assert BOOK.quote_days(service_id="lunch", days=[], category="adult", household=household) == []


def test_period_facts_refuse_inconsistent_days() -> None:
    day, other = SEPTEMBER[3], SEPTEMBER[4]
    base = {"child_id": "c", "household_id": "H", "enrollment_id": "e", "service_id": "lunch"}
    for bad in (
        {"present": {day}, "absent": {day}},
        {"justified": {day}},  # not booked
        {"booked": {day}, "present": {day}, "justified": {day}},  # not missed
        {"late_booked": {day}},
        {"booked": {day}, "late_cancelled": {day}},
        {"closed": {day}, "present": {day}},
        {"booked": {datetime(2023, 9, 4, tzinfo=UTC)}},
    ):
        with pytest.raises(InvalidInputError):
            PeriodFacts(**base, **bad)  # type: ignore[arg-type]
    facts = PeriodFacts(
        **base,  # type: ignore[arg-type]
        booked={day, other},
        justified={other},
        closed={SEPTEMBER[5]},
        late_cancelled={SEPTEMBER[6]},
    )
    assert facts.days() == [day, other, SEPTEMBER[5], SEPTEMBER[6]]
    assert [
        (f.day, f.present, f.absence_justified, f.closed_by_organiser) for f in facts.day_facts()
    ] == [
        (day, None, False, False),
        (other, False, True, False),
        (SEPTEMBER[5], None, False, True),
        (SEPTEMBER[6], None, False, False),
    ]


def test_charge_periods_checks_its_input() -> None:
    households = {"H1": _household("H1", 1, ())}
    facts = PeriodFacts(
        child_id="H1-c1",
        household_id="H1",
        enrollment_id="e",
        service_id="lunch",
        booked={SEPTEMBER[3]},
    )
    with pytest.raises(InvalidInputError, match="two period facts"):
        charge_periods([facts, facts], tariffs=BOOK, households=households)
    with pytest.raises(InvalidInputError):
        charge_periods([facts.day_facts()[0]], tariffs=BOOK, households=households)  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="carried run"):
        charge_periods([facts], tariffs=BOOK, households=households, carried_runs={"e": -1})
    with pytest.raises(NotFoundError):
        charge_periods([facts], tariffs=BOOK, households={})
    (group,) = charge_periods([facts], tariffs=BOOK, households=households, ranks={"H1-c1": 1})
    assert (group.rule, group.days, group.quantity) == (
        ChargeRule.BOOKED_NOT_RECORDED,
        (SEPTEMBER[3],),
        1,
    )


def test_run_postpaid_periods_checks_its_input() -> None:
    base = {
        "issuer_id": "regie",
        "period_start": START,
        "period_end": END,
        "households": [_household("H1", 1, ())],
        "tariffs": BOOK,
        "sequence": NumberSequence(issuer_id="regie", year=2023),
        "issued_at": ISSUED,
    }
    october = PeriodFacts(
        child_id="H1-c1",
        household_id="H1",
        enrollment_id="e",
        service_id="lunch",
        booked={SEPTEMBER[3], date(2023, 10, 2)},
    )
    with pytest.raises(InvalidInputError, match="2023-10-02 is outside"):
        run_postpaid_periods(facts=[october], **base)  # type: ignore[arg-type]
    stranger = PeriodFacts(
        child_id="c", household_id="H9", enrollment_id="e", service_id="lunch", booked={START}
    )
    with pytest.raises(NotFoundError):
        run_postpaid_periods(facts=[stranger], **base)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        run_postpaid_periods(facts=[october.day_facts()[0]], **base)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        run_postpaid_periods(**{**base, "facts": [], "period_end": date(2023, 8, 1)})  # type: ignore[arg-type]
    run = run_postpaid_periods(facts=[], **base)  # type: ignore[arg-type]
    assert (run.invoices, run.without_charges, run.decisions) == ((), ("H1",), ())


# -- from reservations and attendance ---------------------------------------------------------

#: The restaurant calendar with a strike on Tuesday 19 September.
STRIKE = CALENDAR.with_closures(
    Period(name="Grève", first_day=date(2023, 9, 19), last_day=date(2023, 9, 19))
)
SERVICE_DAYS = [d for d in SEPTEMBER + [date(2023, 10, d) for d in (2, 3)] if d.weekday() != 2]


RECORDED_AT = datetime(2023, 9, 30, tzinfo=UTC)


def month_of(
    booked: set[date],
    late: set[date],
    cancelled: set[date],
    attendance: dict[date, str],
    start: date,
) -> tuple[Enrollment, ReservationBook, list[AttendanceRecord]]:
    """An enrollment from ``start`` on the strike calendar, its book and its roll calls, from
    drawn days (late days are booked ones, cancelled ones are not; "justified" is an absence
    with a certificate)."""
    e = enrollment(calendar=STRIKE, start=start)
    days = {d for d in booked if d >= start}
    book = ReservationBook.from_days(
        e.id,
        e.start,
        days,
        late_booked=late & days,
        late_cancelled={d for d in cancelled - days if d >= start},
    )
    records = [
        AttendanceRecord(
            id=f"{e.id}/{day}",
            enrollment_id=e.id,
            child_id=e.child_id,
            household_id=e.household_id,
            site_id="ronde",
            day=day,
            presence=Presence.PRESENT if kind == "present" else Presence.ABSENT,
            booked=day in days,
            recorded_by="agent",
            recorded_at=RECORDED_AT,
            justification_id="j" if kind == "justified" else None,
        )
        for day, kind in attendance.items()
    ]
    return e, book, records


@given(
    booked=st.sets(st.sampled_from(SERVICE_DAYS)),
    late=st.sets(st.sampled_from(SERVICE_DAYS)),
    cancelled=st.sets(st.sampled_from(SERVICE_DAYS)),
    attendance=st.dictionaries(
        st.sampled_from(SERVICE_DAYS), st.sampled_from(["present", "absent", "justified"])
    ),
    certificate=st.none() | st.tuples(st.sampled_from(SEPTEMBER), st.integers(0, 6)),
    start=st.sampled_from([date(2023, 9, 4), date(2023, 9, 12)]),
)
def test_period_facts_equal_day_facts(
    booked: set[date],
    late: set[date],
    cancelled: set[date],
    attendance: dict[date, str],
    certificate: tuple[date, int] | None,
    start: date,
) -> None:
    e, book, records = month_of(booked, late, cancelled, attendance, start)
    notes = (
        []
        if certificate is None
        else [
            AbsenceJustification(
                id="j",
                enrollment_id=e.id,
                child_id=e.child_id,
                first_day=certificate[0],
                last_day=certificate[0] + timedelta(days=certificate[1]),
                recorded_by="agent",
                recorded_at=RECORDED_AT,
            )
        ]
    )
    expected = day_facts(e, book, START, END, records=records, justifications=notes)
    facts = period_facts(e, book, START, END, records=records, justifications=notes)
    assert facts.household_id == HOUSEHOLD.id
    assert sorted(facts.day_facts(), key=lambda f: f.day) == sorted(expected, key=lambda f: f.day)
    before = period_facts(e, book, date(2023, 8, 1), date(2023, 8, 31), records=records)
    assert before.days() == []
