"""The core school calendar: values, precedence of closure reasons, and its invariants.

These tests build school years by hand, independent of the France data plugin
(see tests/test_calendar_france.py for the official data).
"""

from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.calendar import (
    SCHOOL_RESTAURANT_WEEKDAYS,
    Closure,
    ClosureKind,
    Period,
    SchoolYear,
    ServiceCalendar,
    Zone,
    parse_school_year,
    parse_weekdays,
)
from canteen_core.domain.errors import InvalidInputError

TOUSSAINT = Period(
    name="Vacances de la Toussaint", first_day=date(2023, 10, 21), last_day=date(2023, 11, 5)
)


def year_2023_c() -> SchoolYear:
    """A part of zone C 2023-2024, enough to exercise every kind of closure."""
    return SchoolYear(
        zone=Zone.C,
        start_year=2023,
        first_day=date(2023, 9, 4),
        last_day=date(2024, 7, 5),
        holidays=(
            Period(
                name="Vacances de Noël", first_day=date(2023, 12, 23), last_day=date(2024, 1, 7)
            ),
            TOUSSAINT,
        ),
        public_holidays={
            date(2023, 11, 1): "Toussaint",
            date(2023, 11, 11): "Armistice",
            date(2024, 5, 8): "Victoire 1945",
            date(2024, 5, 9): "Ascension",
        },
        bridge_days={date(2024, 5, 10): "Pont de l'Ascension"},
    )


CALENDAR = ServiceCalendar(school_year=year_2023_c())


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-2024", 2023),
        ("2023/2024", 2023),
        (" 2023 - 2024 ", 2023),
        ("2023", 2023),
        (2023, 2023),
    ],
)
def test_parse_school_year(text: str | int, expected: int) -> None:
    assert parse_school_year(text) == expected


@pytest.mark.parametrize("text", ["2023-2025", "23-24", "2024-2023", "abc", "", "2023-2024-2025"])
def test_parse_school_year_rejects_malformed(text: str) -> None:
    with pytest.raises(InvalidInputError, match="school_year"):
        parse_school_year(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon,tue,thu,fri", {0, 1, 3, 4}),
        ("lundi, Mardi,jeudi,vendredi", {0, 1, 3, 4}),
        ("merc", {2}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("lundi-mercredi,ven", {0, 1, 2, 4}),
        ([0, "wed", "ven"], {0, 2, 4}),
    ],
)
def test_parse_weekdays(text: str | list[str | int], expected: set[int]) -> None:
    assert parse_weekdays(text) == frozenset(expected)


@pytest.mark.parametrize("text", ["mon,xyz", "", [7], ["lu"], "fri-mon", "mon-", "mon-xyz"])
def test_parse_weekdays_rejects_unknown(text: str | list[str | int]) -> None:
    with pytest.raises(InvalidInputError, match="weekday"):
        parse_weekdays(text)


def test_zone_parse() -> None:
    assert Zone.parse("a") is Zone.A
    assert Zone.parse("Zone C") is Zone.C
    assert Zone.parse(Zone.B) is Zone.B
    with pytest.raises(InvalidInputError, match="zone inconnue « D »"):
        Zone.parse("D")


# --- value objects -------------------------------------------------------------------------


def test_period_rejects_reversed_dates_and_blank_names() -> None:
    with pytest.raises(InvalidInputError, match="avant de commencer"):
        Period(name="Grève", first_day=date(2024, 1, 2), last_day=date(2024, 1, 1))
    with pytest.raises(InvalidInputError, match="name"):
        Period(name=" ", first_day=date(2024, 1, 1), last_day=date(2024, 1, 1))
    with pytest.raises(InvalidInputError, match="first_day"):
        Period(name="x", first_day=datetime(2024, 1, 1), last_day=date(2024, 1, 1))  # type: ignore[arg-type]


def test_period_contains_and_days() -> None:
    assert date(2023, 11, 1) in TOUSSAINT
    assert date(2023, 11, 6) not in TOUSSAINT
    assert "2023-11-01" not in TOUSSAINT
    assert len(list(TOUSSAINT.days())) == 16


