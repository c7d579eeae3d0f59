"""The school calendar: which days a service runs, and why the others are closed.

A :class:`SchoolYear` holds the facts of one school year in one zone (first and last class day,
school holidays, public holidays, bridge days), as provided by a holiday source (the port
:class:`~canteen_core.ports.calendar.HolidaySource`; France's is a built-in plugin). A
:class:`ServiceCalendar` combines it with a service's open weekdays and the site's own closures,
and answers for any date of the year whether the service runs and, if not, why. Both are
immutable values: same input, same answer.

When several reasons apply to one day, the calendar reports the first that applies in this order
(see :class:`ClosureKind`): outside the school year, school holidays, public holiday, bridge day,
weekend, the service's closed weekday, site closure. So 1 November 2023 reads "Vacances de la
Toussaint" (the holidays close the whole fortnight, the public holiday adds nothing), Wednesday
8 May 2024 reads "Victoire 1945" rather than "Mercredi", Saturday 11 November 2023 "Armistice",
and a strike only shows on days the service would otherwise have run.

One idea (the year's facts and a service's calendar over them); the calendar's words and their
parsing (weekday and month names, ``parse_weekdays``, ``parse_school_year``) are in
:mod:`canteen_core.domain.calendar_words` and re-exported here.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from functools import cached_property

import attrs

from canteen_core.domain._validators import a_date, non_empty_str
from canteen_core.domain.calendar_kinds import CalendarKind, calendar_kind, check_weekdays
from canteen_core.domain.calendar_words import (
    MONTH_NAMES_FR,
    SCHOOL_RESTAURANT_WEEKDAYS,
    WEEKDAY_NAMES_FR,
    parse_school_year,
    parse_weekdays,
    school_year_label,
    weekdays_fr,
)
from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "MONTH_NAMES_FR",
    "SCHOOL_RESTAURANT_WEEKDAYS",
    "WEEKDAY_NAMES_FR",
    "CalendarKind",
    "Closure",
    "ClosureKind",
    "Period",
    "SchoolYear",
    "ServiceCalendar",
    "Zone",
    "parse_school_year",
    "parse_weekdays",
    "weekdays_fr",
]

_WEEKEND = frozenset({5, 6})


class Zone(enum.StrEnum):
    """French school-holiday zones."""

    A = "A"
    B = "B"
    C = "C"

    @classmethod
    def parse(cls, value: str) -> Zone:
        """Parse ``"A"``, ``"b"``, ``"Zone C"``; anything else raises :class:`InvalidInputError`."""
        if isinstance(value, Zone):
            return value
        text = str(value).strip().upper().removeprefix("ZONE").strip()
        try:
            return cls(text)
        except ValueError:
            raise InvalidInputError(f"zone inconnue « {value} » (A, B ou C)", path="zone") from None


class ClosureKind(enum.StrEnum):
    """Why a service does not run on a day, in order of precedence (first listed wins)."""

    OUTSIDE_SCHOOL_YEAR = "outside_school_year"
    SCHOOL_HOLIDAY = "school_holiday"
    SCHOOL_TERM = "school_term"
    PUBLIC_HOLIDAY = "public_holiday"
    BRIDGE_DAY = "bridge_day"
    WEEKEND = "weekend"
    CLOSED_WEEKDAY = "closed_weekday"
    SITE_CLOSURE = "site_closure"


@attrs.frozen(kw_only=True)
class Closure:
    """A day the service does not run, with a human reason (``"Vacances de la Toussaint"``)."""

    day: date
    kind: ClosureKind
    reason: str


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _check_period(instance: Period, attribute: attrs.Attribute[date], last_day: date) -> None:
    a_date(instance, attribute, last_day)
    if last_day < instance.first_day:
        raise InvalidInputError(
            f"la période « {instance.name} » finit le {last_day:%d/%m/%Y}, avant de commencer "
            f"(le {instance.first_day:%d/%m/%Y})",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class Period:
    """A named run of days, both ends included (holidays, a strike, works)."""

    name: str = attrs.field(validator=non_empty_str)
    first_day: date = attrs.field(validator=a_date)
    last_day: date = attrs.field(validator=_check_period)

    def __contains__(self, day: object) -> bool:
        return _is_date(day) and self.first_day <= day <= self.last_day  # type: ignore[operator]

    def days(self) -> Iterable[date]:
        """Every day of the period, in order."""
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += timedelta(days=1)


class _DateNames(Mapping[date, str]):
    """An immutable, hashable, picklable ``{date: name}`` mapping, sorted by date."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[date, str]) -> None:
        self._items = dict(sorted(items.items()))

    def __getitem__(self, key: date) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[date]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return repr(self._items)

    def __reduce__(self) -> tuple[type[_DateNames], tuple[dict[date, str]]]:
        return (_DateNames, (self._items,))


