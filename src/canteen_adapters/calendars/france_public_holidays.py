"""French public holidays (jours fériés) from the ``holidays`` package, named the French way.

Code du travail, article L3133-1: 1 January, Easter Monday, 1 May, 8 May, Ascension, Whit
Monday, 14 July, Assumption, All Saints' Day, 11 November and Christmas Day; Moselle (57),
Bas-Rhin (67) and Haut-Rhin (68) add Good Friday and 26 December (article L3134-13, local law
of Alsace-Moselle). The dates come from python-holidays (``holidays``, France, in French; the
subdivision ``"57"`` for Alsace-Moselle, whose two extra days are the same in the three
departments). Names are the ones French calendars print (service-public.fr: "8 mai : Victoire
1945"); when two holidays fall on one day (Ascension on 8 May in 2059, 2070, 2081 and 2092)
the day has one entry whose names are joined by ``"; "`` in alphabetical order.

``holidays`` is imported when the first public holidays are asked for (building the first
school year), not when canteen is imported: its import costs about a tenth of a second.
tests/test_calendar_france_public_holidays.py checks every civil year from 2023 to 2100 against
a computation from the law kept in the tests.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import MAXYEAR, date
from types import MappingProxyType
from typing import Final

from canteen_core.domain.errors import InvalidInputError

__all__ = ["FIRST_YEAR", "public_holidays"]

#: The first civil year served: canteen serves school years from 2023-2024.
FIRST_YEAR: Final = 2023

#: The package's names that French calendars print differently.
_RENAMED: Final[Mapping[str, str]] = MappingProxyType({"Fête de la Victoire": "Victoire 1945"})

#: The python-holidays subdivision used for Alsace-Moselle (Moselle; Bas-Rhin and Haut-Rhin,
#: "6AE" in the package, have the same two extra days).
_ALSACE_MOSELLE_SUBDIVISION: Final = "57"


def public_holidays(year: int, *, alsace_moselle: bool = False) -> Mapping[date, str]:
    """The public holidays of civil ``year``, date -> French name, in date order.

    ``alsace_moselle`` adds Good Friday and 26 December (Moselle, Bas-Rhin, Haut-Rhin).
    Raises :class:`InvalidInputError` for a year before :data:`FIRST_YEAR` or one the
    ``holidays`` package has no data for (it computes up to 2100).

    >>> holidays = public_holidays(2024)
    >>> holidays[date(2024, 5, 9)], len(holidays)
    ('Ascension', 11)
    >>> public_holidays(2024, alsace_moselle=True)[date(2024, 3, 29)]
    'Vendredi saint'
    """
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= MAXYEAR:
        raise InvalidInputError(
            f"public holidays are known for the years {FIRST_YEAR} to {MAXYEAR}, got {year!r}",
            path="year",
        )
    found = _public_holidays(year, bool(alsace_moselle))
    if not found:
        raise InvalidInputError(
            f"the holidays package knows no French public holidays for {year}", path="year"
        )
    return found


@functools.lru_cache(maxsize=128)
def _public_holidays(year: int, alsace_moselle: bool) -> Mapping[date, str]:
    import holidays  # lazily: only a process that builds a calendar pays for the import

    found = holidays.country_holidays(
        "FR",
        subdiv=_ALSACE_MOSELLE_SUBDIVISION if alsace_moselle else None,
        years=year,
        language="fr",
    )
    return MappingProxyType(
        {day: _french_name(name) for day, name in sorted(found.items()) if day.year == year}
    )


def _french_name(name: str) -> str:
    """The package's name as French calendars print it (one day may carry several names)."""
    return "; ".join(sorted(_RENAMED.get(part, part) for part in name.split("; ")))