def test_school_year_validation() -> None:
    with pytest.raises(InvalidInputError, match="doit finir après la rentrée"):
        SchoolYear(zone="C", start_year=2023, first_day=date(2024, 7, 5), last_day=date(2023, 9, 4))
    with pytest.raises(InvalidInputError, match="n'est pas une date"):
        SchoolYear(
            zone="C",
            start_year=2023,
            first_day=date(2023, 9, 4),
            last_day=date(2024, 7, 5),
            public_holidays={"2023-11-01": "Toussaint"},  # type: ignore[dict-item]
        )
    with pytest.raises(InvalidInputError, match="zone"):
        SchoolYear(zone="D", start_year=2023, first_day=date(2023, 9, 4), last_day=date(2024, 7, 5))
    with pytest.raises(InvalidInputError, match="une période est attendue"):
        SchoolYear(
            zone="C",
            start_year=2023,
            first_day=date(2023, 9, 4),
            last_day=date(2024, 7, 5),
            holidays=("Toussaint",),  # type: ignore[arg-type]
        )


def test_school_year_is_a_hashable_picklable_value() -> None:
    year = year_2023_c()
    assert year == year_2023_c()
    assert hash(year) == hash(year_2023_c())
    assert pickle.loads(pickle.dumps(year)) == year
    assert year.label == "2023-2024"
    # Holidays are kept sorted, whatever the order given.
    assert [period.name for period in year.holidays] == [
        "Vacances de la Toussaint",
        "Vacances de Noël",
    ]
    # The mappings are frozen: no one can change a school year behind its back.
    with pytest.raises(TypeError):
        year.public_holidays[date(2024, 1, 1)] = "Jour de l'an"  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        year.first_day = date(2023, 9, 5)  # type: ignore[misc]


def test_service_calendar_is_a_value() -> None:
    assert ServiceCalendar(school_year=year_2023_c()) == CALENDAR
    assert hash(ServiceCalendar(school_year=year_2023_c())) == hash(CALENDAR)
    assert CALENDAR.open_weekdays == SCHOOL_RESTAURANT_WEEKDAYS
    assert pickle.loads(pickle.dumps(CALENDAR)).open_days() == CALENDAR.open_days()


def test_service_calendar_rejects_weekend_service_and_bad_inputs() -> None:
    with pytest.raises(InvalidInputError, match="ni le samedi ni le dimanche"):
        ServiceCalendar(school_year=year_2023_c(), open_weekdays="mon,sat")
    with pytest.raises(InvalidInputError, match="school_year"):
        ServiceCalendar(school_year="2023-2024")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="une période est attendue"):
        ServiceCalendar(school_year=year_2023_c(), site_closures=("grève",))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"une date \(sans heure\) est attendue"):
        CALENDAR.closure("2023-09-04")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"une date \(sans heure\) est attendue"):
        CALENDAR.is_open(datetime(2023, 9, 4, 12))
    with pytest.raises(InvalidInputError, match="start: une date"):
        CALENDAR.open_days("2023-09-04")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="end: une date"):
        CALENDAR.closures(end=20240705)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="day: une date"):
        CALENDAR.next_open_day(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="day: une date"):
        CALENDAR.previous_open_day("2023-09-04")  # type: ignore[arg-type]


# --- closures and their precedence ---------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "kind", "reason"),
    [
        # The holidays close the whole fortnight; the public holiday inside adds nothing.
        (date(2023, 11, 1), ClosureKind.SCHOOL_HOLIDAY, "Vacances de la Toussaint"),
        (date(2023, 10, 21), ClosureKind.SCHOOL_HOLIDAY, "Vacances de la Toussaint"),
        # A public holiday names the day even on a weekend or a closed weekday.
        (date(2023, 11, 11), ClosureKind.PUBLIC_HOLIDAY, "Armistice"),
        (date(2024, 5, 8), ClosureKind.PUBLIC_HOLIDAY, "Victoire 1945"),
        (date(2024, 5, 9), ClosureKind.PUBLIC_HOLIDAY, "Ascension"),
        (date(2024, 5, 10), ClosureKind.BRIDGE_DAY, "Pont de l'Ascension"),
        (date(2024, 5, 11), ClosureKind.WEEKEND, "Week-end"),
        (date(2023, 9, 6), ClosureKind.CLOSED_WEEKDAY, "Mercredi"),
        (date(2023, 9, 3), ClosureKind.OUTSIDE_SCHOOL_YEAR, "Hors année scolaire 2023-2024"),
        (date(2024, 7, 8), ClosureKind.OUTSIDE_SCHOOL_YEAR, "Hors année scolaire 2023-2024"),
    ],
)
def test_closure_reasons(day: date, kind: ClosureKind, reason: str) -> None:
    assert CALENDAR.closure(day) == Closure(day=day, kind=kind, reason=reason)
    assert not CALENDAR.is_open(day)