def _date_names(value: Mapping[date, str]) -> Mapping[date, str]:
    """Typed converter: check a ``{date: name}`` mapping and freeze it."""
    if isinstance(value, _DateNames):
        return value
    if not isinstance(value, Mapping):
        raise InvalidInputError("une table date -> nom est attendue")
    for key, name in value.items():
        if not _is_date(key):
            raise InvalidInputError(f"« {key} » n'est pas une date (sans heure)")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"{key} : le nom du jour ne doit pas être vide")
    return _DateNames(value)


def _periods(value: Iterable[Period]) -> tuple[Period, ...]:
    """Typed converter: a tuple of :class:`Period`, sorted by first day."""
    periods = tuple(value)
    for period in periods:
        if not isinstance(period, Period):
            raise InvalidInputError(f"une période est attendue, pas {type(period).__name__}")
    return tuple(
        sorted(periods, key=lambda period: (period.first_day, period.last_day, period.name))
    )


def _zone(value: Zone | str) -> Zone:
    return Zone.parse(value)


@attrs.frozen(kw_only=True)
class SchoolYear:
    """The calendar facts of one school year in one zone.

    ``first_day`` is the rentrée (first class day for pupils), ``last_day`` the last class day.
    ``holidays`` are school-holiday periods (inclusive, day after the last class to the day before
    classes resume), ``public_holidays`` and ``bridge_days`` map dates to their French name.
    The mappings are frozen on construction, so a school year is a hashable value.
    """

    zone: Zone = attrs.field(converter=_zone)
    start_year: int
    first_day: date = attrs.field(validator=a_date)
    last_day: date = attrs.field(validator=a_date)
    holidays: tuple[Period, ...] = attrs.field(default=(), converter=_periods)
    public_holidays: Mapping[date, str] = attrs.field(factory=dict, converter=_date_names)
    bridge_days: Mapping[date, str] = attrs.field(factory=dict, converter=_date_names)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.start_year, int) or isinstance(self.start_year, bool):
            raise InvalidInputError("l'année doit être un nombre entier", path="start_year")
        if self.last_day <= self.first_day:
            raise InvalidInputError(
                f"l'année scolaire {self.label} doit finir après la rentrée (rentrée le "
                f"{self.first_day:%d/%m/%Y}, dernier jour le {self.last_day:%d/%m/%Y})",
                path="last_day",
            )

    @property
    def label(self) -> str:
        """``"2023-2024"``."""
        return school_year_label(self.start_year)

    def __contains__(self, day: object) -> bool:
        return _is_date(day) and self.first_day <= day <= self.last_day  # type: ignore[operator]

    def holiday_on(self, day: date) -> Period | None:
        """The school-holiday period containing ``day``, if any."""
        for period in self.holidays:
            if day in period:
                return period
        return None


def _check_school_year(_: object, attribute: attrs.Attribute[SchoolYear], value: object) -> None:
    if not isinstance(value, SchoolYear):
        raise InvalidInputError(
            f"une année scolaire est attendue, pas {type(value).__name__}", path=attribute.name
        )


def _check_optional_dates(**values: date | None) -> None:
    for name, value in values.items():
        if value is not None and not _is_date(value):
            raise InvalidInputError("une date (sans heure) est attendue", path=name)


def _check_day(day: object) -> None:
    if not _is_date(day):
        raise InvalidInputError("une date (sans heure) est attendue", path="day")


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


