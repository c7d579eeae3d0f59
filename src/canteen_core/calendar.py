"""The school calendar: which days a service runs, and why the others are closed.

A :class:`SchoolYear` holds the facts of one school year in one zone (first and last class day,
school holidays, public holidays, bridge days), as provided by a holiday-source plugin (see
``canteen_adapters.calendars.france``). A :class:`ServiceCalendar` combines it with a service's
open weekdays and the site's own closures, and answers for any date of the year whether the
service runs and, if not, why. Both are immutable values: same input, same answer.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import cached_property

import attrs

from canteen_core.errors import InvalidInputError

__all__ = [
    "SCHOOL_RESTAURANT_WEEKDAYS",
    "WEEKDAY_NAMES_FR",
    "Closure",
    "ClosureKind",
    "Period",
    "SchoolYear",
    "ServiceCalendar",
    "Zone",
    "parse_school_year",
    "parse_weekdays",
]

#: Monday=0 ... Sunday=6, as :meth:`datetime.date.weekday`.
WEEKDAY_NAMES_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Most school restaurants serve on Monday, Tuesday, Thursday and Friday.
SCHOOL_RESTAURANT_WEEKDAYS = frozenset({0, 1, 3, 4})


class Zone(enum.StrEnum):
    """French school-holiday zones."""

    A = "A"
    B = "B"
    C = "C"

    @classmethod
    def parse(cls, value: str) -> Zone:
        """Parse ``"A"``, ``"b"``, ``"Zone C"``; anything else raises :class:`InvalidInputError`."""
        text = str(value).strip().upper().removeprefix("ZONE").strip()
        try:
            return cls(text)
        except ValueError:
            raise InvalidInputError(
                f"unknown zone {value!r}; expected A, B or C", path="zone"
            ) from None


class ClosureKind(enum.StrEnum):
    """Why a service does not run on a day, in order of precedence."""

    OUTSIDE_SCHOOL_YEAR = "outside_school_year"
    WEEKEND = "weekend"
    PUBLIC_HOLIDAY = "public_holiday"
    SCHOOL_HOLIDAY = "school_holiday"
    BRIDGE_DAY = "bridge_day"
    SITE_CLOSURE = "site_closure"
    CLOSED_WEEKDAY = "closed_weekday"


@attrs.frozen(kw_only=True)
class Closure:
    """A day the service does not run, with a human reason (``"Vacances de la Toussaint"``)."""

    day: date
    kind: ClosureKind
    reason: str


def _check_period(instance: Period, _: attrs.Attribute[date], last_day: date) -> None:
    if last_day < instance.first_day:
        raise InvalidInputError(
            f"period {instance.name!r} ends ({last_day}) before it starts ({instance.first_day})"
        )


@attrs.frozen(kw_only=True)
class Period:
    """A named run of days, both ends included (holidays, a strike, works)."""

    name: str
    first_day: date
    last_day: date = attrs.field(validator=_check_period)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first_day <= day <= self.last_day

    def days(self) -> Iterable[date]:
        """Every day of the period, in order."""
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += timedelta(days=1)


def parse_school_year(value: str | int) -> int:
    """Parse ``"2023-2024"`` (or ``"2023/2024"``, or ``2023``) into its starting year, 2023."""
    text = str(value).strip().replace("/", "-")
    parts = text.split("-")
    try:
        years = [int(part) for part in parts]
    except ValueError:
        raise InvalidInputError(
            f"malformed school year {value!r}; expected e.g. 2023-2024", path="school_year"
        ) from None
    if len(years) == 1 and 1900 < years[0] < 2200:
        return years[0]
    if len(years) == 2 and years[1] == years[0] + 1 and 1900 < years[0] < 2200:
        return years[0]
    raise InvalidInputError(
        f"malformed school year {value!r}; expected two consecutive years like 2023-2024",
        path="school_year",
    )


def parse_weekdays(value: str | Iterable[str | int]) -> frozenset[int]:
    """Parse ``"mon,tue,thu,fri"`` (English codes, French names or 0-6) into weekday numbers."""
    items = value.split(",") if isinstance(value, str) else list(value)
    result: set[int] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            result.add(item)
            continue
        text = str(item).strip().lower()
        if text in _WEEKDAY_CODES:
            result.add(_WEEKDAY_CODES.index(text))
        elif text in WEEKDAY_NAMES_FR:
            result.add(WEEKDAY_NAMES_FR.index(text))
        elif text[:3] in {name[:3] for name in WEEKDAY_NAMES_FR} and text in {
            name[: len(text)] for name in WEEKDAY_NAMES_FR
        }:
            result.add([name[:3] for name in WEEKDAY_NAMES_FR].index(text[:3]))
        else:
            raise InvalidInputError(
                f"unknown weekday {item!r}; use mon,tue,wed,thu,fri,sat,sun", path="weekdays"
            )
    if not result:
        raise InvalidInputError("at least one weekday is required", path="weekdays")
    return frozenset(result)


def _school_year_label(start_year: int) -> str:
    return f"{start_year}-{start_year + 1}"


@attrs.frozen(kw_only=True)
class SchoolYear:
    """The calendar facts of one school year in one zone.

    ``first_day`` is the rentrée (first class day for pupils), ``last_day`` the last class day.
    ``holidays`` are school-holiday periods (inclusive, day after the last class to the day before
    classes resume), ``public_holidays`` and ``bridge_days`` map dates to their French name.
    """

    zone: Zone
    start_year: int
    first_day: date
    last_day: date
    holidays: tuple[Period, ...] = ()
    public_holidays: Mapping[date, str] = attrs.field(factory=dict)
    bridge_days: Mapping[date, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if self.last_day <= self.first_day:
            raise InvalidInputError(
                f"school year {self.label}: last day {self.last_day} is not after {self.first_day}"
            )

    @property
    def label(self) -> str:
        """``"2023-2024"``."""
        return _school_year_label(self.start_year)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first_day <= day <= self.last_day

    def holiday_on(self, day: date) -> Period | None:
        """The school-holiday period containing ``day``, if any."""
        for period in self.holidays:
            if day in period:
                return period
        return None


@attrs.frozen(kw_only=True)
class ServiceCalendar:
    """When one service runs at one site during one school year.

    >>> calendar = ServiceCalendar(school_year=year)             # doctest: +SKIP
    >>> calendar.closure(date(2023, 11, 1)).reason               # doctest: +SKIP
    'Vacances de la Toussaint'
    """

    school_year: SchoolYear
    open_weekdays: frozenset[int] = attrs.field(
        default=SCHOOL_RESTAURANT_WEEKDAYS, converter=parse_weekdays
    )
    site_closures: tuple[Period, ...] = ()

    @property
    def first_day(self) -> date:
        return self.school_year.first_day

    @property
    def last_day(self) -> date:
        return self.school_year.last_day

    def with_closures(self, *periods: Period) -> ServiceCalendar:
        """A copy with extra site closures (a strike, works)."""
        return attrs.evolve(self, site_closures=(*self.site_closures, *periods))

    def closure(self, day: date) -> Closure | None:
        """Why the service does not run on ``day``, or ``None`` if it runs."""
        if not isinstance(day, date):
            raise InvalidInputError(f"expected a date, got {type(day).__name__}", path="day")
        year = self.school_year
        if day not in year:
            return Closure(
                day=day,
                kind=ClosureKind.OUTSIDE_SCHOOL_YEAR,
                reason=f"Hors année scolaire {year.label}",
            )
        if day.weekday() >= 5:
            return Closure(day=day, kind=ClosureKind.WEEKEND, reason="Week-end")
        if day in year.public_holidays:
            return Closure(
                day=day, kind=ClosureKind.PUBLIC_HOLIDAY, reason=year.public_holidays[day]
            )
        holiday = year.holiday_on(day)
        if holiday is not None:
            return Closure(day=day, kind=ClosureKind.SCHOOL_HOLIDAY, reason=holiday.name)
        if day in year.bridge_days:
            return Closure(day=day, kind=ClosureKind.BRIDGE_DAY, reason=year.bridge_days[day])
        for period in self.site_closures:
            if day in period:
                return Closure(day=day, kind=ClosureKind.SITE_CLOSURE, reason=period.name)
        if day.weekday() not in self.open_weekdays:
            name = WEEKDAY_NAMES_FR[day.weekday()]
            return Closure(
                day=day, kind=ClosureKind.CLOSED_WEEKDAY, reason=name[0].upper() + name[1:]
            )
        return None

    @cached_property
    def _open_days(self) -> tuple[date, ...]:
        days = []
        day = self.school_year.first_day
        while day <= self.school_year.last_day:
            if self.closure(day) is None:
                days.append(day)
            day += timedelta(days=1)
        return tuple(days)

    @cached_property
    def _open_set(self) -> frozenset[date]:
        return frozenset(self._open_days)

    def is_open(self, day: date) -> bool:
        """Whether the service runs on ``day``."""
        return day in self._open_set

    def open_days(self, start: date | None = None, end: date | None = None) -> tuple[date, ...]:
        """Service days between ``start`` and ``end`` (inclusive; default the whole year)."""
        days = self._open_days
        lo = 0 if start is None else bisect_left(days, start)
        hi = len(days) if end is None else bisect_right(days, end)
        return days[lo:hi]

    def closures(self, start: date | None = None, end: date | None = None) -> tuple[Closure, ...]:
        """Closed days between ``start`` and ``end`` (inclusive; default the year), with reasons."""
        first = self.first_day if start is None else start
        last = self.last_day if end is None else end
        result = []
        day = first
        while day <= last:
            closure = self.closure(day)
            if closure is not None:
                result.append(closure)
            day += timedelta(days=1)
        return tuple(result)

    def previous_open_day(self, day: date) -> date | None:
        """The last service day strictly before ``day`` in this school year, if any."""
        index = bisect_left(self._open_days, day)
        return self._open_days[index - 1] if index > 0 else None

    def next_open_day(self, day: date) -> date | None:
        """The first service day strictly after ``day`` in this school year, if any."""
        index = bisect_right(self._open_days, day)
        return self._open_days[index] if index < len(self._open_days) else None

    def counts_by_month(self) -> dict[str, int]:
        """Number of service days per month, keyed ``"YYYY-MM"``, in calendar order."""
        counts: dict[str, int] = {}
        for day in self._open_days:
            key = f"{day.year:04d}-{day.month:02d}"
            counts[key] = counts.get(key, 0) + 1
        return counts
