"""Cut-off policies (délais de prévenance): until when a day may be booked or cancelled freely.

Every policy answers, for a target day and the service calendar, the exact **deadline instant**:
a change is on time when ``now < deadline`` (strictly), late from the deadline on. Deadlines are
wall-clock rules in Europe/Paris, returned as aware **UTC** instants (an ambiguous local time
would not compare reliably across zones); :func:`format_instant` shows them in Paris time.

Policies seen in French regulations:

* :class:`WeeklyDeadline` -- "jeudi 10 h de la semaine précédente" (Thursday 10:00 for next week);
* :class:`OpenDaysBefore` -- "le jour de service précédent avant 11 h": counts service days of the
  calendar backwards, so the first day after the holidays falls due on the last open day before
  them, and a Thursday meal (Wednesday closed) falls due on Tuesday;
* :class:`FixedDelay` -- "48 h" (real elapsed hours before the target day's 00:00) or "8 jours"
  (calendar days before, at a wall-clock time);
* :class:`DayOfPreviousMonth` -- "le 20 du mois précédent à 12 h";
* :class:`WorkingDaysBefore` -- "2 jours ouvrés avant, 10 h": counts working days (Monday to
  Friday, public holidays excepted) whatever the service's own days, so a Friday meal falls due
  on Wednesday even when the service is closed on Wednesdays.

**Policy kinds.** Every concrete attrs subclass of :class:`CutOffPolicy` is a *kind*, stored
under its class name (``{"type": "WeeklyDeadline", ...}``): a policy written by a portal
(``class NoonTheDayBefore(CutOffPolicy)``, an attrs class) is stored and read back like the
built-in ones as soon as its module is imported. :func:`cut_off_policy_kinds` lists the kinds;
:func:`cut_off_policy_kind` finds one by name and refuses an unknown name with
:class:`~canteen_core.domain.errors.InvalidInputError` (e.g. data written by a portal whose
module is not imported).

Each can :meth:`~CutOffPolicy.describe` itself and :meth:`~CutOffPolicy.explain` the deadline of a
day in a sentence, in French (default, user-facing) or English.

Wall-clock times are resolved with :mod:`zoneinfo`: a time that does not exist on the spring
change (02:30 on the last Sunday of March) moves forward to the same instant as 03:30 CEST; an
ambiguous one on the autumn change takes its first occurrence (summer time). Every policy gives a
deadline at or before the target day's 00:00, hence strictly before its service starts.
"""

from __future__ import annotations

import abc
import calendar as _calendar
import enum
import inspect
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal

import attrs
from babel.dates import format_date as _babel_date
from babel.dates import get_day_names

from canteen_core.domain._french import format_date_fr, format_wall_time_fr
from canteen_core.domain._validators import enum_member, non_negative_int, positive_int
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.clock import PARIS, ensure_aware
from canteen_core.domain.errors import ConfigurationError, InvalidInputError

__all__ = [
    "CutOffPolicy",
    "DayOfPreviousMonth",
    "DelayUnit",
    "FixedDelay",
    "Lang",
    "OpenDaysBefore",
    "WeeklyDeadline",
    "WorkingDaysBefore",
    "cut_off_policy_kind",
    "cut_off_policy_kinds",
    "format_date",
    "format_instant",
    "wall_clock",
]

Lang = Literal["fr", "en"]

_BABEL_LOCALES: dict[str, str] = {"fr": "fr_FR", "en": "en_GB"}


def _weekday_name(weekday: int, lang: Lang) -> str:
    """Monday is 0, as :meth:`date.weekday`; the name comes from babel's locale data."""
    name: str = get_day_names("wide", locale=_BABEL_LOCALES[lang])[weekday]
    return name


def wall_clock(day: date, at: time) -> datetime:
    """The instant (aware, UTC) of wall-clock ``at`` on ``day`` in Europe/Paris.

    A non-existent spring-forward time maps to the instant it would have been with the winter
    offset (02:30 -> 03:30 CEST); an ambiguous autumn time to its first occurrence (fold=0).
    """
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def format_date(day: date, lang: Lang = "fr") -> str:
    """``"jeudi 2 novembre 2023"`` / ``"Thursday 2 November 2023"``."""
    if lang == "en":
        return _babel_date(day, "EEEE d MMMM y", locale=_BABEL_LOCALES["en"])
    return format_date_fr(day, weekday=True)


def _format_time(at: time, lang: Lang) -> str:
    return f"{at.hour:02d}:{at.minute:02d}" if lang == "en" else format_wall_time_fr(at)


