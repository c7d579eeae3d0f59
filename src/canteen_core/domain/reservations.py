"""The reservation engine: which days a child is booked for, and how families change them.

Design
------
State and operations are separate and pure:

* :class:`ReservationBook` is the whole reservation state of **one enrollment**: the booked days
  as an ``int`` bitset (bit ``i`` = ``origin + i`` days, ``origin`` being the enrollment's first
  day), the surcharge markers of late changes, and a ``version`` for optimistic concurrency. A
  school year is ~40 bytes per child; bulk changes are mask operations, headcounts bit tests.
  For storage it converts to and from plain rows: :meth:`ReservationBook.rows` gives
  ``(enrollment_id, day)`` pairs and :meth:`ReservationBook.from_days` rebuilds it.
* Operations take the current book and return ``(new_book, BulkResult)``; nothing is mutated.
  The service layer loads the book (and the enrollment's open change requests), calls an
  operation with the acting :class:`~canteen_core.domain.actors.Actor` and a
  :class:`~canteen_core.domain.clock.Clock`, then saves the new book if ``new_book.version`` moved
  (``UPDATE ... WHERE version = old``), inserts ``result.pending`` requests, updates
  ``result.withdrawn`` ones, and publishes ``result.event`` after commit.

Rules applied to every day of an operation, in order:

1. outside the enrollment period -> skipped (``outside_enrollment``);
2. service closed (holiday, Wednesday, strike...) -> skipped with the calendar's reason;
3. already in the wanted state -> unchanged (and a pending opposite request is withdrawn);
4. same change already pending -> skipped (``already_pending``);
5. family actor and the day's service has started -> skipped (``past``);
6. before the deadline (booking or cancellation policy of the enrollment) -> applied;
7. late: a family change is refused (skipped ``late``), turned into a pending
   :class:`~canteen_core.domain.change_requests.ChangeRequest`, or applied with a surcharge marker,
   as the enrollment's :class:`~canteen_core.domain.enrollments.LateChangeMode` says. Commune actors
   (staff, admin, system) instruct: their changes apply whatever the deadline, still marked
   for surcharge in ``surcharge`` mode.

Bulk operations (weeks, months, ranges, periodicities) report skipped days; single-day
operations (:func:`book_day`, :func:`cancel_day`) raise instead: :class:`InvalidInputError` for a
day outside the enrollment, :class:`RuleViolationError` for a closed, past or late day.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NotRequired, TypedDict, Unpack

import attrs

from canteen_core.domain._access import acts_as_commune, ensure_may_act_for
from canteen_core.domain._validators import a_date, check_date, check_year, non_empty_str
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import ClosureKind
from canteen_core.domain.change_requests import ChangeAction, ChangeRequest, RequestStatus
from canteen_core.domain.clock import PARIS, Clock, ensure_aware
from canteen_core.domain.deadlines import format_instant, wall_clock
from canteen_core.domain.enrollments import Enrollment, LateChangeMode
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    RuleViolationError,
)
from canteen_core.domain.events import ReservationsChanged
from canteen_core.domain.families import Household
from canteen_core.domain.periodicity import Periodicity

__all__ = [
    "BulkResult",
    "OperationContext",
    "ReservationBook",
    "SkipReason",
    "SkippedDay",
    "apply_periodicity",
    "apply_periodicity_to_service_days",
    "book_day",
    "cancel_day",
    "days_between",
    "drop_closed_days",
    "fill_service_days",
    "month_days",
    "open_mask",
    "range_in_enrollment",
    "set_days",
    "tick_month",
    "tick_range",
    "tick_week",
    "untick_month",
    "untick_range",
    "untick_week",
    "week_days",
]


#: Distinct (origin, bits) decodings kept: families book the same weeks, periodicities repeat.
_DECODED = 1024


@lru_cache(maxsize=_DECODED)
def _decode(base: int, bits: int) -> tuple[date, ...]:
    """The days of ``bits`` (bit ``i`` = ordinal ``base + i``), in order; shared tuples of
    immutable dates, so equal masks decode once."""
    days = []
    fromordinal = date.fromordinal
    while bits:
        low = bits & -bits
        days.append(fromordinal(base + low.bit_length() - 1))
        bits ^= low
    return tuple(days)


def _range_mask(lo: int, hi: int) -> int:
    """Bits ``lo`` to ``hi`` inclusive (offsets below 0 are dropped)."""
    lo = max(lo, 0)
    if hi < lo:
        return 0
    return ((1 << (hi - lo + 1)) - 1) << lo


def open_mask(enrollment: Enrollment, start: date | None = None, end: date | None = None) -> int:
    """The enrollment's service days from ``start`` to ``end`` as a mask on its book (bit
    ``i`` = ``enrollment.start + i`` days): :meth:`Enrollment.open_days` as one int."""
    base = enrollment.start.toordinal()
    calendar = enrollment.calendar
    offset = calendar.first_day.toordinal() - base
    bits = calendar.open_mask
    bits = bits << offset if offset >= 0 else bits >> -offset
    lo = enrollment.start if start is None or start < enrollment.start else start
    hi = enrollment.end if end is None or end > enrollment.end else end
    return bits & _range_mask(lo.toordinal() - base, hi.toordinal() - base)


def _mask(origin: date, days: Iterable[date], path: str) -> int:
    base = origin.toordinal()
    mask = 0
    for day in days:
        offset = day.toordinal() - base
        if offset < 0:
            raise InvalidInputError(f"{day} is before the book's origin {origin}", path=path)
        mask |= 1 << offset
    return mask


def _non_negative_int(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInputError(f"must be an integer >= 0, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class ReservationBook:
    """All reservations of one enrollment, as a compact immutable value.

    ``bits`` has bit ``i`` set when ``origin + i days`` is booked. ``late_booked`` marks booked
    days that were booked after their deadline in ``surcharge`` mode, ``late_cancelled`` days
    cancelled after theirs (billing decides what they cost). ``version`` grows by one with every
    change, for optimistic concurrency in storage.
    """

    enrollment_id: str = attrs.field(validator=non_empty_str)
    origin: date = attrs.field(validator=a_date)
    bits: int = attrs.field(default=0, validator=_non_negative_int)
    late_booked: int = attrs.field(default=0, validator=_non_negative_int)
    late_cancelled: int = attrs.field(default=0, validator=_non_negative_int)
    version: int = attrs.field(default=0, validator=_non_negative_int)

    @classmethod
    def empty(cls, enrollment: Enrollment) -> ReservationBook:
        """No day booked, version 0."""
        return cls(enrollment_id=enrollment.id, origin=enrollment.start)

    @classmethod
    def from_days(
        cls,
        enrollment_id: str,
        origin: date,
        days: Iterable[date],
        *,
        version: int = 0,
        late_booked: Iterable[date] = (),
        late_cancelled: Iterable[date] = (),
    ) -> ReservationBook:
        """Rebuild a book from stored rows (``origin`` is the enrollment's first day)."""
        bits = _mask(origin, days, "days")
        late = _mask(origin, late_booked, "late_booked")
        if late & ~bits:
            raise InvalidInputError("a late-booked day must be booked", path="late_booked")
        cancelled = _mask(origin, late_cancelled, "late_cancelled")
        if cancelled & bits:
            raise InvalidInputError("a late-cancelled day cannot be booked", path="late_cancelled")
        return cls(
            enrollment_id=enrollment_id,
            origin=origin,
            bits=bits,
            late_booked=late,
            late_cancelled=cancelled,
            version=version,
        )

    def _offset(self, day: date) -> int:
        return day.toordinal() - self.origin.toordinal()

    def is_booked(self, day: date) -> bool:
        """Whether ``day`` is booked."""
        offset = self._offset(day)
        return offset >= 0 and (self.bits >> offset) & 1 == 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.is_booked(day)

    def __len__(self) -> int:
        return self.bits.bit_count()

    def _window(self, bits: int, start: date | None, end: date | None) -> int:
        if start is not None:
            lo = self._offset(start)
            if lo > 0:
                bits &= ~((1 << lo) - 1)
        if end is not None:
            hi = self._offset(end)
            if hi < 0:
                return 0
            bits &= (1 << (hi + 1)) - 1
        return bits

    def booked_days(self, start: date | None = None, end: date | None = None) -> tuple[date, ...]:
        """Booked days between ``start`` and ``end`` (inclusive; default all), in order."""
        return _decode(self.origin.toordinal(), self._window(self.bits, start, end))

    def count(self, start: date | None = None, end: date | None = None) -> int:
        """Number of booked days between ``start`` and ``end`` (inclusive)."""
        return self._window(self.bits, start, end).bit_count()

    def late_booked_days(self) -> tuple[date, ...]:
        """Booked days marked for a late-booking surcharge."""
        return _decode(self.origin.toordinal(), self.late_booked) if self.late_booked else ()

    def late_cancelled_days(self) -> tuple[date, ...]:
        """Days cancelled after their deadline in surcharge mode."""
        if not self.late_cancelled:
            return ()
        return _decode(self.origin.toordinal(), self.late_cancelled)

    def rows(self) -> tuple[tuple[str, date], ...]:
        """``(enrollment_id, day)`` for each booked day: the rows a SQL table stores."""
        return tuple((self.enrollment_id, day) for day in self.booked_days())

    def with_day(self, day: date, *, booked: bool, late: bool = False) -> ReservationBook:
        """A copy with ``day`` booked or not (version + 1 if it changed).

        Low-level: no calendar, deadline or authorization check (the operations below do those).
        """
        offset = self._offset(day)
        if offset < 0:
            raise InvalidInputError(f"{day} is before the enrollment starts", path="day")
        bit = 1 << offset
        return self._changed(
            book=bit if booked else 0, cancel=0 if booked else bit, late=bit if late else 0
        )

    def _changed(self, *, book: int, cancel: int, late: int) -> ReservationBook:
        """Apply masks: ``book`` days set, ``cancel`` days cleared, ``late`` of them marked."""
        book &= ~self.bits
        cancel &= self.bits
        if not (book or cancel):
            return self
        bits = (self.bits | book) & ~cancel
        # A day keeps a surcharge marker only for its latest change.
        late_booked = (self.late_booked & ~cancel & ~book) | (book & late)
        late_cancelled = (self.late_cancelled & ~book & ~cancel) | (cancel & late)
        # The constructor, not attrs.evolve: evolve reads every field back by name first,
        # and every bulk operation ends here once per book.
        return ReservationBook(
            enrollment_id=self.enrollment_id,
            origin=self.origin,
            bits=bits,
            late_booked=late_booked,
            late_cancelled=late_cancelled,
            version=self.version + 1,
        )


class SkipReason(enum.StrEnum):
    """Why a day of an operation was not changed."""

    OUTSIDE_ENROLLMENT = "outside_enrollment"
    CLOSED = "closed"
    ALREADY_PENDING = "already_pending"
    PAST = "past"
    LATE = "late"


@attrs.frozen(kw_only=True)
class SkippedDay:
    """A day left unchanged, with a French ``message`` for the family."""

    day: date
    reason: SkipReason
    message: str
    closure_kind: ClosureKind | None = None
    deadline: datetime | None = None


@attrs.frozen(kw_only=True)
class BulkResult:
    """What an operation did, day by day.

    ``booked`` / ``cancelled`` changed now; ``unchanged`` were already in the wanted state;
    ``skipped`` could not change (with reasons); ``pending`` are new change requests to store;
    ``withdrawn`` are pending requests the operation withdrew (to update in storage);
    ``surcharged`` are the changed days marked late; ``event`` is what to publish after commit
    (``None`` if nothing happened).
    """

    enrollment_id: str
    booked: tuple[date, ...] = ()
    cancelled: tuple[date, ...] = ()
    unchanged: tuple[date, ...] = ()
    skipped: tuple[SkippedDay, ...] = ()
    pending: tuple[ChangeRequest, ...] = ()
    withdrawn: tuple[ChangeRequest, ...] = ()
    surcharged: tuple[date, ...] = ()
    event: ReservationsChanged | None = None

    @property
    def changed(self) -> tuple[date, ...]:
        """Every day whose reservation changed, in order."""
        return tuple(sorted((*self.booked, *self.cancelled)))

    @property
    def skipped_days(self) -> tuple[date, ...]:
        """The skipped days, in order."""
        return tuple(item.day for item in self.skipped)

    def skipped_for(self, reason: SkipReason) -> tuple[SkippedDay, ...]:
        """The skipped days with ``reason``."""
        return tuple(item for item in self.skipped if item.reason is reason)


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


def _check_day(day: object, path: str = "days") -> date:
    return check_date(day, path)


def _check_wanted(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(
            f"wanted states must be True or False, got {value!r}", path="wanted"
        )
    return value


def _default_id() -> str:
    return uuid.uuid4().hex


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
        "new_id": context.get("new_id", _default_id),
    }


def set_days(
    book: ReservationBook,
    wanted: Mapping[date, bool] | Iterable[date],
    booked: bool | None = None,
    **context: Unpack[OperationContext],
) -> tuple[ReservationBook, BulkResult]:
    """The general operation: bring each day to its wanted state (see the module rules).

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
    new_id: Callable[[], str] = _default_id,
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
        event = ReservationsChanged(
            occurred_at=now,
            household_id=enrollment.household_id,
            child_id=enrollment.child_id,
            enrollment_id=enrollment.id,
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
    create a record per child and holiday).
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
    """Book one day. Raises instead of skipping (see the module docstring).

    A late booking in ``pending`` mode returns normally with the request in ``result.pending``.
    """
    return _single(book, day, True, context)


def cancel_day(
    book: ReservationBook,
    day: date,
    **context: Unpack[OperationContext],
) -> tuple[ReservationBook, BulkResult]:
    """Cancel one day. Raises instead of skipping (see the module docstring)."""
    return _single(book, day, False, context)


def _check_range(start: object, end: object) -> tuple[date, date]:
    """``start`` and ``end`` checked as :func:`days_between` checks them, for callers that
    need the bounds only (a bulk fill works on masks, not on the days)."""
    first = _check_day(start, "start")
    last = _check_day(end, "end")
    if last < first:
        raise InvalidInputError(f"range ends ({last}) before it starts ({first})", path="end")
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
    """
    if not isinstance(periodicity, Periodicity):
        raise InvalidInputError(
            f"expected a Periodicity, got {type(periodicity).__name__}", path="periodicity"
        )
    enrollment = context["enrollment"]
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
