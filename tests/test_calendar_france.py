"""The France holiday source, checked against the official calendar.

OFFICIAL below is typed from the arrêté of 7 December 2022 (calendrier scolaire 2023-2024,
2024-2025, 2025-2026), independently of the package data: holidays start on the Saturday given
(classes end after class that day) and classes resume on the morning of the second date.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from dateutil.easter import easter
from hypothesis import given
from hypothesis import strategies as st

from canteen_adapters.calendars.france import (
    BRIDGE_CORRECTIONS,
    FranceHolidaySource,
    normalize_department,
)
from canteen_adapters.calendars.france_departments import (
    DEPARTMENT_ACADEMY,
    DEPARTMENT_NAMES,
    DEPARTMENT_ZONES,
)
from canteen_core.domain.calendar import ClosureKind, Period, ServiceCalendar, Zone
from canteen_core.domain.errors import InvalidInputError
from canteen_core.ports.calendar import HolidaySource

SOURCE = FranceHolidaySource()
D = date

# start year -> rentrée, last class day, bridge day, then (holidays start, classes resume).
OFFICIAL: dict[int, dict[str, object]] = {
    2023: {
        "rentree": D(2023, 9, 4),
        "last": D(2024, 7, 5),
        "bridge": D(2024, 5, 10),
        "Vacances de la Toussaint": (D(2023, 10, 21), D(2023, 11, 6)),
        "Vacances de Noël": (D(2023, 12, 23), D(2024, 1, 8)),
        "Vacances d'hiver": {
            Zone.A: (D(2024, 2, 17), D(2024, 3, 4)),
            Zone.B: (D(2024, 2, 24), D(2024, 3, 11)),
            Zone.C: (D(2024, 2, 10), D(2024, 2, 26)),
        },
        "Vacances de printemps": {
            Zone.A: (D(2024, 4, 13), D(2024, 4, 29)),
            Zone.B: (D(2024, 4, 20), D(2024, 5, 6)),
            Zone.C: (D(2024, 4, 6), D(2024, 4, 22)),
        },
    },
    2024: {
        "rentree": D(2024, 9, 2),
        "last": D(2025, 7, 4),
        "bridge": D(2025, 5, 30),
        "Vacances de la Toussaint": (D(2024, 10, 19), D(2024, 11, 4)),
        "Vacances de Noël": (D(2024, 12, 21), D(2025, 1, 6)),
        "Vacances d'hiver": {
            Zone.A: (D(2025, 2, 22), D(2025, 3, 10)),
            Zone.B: (D(2025, 2, 8), D(2025, 2, 24)),
            Zone.C: (D(2025, 2, 15), D(2025, 3, 3)),
        },
        "Vacances de printemps": {
            Zone.A: (D(2025, 4, 19), D(2025, 5, 5)),
            Zone.B: (D(2025, 4, 5), D(2025, 4, 22)),
            Zone.C: (D(2025, 4, 12), D(2025, 4, 28)),
        },
    },
    2025: {
        "rentree": D(2025, 9, 1),
        "last": D(2026, 7, 3),
        "bridge": D(2026, 5, 15),
        "Vacances de la Toussaint": (D(2025, 10, 18), D(2025, 11, 3)),
        "Vacances de Noël": (D(2025, 12, 20), D(2026, 1, 5)),
        "Vacances d'hiver": {
            Zone.A: (D(2026, 2, 7), D(2026, 2, 23)),
            Zone.B: (D(2026, 2, 14), D(2026, 3, 2)),
            Zone.C: (D(2026, 2, 21), D(2026, 3, 9)),
        },
        "Vacances de printemps": {
            Zone.A: (D(2026, 4, 4), D(2026, 4, 20)),
            Zone.B: (D(2026, 4, 11), D(2026, 4, 27)),
            Zone.C: (D(2026, 4, 18), D(2026, 5, 4)),
        },
    },
}
HOLIDAY_NAMES = (
    "Vacances de la Toussaint",
    "Vacances de Noël",
    "Vacances d'hiver",
    "Vacances de printemps",
)


def official_periods(start_year: int, zone: Zone) -> tuple[Period, ...]:
    """The arrêté's holidays as periods: from the Saturday to the day before classes resume."""
    periods = []
    for name in HOLIDAY_NAMES:
        dates = OFFICIAL[start_year][name]
        start, resume = dates[zone] if isinstance(dates, dict) else dates  # type: ignore[misc]
        periods.append(Period(name=name, first_day=start, last_day=resume - timedelta(days=1)))
    return tuple(periods)


