"""The synthetic city: reproducible from a seed, realistic proportions, consistent values."""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from _calendars import CALENDAR
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.domain.calendar import ServiceCalendar, Zone
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Diet, HouseholdDirectory
from canteen_core.domain.tariffs import TariffCategory
from canteen_core.simulation import Population
from canteen_core.synthetic import CityProfile, SyntheticCity, synthetic_city

SEPTEMBER = (date(2023, 9, 1), date(2023, 9, 30))


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    return synthetic_city(3_000, calendar=CALENDAR, seed=11)


def _fingerprint(city: SyntheticCity) -> tuple[object, ...]:
    month = list(city.attendance(*SEPTEMBER))
    return (
        city.households,
        tuple(e.id for e in city.enrollments),
        tuple(e.site.id for e in city.enrollments),
        tuple(city.periodicities[e.id] for e in city.enrollments),
        tuple(month),
    )


def test_same_seed_same_city_other_seed_other_city() -> None:
    first = synthetic_city(200, calendar=CALENDAR, seed=3)
    again = synthetic_city(200, calendar=CALENDAR, seed=3)
    other = synthetic_city(200, calendar=CALENDAR, seed=4)
    assert _fingerprint(first) == _fingerprint(again)
    assert _fingerprint(first) != _fingerprint(other)


def test_a_bigger_city_is_still_valid_and_ids_are_stable() -> None:
    city = synthetic_city(5, calendar=CALENDAR, seed=1)
    assert [h.id for h in city.households] == [f"H{i:06d}" for i in range(1, 6)]
    child = city.households[0].children[0]
    assert child.id == "H000001-C1"
    assert city.enrollments[0].id == "H000001-C1-rs"


def test_proportions_look_like_a_french_city(city: SyntheticCity) -> None:
    households = city.households
    children = [child for h in households for child in h.children]
    assert 1.8 <= len(children) / len(households) <= 2.2
    assert all(1 <= len(h.children) <= 4 for h in households)
    day = CALENDAR.first_day
    quotients = [h.quotient_on(day) for h in households]
    known = [float(q) for q in quotients if q is not None]
    assert 0.02 <= 1 - len(known) / len(quotients) <= 0.07  # a few percent without QF
    assert 750 <= statistics.median(known) <= 1_050
    assert 0.5 <= sum(400 <= q <= 2_000 for q in known) / len(known) <= 0.95
    diets = [child.diet for child in children]
    assert 0.7 <= diets.count(Diet.STANDARD) / len(diets) <= 0.9
    assert diets.count(Diet.NO_PORK) > 0
    assert diets.count(Diet.VEGETARIAN) > 0
    assert 0.01 <= sum(child.pai for child in children) / len(children) <= 0.06
    assert 0.03 <= sum(not h.resident for h in households) / len(households) <= 0.15
    assert len(city.sites) == len(children) // CityProfile().children_per_site


def test_invariants(city: SyntheticCity) -> None:
    directory = HouseholdDirectory.of(city.households)  # one household per child
    assert city.children == sum(len(h.children) for h in city.households)
    by_household: dict[str, set[str]] = {}
    for enrollment in city.enrollments:
        household = directory.household(enrollment.household_id)
        child = household.child(enrollment.child_id)
        assert (enrollment.start, enrollment.end) == (CALENDAR.first_day, CALENDAR.last_day)
        by_household.setdefault(household.id, set()).add(enrollment.site.id)
        expected = (
            TariffCategory.PAI_BASKET
            if child.pai
            else TariffCategory.RESIDENT_CHILD
            if household.resident
            else TariffCategory.NON_RESIDENT_CHILD
        )
        assert enrollment.tariff_category == expected.value
    assert all(len(sites) == 1 for sites in by_household.values())  # siblings together
    sample = city.enrollments[:50]
    for enrollment in sample:
        days = city.booked_days(enrollment)
        assert days
        assert all(enrollment.is_bookable(day) for day in days)
        pattern = city.periodicities[enrollment.id]
        assert all(pattern.matches(day) for day in days)
        assert set(days) == {d for d in pattern.days() if enrollment.is_bookable(d)}
    four_days = sum(len(city.periodicities[e.id].weekdays) == 4 for e in city.enrollments)
    assert four_days / city.children > 0.6


