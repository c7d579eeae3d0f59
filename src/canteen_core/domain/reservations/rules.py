"""The rules every reservation operation applies (see :mod:`canteen_core.domain.reservations`):
the context checks and :func:`set_days`, the general operation, run as mask operations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import NotRequired, TypedDict, Unpack

import attrs

from canteen_core.domain._access import acts_as_commune, ensure_may_act_for
from canteen_core.domain._ids import random_id
from canteen_core.domain.actors import Actor
from canteen_core.domain.change_requests import ChangeAction, ChangeRequest, RequestStatus
from canteen_core.domain.clock import PARIS, Clock, ensure_aware
from canteen_core.domain.deadlines import format_instant, wall_clock
from canteen_core.domain.enrollments import Enrollment, LateChangeMode
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
)
from canteen_core.domain.events import ReservationsChanged
from canteen_core.domain.families import Household
from canteen_core.domain.reservations.book import (
    BulkResult,
    ReservationBook,
    SkippedDay,
    SkipReason,
    _decode,
    _range_mask,
    open_mask,
)
from canteen_core.domain.reservations.days import _check_day


def _check_context(
    book: ReservationBook, enrollment: Enrollment, household: Household, actor: Actor
) -> None:
    """Shared preconditions of every operation; raise before anything is computed."""
    _check_operands(book, enrollment)
    if not isinstance(household, Household):
        raise InvalidInputError(f"expected a Household, got {type(household).__name__}")
    ensure_may_act_for(actor, enrollment.household_id)
    if household.id != enrollment.household_id:
        raise InvalidInputError(
            f"enrollment {enrollment.id!r} belongs to household {enrollment.household_id!r}, "
            f"not {household.id!r}",
            path="household",
        )
    household.child(enrollment.child_id)  # NotFoundError for an unknown child
    _check_book_of(book, enrollment)


def _check_context_household_checked(
    book: ReservationBook, enrollment: Enrollment, actor: Actor
) -> None:
    """:func:`_check_context` for a caller that has checked the household side itself (the
    enrollment's household exists and has its child): the services read the households'
    child ids, not whole households. The other checks run in the same order. The caller
    then runs the operation's core (``_set_days``, ``_fill_service_days``,
    ``_periodicity_on_service_days``), which trusts the context."""
    _check_operands(book, enrollment)
    ensure_may_act_for(actor, enrollment.household_id)
    _check_book_of(book, enrollment)


def _check_operands(book: ReservationBook, enrollment: Enrollment) -> None:
    if not isinstance(book, ReservationBook):
        raise InvalidInputError(f"expected a ReservationBook, got {type(book).__name__}")
    if not isinstance(enrollment, Enrollment):
        raise InvalidInputError(f"expected an Enrollment, got {type(enrollment).__name__}")


def _check_book_of(book: ReservationBook, enrollment: Enrollment) -> None:
    """The book is the enrollment's, on the enrollment's first day."""
    if book.enrollment_id != enrollment.id:
        raise InvalidInputError(
            f"book of enrollment {book.enrollment_id!r} used with enrollment {enrollment.id!r}",
            path="book",
        )
    if book.origin != enrollment.start:
        raise ConflictError(
            f"book origin {book.origin} differs from the enrollment start {enrollment.start}"
        )


def _check_wanted(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(
            f"wanted states must be True or False, got {value!r}", path="wanted"
        )
    return value


def _skip_closed(day: date, enrollment: Enrollment) -> SkippedDay:
    """The skip record of a day outside the enrollment or without service."""
    if not enrollment.covers(day):
        return SkippedDay(
            day=day,
            reason=SkipReason.OUTSIDE_ENROLLMENT,
            message=(
                f"Hors inscription (du {enrollment.start:%d/%m/%Y} au {enrollment.end:%d/%m/%Y})"
            ),
        )
    closure = enrollment.calendar.closure(day)
    return SkippedDay(
        day=day,
        reason=SkipReason.CLOSED,
        message=closure.reason if closure is not None else "Fermé",
        closure_kind=closure.kind if closure is not None else None,
    )


class OperationContext(TypedDict):
    """The keyword arguments every operation takes (see :func:`set_days`)."""

    enrollment: Enrollment
    household: Household
    actor: Actor
    clock: Clock
    pending: NotRequired[Iterable[ChangeRequest]]
    new_id: NotRequired[Callable[[], str]]


class _Checked(TypedDict):
    """An :class:`OperationContext` whose household side is checked: what the cores take."""

    enrollment: Enrollment
    actor: Actor
    clock: Clock
    pending: Iterable[ChangeRequest]
    new_id: Callable[[], str]


def _checked(book: ReservationBook, context: OperationContext) -> _Checked:
    """Check ``context`` against ``book`` (:func:`_check_context`), then drop the household."""
    _check_context(book, context["enrollment"], context["household"], context["actor"])
    return {
        "enrollment": context["enrollment"],
        "actor": context["actor"],
        "clock": context["clock"],
        "pending": context.get("pending", ()),
        "new_id": context.get("new_id", random_id),
    }


def set_days(
    book: ReservationBook,
    wanted: Mapping[date, bool] | Iterable[date],
    booked: bool | None = None,
    **context: Unpack[OperationContext],
) -> tuple[ReservationBook, BulkResult]:
    """The general operation: bring each day to its wanted state (the rules of
    :mod:`canteen_core.domain.reservations`).

    ``wanted`` maps days to ``True`` (booked) / ``False``; or give an iterable of days and
    ``booked``. ``pending`` are the enrollment's open change requests (to avoid duplicates and to
    withdraw those a new change makes moot); ``new_id`` names new requests.
    """
    return _set_days(book, wanted, booked, **_checked(book, context))


def _set_days(
    book: ReservationBook,
    wanted: Mapping[date, bool] | Iterable[date],
    booked: bool | None = None,
    **context: Unpack[_Checked],
) -> tuple[ReservationBook, BulkResult]:
    """:func:`set_days` once the context is checked."""
    base = book.origin.toordinal()
    to_on = to_off = 0
    early: set[date] = set()  # before the book's origin: outside the enrollment
    if isinstance(wanted, Mapping):
        if booked is not None:
            raise InvalidInputError("give either a mapping or days with booked=", path="booked")
        for day, value in wanted.items():
            offset = _check_day(day).toordinal() - base
            if offset < 0:
                _check_wanted(value)
                early.add(day)
            elif _check_wanted(value):
                to_on |= 1 << offset
            else:
                to_off |= 1 << offset
    else:
        if not isinstance(booked, bool):
            raise InvalidInputError("booked must be True or False", path="booked")
        targets = 0
        for day in wanted:
            offset = _check_day(day).toordinal() - base
            if offset < 0:
                early.add(day)
            else:
                targets |= 1 << offset
        if booked:
            to_on = targets
        else:
            to_off = targets
    return _set_masks(book, to_on, to_off, early=sorted(early), **context)


def _set_masks(
    book: ReservationBook,
    to_on: int,
    to_off: int,
    *,
    early: Iterable[date] = (),
    service: int | None = None,
    enrollment: Enrollment,
    actor: Actor,
    clock: Clock,
    pending: Iterable[ChangeRequest] = (),
    new_id: Callable[[], str] = random_id,
) -> tuple[ReservationBook, BulkResult]:
    """:func:`set_days` on whole ranges at once: ``to_on`` / ``to_off`` are the days wanted
    booked / cancelled as masks on the book (disjoint), ``early`` the wanted days before its
    origin. ``service`` is the enrollment's :func:`open_mask` over the targets when the caller
    has computed it (the bulk forms), computed here otherwise. The rules run as mask
    operations; only days that change and need a deadline are looked at one by one. The
    caller has checked the context (:func:`_check_context`)."""
    now = ensure_aware(clock.now(), "clock.now()")
    commune = acts_as_commune(actor)
    origin = book.origin
    base = origin.toordinal()
    open_requests: dict[date, ChangeRequest] = {}
    for item in pending:
        if not isinstance(item, ChangeRequest):
            raise InvalidInputError(
                f"pending must hold ChangeRequests, got {type(item).__name__}", path="pending"
            )
        if item.is_pending and item.enrollment_id == enrollment.id:
            open_requests[item.day] = item
    targets = to_on | to_off
    if service is None:
        service = (
            open_mask(
                enrollment,
                date.fromordinal(base + (targets & -targets).bit_length() - 1),
                date.fromordinal(base + targets.bit_length() - 1),
            )
            if targets
            else 0
        )
    bits = book.bits
    on = to_on & service
    off = to_off & service
    unchanged = (on & bits) | (off & ~bits)
    changing_on = on & ~bits
    changing_off = off & bits
    # Skipped days in day order: (ordinal, record).
    skips: list[tuple[int, SkippedDay]] = [
        (day.toordinal(), _skip_closed(day, enrollment)) for day in early
    ]
    closed = targets & ~service
    if closed:
        skips.extend(
            (day.toordinal(), _skip_closed(day, enrollment)) for day in _decode(base, closed)
        )
    withdrawn: list[ChangeRequest] = []
    if open_requests:
        for day in sorted(open_requests):
            request = open_requests[day]
            offset = day.toordinal() - base
            if offset < 0:
                continue
            bit = 1 << offset
            if unchanged & bit:
                if request.wants_booked != bool(on & bit):
                    withdrawn.append(
                        attrs.evolve(
                            request,
                            status=RequestStatus.WITHDRAWN,
                            decided_by=actor.user_id,
                            decided_at=now,
                        )
                    )
            elif (changing_on & bit and request.wants_booked) or (
                changing_off & bit and not request.wants_booked
            ):
                changing_on &= ~bit
                changing_off &= ~bit
                skips.append(
                    _skip(
                        day,
                        SkipReason.ALREADY_PENDING,
                        "Demande déjà en attente d'instruction",
                        request.deadline,
                    )
                )
    late_mode = enrollment.late_change
    # Commune actors outside surcharge mode need no deadline: the hot path of bulk runs.
    needs_deadline = not commune or late_mode is LateChangeMode.SURCHARGE
    late = 0
    new_requests: list[ChangeRequest] = []
    if needs_deadline and (changing_on or changing_off):
        calendar = enrollment.calendar
        start_at = enrollment.service.starts_at
        # A day after today (Paris) has not started: only today and before need the clock.
        today = now.astimezone(PARIS).toordinal()
        if not commune and base <= today:
            for day in _decode(base, (changing_on | changing_off) & _range_mask(0, today - base)):
                if now >= wall_clock(day, start_at):
                    bit = 1 << (day.toordinal() - base)
                    changing_on &= ~bit
                    changing_off &= ~bit
                    skips.append(_skip(day, SkipReason.PAST, "Jour passé : service commencé"))
        booking = _decode(base, changing_on) if changing_on else ()
        cancelling = _decode(base, changing_off) if changing_off else ()
        # The days whose deadline has passed (usually none), in day order.
        overdue = [
            (day, deadline)
            for day, deadline in zip(
                booking, enrollment.booking_policy.deadlines(booking, calendar), strict=True
            )
            if now >= deadline
        ]
        if cancelling:
            overdue.extend(
                (day, deadline)
                for day, deadline in zip(
                    cancelling,
                    enrollment.cancellation_policy.deadlines(cancelling, calendar),
                    strict=True,
                )
                if now >= deadline
            )
            overdue.sort(key=_first_day)
        for day, deadline in overdue:
            bit = 1 << (day.toordinal() - base)
            if commune or late_mode is LateChangeMode.SURCHARGE:
                late |= bit
                continue
            want = bool(changing_on & bit)
            changing_on &= ~bit
            changing_off &= ~bit
            if late_mode is LateChangeMode.PENDING:
                new_requests.append(
                    ChangeRequest(
                        id=new_id(),
                        enrollment_id=enrollment.id,
                        household_id=enrollment.household_id,
                        child_id=enrollment.child_id,
                        day=day,
                        action=ChangeAction.BOOK if want else ChangeAction.CANCEL,
                        requested_by=actor.user_id,
                        requested_at=now,
                        deadline=deadline,
                    )
                )
            else:
                skips.append(
                    _skip(
                        day,
                        SkipReason.LATE,
                        f"Délai dépassé depuis le {format_instant(deadline)}",
                        deadline,
                    )
                )

    new_book = book._changed(book=changing_on, cancel=changing_off, late=late)
    booked_days = _decode(base, changing_on) if changing_on else ()
    cancelled_days = _decode(base, changing_off) if changing_off else ()
    event = None
    if booked_days or cancelled_days or new_requests:
        event = ReservationsChanged.for_enrollment(
            enrollment,
            now,
            actor_id=actor.user_id,
            booked=booked_days,
            cancelled=cancelled_days,
            pending=tuple(request.day for request in new_requests),
        )
    skips.sort(key=_first)
    result = BulkResult(
        enrollment_id=enrollment.id,
        booked=booked_days,
        cancelled=cancelled_days,
        unchanged=_decode(base, unchanged) if unchanged else (),
        skipped=tuple(record for _, record in skips),
        pending=tuple(new_requests),
        withdrawn=tuple(withdrawn),
        surcharged=_decode(base, late) if late else (),
        event=event,
    )
    return new_book, result


def _skip(
    day: date, reason: SkipReason, message: str, deadline: datetime | None = None
) -> tuple[int, SkippedDay]:
    """A skipped day, keyed by its ordinal so the result lists skips in day order."""
    return day.toordinal(), SkippedDay(day=day, reason=reason, message=message, deadline=deadline)


def _first(item: tuple[int, SkippedDay]) -> int:
    return item[0]


def _first_day(item: tuple[date, datetime]) -> date:
    return item[0]