@pytest.mark.parametrize("zone", list(Zone))
@pytest.mark.parametrize("start_year", sorted(OFFICIAL))
def test_school_year_matches_the_arrete(start_year: int, zone: Zone) -> None:
    year = SOURCE.school_year(zone, start_year)
    official = OFFICIAL[start_year]
    assert year.zone is zone
    assert year.label == f"{start_year}-{start_year + 1}"
    assert year.first_day == official["rentree"]
    assert year.last_day == official["last"]
    assert year.holidays == official_periods(start_year, zone)
    assert dict(year.bridge_days) == {official["bridge"]: "Pont de l'Ascension"}


def test_department_77_2023_2024_service_days_per_month() -> None:
    """Seine-et-Marne (zone C), school restaurant on Monday, Tuesday, Thursday and Friday."""
    year = SOURCE.school_year(SOURCE.zone_for_department("77"), 2023, department="77")
    calendar = ServiceCalendar(school_year=year, open_weekdays="mon,tue,thu,fri")
    assert calendar.counts_by_month() == {
        "2023-09": 16,
        "2023-10": 12,
        "2023-11": 15,
        "2023-12": 13,
        "2024-01": 14,
        "2024-02": 9,
        "2024-03": 17,
        "2024-04": 9,
        "2024-05": 15,
        "2024-06": 16,
        "2024-07": 4,
    }
    assert len(calendar.open_days()) == 140
    assert calendar.open_days()[0] == date(2023, 9, 4)
    assert calendar.open_days()[-1] == date(2024, 7, 5)


ZONE_C_2023 = ServiceCalendar(school_year=SOURCE.school_year(Zone.C, 2023, department="77"))


@pytest.mark.parametrize(
    ("day", "kind", "reason"),
    [
        # 1 November inside the Toussaint holidays: the holidays explain the whole fortnight.
        (date(2023, 11, 1), ClosureKind.SCHOOL_HOLIDAY, "Vacances de la Toussaint"),
        (date(2023, 11, 11), ClosureKind.PUBLIC_HOLIDAY, "Armistice"),  # a Saturday
        (date(2023, 12, 25), ClosureKind.SCHOOL_HOLIDAY, "Vacances de Noël"),
        (date(2024, 4, 1), ClosureKind.PUBLIC_HOLIDAY, "Lundi de Pâques"),
        (date(2024, 5, 1), ClosureKind.PUBLIC_HOLIDAY, "Fête du Travail"),
        # Wednesday 8 May 2024: a public holiday on the restaurant's closed weekday.
        (date(2024, 5, 8), ClosureKind.PUBLIC_HOLIDAY, "Victoire 1945"),
        (date(2024, 5, 9), ClosureKind.PUBLIC_HOLIDAY, "Ascension"),
        (date(2024, 5, 10), ClosureKind.BRIDGE_DAY, "Pont de l'Ascension"),
        (date(2024, 5, 20), ClosureKind.PUBLIC_HOLIDAY, "Lundi de Pentecôte"),
        (date(2024, 2, 12), ClosureKind.SCHOOL_HOLIDAY, "Vacances d'hiver"),
        (date(2024, 4, 15), ClosureKind.SCHOOL_HOLIDAY, "Vacances de printemps"),
        (date(2023, 9, 6), ClosureKind.CLOSED_WEEKDAY, "Mercredi"),
        (date(2023, 9, 9), ClosureKind.WEEKEND, "Week-end"),
        (date(2024, 7, 8), ClosureKind.OUTSIDE_SCHOOL_YEAR, "Hors année scolaire 2023-2024"),
    ],
)
def test_closure_reasons_zone_c_2023(day: date, kind: ClosureKind, reason: str) -> None:
    closure = ZONE_C_2023.closure(day)
    assert closure is not None
    assert (closure.kind, closure.reason) == (kind, reason)


def test_public_holidays_are_kept_inside_holidays() -> None:
    year = ZONE_C_2023.school_year
    assert year.public_holidays[date(2023, 11, 1)] == "Toussaint"
    assert year.public_holidays[date(2023, 12, 25)] == "Noël"
    assert year.public_holidays[date(2024, 1, 1)] == "Jour de l'an"
    # Only the school year's own days: 14 July and 15 August are in the summer holidays.
    assert min(year.public_holidays) >= year.first_day
    assert max(year.public_holidays) <= year.last_day


def test_armistice_on_a_monday_2024() -> None:
    calendar = ServiceCalendar(school_year=SOURCE.school_year(Zone.A, 2024))
    closure = calendar.closure(date(2024, 11, 11))
    assert closure is not None
    assert (closure.kind, closure.reason) == (ClosureKind.PUBLIC_HOLIDAY, "Armistice")
    assert calendar.is_open(date(2024, 11, 12))


