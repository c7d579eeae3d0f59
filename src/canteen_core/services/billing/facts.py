"""Billing facts: what happened to each enrollment over a period (reservations, attendance,
justified absences, closures) as one :class:`~canteen_core.domain.charging.PeriodFacts`, read
in bulk for a batch of households.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta
from typing import Any

from canteen_core.domain._unchecked import unchecked
from canteen_core.domain.attendance import (
    AbsenceJustification,
    AttendanceRecord,
    Presence,
    attendance_lines,
)
from canteen_core.domain.charging import PeriodFacts
from canteen_core.domain.enrollments import CATEGORY_ALIASES, Enrollment
from canteen_core.domain.errors import (
    ConfigurationError,
)
from canteen_core.domain.families import Household
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import (
    TariffCategory,
)


def tariff_category_of(
    enrollment: Enrollment, household: Household | None = None
) -> TariffCategory:
    """The grid category of an enrollment (``"resident"`` -> ``resident_child``...).

    Full category names (``"non_resident_child"``) are accepted too; anything else is a
    :class:`ConfigurationError` naming the enrollment. With the enrollment's ``household``, a
    household that does not live in the commune (``Household.resident`` false) turns the
    resident child category into the non-resident one; the other categories (adult, PAI
    basket, occasional meal, non-resident) are the enrollment's own (docs/rules/tariffs.md).
    """
    value = enrollment.tariff_category
    category = CATEGORY_ALIASES.get(value) or _CATEGORIES.get(value)
    if category is None:
        category = _parsed_category(enrollment)
    if (
        category is TariffCategory.RESIDENT_CHILD
        and household is not None
        and not household.resident
    ):
        return TariffCategory.NON_RESIDENT_CHILD
    return category


#: Full category names to members: a billing run reads one per enrollment (a dict lookup
#: instead of the enum's constructor).
_CATEGORIES: dict[str, TariffCategory] = {category.value: category for category in TariffCategory}


def _parsed_category(enrollment: Enrollment) -> TariffCategory:
    value = enrollment.tariff_category
    try:
        return TariffCategory(value)
    except ValueError:
        valid = sorted({*CATEGORY_ALIASES, *(c.value for c in TariffCategory)})
        raise ConfigurationError(
            f"l'inscription {enrollment.id} a la catégorie tarifaire inconnue « {value} »"
            f" (possibles : {', '.join(valid)})",
            path="tariff_category",
        ) from None


def _justified_run_before(
    enrollment: Enrollment,
    book: ReservationBook,
    start: date,
    lookback_days: int,
    records: Iterable[AttendanceRecord],
    justifications: Iterable[AbsenceJustification],
) -> int:
    """Length of the justified-absence run still open when the period starts.

    Walks back from the day before ``start`` with the charging module's run rules: the run
    continues across closed and unbooked days and ends at a booked day that is not a
    justified absence, or at a meal taken without booking.
    """
    first = max(enrollment.start, start - timedelta(days=lookback_days))
    last = start - timedelta(days=1)
    if last < first:
        return 0
    lines = attendance_lines(
        enrollment, book, first, last, records=records, justifications=justifications
    )
    run = 0
    for line in reversed(lines):
        if line.booked and line.justified:
            run += 1
        elif line.booked or line.unbooked_presence:
            break
    return run


def period_facts(
    enrollment: Enrollment,
    book: ReservationBook,
    start: date,
    end: date,
    *,
    records: Iterable[AttendanceRecord] = (),
    justifications: Iterable[AbsenceJustification] = (),
    open_days: frozenset[date] | None = None,
    household: Household | None = None,
) -> PeriodFacts:
    """The billing facts of one enrollment from ``start`` to ``end`` (both inclusive), as one
    :class:`PeriodFacts`: booked days, days closed by the organiser, presences and absences
    recorded, justified absences, late bookings and late cancellations.

    ``PeriodFacts.day_facts()`` gives the same facts day by day (the tests compare them with
    the per-day oracle). ``household``: the enrollment's household, whose residence chooses
    the category (:func:`tariff_category_of`). ``open_days``: the enrollment calendar's
    service days from ``max(start, enrollment.start)`` to ``min(end, enrollment.end)``, when
    the caller has them (enrollments of a batch share a few calendars); computed otherwise.
    """
    category = tariff_category_of(enrollment, household)
    lo, hi = max(start, enrollment.start), min(end, enrollment.end)
    identity: dict[str, Any] = {
        "child_id": enrollment.child_id,
        "household_id": enrollment.household_id,
        "enrollment_id": enrollment.id,
        "service_id": enrollment.service.id,
        "category": category,
    }
    if hi < lo:
        return PeriodFacts(**identity)
    if open_days is None:
        open_days = frozenset(enrollment.open_days(lo, hi))
    window = book.booked_days(lo, hi)
    # Booked service days in one set operation; a booked day the service does not run on
    # (a closure decided after the booking) is rare: those are looked at one by one.
    booked: frozenset[date] = open_days.intersection(window)
    closed: set[date] = set()
    if len(booked) != len(window):
        for day in window:
            if day not in open_days and enrollment.closure(day) is not None:
                closed.add(day)
    present: set[date] = set()
    absent: set[date] = set()
    justified: set[date] = set()
    by_day = {r.day: r for r in records if r.enrollment_id == enrollment.id}  # last one wins
    for day, record in by_day.items():
        if day not in open_days:
            continue
        if record.presence is Presence.PRESENT:
            present.add(day)
        else:
            absent.add(day)
            if record.justified and day in booked:
                justified.add(day)
    covering = [j for j in justifications if j.enrollment_id == enrollment.id]
    if covering:
        for day in booked - present - justified:
            if any(j.covers(day) for j in covering):
                justified.add(day)
    late_booked = booked.intersection(book.late_booked_days()) if book.late_booked else ()
    late_cancelled = (
        {d for d in book.late_cancelled_days() if d in open_days and d not in booked}
        if book.late_cancelled
        else ()
    )
    # Consistent by construction, from validated values (an enrollment's ids, the book's and
    # the records' dates): present and absent come from one record per day, justified days
    # are booked and not present, late bookings booked, late cancellations and closures
    # neither booked nor open days. Built without PeriodFacts' checks (compared by tests).
    return _unchecked_period_facts(
        **identity,
        booked=booked if booked else _NO_DAYS,
        closed=frozenset(closed) if closed else _NO_DAYS,
        present=frozenset(present) if present else _NO_DAYS,
        absent=frozenset(absent) if absent else _NO_DAYS,
        justified=frozenset(justified) if justified else _NO_DAYS,
        late_booked=frozenset(late_booked) if late_booked else _NO_DAYS,
        late_cancelled=frozenset(late_cancelled) if late_cancelled else _NO_DAYS,
        unit=None,
        quantities=(),
        tariff_service_id=None,
        late_pickups=_NO_DAYS,
    )


_unchecked_period_facts = unchecked(PeriodFacts)


def stays_of(records: Iterable[AttendanceRecord]) -> dict[date, tuple[time, time]]:
    """The arrival and departure recorded per day (present children whose times were noted)."""
    return {
        record.day: (record.arrival, record.departure)
        for record in records
        if record.arrival is not None and record.departure is not None
    }


_NO_DAYS: frozenset[date] = frozenset()
