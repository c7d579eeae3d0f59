"""The reservation state of one enrollment: :class:`ReservationBook` (booked days as a
bitset) and the result of an operation on it (:class:`BulkResult`, :class:`SkippedDay`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache

import attrs

from canteen_core.domain._validators import a_date, non_empty_str, non_negative_int
from canteen_core.domain.calendar import ClosureKind
from canteen_core.domain.change_requests import ChangeRequest
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import (
    InvalidInputError,
)
from canteen_core.domain.events import ReservationsChanged

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
    bits: int = attrs.field(default=0, validator=non_negative_int)
    late_booked: int = attrs.field(default=0, validator=non_negative_int)
    late_cancelled: int = attrs.field(default=0, validator=non_negative_int)
    version: int = attrs.field(default=0, validator=non_negative_int)

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
    FULL = "full"  # no place left: the child joined the day's waiting list


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
    (``None`` if nothing happened); ``book_version`` is the book's version once the operation
    is stored (set by the reservation use cases, ``None`` before; not compared).
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
    book_version: int | None = attrs.field(default=None, eq=False)

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
