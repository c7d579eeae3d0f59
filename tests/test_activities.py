"""The rules of activities (docs/rules/activities.md), checked with Hypothesis: their calendars,
the units a stay makes, and that no unit is ever charged twice."""

from __future__ import annotations

import pickle
from collections import Counter
from datetime import date, time, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.activities import (
    TimeRounding,
    Unit,
    duration_fr,
    minutes_between,
    time_units,
    week_of,
    week_units,
)
from canteen_core.domain.calendar import CalendarKind, ClosureKind, ServiceCalendar
from canteen_core.domain.catalog import Service
from canteen_core.domain.charging import PeriodFacts, charge_periods
from canteen_core.domain.charging.activities import activity_facts, is_lunch, late_pickups
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.invoice_runs.activity_lines import activity_lines
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import (
    FlatPricing,
    SiblingDiscount,
    TariffBook,
    TariffCategory,
    TariffGrid,
)
from canteen_core.synthetic import synthetic_city
from canteen_core.synthetic_activities import ALSH as HOLIDAY_CENTRE
from canteen_core.synthetic_activities import EVENING_CARE, WEDNESDAY, city_activities
from canteen_core.testing.samples import school_year_2023_c

YEAR = school_year_2023_c()
CALENDARS = {kind: ServiceCalendar(school_year=YEAR, kind=kind) for kind in CalendarKind}
DAYS = [YEAR.first_day + timedelta(days=i) for i in range((YEAR.last_day - YEAR.first_day).days)]

EVENING = EVENING_CARE
ALSH = HOLIDAY_CENTRE
HOUSEHOLD = Household(
    id="h",
    payer=Guardian(id="g", first_name="Maman", last_name="Concerto"),
    children=(
        Child(id="c", first_name="Alban", last_name="Concerto", birth_date=date(2015, 3, 2)),
    ),
    quotients=(FamilyQuotient(value=700, valid_from=date(2023, 1, 1)),),
)
TARIFFS = TariffBook(
    grids=[
        TariffGrid(
            id=f"{service_id}-grid",
            service_id=service_id,
            valid_from=date(2023, 8, 1),
            prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of(price)},
            late_pickup_fee=Money.of("2"),
        )
        for service_id, price in (("soir", "0.60"), ("alsh", "55"), ("mercredi", "5"), ("rs", "3"))
    ]
)


def test_each_calendar_kind_opens_its_own_days() -> None:
    school, wednesdays, holidays, saturdays = (CALENDARS[kind] for kind in CalendarKind)
    # February holidays in zone C 2024: 10 to 25 February.
    assert holidays.open_days(date(2024, 2, 1), date(2024, 2, 29))[0] == date(2024, 2, 12)
    assert len(holidays.open_days(date(2024, 2, 12), date(2024, 2, 18))) == 5
    assert holidays.closure(date(2024, 2, 5)).kind is ClosureKind.SCHOOL_TERM  # type: ignore[union-attr]
    assert wednesdays.open_days(date(2023, 9, 4), date(2023, 9, 10)) == (date(2023, 9, 6),)
    assert saturdays.is_open(date(2023, 9, 16))
    assert not saturdays.is_open(date(2023, 10, 28))  # Toussaint holidays
    assert not school.is_open(date(2023, 9, 16))


@given(st.sampled_from(DAYS))
def test_holiday_and_term_calendars_never_overlap(day: date) -> None:
    open_in = {kind for kind, calendar in CALENDARS.items() if calendar.is_open(day)}
    assert len(open_in) <= 1
    if CALENDARS[CalendarKind.SCHOOL_HOLIDAYS].is_open(day):
        assert YEAR.holiday_on(day) is not None
        assert day.weekday() < 5
    if open_in & {CalendarKind.WEDNESDAYS, CalendarKind.SATURDAYS}:
        assert YEAR.holiday_on(day) is None


def test_a_sunday_or_a_weekday_saturday_service_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        Service(id="s", name="Samedi", calendar="saturdays", open_weekdays="sat,sun")
    with pytest.raises(InvalidInputError):
        ServiceCalendar(school_year=YEAR, open_weekdays="sat")  # class days: no weekend
    with pytest.raises(InvalidInputError):
        Service(id="s", name="Soir", unit="half_hour")  # a timed unit needs its closing time
    with pytest.raises(InvalidInputError):
        Service(id="s", name="Soir", meal=False, meal_service_id="rs")
    with pytest.raises(InvalidInputError):
        Service(id="s", name="x", unit="fortnight")