@pytest.mark.parametrize("department", ["57", "67", "68"])
def test_alsace_moselle_adds_good_friday_and_26_december(department: str) -> None:
    year = SOURCE.school_year(Zone.B, 2023, department=department)
    assert year.public_holidays[date(2024, 3, 29)] == "Vendredi saint"
    assert year.public_holidays[date(2023, 12, 26)] == "Saint-Étienne"
    calendar = ServiceCalendar(school_year=year)
    assert calendar.closure(date(2024, 3, 29)).reason == "Vendredi saint"  # type: ignore[union-attr]
    # Good Friday 3 April 2026 is a class day in zone B elsewhere, not in Alsace-Moselle.
    later = ServiceCalendar(school_year=SOURCE.school_year(Zone.B, 2025, department=department))
    assert not later.is_open(date(2026, 4, 3))


@pytest.mark.parametrize("department", ["54", "13", None])
def test_good_friday_and_26_december_only_in_alsace_moselle(department: str | None) -> None:
    year = SOURCE.school_year(Zone.B, 2023, department=department)
    assert date(2024, 3, 29) not in year.public_holidays
    assert date(2023, 12, 26) not in year.public_holidays
    assert ServiceCalendar(school_year=year).is_open(date(2024, 3, 29))
    later = ServiceCalendar(school_year=SOURCE.school_year(Zone.B, 2025, department=department))
    assert later.is_open(date(2026, 4, 3))


def test_2026_2027_comes_from_the_package_with_the_same_rules() -> None:
    """Not in the 2022 arrêté (set by the arrêté of 22 October 2025): package data, same rules."""
    year = SOURCE.school_year(Zone.C, "2026-2027", department="77")
    assert year.first_day == date(2026, 9, 1)  # a Tuesday
    assert year.last_day == date(2027, 7, 2)  # summer holidays from Saturday 3 July 2027
    assert year.holidays[0] == Period(
        name="Vacances de la Toussaint", first_day=date(2026, 10, 17), last_day=date(2026, 11, 1)
    )
    assert dict(year.bridge_days) == {date(2027, 5, 7): "Pont de l'Ascension"}
    calendar = ServiceCalendar(school_year=year)
    # Today, 27 November 2026, is a Friday with service; 11 November 2026 is a Wednesday.
    assert calendar.is_open(date(2026, 11, 27))
    assert calendar.closure(date(2026, 11, 11)).reason == "Armistice"  # type: ignore[union-attr]


@pytest.mark.parametrize("start_year", FranceHolidaySource().available_years())
@pytest.mark.parametrize("zone", list(Zone))
def test_every_available_year_is_complete(start_year: int, zone: Zone) -> None:
    year = SOURCE.school_year(zone, start_year)
    ascension = easter(start_year + 1) + timedelta(days=39)
    assert dict(year.bridge_days) == {ascension + timedelta(days=1): "Pont de l'Ascension"}
    assert year.public_holidays[ascension] == "Ascension"
    assert [period.name for period in year.holidays] == list(HOLIDAY_NAMES)
    assert year.first_day.month == 9
    assert year.first_day.weekday() < 5
    assert year.last_day.month == 7
    assert year.last_day.weekday() < 5
    for period in year.holidays:
        assert period.first_day.weekday() == 5  # holidays start on a Saturday
        assert year.first_day < period.first_day <= period.last_day < year.last_day


def test_available_years_and_protocol() -> None:
    assert SOURCE.available_years() == (2023, 2024, 2025, 2026, 2027)
    assert SOURCE.name == "france"
    assert isinstance(FranceHolidaySource.from_settings(None), HolidaySource)


@pytest.mark.parametrize("start_year", [2031, 2028, 2022, 1990])
def test_years_without_data_are_a_clear_error(start_year: int) -> None:
    label = f"{start_year}-{start_year + 1}"
    message = (
        f"school_year: pas de calendrier scolaire pour {label} ; "
        "disponibles : 2023-2024, 2024-2025, 2025-2026, 2026-2027, 2027-2028"
    )
    with pytest.raises(InvalidInputError) as caught:
        SOURCE.school_year(Zone.A, start_year)
    assert str(caught.value) == message
    assert caught.value.path == "school_year"


def test_bridge_corrections_agree_with_the_holidays_package() -> None:
    """``holidays`` (category school) has the bridges vacances-scolaires-france lacks."""
    for start_year, bridges in BRIDGE_CORRECTIONS.items():
        for zone in Zone:
            school = holidays.France(
                subdiv=f"Zone {zone}", categories=("school",), years=start_year + 1
            )
            for day in bridges:
                assert school.get(day) is not None


@pytest.mark.parametrize("start_year", sorted(OFFICIAL))
@pytest.mark.parametrize("zone", list(Zone))
def test_holidays_package_school_category_agrees_on_class_days(start_year: int, zone: Zone) -> None:
    """Cross-check with the second source: same days without class in the arrêté years."""
    year = SOURCE.school_year(zone, start_year)
    school = holidays.France(
        subdiv=f"Zone {zone}", categories=("school",), years=(start_year, start_year + 1)
    )
    ours = {
        day
        for period in year.holidays
        for day in period.days()
        if day.weekday() < 5 and day not in year.public_holidays
    } | set(year.bridge_days)
    theirs = {
        day
        for day in school
        if year.first_day <= day <= year.last_day
        and day.weekday() < 5
        and day not in year.public_holidays
    }
    assert ours == theirs


