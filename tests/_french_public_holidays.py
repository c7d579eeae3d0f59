"""The test oracle for French public holidays: computed from the law, by hand.

canteen takes its public holidays from the ``holidays`` package
(:mod:`canteen_adapters.calendars.france_public_holidays`); this independent computation checks
it, every civil year from 2023 to 2100.

Code du travail, article L3133-1: 1 January, Easter Monday, 1 May, 8 May, Ascension, Whit
Monday, 14 July, Assumption (15 August), All Saints' Day (1 November), 11 November and
Christmas Day. Moselle (57), Bas-Rhin (67) and Haut-Rhin (68) add Good Friday and 26 December
(article L3134-13, local law of Alsace-Moselle). Movable holidays follow Western Easter:
Good Friday is 2 days before, Easter Monday 1 day after, Ascension 39 days and Whit Monday 50
days after.

Names are the ones French calendars print (service-public.fr: "8 mai : Victoire 1945"). When
two holidays fall on one day (Ascension on 8 May in 2059, 2070, 2081 and 2092), the day has one
entry whose names are joined by ``"; "`` in alphabetical order, as python-holidays does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import MAXYEAR, date, timedelta
from types import MappingProxyType
from typing import Final

from dateutil.easter import easter

__all__ = ["expected_public_holidays"]

#: The rules above have held since 2008 (Whit Monday a public holiday again).
FIRST_YEAR: Final = 2008

# Article L3133-1: (month, day) -> name.
_FIXED: Final[tuple[tuple[tuple[int, int], str], ...]] = (
    ((1, 1), "Jour de l'an"),
    ((5, 1), "Fête du Travail"),
    ((5, 8), "Victoire 1945"),
    ((7, 14), "Fête nationale"),
    ((8, 15), "Assomption"),
    ((11, 1), "Toussaint"),
    ((11, 11), "Armistice"),
    ((12, 25), "Noël"),
)
# Article L3133-1: days after Easter Sunday -> name.
_FROM_EASTER: Final[tuple[tuple[int, str], ...]] = (
    (1, "Lundi de Pâques"),
    (39, "Ascension"),
    (50, "Lundi de Pentecôte"),
)
# Article L3134-13, Alsace-Moselle only.
_ALSACE_MOSELLE_FIXED: Final[tuple[tuple[tuple[int, int], str], ...]] = (
    ((12, 26), "Saint-Étienne"),
)
_ALSACE_MOSELLE_FROM_EASTER: Final[tuple[tuple[int, str], ...]] = ((-2, "Vendredi saint"),)


def expected_public_holidays(year: int, *, alsace_moselle: bool = False) -> Mapping[date, str]:
    """The public holidays of civil ``year``, date -> French name, in date order.

    ``alsace_moselle`` adds Good Friday and 26 December (Moselle, Bas-Rhin, Haut-Rhin).
    """
    assert FIRST_YEAR <= year <= MAXYEAR, year
    fixed, from_easter = _FIXED, _FROM_EASTER
    if alsace_moselle:
        fixed += _ALSACE_MOSELLE_FIXED
        from_easter += _ALSACE_MOSELLE_FROM_EASTER
    sunday = easter(year)
    names: dict[date, list[str]] = {}
    for (month, day), name in fixed:
        names.setdefault(date(year, month, day), []).append(name)
    for offset, name in from_easter:
        names.setdefault(sunday + timedelta(days=offset), []).append(name)
    return MappingProxyType({day: "; ".join(sorted(found)) for day, found in sorted(names.items())})
