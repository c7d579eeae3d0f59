"""The French school calendar: zones A, B and C of metropolitan France.

:class:`FranceHolidaySource` builds a :class:`~canteen_core.domain.calendar.SchoolYear` from two
data packages, read through their public APIs when the first school year is built (not at
import), checked against the official calendar:

* school holidays and year boundaries from ``vacances-scolaires-france``
  (``SchoolHolidayDates``: for each date and zone, whether it is a holiday and which one);
* public holidays from the ``holidays`` package, through
  :mod:`canteen_adapters.calendars.france_public_holidays` (code du travail; Moselle and Alsace
  add Good Friday and 26 December), checked against the law by the tests.

Derivation rules, applied identically to every year (see :func:`_derive_school_year`):

* The table flags, for each holiday, the official "fin des cours" day (classes end *after* class
  that day) up to the last day off. A holiday starting on a Saturday therefore starts on the
  Saturday; one flagged from a weekday (summer 2021, 2022, 2028) keeps that weekday as a class day.
* Rentrée (first class day) = the first weekday after the last flagged day of the summer before;
  last class day = the last weekday on which classes are held before the next summer.
* The Ascension bridge is a bridge day, not a holiday period: its flagged weekdays other than
  public holidays (the Thursday is Ascension itself). The table lacks it for 2023-2024,
  2024-2025 and 2025-2026: :data:`BRIDGE_CORRECTIONS` adds it from the arrêté.

Checked day for day against the arrêté of 7 December 2022 (2023-2024, 2024-2025, 2025-2026, all
three zones): apart from the missing bridges, the table agrees (tests/test_calendar_france.py holds
the official dates). 2026-2027 (arrêté of 22 October 2025) and 2027-2028 come from the table with
the same rules; the python-holidays package's ``school`` category disagrees for 2027-2028 (rentrée
Thursday 2 September 2027 instead of Wednesday 1 September, summer from Wednesday 5 July 2028
instead of Tuesday 4 July, which yields the same last class day). Years outside
:meth:`FranceHolidaySource.available_years` raise :class:`InvalidInputError`, never an empty
calendar.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, Final, NamedTuple

from canteen_adapters.calendars.france_departments import (
    CORSICA,
    DEPARTMENT_ACADEMY,
    DEPARTMENT_NAMES,
    DEPARTMENT_ZONES,
)
from canteen_adapters.calendars.france_public_holidays import public_holidays
from canteen_core.config.hookspecs import offer
from canteen_core.domain.calendar import Period, SchoolYear, Zone, parse_school_year
from canteen_core.domain.calendar_words import school_year_label
from canteen_core.domain.errors import InvalidInputError
from canteen_core.ports.backends import HolidaySourceBackend
from canteen_core.ports.calendar import HolidaySource

__all__ = [
    "BRIDGE_CORRECTIONS",
    "FIRST_SUPPORTED_YEAR",
    "FranceHolidaySource",
    "is_alsace_moselle",
    "normalize_department",
]

SUMMER = "Vacances d'été"
ASCENSION_BRIDGE = "Pont de l'Ascension"

#: The first school year served. Earlier years lack the Ascension bridge in the package data and
#: have not been checked against their arrêté; a canteen has no use for them anyway.
FIRST_SUPPORTED_YEAR: Final = 2023

#: Corrections to ``vacances-scolaires-france`` 0.12, school start year -> bridge days.
#: Arrêté du 7 décembre 2022 fixant le calendrier scolaire des années 2023-2024, 2024-2025 et
#: 2025-2026 (JORF du 8 décembre 2022), "Pont de l'Ascension", all zones: classes end on the
#: Wednesday after class and resume on the Monday; Thursday is Ascension (a public holiday) and
#: Friday is the bridge day. The package has no "Pont de l'Ascension" rows for these years.
BRIDGE_CORRECTIONS: Final[Mapping[int, Mapping[date, str]]] = MappingProxyType(
    {
        # Fin des cours : mercredi 8 mai 2024 après la classe ; reprise : lundi 13 mai 2024.
        2023: MappingProxyType({date(2024, 5, 10): ASCENSION_BRIDGE}),
        # Fin des cours : mercredi 28 mai 2025 après la classe ; reprise : lundi 2 juin 2025.
        2024: MappingProxyType({date(2025, 5, 30): ASCENSION_BRIDGE}),
        # Fin des cours : mercredi 13 mai 2026 après la classe ; reprise : lundi 18 mai 2026.
        2025: MappingProxyType({date(2026, 5, 15): ASCENSION_BRIDGE}),
    }
)

# Departments adding Good Friday and 26 December (code du travail, article L3134-13).
_ALSACE_MOSELLE: Final = frozenset({"57", "67", "68"})


class _Run(NamedTuple):
    """Consecutive days flagged with one holiday name in one zone."""

    first: date
    last: date
    name: str


class _Table(NamedTuple):
    """The package's holidays, as runs per zone (in date order), and the last day it covers."""

    runs: Mapping[Zone, tuple[_Run, ...]]
    last_date: date