# --- departments ---------------------------------------------------------------------------


def test_department_table_covers_metropolitan_france() -> None:
    expected = {f"{number:02d}" for number in range(1, 96) if number != 20} | {"2A", "2B"}
    assert set(DEPARTMENT_NAMES) == expected
    assert set(DEPARTMENT_ACADEMY) == expected
    assert set(DEPARTMENT_ZONES) == expected - {"2A", "2B"}
    per_zone = {zone: sum(1 for z in DEPARTMENT_ZONES.values() if z is zone) for zone in Zone}
    assert per_zone == {Zone.A: 32, Zone.B: 41, Zone.C: 21}


@pytest.mark.parametrize(
    ("department", "zone"),
    [
        ("77", Zone.C),
        (77, Zone.C),
        (" 75 ", Zone.C),
        ("93", Zone.C),
        ("31", Zone.C),
        ("69", Zone.A),
        ("7", Zone.A),
        ("07", Zone.A),
        ("1", Zone.A),
        ("33", Zone.A),
        ("13", Zone.B),
        ("57", Zone.B),
        ("67", Zone.B),
        ("76", Zone.B),
        ("06", Zone.B),
    ],
)
def test_zone_for_department(department: str, zone: Zone) -> None:
    assert SOURCE.zone_for_department(department) is zone


def test_department_names_and_academies() -> None:
    assert normalize_department("2a") == "2A"
    assert SOURCE.department_name("77") == "Seine-et-Marne"
    assert SOURCE.academy(77) == "Créteil"
    assert SOURCE.academy("2B") == "Corse"


@pytest.mark.parametrize(
    ("department", "message"),
    [
        ("99", "département inconnu « 99 » : un département métropolitain est attendu, de 01 à 95"),
        ("20", "la Corse est 2A ou 2B"),
        ("0", "département inconnu « 0 »"),
        ("abc", "département inconnu « abc »"),
        ("", "département inconnu «  »"),
        ("974", "974 est outre-mer"),
        ("2A", "académie de Corse fixe son propre calendrier"),
    ],
)
def test_unknown_departments_are_a_clear_error(department: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        SOURCE.zone_for_department(department)
    assert caught.value.path == "department"


def test_department_of_another_zone_is_refused() -> None:
    with pytest.raises(
        InvalidInputError, match=r"77 \(Seine-et-Marne\) est en zone C, pas en zone A"
    ):
        SOURCE.school_year(Zone.A, 2023, department="77")
    with pytest.raises(InvalidInputError, match="zone inconnue"):
        SOURCE.school_year("D", 2023)
    with pytest.raises(InvalidInputError, match="année scolaire invalide"):
        SOURCE.school_year(Zone.A, "2023-2025")


def test_corsica_can_name_its_zone_explicitly() -> None:
    year = SOURCE.school_year(Zone.B, 2023, department="2A")
    assert year == SOURCE.school_year(Zone.B, 2023)


# --- values and caching --------------------------------------------------------------------


def test_school_years_are_built_once_and_shared_by_every_source() -> None:
    # One build per (zone, year, department): every new source hands out the same value.
    assert SOURCE.school_year(Zone.C, 2023) is FranceHolidaySource().school_year("C", "2023-2024")
    assert FranceHolidaySource().school_year(Zone.A, 2024) is SOURCE.school_year(Zone.A, 2024)


@given(
    zone=st.sampled_from(Zone),
    start_year=st.sampled_from(FranceHolidaySource().available_years()),
    weekdays=st.sets(st.integers(0, 4), min_size=1),
    alsace=st.booleans(),
)
def test_france_calendars_invariants(
    zone: Zone, start_year: int, weekdays: set[int], alsace: bool
) -> None:
    department = "57" if alsace and zone is Zone.B else None
    year = SOURCE.school_year(zone, start_year, department=department)
    calendar = ServiceCalendar(school_year=year, open_weekdays=weekdays)
    twin = ServiceCalendar(
        school_year=FranceHolidaySource().school_year(zone, start_year, department=department),
        open_weekdays=weekdays,
    )
    assert twin == calendar
    assert twin.open_days() == calendar.open_days()
    for day in calendar.open_days():
        assert day.weekday() in weekdays
        assert year.holiday_on(day) is None
        assert day not in year.public_holidays
        assert day not in year.bridge_days
    closed = calendar.closures()
    assert all(closure.reason for closure in closed)
    assert len(closed) + len(calendar.open_days()) == (year.last_day - year.first_day).days + 1
    assert sum(calendar.counts_by_month().values()) == len(calendar.open_days())