@given(st.integers(0, 600), st.integers(0, 29), st.sampled_from([Unit.HOUR, Unit.HALF_HOUR]))
def test_a_stay_is_charged_every_started_unit_past_the_tolerance(
    minutes: int, tolerance: int, unit: Unit
) -> None:
    units = time_units(unit, minutes, TimeRounding(tolerance=tolerance))
    assert units >= 1
    # Enough units to cover the stay less the tolerance, and not one more than needed.
    assert units * unit.minutes >= minutes - tolerance
    assert units == 1 or (units - 1) * unit.minutes + tolerance < minutes
    assert time_units(unit, minutes + 1, TimeRounding(tolerance=tolerance)) >= units


def test_durations_read_as_on_an_invoice() -> None:
    assert duration_fr(13 * 30) == "6 h 30"
    assert duration_fr(120) == "2 h"
    assert Unit.HALF_DAY.quantity_fr(2) == "2 demi-journées"
    with pytest.raises(InvalidInputError):
        minutes_between(time(18, 0), time(17, 0))


def test_units_keep_their_stored_values_beside_their_french_labels() -> None:
    # Services and tariff grids store the value: the label beside it must not change it.
    assert [unit.value for unit in Unit] == ["day", "half_day", "slot", "hour", "half_hour", "week"]
    for unit in Unit:
        assert Unit(unit.value) is unit
        assert str(unit) == unit.value
        assert unstructure(unit) == unit.value
        assert structure(unit.value, Unit) is unit
        assert pickle.loads(pickle.dumps(unit)) is unit
        assert unit.label == unit.label_fr
    assert [unit.label_fr for unit in Unit] == [
        "à la journée",
        "à la demi-journée",
        "au créneau",
        "à l'heure",
        "à la demi-heure",
        "à la semaine",
    ]
    assert [Unit.SLOT.noun_fr, Unit.WEEK.quantity_fr(1)] == ["créneau", "1 semaine"]


days_of_year = st.sets(st.sampled_from(DAYS), max_size=40)


@given(days_of_year, st.sampled_from(DAYS))
def test_a_week_is_billed_by_one_period_only(days: set[date], cut: date) -> None:
    """Two consecutive periods (before ``cut``, from ``cut``) bill each week with a charged
    day exactly once."""
    first = week_units([d for d in days if d < cut], YEAR.first_day)
    second = week_units([d for d in days if d >= cut], cut)
    billed = Counter(first) + Counter(second)
    assert all(count == 1 for count in billed.values())
    # Every week is billed, except those whose days all fall after the cut of a week that
    # started before it (billed, if at all, with the previous period).
    for monday in {week_of(d) for d in days}:
        if monday >= cut or any(d < cut for d in days if week_of(d) == monday):
            assert monday in billed


