"""The operations families and staff run on a book: one day, a week, a month, a range, a
periodicity, and the bulk forms over service days; each is :func:`set_days` on other days.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Unpack

from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    RuleViolationError,
)
from canteen_core.domain.periodicity import Periodicity
from canteen_core.domain.reservations.book import (
    BulkResult,
    ReservationBook,
    SkipReason,
    _mask,
    open_mask,
)
from canteen_core.domain.reservations.days import (
    _check_day,
    month_days,
    range_in_enrollment,
    week_days,
)
from canteen_core.domain.reservations.rules import (
    OperationContext,
    _Checked,
    _checked,
    _set_masks,
    set_days,
)


def fill_service_days(
    book: ReservationBook,
    start: date,
    end: date,
    booked: bool,
    **context: Unpack[OperationContext],
) -> tuple[ReservationBook, BulkResult]:
    """Book (or cancel) every service day of the enrollment from ``start`` to ``end``.

    The same as :func:`set_days` on ``enrollment.open_days(start, end)``: closed days are not
    targets, so they are not listed as skipped (bulk runs over many books).
    """
    return _fill_service_days(book, start, end, booked, **_checked(book, context))


def _fill_service_days(
    book: ReservationBook,
    start: date,
    end: date,
    booked: bool,
    **context: Unpack[_Checked],
) -> tuple[ReservationBook, BulkResult]:
    """:func:`fill_service_days` once the context is checked."""
    _check_day(start, "start")
    _check_day(end, "end")
    if not isinstance(booked, bool):
        raise InvalidInputError("booked must be True or False", path="booked")
    service = open_mask(context["enrollment"], start, end)
    on, off = (service, 0) if booked else (0, service)
    return _set_masks(book, on, off, service=service, **context)


@lru_cache(maxsize=256)
def _pattern_mask(periodicity: Periodicity, base: int) -> int:
    mask = 0
    for day in periodicity.days():
        offset = day.toordinal() - base
        if offset >= 0:
            mask |= 1 << offset
    return mask


def apply_periodicity_to_service_days(
    book: ReservationBook,
    periodicity: Periodicity,
    *,
    replace: bool = True,
    **context: Unpack[OperationContext],
) -> tuple[ReservationBook, BulkResult]:
    """:func:`apply_periodicity` over the service days only (the bulk form).

    The service days of the periodicity's range that the pattern names are booked; with
    ``replace`` the other ones are cancelled. Pattern days on which the service is closed are
    not targets, so they are not listed as skipped (a city-wide rentrée would otherwise
    create a record per child and holiday). A weekday the service never runs on is refused
    as in :func:`apply_periodicity`.
    """
    if not isinstance(periodicity, Periodicity):
        raise InvalidInputError(
            f"expected a Periodicity, got {type(periodicity).__name__}", path="periodicity"
        )
    return _periodicity_on_service_days(book, periodicity, replace, **_checked(book, context))


def _periodicity_on_service_days(
    book: ReservationBook,
    periodicity: Periodicity,
    replace: bool,
    **context: Unpack[_Checked],
) -> tuple[ReservationBook, BulkResult]:
    """:func:`apply_periodicity_to_service_days` once the context is checked."""
    enrollment = context["enrollment"]
    enrollment.check_runs_on(periodicity.weekdays)
    clamped = periodicity.within(enrollment.start, enrollment.end)
    if clamped is None:
        service = pattern = 0
    else:
        service = open_mask(enrollment, clamped.start, clamped.end)
        pattern = _pattern_mask(clamped, book.origin.toordinal())
    cancel = service & ~pattern if replace else 0
    return _set_masks(book, service & pattern, cancel, service=service, **context)


def _single(
    book: ReservationBook,
    day: date,
    booked: bool,
    context: OperationContext,
) -> tuple[ReservationBook, BulkResult]:
    """:func:`book_day` (``booked``) or :func:`cancel_day`."""
    day = _check_day(day, "day")
    new_book, result = set_days(book, [day], booked, **context)
    if not result.skipped:
        return new_book, result
    skip = result.skipped[0]
    when = f"{day:%d/%m/%Y}"
    if skip.reason is SkipReason.OUTSIDE_ENROLLMENT:
        raise InvalidInputError(f"{when} : {skip.message}", path="day")
    if skip.reason is SkipReason.ALREADY_PENDING:
        raise ConflictError(f"{when} : {skip.message}")
    if skip.reason is SkipReason.LATE and skip.deadline is not None:
        enrollment = context["enrollment"]
        policy = enrollment.booking_policy if booked else enrollment.cancellation_policy
        raise RuleViolationError(
            f"{when} : délai dépassé. {policy.explain(day, enrollment.calendar)}"
        )
    raise RuleViolationError(f"{when} : {skip.message}")


def book_day(
    book: ReservationBook,
    day: date,
    **context: Unpack[OperationContext],
) -> tuple[ReservationBook, BulkResult]:
    """Book one day. Raises instead of skipping (see :mod:`canteen_core.domain.reservations`).

    A late booking in ``pending`` mode returns normally with the request in ``result.pending``.
    """
    return _single(book, day, True, context)


def cancel_day(
    book: ReservationBook,
    day: date,
    **context: Unpack[OperationContext],
) -> tuple[ReservationBook, BulkResult]:
    """Cancel one day. Raises instead of skipping (see :mod:`canteen_core.domain.reservations`)."""
    return _single(book, day, False, context)


def tick_week(
    book: ReservationBook, week: date, **context: Unpack[OperationContext]
) -> tuple[ReservationBook, BulkResult]:
    """ "Tout cocher" in a week view: book every day of the ISO week containing ``week``.

    ``context`` is the keyword arguments of :func:`set_days` (enrollment, household, actor,
    clock, and optionally pending, new_id).
    """
    return set_days(book, week_days(week), True, **context)


def untick_week(
    book: ReservationBook, week: date, **context: Unpack[OperationContext]
) -> tuple[ReservationBook, BulkResult]:
    """ "Tout décocher" in a week view (see :func:`tick_week`)."""
    return set_days(book, week_days(week), False, **context)


def tick_month(
    book: ReservationBook, year: int, month: int, **context: Unpack[OperationContext]
) -> tuple[ReservationBook, BulkResult]:
    """ "Tout cocher" in a month view (see :func:`tick_week` for ``context``)."""
    return set_days(book, month_days(year, month), True, **context)


def untick_month(
    book: ReservationBook, year: int, month: int, **context: Unpack[OperationContext]
) -> tuple[ReservationBook, BulkResult]:
    """ "Tout décocher" in a month view (see :func:`tick_week` for ``context``)."""
    return set_days(book, month_days(year, month), False, **context)


def tick_range(
    book: ReservationBook, start: date, end: date, **context: Unpack[OperationContext]
) -> tuple[ReservationBook, BulkResult]:
    """Book every day from ``start`` to ``end`` that falls in the enrollment (see
    :func:`range_in_enrollment`; :func:`tick_week` for ``context``)."""
    days = range_in_enrollment(start, end, context.get("enrollment"))
    return set_days(book, days, True, **context)


def untick_range(
    book: ReservationBook, start: date, end: date, **context: Unpack[OperationContext]
) -> tuple[ReservationBook, BulkResult]:
    """Cancel every day from ``start`` to ``end`` that falls in the enrollment (see
    :func:`range_in_enrollment`; :func:`tick_week` for ``context``)."""
    days = range_in_enrollment(start, end, context.get("enrollment"))
    return set_days(book, days, False, **context)


def apply_periodicity(
    book: ReservationBook,
    periodicity: Periodicity,
    *,
    replace: bool = True,
    **context: Unpack[OperationContext],
) -> tuple[ReservationBook, BulkResult]:
    """Apply a weekly pattern over its range ("Appliquer une périodicité").

    With ``replace`` (default) the range ends up exactly as the pattern says: pattern days
    booked, the other service days of the range cancelled. Without it, pattern days are only
    added. Applying the same periodicity twice changes nothing the second time.

    A pattern naming a weekday on which the enrollment's service never runs (Wednesday for
    most school restaurants) is refused with a French :class:`InvalidInputError` (path
    ``weekdays``) naming it, as an enrollment request's meal days are
    (:meth:`Enrollment.check_runs_on
    <canteen_core.domain.enrollments.Enrollment.check_runs_on>`): with ``replace`` it would
    otherwise book nothing on that day and cancel the other days of the range. Days closed
    for another reason (holidays, a strike) are skipped with that reason.
    """
    if not isinstance(periodicity, Periodicity):
        raise InvalidInputError(
            f"expected a Periodicity, got {type(periodicity).__name__}", path="periodicity"
        )
    enrollment = context["enrollment"]
    enrollment.check_runs_on(periodicity.weekdays)
    # Clamped to the enrollment first: the work is bounded by it, whatever the pattern's range.
    clamped = periodicity.within(enrollment.start, enrollment.end)
    wanted: dict[date, bool] = {}
    if clamped is not None:
        if replace:
            # The other service days of the range are cancelled; closed days are not touched.
            wanted = dict.fromkeys(enrollment.open_days(clamped.start, clamped.end), False)
        wanted.update(dict.fromkeys(clamped.days(), True))
    return set_days(book, wanted, **context)


def drop_closed_days(
    book: ReservationBook, enrollment: Enrollment
) -> tuple[ReservationBook, tuple[date, ...]]:
    """Cancel booked days on which the service no longer runs (a strike or works added later).

    Returns the new book and the dropped days: the organiser closed them, nobody is charged. No
    deadline applies: this is the commune's own change, run by the service layer.
    """
    dropped = tuple(day for day in book.booked_days() if not enrollment.is_bookable(day))
    new_book = book._changed(book=0, cancel=_mask(book.origin, dropped, "days"), late=0)
    return new_book, dropped