def format_instant(instant: datetime, lang: Lang = "fr") -> str:
    """``"jeudi 2 novembre 2023 à 10 h 00"`` (Europe/Paris wall clock)."""
    local = ensure_aware(instant, "instant").astimezone(PARIS)
    joiner = " at " if lang == "en" else " à "
    return format_date(local.date(), lang) + joiner + _format_time(local.timetz(), lang)


def _check_time(_: object, attribute: attrs.Attribute[time], value: object) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidInputError(
            f"{attribute.name} doit être une heure locale de Paris sans fuseau, comme 10:00"
            f" (reçu « {value} »)",
            path=attribute.name,
        )


def _check_weekday(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 6:
        raise InvalidInputError(
            f"weekday doit être un jour de 0 (lundi) à 6 (dimanche) (reçu « {value} »)",
            path="weekday",
        )


class CutOffPolicy(abc.ABC):
    """A rule giving, for a target day, the instant after which changes are late."""

    @abc.abstractmethod
    def deadline(self, day: date, calendar: ServiceCalendar) -> datetime:
        """The instant (aware, UTC) from which a change to ``day`` is late."""

    @abc.abstractmethod
    def describe(self, lang: Lang = "fr") -> str:
        """The rule in words: ``"le jeudi à 10 h 00 de la semaine précédente"``."""

    def deadlines(self, days: Iterable[date], calendar: ServiceCalendar) -> list[datetime]:
        """:meth:`deadline` of each of ``days``, in order (policies whose deadline is shared
        by many days compute it once per group)."""
        return [self.deadline(day, calendar) for day in days]

    def is_on_time(self, day: date, calendar: ServiceCalendar, now: datetime) -> bool:
        """Whether a change made at ``now`` (aware) to ``day`` is before the deadline."""
        return ensure_aware(now, "now") < self.deadline(day, calendar)

    def explain(self, day: date, calendar: ServiceCalendar, lang: Lang = "fr") -> str:
        """A sentence for families: the deadline of ``day`` and the rule behind it.

        ``"Pour le lundi 6 novembre 2023, modifiable jusqu'au jeudi 2 novembre 2023 à 10 h 00
        (exclu) : le jeudi à 10 h 00 de la semaine précédente."``
        """
        limit = format_instant(self.deadline(day, calendar), lang)
        if lang == "en":
            return (
                f"For {format_date(day, lang)}, changes are possible until {limit} "
                f"(excluded): {self.describe(lang)}."
            )
        return (
            f"Pour le {format_date(day, lang)}, modifiable jusqu'au {limit} (exclu) : "
            f"{self.describe(lang)}."
        )


@attrs.frozen(kw_only=True)
class WeeklyDeadline(CutOffPolicy):
    """``weekday`` at ``at`` of the ISO week ``weeks_before`` weeks before the target's week.

    ``WeeklyDeadline(weekday=3, at=time(10))``: "Thursday 10:00 for next week".
    """

    weekday: int = attrs.field(validator=_check_weekday)
    at: time = attrs.field(validator=_check_time)
    weeks_before: int = attrs.field(default=1, validator=positive_int)

    def deadline(self, day: date, calendar: ServiceCalendar) -> datetime:
        return self._of_week(day - timedelta(days=day.weekday()))

    def _of_week(self, monday: date) -> datetime:
        target = monday - timedelta(weeks=self.weeks_before) + timedelta(days=self.weekday)
        return wall_clock(target, self.at)

    def deadlines(self, days: Iterable[date], calendar: ServiceCalendar) -> list[datetime]:
        if type(self).deadline is not WeeklyDeadline.deadline:  # a subclass decides per day
            return super().deadlines(days, calendar)
        # Memoized on the days tuple: the same days for many books are computed once.
        return list(_weekly_deadlines(self, tuple(days)))

    def describe(self, lang: Lang = "fr") -> str:
        if lang == "en":
            weeks = (
                "the previous week"
                if self.weeks_before == 1
                else f"{self.weeks_before} weeks before"
            )
            return f"{_weekday_name(self.weekday, lang)} {_format_time(self.at, lang)} of {weeks}"
        weeks = (
            "de la semaine précédente"
            if self.weeks_before == 1
            else f"{self.weeks_before} semaines avant"
        )
        return f"le {_weekday_name(self.weekday, lang)} à {_format_time(self.at, lang)} {weeks}"


@lru_cache(maxsize=256)
def _weekly_deadlines(policy: WeeklyDeadline, days: tuple[date, ...]) -> tuple[datetime, ...]:
    """The deadlines of ``days``, one computation per ISO week (no calendar involved)."""
    by_week: dict[int, datetime] = {}
    result = []
    for day in days:
        monday = day.toordinal() - day.weekday()
        found = by_week.get(monday)
        if found is None:
            found = by_week[monday] = policy._of_week(date.fromordinal(monday))
        result.append(found)
    return tuple(result)


@attrs.frozen(kw_only=True)
class OpenDaysBefore(CutOffPolicy):
    """At ``at`` on the ``days``-th service day before the target ("previous school day 11:00").

    Service days are those of the enrollment's calendar, so holidays and closed weekdays are
    jumped over. Before the first service day of the year there is none to count: the count then
    continues on weekdays (Monday to Friday), e.g. Friday before the rentrée.
    """

    days: int = attrs.field(default=1, validator=positive_int)
    at: time = attrs.field(validator=_check_time)

    def deadline(self, day: date, calendar: ServiceCalendar) -> datetime:
        current = day
        for _ in range(self.days):
            previous = calendar.previous_open_day(current)
            if previous is None:
                previous = current - timedelta(days=1)
                while previous.weekday() >= 5:
                    previous -= timedelta(days=1)
            current = previous
        return wall_clock(current, self.at)

    def describe(self, lang: Lang = "fr") -> str:
        at = _format_time(self.at, lang)
        if lang == "en":
            if self.days == 1:
                return f"before {at} on the previous service day"
            return f"before {at}, {self.days} service days before"
        if self.days == 1:
            return f"avant {at} le jour de service précédent"
        return f"avant {at}, {self.days} jours de service avant"


class DelayUnit(enum.StrEnum):
    """Unit of a :class:`FixedDelay`."""

    HOURS = "hours"  # real elapsed hours before the target day's 00:00 (Europe/Paris)
    DAYS = "days"  # calendar days before the target day, at a wall-clock time


def _unit(value: DelayUnit | str) -> DelayUnit:
    return enum_member(DelayUnit, value, path="unit", what="l'unité de délai")


@attrs.frozen(kw_only=True)
class FixedDelay(CutOffPolicy):
    """A fixed delay before the target day.

    * ``FixedDelay.hours(48)``: 48 real hours before the target day starts (00:00 Europe/Paris);
      across a DST change the wall-clock time of the deadline shifts by one hour.
    * ``FixedDelay.days(2)``: at ``at`` (default 00:00) on the calendar day two days before, so
      "48 h in calendar days" for a Thursday is Tuesday 00:00 whatever the season.
    """

    amount: int = attrs.field(validator=non_negative_int)
    unit: DelayUnit = attrs.field(converter=_unit)
    at: time = attrs.field(default=time(0, 0), validator=_check_time)

    def __attrs_post_init__(self) -> None:
        if self.unit is DelayUnit.HOURS and self.at != time(0, 0):
            raise InvalidInputError(
                "un délai en heures se compte depuis 00:00 : at ne sert qu'à un délai en jours",
                path="at",
            )
        if self.unit is DelayUnit.DAYS and self.amount == 0 and self.at != time(0, 0):
            raise InvalidInputError(
                "une date limite le jour même doit être à 00:00 pour précéder le service",
                path="at",
            )

    @classmethod
    def hours(cls, amount: int) -> FixedDelay:
        """``amount`` real hours before the target day's 00:00."""
        return cls(amount=amount, unit=DelayUnit.HOURS)

    @classmethod
    def days(cls, amount: int, at: time = time(0, 0)) -> FixedDelay:
        """At ``at`` on the calendar day ``amount`` days before the target day."""
        return cls(amount=amount, unit=DelayUnit.DAYS, at=at)

    def deadline(self, day: date, calendar: ServiceCalendar) -> datetime:
        if self.unit is DelayUnit.HOURS:
            return wall_clock(day, time(0, 0)) - timedelta(hours=self.amount)
        return wall_clock(day - timedelta(days=self.amount), self.at)

    def describe(self, lang: Lang = "fr") -> str:
        if self.unit is DelayUnit.HOURS:
            if lang == "en":
                return f"{self.amount} hours before the day starts"
            return f"{self.amount} heures avant le début du jour concerné"
        at = _format_time(self.at, lang)
        if lang == "en":
            return f"{self.amount} calendar days before, at {at}"
        return f"{self.amount} jours calendaires avant, à {at}"


@attrs.frozen(kw_only=True)
class DayOfPreviousMonth(CutOffPolicy):
    """At ``at`` on day ``day_of_month`` of the month before the target's month.

    A day beyond the month's length means its last day (31 -> 30 November, 28/29 February).
    """

    day_of_month: int = attrs.field(validator=positive_int)
    at: time = attrs.field(validator=_check_time)

    def __attrs_post_init__(self) -> None:
        if self.day_of_month > 31:
            raise InvalidInputError(
                f"day_of_month doit être un jour de 1 à 31 (reçu « {self.day_of_month} »)",
                path="day_of_month",
            )

    def deadline(self, day: date, calendar: ServiceCalendar) -> datetime:
        year, month = (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)
        last = _calendar.monthrange(year, month)[1]
        return wall_clock(date(year, month, min(self.day_of_month, last)), self.at)

    def describe(self, lang: Lang = "fr") -> str:
        at = _format_time(self.at, lang)
        if lang == "en":
            return f"day {self.day_of_month} of the previous month at {at}"
        number = "1er" if self.day_of_month == 1 else str(self.day_of_month)
        return f"le {number} du mois précédent à {at}"


@attrs.frozen(kw_only=True)
class WorkingDaysBefore(CutOffPolicy):
    """At ``at`` on the ``days``-th working day before the target ("2 jours ouvrés avant, 10 h").

    Working days are Monday to Friday except public holidays, whatever days the service runs:
    ``WorkingDaysBefore(days=2, at=time(10))`` puts a Friday meal's deadline on Wednesday
    10:00 even at a school closed on Wednesdays (where :class:`OpenDaysBefore` would count
    service days and land on Tuesday). The public holidays are those of the enrollment's
    school year (:attr:`~canteen_core.domain.calendar.SchoolYear.public_holidays`, Alsace-Moselle
    included when the site is there); school holidays are working days.
    """

    days: int = attrs.field(default=2, validator=positive_int)
    at: time = attrs.field(validator=_check_time)

    def deadline(self, day: date, calendar: ServiceCalendar) -> datetime:
        holidays = calendar.school_year.public_holidays
        current = day
        for _ in range(self.days):
            current -= timedelta(days=1)
            while current.weekday() >= 5 or current in holidays:
                current -= timedelta(days=1)
        return wall_clock(current, self.at)

    def describe(self, lang: Lang = "fr") -> str:
        at = _format_time(self.at, lang)
        if lang == "en":
            unit = "working day" if self.days == 1 else "working days"
            return (
                f"before {at}, {self.days} {unit} before (Monday to Friday, public holidays "
                "excepted)"
            )
        unit = "jour ouvré" if self.days == 1 else "jours ouvrés"
        return f"avant {at}, {self.days} {unit} avant (du lundi au vendredi, hors jours fériés)"


def _kinds_below(base: type) -> list[type]:
    found: list[type] = []
    subclass: type
    for subclass in base.__subclasses__():
        if attrs.has(subclass) and not inspect.isabstract(subclass):
            found.append(subclass)
        found.extend(_kinds_below(subclass))
    return found


def cut_off_policy_kinds() -> dict[str, type[CutOffPolicy]]:
    """Every kind of cut-off policy by name: the concrete attrs subclasses of
    :class:`CutOffPolicy` defined so far (built-in and a portal's), under their class name.

    Two kinds with one class name cannot be told apart in storage: a
    :class:`~canteen_core.domain.errors.ConfigurationError` names them.
    """
    kinds: dict[str, type[CutOffPolicy]] = {}
    for kind in _kinds_below(CutOffPolicy):
        known = kinds.setdefault(kind.__name__, kind)
        if known is not kind:
            raise ConfigurationError(
                f"two cut-off policy kinds are named {kind.__name__}: "
                f"{known.__module__}.{known.__qualname__} and {kind.__module__}.{kind.__qualname__}"
                "; rename one"
            )
    return kinds


def cut_off_policy_kind(name: object) -> type[CutOffPolicy]:
    """The cut-off policy kind called ``name`` (see :func:`cut_off_policy_kinds`);
    :class:`~canteen_core.domain.errors.InvalidInputError` for an unknown one."""
    kinds = cut_off_policy_kinds()
    if isinstance(name, str) and name in kinds:
        return kinds[name]
    raise InvalidInputError(
        f"type de date limite inconnu « {name} » (possibles : {', '.join(sorted(kinds))}) ;"
        " la règle propre à un portail doit être importée avant la lecture de ses données",
        path="type",
    )