stays = st.tuples(st.integers(16 * 60, 18 * 60), st.integers(0, 180)).map(
    lambda pair: (
        time(pair[0] // 60, pair[0] % 60),
        time(min(23, (pair[0] + pair[1]) // 60), (pair[0] + pair[1]) % 60),
    )
)


def _facts(service: Service, booked: set[date], present: set[date]) -> PeriodFacts:
    return PeriodFacts(
        child_id="c",
        household_id="h",
        enrollment_id="e",
        service_id=service.id,
        booked=frozenset(booked),
        present=frozenset(present),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([EVENING, ALSH, WEDNESDAY]),
    st.sets(st.sampled_from(DAYS[:120]), max_size=30),
    st.sets(st.sampled_from(DAYS[:120]), max_size=30),
    st.dictionaries(st.sampled_from(DAYS[:120]), stays, max_size=30),
)
def test_no_unit_is_charged_twice(
    service: Service,
    booked: set[date],
    present: set[date],
    times: dict[date, tuple[time, time]],
) -> None:
    """Every charged day is on exactly one line of the activity (and one of its meal), a
    timed line counts the units of its days, a week line is one week."""
    stays_of = {day: stay for day, stay in times.items() if day in present}
    facts = activity_facts(_facts(service, booked, present), service, YEAR.first_day, stays_of)
    groups = charge_periods(facts, tariffs=TARIFFS, households={"h": HOUSEHOLD})
    lines = activity_lines(groups, {}, {service.id: service.name})
    charged = booked | present
    late = [line for line in lines if line.unit == "late_pickup"]
    assert sorted(day for line in late for day in line.days) == sorted(facts[0].late_pickups)
    assert all(line.amount.amount == line.quantity * 2 for line in late)
    for unit in {line.unit for line in lines} - {"late_pickup"}:
        traced = Counter(day for line in lines if line.unit == unit for day in line.days)
        assert set(traced) == charged
        assert all(count == 1 for count in traced.values())
    lines = [line for line in lines if line.unit != "late_pickup"]
    if service.unit is Unit.WEEK:
        assert sorted(line.days[0] for line in lines) == sorted(
            min(d for d in charged if week_of(d) == monday)
            for monday in {week_of(d) for d in charged}
        )
        assert all(line.quantity == 1 for line in lines)
    if service.unit.timed:
        own = dict(facts[0].quantities)
        assert sum(line.quantity for line in lines) == sum(own[day] for day in charged)
        for day in charged:
            stay = stays_of.get(day, (service.starts_at, service.ends_at or service.starts_at))
            expected = time_units(service.unit, minutes_between(*stay), service.rounding)
            assert own[day] == expected
    if service.meal_service_id is not None:
        meals = [line for line in lines if line.unit == "meal"]
        assert sum(line.quantity for line in meals) == len(charged)
        assert all(line.grid_id == "rs-grid" for line in meals)


def test_lunch_facts_are_left_as_they_are_and_late_pickups_found() -> None:
    lunch = Service(id="rs", name="Restauration scolaire")
    facts = _facts(lunch, {date(2023, 9, 4)}, set())
    assert is_lunch(lunch)
    assert activity_facts(facts, lunch, date(2023, 9, 1)) == (facts,)
    assert not is_lunch(EVENING)
    late = late_pickups(
        EVENING,
        {
            date(2023, 9, 4): (time(16, 30), time(18, 40)),  # within the 10 minutes' grace
            date(2023, 9, 5): (time(16, 30), time(18, 41)),
        },
    )
    assert late == {date(2023, 9, 5)}


def test_the_synthetic_city_has_an_evening_care_a_wednesday_service_and_an_alsh() -> None:
    city = synthetic_city(300, calendar=CALENDARS[CalendarKind.SCHOOL_DAYS], seed=5)
    activities = city_activities(city)
    again = city_activities(synthetic_city(300, calendar=city.calendar, seed=5))
    assert [e.id for e in activities.enrollments] == [e.id for e in again.enrollments]
    services = Counter(e.service.id for e in activities.enrollments)
    assert set(services) == {"soir", "mercredi", "alsh"}
    assert services["soir"] > services["mercredi"] > services["alsh"] > 0
    for enrollment in activities.enrollments:
        booked = [
            day
            for day in activities.periodicities[enrollment.id].days()
            if enrollment.is_bookable(day)
        ]
        assert booked, enrollment.id
        if enrollment.service.id == "alsh":  # the first week of the February holidays
            assert booked == [date(2024, 2, 12) + timedelta(days=i) for i in range(5)]
        if enrollment.service.id == "mercredi":
            assert {day.weekday() for day in booked} == {2}
    stays = list(activities.stays(date(2023, 9, 1), date(2023, 9, 30)))
    assert stays
    assert all(arrival < departure for _, _, arrival, departure in stays)
    assert {enrollment_id.rsplit("-", 1)[1] for _, enrollment_id, _, _ in stays} == {"soir"}


def test_sibling_discounts_apply_per_unit_among_the_activity_s_children() -> None:
    household = attrs.evolve(
        HOUSEHOLD,
        children=(
            *HOUSEHOLD.children,
            Child(id="d", first_name="Zoé", last_name="Concerto", birth_date=date(2017, 6, 9)),
        ),
    )
    grid = TariffGrid(
        id="soir-grid",
        service_id="soir",
        valid_from=date(2023, 8, 1),
        prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of("0.60")},
        sibling_discounts=(SiblingDiscount(from_rank=2, percent=Decimal(50)),),
    )
    day = date(2023, 9, 11)
    facts = [
        attrs.evolve(_facts(EVENING, {day}, {day}), child_id=child, enrollment_id=f"e-{child}")
        for child in ("c", "d")
    ]
    stays = {day: (time(16, 30), time(17, 30))}  # two half-hours each
    charged = charge_periods(
        [item for f in facts for item in activity_facts(f, EVENING, day, stays)],
        tariffs=TariffBook(grids=[grid]),
        households={"h": household},
    )
    lines = activity_lines(charged, {}, {"soir": "Accueil du soir"})
    assert [(line.child_id, line.quantity, str(line.unit_price)) for line in lines] == [
        ("c", 2, "0.60 EUR"),
        ("d", 2, "0.30 EUR"),
    ]


def test_grids_and_pages_name_each_activity_with_its_unit() -> None:
    assert EVENING.activity_fr == "Accueil du soir, à la demi-heure, de 16 h 30 à 18 h 30"
    assert ALSH.activity_fr == "ALSH vacances, à la semaine, de 8 h 30 à 18 h, repas compris"
    assert WEDNESDAY.activity_fr.startswith("Accueil du mercredi, à la demi-journée")
    assert Service(id="rs", name="Restauration scolaire").activity_fr == "Restauration scolaire"