def test_open_days_have_no_closure() -> None:
    assert CALENDAR.closure(date(2023, 9, 4)) is None
    assert CALENDAR.is_open(date(2023, 9, 4))
    assert CALENDAR.first_day == date(2023, 9, 4)
    assert CALENDAR.last_day == date(2024, 7, 5)


def test_site_closures_only_show_on_days_that_would_be_open() -> None:
    strike = Period(name="Grève", first_day=date(2023, 11, 6), last_day=date(2023, 11, 12))
    calendar = CALENDAR.with_closures(strike)
    assert CALENDAR.site_closures == ()  # the original calendar is unchanged
    assert calendar.closure(date(2023, 11, 6)) == Closure(
        day=date(2023, 11, 6), kind=ClosureKind.SITE_CLOSURE, reason="Grève"
    )
    assert calendar.closure(date(2023, 11, 8)).reason == "Mercredi"  # type: ignore[union-attr]
    assert calendar.closure(date(2023, 11, 11)).reason == "Armistice"  # type: ignore[union-attr]
    assert len(calendar.open_days()) == len(CALENDAR.open_days()) - 4


def test_wednesday_service() -> None:
    calendar = ServiceCalendar(school_year=year_2023_c(), open_weekdays="wed")
    assert calendar.open_days(date(2023, 9, 1), date(2023, 9, 30)) == (
        date(2023, 9, 6),
        date(2023, 9, 13),
        date(2023, 9, 20),
        date(2023, 9, 27),
    )
    assert calendar.closure(date(2023, 9, 4)).reason == "Lundi"  # type: ignore[union-attr]
    assert calendar.closure(date(2024, 5, 8)).reason == "Victoire 1945"  # type: ignore[union-attr]


def test_previous_and_next_open_days_skip_holidays() -> None:
    assert CALENDAR.previous_open_day(date(2023, 11, 6)) == date(2023, 10, 20)
    assert CALENDAR.next_open_day(date(2023, 10, 20)) == date(2023, 11, 6)
    assert CALENDAR.next_open_day(date(2024, 5, 7)) == date(2024, 5, 13)
    assert CALENDAR.previous_open_day(date(2023, 9, 4)) is None
    assert CALENDAR.next_open_day(date(2024, 7, 5)) is None


def test_open_days_and_closures_between_dates() -> None:
    week = CALENDAR.open_days(date(2024, 5, 6), date(2024, 5, 12))
    assert week == (date(2024, 5, 6), date(2024, 5, 7))
    closed = CALENDAR.closures(date(2024, 5, 6), date(2024, 5, 12))
    assert [closure.reason for closure in closed] == [
        "Victoire 1945",
        "Ascension",
        "Pont de l'Ascension",
        "Week-end",
        "Week-end",
    ]


def test_counts_by_month_lists_every_month_in_order() -> None:
    counts = CALENDAR.counts_by_month()
    assert list(counts) == [
        "2023-09",
        "2023-10",
        "2023-11",
        "2023-12",
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
        "2024-05",
        "2024-06",
        "2024-07",
    ]
    assert counts["2023-09"] == 16
    assert counts["2023-11"] == 15  # 1 to 5 in holidays, Saturday 11 is Armistice anyway
    assert sum(counts.values()) == len(CALENDAR.open_days())


# --- properties ----------------------------------------------------------------------------

weekday_sets = st.sets(st.integers(min_value=0, max_value=4), min_size=1).map(frozenset)


