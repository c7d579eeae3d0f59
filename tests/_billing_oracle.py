"""The per-day billing path, kept as the oracle of the per-period one.

canteen bills periods only (:func:`canteen_core.services.billing.period_facts`,
:func:`canteen_core.domain.invoicing.run_postpaid_periods`). The simpler path it replaced, one
:class:`~canteen_core.domain.charging.DayFacts` per day, decided and priced day by day, lives
here: the property tests compare both on random months.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, attendance_lines
from canteen_core.domain.charging import DayFacts
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.reservations import ReservationBook
from canteen_core.services.billing import tariff_category_of

__all__ = ["day_facts"]


def day_facts(
    enrollment: Enrollment,
    book: ReservationBook,
    start: date,
    end: date,
    *,
    records: Iterable[AttendanceRecord] = (),
    justifications: Iterable[AbsenceJustification] = (),
) -> list[DayFacts]:
    """The billing facts of one enrollment from ``start`` to ``end`` (both inclusive).

    Service days with a booking, an attendance record or a late cancellation give one fact
    each; booked days the service turned out to be closed on (strike, works) give a fact
    ``closed_by_organiser`` (never charged, but traced).
    """
    records = list(records)
    justifications = list(justifications)
    category = tariff_category_of(enrollment)
    lo, hi = max(start, enrollment.start), min(end, enrollment.end)
    if hi < lo:
        return []
    facts: list[DayFacts] = []
    for line in attendance_lines(
        enrollment, book, lo, hi, records=records, justifications=justifications
    ):
        present = None if line.presence is None else line.presence.value == "present"
        justified = line.booked and line.justified and present is not True
        facts.append(
            DayFacts(
                child_id=enrollment.child_id,
                household_id=enrollment.household_id,
                enrollment_id=enrollment.id,
                service_id=enrollment.service.id,
                category=category,
                day=line.day,
                booked=line.booked,
                present=False if justified else present,
                absence_justified=justified,
                late_booking=line.booked and line.late_booked,
                late_cancellation=(not line.booked) and line.late_cancelled,
            )
        )
    for day in book.booked_days(lo, hi):
        if enrollment.closure(day) is not None:
            facts.append(
                DayFacts(
                    child_id=enrollment.child_id,
                    household_id=enrollment.household_id,
                    enrollment_id=enrollment.id,
                    service_id=enrollment.service.id,
                    category=category,
                    day=day,
                    booked=True,
                    closed_by_organiser=True,
                )
            )
    return facts
