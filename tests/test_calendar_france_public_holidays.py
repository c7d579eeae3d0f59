"""French public holidays computed by canteen, checked against python-holidays (the oracle)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import MAXYEAR, date, timedelta

import holidays
import pytest
from dateutil.easter import easter
from hypothesis import given
from hypothesis import strategies as st

from canteen_adapters.calendars.france_public_holidays import FIRST_YEAR, public_holidays
from canteen_core.domain.errors import InvalidInputError

LAST_CHECKED_YEAR = 2100

# The package's names that French calendars print differently (service-public.fr).
RENAMED = {"Fête de la Victoire": "Victoire 1945"}

years = st.integers(min_value=FIRST_YEAR, max_value=MAXYEAR)


def renamed(name: str) -> str:
    """The package's name as canteen prints it; one day may carry several names."""
    return "; ".join(sorted(RENAMED.get(part, part) for part in name.split("; ")))


def day_named(found: Mapping[date, str], name: str) -> date:
    """The one day carrying ``name``."""
    (day,) = [day for day, names in found.items() if name in names.split("; ")]
    return day


# Bas-Rhin (67) and Haut-Rhin (68) are one subdivision, "6AE", in the package.
@pytest.mark.parametrize(
    ("subdivision", "alsace_moselle"), [(None, False), ("57", True), ("6AE", True)]
)
def test_every_year_matches_python_holidays(subdivision: str | None, alsace_moselle: bool) -> None:
    checked = range(FIRST_YEAR, LAST_CHECKED_YEAR + 1)
    oracle = holidays.country_holidays("FR", subdiv=subdivision, years=checked, language="fr")
    for year in checked:
        expected = [
            (day, renamed(name)) for day, name in sorted(oracle.items()) if day.year == year
        ]
        assert list(public_holidays(year, alsace_moselle=alsace_moselle).items()) == expected


def test_names_as_french_calendars_print_them() -> None:
    assert dict(public_holidays(2024)) == {
        date(2024, 1, 1): "Jour de l'an",
        date(2024, 4, 1): "Lundi de Pâques",
        date(2024, 5, 1): "Fête du Travail",
        date(2024, 5, 8): "Victoire 1945",
        date(2024, 5, 9): "Ascension",
        date(2024, 5, 20): "Lundi de Pentecôte",
        date(2024, 7, 14): "Fête nationale",
        date(2024, 8, 15): "Assomption",
        date(2024, 11, 1): "Toussaint",
        date(2024, 11, 11): "Armistice",
        date(2024, 12, 25): "Noël",
    }
    assert public_holidays(2059)[date(2059, 5, 8)] == "Ascension; Victoire 1945"


@given(year=years)
def test_movable_holidays_follow_easter(year: int) -> None:
    found = public_holidays(year, alsace_moselle=True)
    sunday = easter(year)
    assert sunday.weekday() == 6
    for name, offset, weekday in [
        ("Vendredi saint", -2, 4),
        ("Lundi de Pâques", 1, 0),
        ("Ascension", 39, 3),
        ("Lundi de Pentecôte", 50, 0),
    ]:
        day = day_named(found, name)
        assert day == sunday + timedelta(days=offset)
        assert day.weekday() == weekday


@given(year=years)
def test_alsace_moselle_adds_good_friday_and_26_december_only(year: int) -> None:
    national = public_holidays(year)
    local = public_holidays(year, alsace_moselle=True)
    added = {day: name for day, name in local.items() if day not in national}
    assert added == {
        easter(year) - timedelta(days=2): "Vendredi saint",
        date(year, 12, 26): "Saint-Étienne",
    }
    assert all(local[day] == name for day, name in national.items())
    # Eleven holidays, one day fewer when Ascension falls on 1 or 8 May; in date order.
    assert len(national) in (10, 11)
    assert len(national) == 11 or "; " in national[day_named(national, "Ascension")]
    assert list(national) == sorted(national)
    assert {day.year for day in local} == {year}


@pytest.mark.parametrize("year", [FIRST_YEAR - 1, 1900, MAXYEAR + 1, True, "2024", 2024.0])
def test_years_outside_the_served_range_are_refused(year: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        public_holidays(year)  # type: ignore[arg-type]
    assert caught.value.path == "year"
    assert str(FIRST_YEAR) in str(caught.value)