@st.composite
def school_years(draw: st.DrawFn) -> SchoolYear:
    """Arbitrary but well-formed school years."""
    start_year = draw(st.integers(min_value=2000, max_value=2100))
    first_day = date(start_year, 9, 1) + timedelta(days=draw(st.integers(0, 6)))
    last_day = date(start_year + 1, 7, 1) + timedelta(days=draw(st.integers(0, 6)))
    span = (last_day - first_day).days
    offsets = st.integers(min_value=-5, max_value=span + 5)
    periods = []
    for index in range(draw(st.integers(0, 5))):
        start = first_day + timedelta(days=draw(offsets))
        length = draw(st.integers(0, 20))
        periods.append(
            Period(name=f"Vacances {index}", first_day=start, last_day=start + timedelta(length))
        )
    public = {
        first_day + timedelta(days=draw(offsets)): f"Férié {index}"
        for index in range(draw(st.integers(0, 12)))
    }
    bridges = {
        first_day + timedelta(days=draw(offsets)): "Pont" for _ in range(draw(st.integers(0, 3)))
    }
    return SchoolYear(
        zone=draw(st.sampled_from(Zone)),
        start_year=start_year,
        first_day=first_day,
        last_day=last_day,
        holidays=tuple(periods),
        public_holidays=public,
        bridge_days=bridges,
    )


@st.composite
def service_calendars(draw: st.DrawFn) -> ServiceCalendar:
    """Arbitrary service calendars, with site closures."""
    year = draw(school_years())
    closures = []
    for index in range(draw(st.integers(0, 3))):
        start = year.first_day + timedelta(days=draw(st.integers(0, 300)))
        closures.append(
            Period(name=f"Grève {index}", first_day=start, last_day=start + timedelta(days=2))
        )
    return ServiceCalendar(
        school_year=year, open_weekdays=draw(weekday_sets), site_closures=tuple(closures)
    )


def all_days(calendar: ServiceCalendar) -> list[date]:
    count = (calendar.last_day - calendar.first_day).days + 1
    return [calendar.first_day + timedelta(days=offset) for offset in range(count)]


@given(service_calendars())
def test_no_service_on_weekends_holidays_or_closed_weekdays(calendar: ServiceCalendar) -> None:
    year = calendar.school_year
    for day in calendar.open_days():
        assert day.weekday() < 5
        assert day.weekday() in calendar.open_weekdays
        assert year.holiday_on(day) is None
        assert day not in year.public_holidays
        assert day not in year.bridge_days
        assert not any(day in period for period in calendar.site_closures)
        assert calendar.first_day <= day <= calendar.last_day


@given(service_calendars())
def test_every_closed_day_has_a_reason(calendar: ServiceCalendar) -> None:
    open_days = set(calendar.open_days())
    closures = {closure.day: closure for closure in calendar.closures()}
    assert open_days.isdisjoint(closures)
    assert open_days | set(closures) == set(all_days(calendar))
    for day, closure in closures.items():
        assert closure.reason.strip()
        assert closure.kind is not ClosureKind.OUTSIDE_SCHOOL_YEAR
        assert calendar.closure(day) == closure
        assert not calendar.is_open(day)


@given(service_calendars())
def test_month_counts_sum_to_service_days(calendar: ServiceCalendar) -> None:
    counts = calendar.counts_by_month()
    assert sum(counts.values()) == len(calendar.open_days())
    assert list(counts) == sorted(counts)
    for key, count in counts.items():
        assert count == sum(1 for day in calendar.open_days() if f"{day:%Y-%m}" == key)


@given(service_calendars())
def test_calendars_are_pure_values(calendar: ServiceCalendar) -> None:
    twin = ServiceCalendar(
        school_year=attrs.evolve(calendar.school_year),
        open_weekdays=sorted(calendar.open_weekdays),
        site_closures=tuple(reversed(calendar.site_closures)),
    )
    assert twin == calendar
    assert hash(twin) == hash(calendar)
    assert twin.open_days() == calendar.open_days()
    assert twin.closures() == calendar.closures()
    assert twin.counts_by_month() == calendar.counts_by_month()


@given(service_calendars(), st.integers(min_value=-30, max_value=330))
def test_previous_and_next_open_days_are_neighbours(calendar: ServiceCalendar, offset: int) -> None:
    day = calendar.first_day + timedelta(days=offset)
    before, after = calendar.previous_open_day(day), calendar.next_open_day(day)
    if before is not None:
        assert before < day
        assert calendar.is_open(before)
        assert calendar.open_days(before + timedelta(days=1), day - timedelta(days=1)) == ()
    if after is not None:
        assert after > day
        assert calendar.is_open(after)
        assert calendar.open_days(day + timedelta(days=1), after - timedelta(days=1)) == ()