@attrs.frozen(kw_only=True)
class ServiceCalendar:
    """When one service runs at one site during one school year.

    >>> calendar = ServiceCalendar(school_year=year)             # doctest: +SKIP
    >>> calendar.closure(date(2023, 11, 1)).reason               # doctest: +SKIP
    'Vacances de la Toussaint'

    ``open_weekdays`` defaults to the kind's (Monday, Tuesday, Thursday and Friday for class
    days) and accepts
    ``"mon,tue,thu,fri"``; ``site_closures`` are the site's own closures (strike, works).
    ``kind`` (:class:`CalendarKind`) says which part of the year runs: class days (the
    default), term Wednesdays, the school holidays, or term Saturdays.
    Answers are computed once per calendar and cached: asking is cheap.
    """

    school_year: SchoolYear = attrs.field(validator=_check_school_year)
    kind: CalendarKind = attrs.field(default=CalendarKind.SCHOOL_DAYS, converter=calendar_kind)
    open_weekdays: frozenset[int] = attrs.field(
        default=attrs.Factory(lambda self: self.kind.default_weekdays, takes_self=True),
        converter=parse_weekdays,
    )
    site_closures: tuple[Period, ...] = attrs.field(default=(), converter=_periods)

    def __attrs_post_init__(self) -> None:
        check_weekdays(self.kind, self.open_weekdays)

    @property
    def first_day(self) -> date:
        """The first class day of the school year (rentrée)."""
        return self.school_year.first_day

    @property
    def last_day(self) -> date:
        """The last class day of the school year."""
        return self.school_year.last_day

    def with_closures(self, *periods: Period) -> ServiceCalendar:
        """A copy with extra site closures (a strike, works)."""
        return attrs.evolve(self, site_closures=(*self.site_closures, *periods))

    def _compute_closure(self, day: date) -> Closure | None:
        year = self.school_year
        holiday = year.holiday_on(day)
        if self.kind is CalendarKind.SCHOOL_HOLIDAYS:
            if holiday is None:
                return Closure(day=day, kind=ClosureKind.SCHOOL_TERM, reason="Période scolaire")
        elif holiday is not None:
            return Closure(day=day, kind=ClosureKind.SCHOOL_HOLIDAY, reason=holiday.name)
        if day in year.public_holidays:
            return Closure(
                day=day, kind=ClosureKind.PUBLIC_HOLIDAY, reason=year.public_holidays[day]
            )
        if day in year.bridge_days:
            return Closure(day=day, kind=ClosureKind.BRIDGE_DAY, reason=year.bridge_days[day])
        if day.weekday() in _WEEKEND and day.weekday() not in self.open_weekdays:
            return Closure(day=day, kind=ClosureKind.WEEKEND, reason="Week-end")
        if day.weekday() not in self.open_weekdays:
            name = _capitalized(WEEKDAY_NAMES_FR[day.weekday()])
            return Closure(day=day, kind=ClosureKind.CLOSED_WEEKDAY, reason=name)
        for period in self.site_closures:
            if day in period:
                return Closure(day=day, kind=ClosureKind.SITE_CLOSURE, reason=period.name)
        return None

    @cached_property
    def _closure_table(self) -> dict[date, Closure]:
        # Every closed day of the school year, computed once: closure() is then a lookup.
        table: dict[date, Closure] = {}
        day = self.first_day
        while day <= self.last_day:
            closure = self._compute_closure(day)
            if closure is not None:
                table[day] = closure
            day += timedelta(days=1)
        return table

    def closure(self, day: date) -> Closure | None:
        """Why the service does not run on ``day``, or ``None`` if it runs."""
        _check_day(day)
        if day not in self.school_year:
            return Closure(
                day=day,
                kind=ClosureKind.OUTSIDE_SCHOOL_YEAR,
                reason=f"Hors année scolaire {self.school_year.label}",
            )
        return self._closure_table.get(day)

    @cached_property
    def _open_days(self) -> tuple[date, ...]:
        table = self._closure_table
        days = []
        day = self.first_day
        while day <= self.last_day:
            if day not in table:
                days.append(day)
            day += timedelta(days=1)
        return tuple(days)

    @cached_property
    def _open_set(self) -> frozenset[date]:
        return frozenset(self._open_days)

    @cached_property
    def open_mask(self) -> int:
        """The service days as an ``int`` bitset: bit ``i`` set when ``first_day + i days``
        is open (reservation books test and combine whole ranges at once with it)."""
        base = self.first_day.toordinal()
        mask = 0
        for day in self._open_days:
            mask |= 1 << (day.toordinal() - base)
        return mask

    def is_open(self, day: date) -> bool:
        """Whether the service runs on ``day``."""
        _check_day(day)
        return day in self._open_set

    def open_days(self, start: date | None = None, end: date | None = None) -> tuple[date, ...]:
        """Service days between ``start`` and ``end`` (inclusive; default the whole year)."""
        _check_optional_dates(start=start, end=end)
        days = self._open_days
        lo = 0 if start is None else bisect_left(days, start)
        hi = len(days) if end is None else bisect_right(days, end)
        return days[lo:hi]

    def closures(self, start: date | None = None, end: date | None = None) -> tuple[Closure, ...]:
        """Closed days between ``start`` and ``end`` (inclusive; default the year), with reasons.

        Every day of the range that is not a service day is listed, weekends included, so
        service days and closures together cover the range exactly once.
        """
        _check_optional_dates(start=start, end=end)
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
        _check_day(day)
        index = bisect_left(self._open_days, day)
        return self._open_days[index - 1] if index > 0 else None

    def next_open_day(self, day: date) -> date | None:
        """The first service day strictly after ``day`` in this school year, if any."""
        _check_day(day)
        index = bisect_right(self._open_days, day)
        return self._open_days[index] if index < len(self._open_days) else None

    def counts_by_month(self) -> dict[str, int]:
        """Number of service days per month, keyed ``"YYYY-MM"``, in calendar order.

        Every month from the rentrée to the last class day is present, with 0 when the service
        never runs that month.
        """
        counts: dict[str, int] = {}
        month = date(self.first_day.year, self.first_day.month, 1)
        while month <= self.last_day:
            counts[f"{month.year:04d}-{month.month:02d}"] = 0
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        for day in self._open_days:
            counts[f"{day.year:04d}-{day.month:02d}"] += 1
        return counts
