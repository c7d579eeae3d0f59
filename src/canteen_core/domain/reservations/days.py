"""Day ranges of the reservation grids: weeks, months, ranges clamped to an enrollment."""

from __future__ import annotations

from datetime import date, timedelta

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._validators import check_date, check_year
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import (
    InvalidInputError,
)


def _check_day(day: object, path: str = "days") -> date:
    return check_date(day, path)


def _check_range(start: object, end: object) -> tuple[date, date]:
    """``start`` and ``end`` checked as :func:`days_between` checks them, for callers that
    need the bounds only (a bulk fill works on masks, not on the days)."""
    first = _check_day(start, "start")
    last = _check_day(end, "end")
    if last < first:
        raise InvalidInputError(ends_before_start_fr("la période", first, last), path="end")
    return first, last


def days_between(start: date, end: date) -> tuple[date, ...]:
    """Every calendar day from ``start`` to ``end`` inclusive; ``end < start`` is an error."""
    first, last = _check_range(start, end)
    return tuple(map(date.fromordinal, range(first.toordinal(), last.toordinal() + 1)))


def range_in_enrollment(start: date, end: date, enrollment: object) -> tuple[date, ...]:
    """The days from ``start`` to ``end`` that fall in ``enrollment``'s period.

    A range is clamped to the enrollment before its days are listed, so the work it costs is
    bounded by the enrollment (about a school year), whatever the bounds asked: a family that
    ticks "until 9999-12-31" gets its enrollment's days, not three million skip records. The
    days clamped away are not reported (as in the bulk :func:`fill_service_days`)."""
    first, last = _check_range(start, end)
    if not isinstance(enrollment, Enrollment):
        raise InvalidInputError("une inscription est attendue", path="enrollment")
    lo = max(first, enrollment.start)
    hi = min(last, enrollment.end)
    if hi < lo:
        return ()
    return tuple(map(date.fromordinal, range(lo.toordinal(), hi.toordinal() + 1)))


def week_days(day: date) -> tuple[date, ...]:
    """Monday to Sunday of the ISO week containing ``day``."""
    monday = _check_day(day, "week") - timedelta(days=day.weekday())
    return tuple(monday + timedelta(days=i) for i in range(7))


def _month_range(year: int, month: int) -> tuple[date, date]:
    """The first and last day of ``month`` in ``year`` (:func:`month_days`' bounds)."""
    check_year(year, "year")
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise InvalidInputError("le mois doit être un nombre entier de 1 à 12", path="month")
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first, following - timedelta(days=1)


def month_days(year: int, month: int) -> tuple[date, ...]:
    """Every day of ``month`` in ``year``."""
    return days_between(*_month_range(year, month))
