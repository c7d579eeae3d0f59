"""Attendance: presences, absences, justifications, unbooked presences."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from _calendars import ARIELLE, HOUSEHOLD, enrollment
from canteen_core.domain.actors import Actor
from canteen_core.domain.attendance import (
    Presence,
    attendance_lines,
    justify_absences,
    record_attendance,
    record_roll_call,
)
from canteen_core.domain.clock import PARIS, FixedClock
from canteen_core.domain.errors import (
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.reservations import ReservationBook

STAFF = Actor.staff("agent-1")
CLOCK = FixedClock(datetime(2023, 9, 22, 14, tzinfo=PARIS))
E = enrollment()
STAFF_NOW = {"actor": STAFF, "clock": CLOCK}
BOOK = ReservationBook.from_days(
    E.id, E.start, [date(2023, 9, 11), date(2023, 9, 12), date(2023, 9, 14), date(2023, 9, 15)]
)


def test_presence_absence_and_unbooked_presence() -> None:
    present = record_attendance(E, BOOK, date(2023, 9, 11), "present", actor=STAFF, clock=CLOCK)
    assert present.presence is Presence.PRESENT
    assert present.booked
    assert not present.unbooked_presence
    assert present.id == f"{E.id}/2023-09-11"
    assert present.site_id == "ronde"
    extra = record_attendance(
        E, BOOK, date(2023, 9, 18), Presence.PRESENT, actor=STAFF, clock=CLOCK
    )
    assert extra.unbooked_presence
    absent = record_attendance(E, BOOK, date(2023, 9, 12), "absent", actor=STAFF, clock=CLOCK)
    assert absent.presence is Presence.ABSENT
    assert not absent.justified


def test_justified_absences_over_a_range() -> None:
    absent = record_attendance(E, BOOK, date(2023, 9, 12), "absent", actor=STAFF, clock=CLOCK)
    present = record_attendance(E, BOOK, date(2023, 9, 11), "present", actor=STAFF, clock=CLOCK)
    justification, updated = justify_absences(
        E,
        date(2023, 9, 12),
        date(2023, 9, 15),
        document_ref="doc-42",
        records=[absent, present],
        actor=STAFF,
        clock=CLOCK,
        new_id=lambda: "j-1",
    )
    assert justification.document == "Certificat médical"
    assert [r.day for r in updated] == [date(2023, 9, 12)]
    assert updated[0].justification_id == "j-1"
    assert updated[0].justified
    # A later absence inside the range is justified on recording.
    later = record_attendance(
        E,
        BOOK,
        date(2023, 9, 14),
        "absent",
        actor=STAFF,
        clock=CLOCK,
        justifications=[justification],
    )
    assert later.justification_id == "j-1"
    lines = attendance_lines(
        E,
        BOOK,
        date(2023, 9, 11),
        date(2023, 9, 22),
        records=[updated[0], present, later],
        justifications=[justification],
    )
    assert [(line.day, line.presence, line.justified) for line in lines] == [
        (date(2023, 9, 11), Presence.PRESENT, False),
        (date(2023, 9, 12), Presence.ABSENT, True),
        (date(2023, 9, 14), Presence.ABSENT, True),
        (date(2023, 9, 15), None, True),
    ]
    with pytest.raises(InvalidInputError):
        justify_absences(E, date(2023, 9, 15), date(2023, 9, 12), actor=STAFF, clock=CLOCK)


def test_roll_call_is_all_or_nothing() -> None:
    other = enrollment(child_id=ARIELLE.id)
    records = record_roll_call(
        date(2023, 9, 11),
        {E.id: "present", other.id: "absent"},
        enrollments={E.id: E, other.id: other},
        books={E.id: BOOK},
        actor=STAFF,
        clock=CLOCK,
    )
    assert [(r.child_id, r.presence, r.booked) for r in records] == [
        ("c-alban", Presence.PRESENT, True),
        ("c-arielle", Presence.ABSENT, False),
    ]
    with pytest.raises(NotFoundError):
        record_roll_call(
            date(2023, 9, 11),
            {E.id: "present", "e-ghost": "absent"},
            enrollments={E.id: E},
            books={},
            actor=STAFF,
            clock=CLOCK,
        )


def test_bad_attendance_input() -> None:
    with pytest.raises(NotAuthorizedError):
        record_attendance(
            E,
            BOOK,
            date(2023, 9, 11),
            "present",
            actor=Actor.guardian("g", HOUSEHOLD.id),
            clock=CLOCK,
        )
    with pytest.raises(RuleViolationError, match="Mercredi"):
        record_attendance(E, BOOK, date(2023, 9, 13), "present", actor=STAFF, clock=CLOCK)
    with pytest.raises(RuleViolationError, match="future"):
        record_attendance(E, BOOK, date(2023, 9, 25), "present", actor=STAFF, clock=CLOCK)
    with pytest.raises(InvalidInputError):
        record_attendance(E, BOOK, date(2023, 9, 1), "present", actor=STAFF, clock=CLOCK)
    with pytest.raises(InvalidInputError):
        record_attendance(E, BOOK, date(2023, 9, 11), "late", actor=STAFF, clock=CLOCK)
    with pytest.raises(InvalidInputError):
        record_attendance(
            E,
            ReservationBook.empty(enrollment(child_id=ARIELLE.id)),
            date(2023, 9, 11),
            "present",
            actor=STAFF,
            clock=CLOCK,
        )
