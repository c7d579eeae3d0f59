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

The rooms of this package:

* :mod:`~canteen_core.domain.reservations.book`: the :class:`ReservationBook` value (booked days
  as a bitset) and the results of operations;
* :mod:`~canteen_core.domain.reservations.days`: day ranges of the grids (weeks, months, ranges
  clamped to an enrollment);
* :mod:`~canteen_core.domain.reservations.rules`: the rules every operation applies: the context
  checks and :func:`set_days`;
* :mod:`~canteen_core.domain.reservations.operations`: the named operations (one day, week,
  month, range, periodicity, bulk fills).

Every name below is importable from ``canteen_core.domain.reservations`` itself.
"""

from canteen_core.domain.reservations.book import (
    BulkResult,
    ReservationBook,
    SkippedDay,
    SkipReason,
    open_mask,
)
from canteen_core.domain.reservations.days import (
    days_between,
    month_days,
    range_in_enrollment,
    week_days,
)
from canteen_core.domain.reservations.operations import (
    apply_periodicity,
    apply_periodicity_to_service_days,
    book_day,
    cancel_day,
    drop_closed_days,
    fill_service_days,
    tick_month,
    tick_range,
    tick_week,
    untick_month,
    untick_range,
    untick_week,
)
from canteen_core.domain.reservations.rules import OperationContext, set_days

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