def test_payers_first_names_go_with_their_civility(city: SyntheticCity) -> None:
    women = {"Amina", "Claire", "Isabelle", "Léa", "Marie", "Nadia", "Sophie"}
    men = {"David", "Julien", "Karim", "Mehdi", "Nicolas", "Olivier", "Thomas"}
    for household in city.households:
        payer = household.payer
        assert payer.first_name not in (men if payer.civility == "Madame" else women), payer


def test_a_month_of_attendance(city: SyntheticCity) -> None:
    enrollments = {e.id: e for e in city.enrollments}
    records: list[AttendanceRecord] = []
    notes: list[AbsenceJustification] = []
    for items in city.attendance(*SEPTEMBER):
        assert len({item.enrollment_id for item in items}) == 1
        records += [item for item in items if isinstance(item, AttendanceRecord)]
        notes += [item for item in items if isinstance(item, AbsenceJustification)]
    booked_days = sum(len(city._booked(e, *SEPTEMBER)) for e in city.enrollments)
    absences = [r for r in records if r.presence is Presence.ABSENT]
    unbooked = [r for r in records if r.unbooked_presence]
    assert 0.03 <= len(absences) / booked_days <= 0.07
    assert unbooked
    assert len(unbooked) < len(absences)
    justified = [r for r in absences if r.justified]
    assert 0.2 <= len(justified) / len(absences) <= 0.5
    by_id = {note.id: note for note in notes}
    for record in records:
        enrollment = enrollments[record.enrollment_id]
        assert SEPTEMBER[0] <= record.day <= SEPTEMBER[1]
        assert enrollment.is_bookable(record.day)
        assert record.booked == (record.day in city.booked_days(enrollment))
        assert record.booked == (record.presence is Presence.ABSENT)
        assert record.child_id == enrollment.child_id
        if record.justification_id is not None:
            assert by_id[record.justification_id].covers(record.day)
    assert {r.justification_id for r in justified} == set(by_id)


def test_population_for_simulations(city: SyntheticCity) -> None:
    population = city.population(meals_per_month=12)
    assert isinstance(population, Population)
    assert len(population) == len(city.households)
    assert sum(population.children) == city.children


def test_with_the_official_zone_c_calendar() -> None:
    from canteen_adapters.calendars.france import FranceHolidaySource

    year = FranceHolidaySource().school_year(Zone.C, 2023)
    city = synthetic_city(20, calendar=ServiceCalendar(school_year=year), seed=0)
    assert all(site.zone is Zone.C for site in city.sites)
    november_first = date(2023, 11, 1)  # Toussaint holidays
    assert all(november_first not in city.booked_days(e) for e in city.enrollments)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"households": -1}, "households"),
        ({"households": True}, "households"),
        ({"households": 3, "seed": "x"}, "seed"),
        ({"households": 3, "sites": 0}, "sites"),
        ({"households": 3, "calendar": "2023"}, "calendar"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, object], path: str) -> None:
    arguments: dict[str, object] = {"calendar": CALENDAR, **kwargs}
    households = arguments.pop("households")
    with pytest.raises(InvalidInputError) as error:
        synthetic_city(households, **arguments)  # type: ignore[arg-type]
    assert error.value.path == path


def test_bad_profile_and_range_are_refused(city: SyntheticCity) -> None:
    with pytest.raises(InvalidInputError):
        CityProfile(absence=1.5)
    with pytest.raises(InvalidInputError):
        next(city.attendance(date(2023, 9, 30), date(2023, 9, 1)))
    with pytest.raises(InvalidInputError):
        city.population(meals_per_month=-1)
