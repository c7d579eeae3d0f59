"""French public holidays: taken from python-holidays, checked against the law (the oracle).

The adapter (:mod:`canteen_adapters.calendars.france_public_holidays`) reads the ``holidays``
package; ``tests/_french_public_holidays.py`` computes the same days from the code du travail
by hand, independently.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from datetime import date, timedelta

import holidays
import pytest
from dateutil.easter import easter
from hypothesis import given
from hypothesis import strategies as st

from _french_public_holidays import expected_public_holidays
from canteen_adapters.calendars.france_public_holidays import FIRST_YEAR, public_holidays
from canteen_core.domain.errors import InvalidInputError

LAST_CHECKED_YEAR = 2100

years = st.integers(min_value=FIRST_YEAR, max_value=LAST_CHECKED_YEAR)


def day_named(found: Mapping[date, str], name: str) -> date:
    """The one day carrying ``name``."""
    (day,) = [day for day, names in found.items() if name in names.split("; ")]
    return day


@pytest.mark.parametrize("alsace_moselle", [False, True])
def test_every_year_matches_the_law(alsace_moselle: bool) -> None:
    for year in range(FIRST_YEAR, LAST_CHECKED_YEAR + 1):
        found = public_holidays(year, alsace_moselle=alsace_moselle)
        assert list(found.items()) == list(
            expected_public_holidays(year, alsace_moselle=alsace_moselle).items()
        )


def test_bas_rhin_and_haut_rhin_have_the_holidays_of_moselle() -> None:
    """The adapter asks the package for Moselle (57); its "6AE" (67, 68) has the same days."""
    checked = range(FIRST_YEAR, LAST_CHECKED_YEAR + 1)
    moselle = holidays.country_holidays("FR", subdiv="57", years=checked, language="fr")
    alsace = holidays.country_holidays("FR", subdiv="6AE", years=checked, language="fr")
    assert dict(moselle) == dict(alsace)


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


@pytest.mark.parametrize(
    "year", [FIRST_YEAR - 1, 1900, LAST_CHECKED_YEAR + 1, 10_000, True, "2024", 2024.0]
)
def test_years_outside_the_served_range_are_refused(year: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        public_holidays(year)  # type: ignore[arg-type]
    assert caught.value.path == "year"
    assert str(year if isinstance(year, int) and not isinstance(year, bool) else FIRST_YEAR) in (
        str(caught.value)
    )


def test_the_package_is_imported_when_a_calendar_is_first_built() -> None:
    code = (
        "import sys\n"
        "from canteen_adapters.calendars.france import FranceHolidaySource\n"
        "import canteen_core.services\n"
        "source = FranceHolidaySource()\n"
        "assert 'holidays' not in sys.modules, 'imported too early'\n"
        "source.school_year('C', 2023)\n"
        "assert 'holidays' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