@functools.cache
def _table() -> _Table:
    """The package's school holidays as runs per zone, read once per process through its
    public API (``SchoolHolidayDates``), from the civil year of :data:`FIRST_SUPPORTED_YEAR`."""
    from vacances_scolaires_france import SchoolHolidayDates  # lazily, like the data

    dates = SchoolHolidayDates()
    runs: dict[Zone, list[_Run]] = {zone: [] for zone in Zone}
    for year in range(max(FIRST_SUPPORTED_YEAR, dates.min_year), dates.max_year + 1):
        for zone in Zone:
            flagged = dates.holidays_for_year_and_zone(year, zone.value)
            for day in sorted(flagged):
                name = flagged[day]["nom_vacances"].strip()
                zone_runs = runs[zone]
                previous = zone_runs[-1] if zone_runs else None
                if (
                    previous is not None
                    and previous.name == name
                    and previous.last + timedelta(days=1) == day
                ):
                    zone_runs[-1] = previous._replace(last=day)
                else:
                    zone_runs.append(_Run(day, day, name))
    # The package's table covers whole civil years, up to 31 December of its last year.
    last_date = date(dates.max_year, 12, 31)
    return _Table(runs={zone: tuple(found) for zone, found in runs.items()}, last_date=last_date)


def _summer(zone: Zone, year: int) -> _Run | None:
    """The summer holidays starting in ``year``, if the table has all of them."""
    table = _table()
    for run in table.runs[zone]:
        if run.name == SUMMER and run.first.year == year:
            # A run touching the table's end may be cut short: not usable.
            return run if run.last < table.last_date else None
    return None


def _next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _previous_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _class_day_before(flagged_first: date) -> date:
    """The last class day before a holiday whose first flagged day is ``flagged_first``.

    The table flags the official "fin des cours" day: classes are held that day if it is a
    weekday (summer 2022: Thursday 7 July); if it is a Saturday, pupils of a Monday-Friday week
    last had class on the Friday.
    """
    if flagged_first.weekday() < 5:
        return flagged_first
    return _previous_weekday(flagged_first)


@functools.cache
def _available_years() -> tuple[int, ...]:
    years = []
    year = FIRST_SUPPORTED_YEAR
    while all(_summer(zone, year) and _summer(zone, year + 1) for zone in Zone):
        years.append(year)
        year += 1
    return tuple(years)


def _available_text() -> str:
    years = _available_years()
    if not years:
        return "none"
    return ", ".join(school_year_label(year) for year in years)


@functools.cache
def _public_holidays(start_year: int, alsace_moselle: bool) -> Mapping[date, str]:
    """French public holidays of the two civil years of a school year, named in French."""
    return MappingProxyType(
        {
            **public_holidays(start_year, alsace_moselle=alsace_moselle),
            **public_holidays(start_year + 1, alsace_moselle=alsace_moselle),
        }
    )


@functools.cache
def _derive_school_year(zone: Zone, start_year: int, alsace_moselle: bool) -> SchoolYear:
    """Build one school year from the tables (see the module docstring for the rules)."""
    before, after = _summer(zone, start_year), _summer(zone, start_year + 1)
    if start_year not in _available_years() or before is None or after is None:
        raise InvalidInputError(
            f"pas de calendrier scolaire pour {school_year_label(start_year)} ; "
            f"disponibles : {_available_text()}",
            path="school_year",
        )
    first_day = _next_weekday(before.last + timedelta(days=1))
    last_day = _class_day_before(after.first)

    periods: list[Period] = []
    bridges: dict[date, str] = {}
    public = {
        day: name
        for day, name in _public_holidays(start_year, alsace_moselle).items()
        if first_day <= day <= last_day
    }
    for run in _table().runs[zone]:
        if run.name == SUMMER or run.last < first_day or run.first > last_day:
            continue
        if run.name == ASCENSION_BRIDGE:
            # Only the days it adds: weekdays that are not already public holidays.
            day = run.first
            while day <= run.last:
                if day.weekday() < 5 and day not in public:
                    bridges[day] = ASCENSION_BRIDGE
                day += timedelta(days=1)
            continue
        first_off = run.first
        if first_off.weekday() < 5:  # "fin des cours" on a weekday: that day still has class
            first_off += timedelta(days=1)
        periods.append(Period(name=run.name, first_day=first_off, last_day=min(run.last, last_day)))
    bridges.update(BRIDGE_CORRECTIONS.get(start_year, {}))
    return SchoolYear(
        zone=zone,
        start_year=start_year,
        first_day=first_day,
        last_day=last_day,
        holidays=tuple(periods),
        public_holidays=public,
        bridge_days=bridges,
    )


def normalize_department(department: str | int) -> str:
    """``"77"``, ``77``, ``"7"``, ``" 2a "`` -> ``"77"``, ``"77"``, ``"07"``, ``"2A"``.

    Raises :class:`InvalidInputError` for anything that is not a metropolitan department.
    """
    if isinstance(department, bool) or not isinstance(department, str | int):
        raise InvalidInputError(
            f"numéro de département attendu : « {department} »", path="department"
        )
    text = str(department).strip().upper()
    if text.isdigit() and len(text) == 1:
        text = f"0{text}"
    if text in DEPARTMENT_NAMES:
        return text
    if text.isdigit() and len(text) == 3 and text.startswith("97"):
        raise InvalidInputError(
            f"{text} est outre-mer : son académie fixe son propre calendrier scolaire, non "
            "couvert ; seuls les départements métropolitains (01 à 95, 2A, 2B) le sont",
            path="department",
        )
    hint = " (la Corse est 2A ou 2B)" if text == "20" else ""
    raise InvalidInputError(
        f"département inconnu « {department} »{hint} : un département métropolitain "
        "est attendu, de 01 à 95, 2A ou 2B",
        path="department",
    )


def is_alsace_moselle(department: str | int) -> bool:
    """Whether a department has the local public holidays of Alsace-Moselle (57, 67, 68)."""
    return normalize_department(department) in _ALSACE_MOSELLE


class FranceHolidaySource:
    """School years of metropolitan France (zones A, B, C), from the official data.

    Cheap to construct: the data is read on first use and shared by every instance, and each
    (zone, year, Alsace-Moselle or not) school year is built once per process.

    >>> source = FranceHolidaySource()
    >>> year = source.school_year(source.zone_for_department("77"), 2023)
    >>> year.first_day, year.last_day
    (datetime.date(2023, 9, 4), datetime.date(2024, 7, 5))
    """

    #: The name deployments use to pick this source (``[calendar] source = "france"``).
    name: ClassVar[str] = "france"

    @classmethod
    def from_settings(cls, settings: object = None) -> FranceHolidaySource:
        """Factory for the ``canteen_holiday_sources`` hook; the source needs no settings."""
        return cls()

    def available_years(self) -> tuple[int, ...]:
        """Starting years of the school years this source knows, e.g. ``(2023, ..., 2027)``."""
        return _available_years()

    def zone_for_department(self, department: str | int) -> Zone:
        """The holiday zone of a metropolitan department (``"77"`` -> ``Zone.C``).

        Raises :class:`InvalidInputError` for an unknown or overseas department, and for
        Corsica (2A, 2B), whose académie sets its own calendar outside zones A, B and C.
        """
        code = normalize_department(department)
        if code in CORSICA:
            raise InvalidInputError(
                f"{code} ({DEPARTMENT_NAMES[code]}) n'est dans aucune zone de vacances : "
                "l'académie de Corse fixe son propre calendrier ; indiquez la zone si votre "
                "commune en suit une",
                path="department",
            )
        return DEPARTMENT_ZONES[code]

    def department_name(self, department: str | int) -> str:
        """``"77"`` -> ``"Seine-et-Marne"``."""
        return DEPARTMENT_NAMES[normalize_department(department)]

    def academy(self, department: str | int) -> str:
        """``"77"`` -> ``"Créteil"``."""
        return DEPARTMENT_ACADEMY[normalize_department(department)]

    def school_year(
        self, zone: Zone | str, start_year: int | str, *, department: str | int | None = None
    ) -> SchoolYear:
        """The school year starting in September of ``start_year`` in ``zone``.

        ``department``, when given, selects local public holidays (Good Friday and 26 December
        in Moselle, Bas-Rhin and Haut-Rhin) and must belong to ``zone``. ``start_year`` also
        accepts ``"2023-2024"``. Raises :class:`InvalidInputError` for an unknown zone or
        department, a department of another zone, or a year without data.
        """
        parsed_zone = Zone.parse(zone)
        year = parse_school_year(start_year)
        alsace_moselle = False
        if department is not None:
            code = normalize_department(department)
            expected = DEPARTMENT_ZONES.get(code)
            if expected is not None and expected != parsed_zone:
                raise InvalidInputError(
                    f"{code} ({DEPARTMENT_NAMES[code]}) est en zone {expected}, "
                    f"pas en zone {parsed_zone}",
                    path="department",
                )
            alsace_moselle = code in _ALSACE_MOSELLE
        return _derive_school_year(parsed_zone, year, alsace_moselle)

    def __repr__(self) -> str:
        return "FranceHolidaySource()"


if TYPE_CHECKING:  # mypy checks the class against the core's protocol
    _PROTOCOL_CHECK: HolidaySource = FranceHolidaySource()


canteen_holiday_sources = offer(
    HolidaySourceBackend,
    FranceHolidaySource,
    "French school holidays (zones A, B, C), public holidays and bridges",
)
