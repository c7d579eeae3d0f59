"""Attendance (pointage): what actually happened on a service day, the input of billing.

Staff record each child :data:`~Presence.PRESENT` or :data:`~Presence.ABSENT` on a day
(:func:`record_attendance` for one, :func:`record_roll_call` for a whole list). Each
:class:`AttendanceRecord` keeps whether the child was booked that day, so an unbooked presence
is visible as such (``unbooked_presence``), which billing surcharges. An
:class:`AbsenceJustification` (a medical certificate...) covers a range of days of one
enrollment; :func:`justify_absences` records it and marks the absences it covers, and later
absences in its range are justified on recording. :func:`attendance_lines` gives billing, per
service day of a range, the booked flag, the presence and the justification.

Records are plain attrs values with string ids, one per (enrollment, day): recording again
replaces the record (same id), so storage can upsert.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from typing import NotRequired, TypedDict, Unpack

import attrs

from canteen_core.domain._access import ensure_allowed
from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._ids import random_id
from canteen_core.domain._validators import a_date, aware_datetime, enum_member, non_empty_str
from canteen_core.domain.activities import minutes_between
from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import Clock, ensure_aware, paris_today
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import ReservationBook

__all__ = [
    "AbsenceJustification",
    "AttendanceLine",
    "AttendanceRecord",
    "Presence",
    "Recording",
    "attendance_lines",
    "justify_absences",
    "record_attendance",
    "record_roll_call",
]


class Presence(enum.StrEnum):
    """What staff saw."""

    PRESENT = "present"
    ABSENT = "absent"


def _presence(value: Presence | str) -> Presence:
    return enum_member(Presence, value, path="presence", what="la présence")


@attrs.frozen(kw_only=True)
class AbsenceJustification:
    """A document justifying absences of one enrollment from ``first_day`` to ``last_day``."""

    id: str = attrs.field(validator=non_empty_str)
    enrollment_id: str = attrs.field(validator=non_empty_str)
    child_id: str = attrs.field(validator=non_empty_str)
    first_day: date = attrs.field(validator=a_date)
    last_day: date = attrs.field(validator=a_date)
    document: str = attrs.field(default="Certificat médical", validator=non_empty_str)
    document_ref: str | None = None  # id of the stored scan, if any
    recorded_by: str = attrs.field(validator=non_empty_str)
    recorded_at: datetime = attrs.field(validator=aware_datetime)

    def __attrs_post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise InvalidInputError(
                ends_before_start_fr("le justificatif", self.first_day, self.last_day),
                path="last_day",
            )

    def covers(self, day: date) -> bool:
        """Whether ``day`` is within the justified range."""
        return self.first_day <= day <= self.last_day


class Recording(TypedDict):
    """What staff noted with a presence (the fields of :class:`AttendanceRecord` that
    :meth:`AttendanceRecord.of` does not take from the enrollment and the day)."""

    booked: bool
    recorded_by: str
    recorded_at: datetime
    justification_id: NotRequired[str | None]
    arrival: NotRequired[time | None]
    departure: NotRequired[time | None]


@attrs.frozen(kw_only=True)
class AttendanceRecord:
    """What happened to one child on one day; ``booked`` is the reservation at recording."""

    id: str = attrs.field(validator=non_empty_str)
    enrollment_id: str = attrs.field(validator=non_empty_str)
    child_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    site_id: str = attrs.field(validator=non_empty_str)
    day: date = attrs.field(validator=a_date)
    presence: Presence = attrs.field(converter=_presence)
    booked: bool
    recorded_by: str = attrs.field(validator=non_empty_str)
    recorded_at: datetime = attrs.field(validator=aware_datetime)
    justification_id: str | None = None
    #: Arrival and departure (Europe/Paris wall clock) where the service's unit needs them
    #: (evening care by the half-hour); ``None`` otherwise.
    arrival: time | None = None
    departure: time | None = None

    def __attrs_post_init__(self) -> None:
        if self.justification_id is not None and self.presence is Presence.PRESENT:
            raise InvalidInputError("only an absence can be justified", path="justification_id")
        if (self.arrival is None) != (self.departure is None):
            raise InvalidInputError("l'arrivée et le départ se notent ensemble", path="departure")
        if self.arrival is not None and self.departure is not None:
            if self.presence is not Presence.PRESENT:
                raise InvalidInputError("un enfant absent n'a ni arrivée ni départ", path="arrival")
            minutes_between(self.arrival, self.departure)

    @classmethod
    def of(
        cls,
        enrollment: Enrollment,
        day: date,
        presence: Presence,
        **recording: Unpack[Recording],
    ) -> AttendanceRecord:
        """The record of ``enrollment`` on ``day``; its id is derived from both (one record
        per enrollment and day, so storage can upsert)."""
        return cls(
            id=_record_id(enrollment.id, day),
            enrollment_id=enrollment.id,
            child_id=enrollment.child_id,
            household_id=enrollment.household_id,
            site_id=enrollment.site.id,
            day=day,
            presence=presence,
            **recording,
        )

    @property
    def unbooked_presence(self) -> bool:
        """Present without a reservation (billed with a surcharge)."""
        return self.presence is Presence.PRESENT and not self.booked

    @property
    def justified(self) -> bool:
        """An absence covered by a justification."""
        return self.justification_id is not None


def _record_id(enrollment_id: str, day: date) -> str:
    # One record per enrollment and day: a deterministic id lets storage upsert.
    return f"{enrollment_id}/{day.isoformat()}"


def record_attendance(
    enrollment: Enrollment,
    book: ReservationBook,
    day: date,
    presence: Presence | str,
    *,
    actor: Actor,
    clock: Clock,
    justifications: Iterable[AbsenceJustification] = (),
    stay: tuple[time, time] | None = None,
) -> AttendanceRecord:
    """Staff record ``presence`` for the enrollment's child on ``day``.

    ``stay``: the child's arrival and departure, for a present child (what a service billed
    by the hour or half-hour counts). Refused (nothing recorded): a non-staff actor
    (:class:`NotAuthorizedError`), a day outside the enrollment, times for an absence or a
    departure before arrival (:class:`InvalidInputError`), a closed or future day
    (:class:`RuleViolationError`). An absence within a justification's range is justified.
    """
    ensure_allowed(actor, Action.RECORD_ATTENDANCE)
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInputError(f"expected a date, got {day!r}", path="day")
    presence = _presence(presence)
    if book.enrollment_id != enrollment.id:
        raise InvalidInputError(
            f"book of enrollment {book.enrollment_id!r} used with {enrollment.id!r}", path="book"
        )
    if not enrollment.covers(day):
        raise InvalidInputError(
            f"{day:%d/%m/%Y} is outside enrollment {enrollment.id!r}", path="day"
        )
    closure = enrollment.closure(day)
    if closure is not None:
        raise RuleViolationError(f"no service on {day:%d/%m/%Y}: {closure.reason}")
    now = ensure_aware(clock.now(), "clock.now()")
    if day > paris_today(clock):
        raise RuleViolationError(f"cannot record attendance for a future day ({day:%d/%m/%Y})")
    justification = None
    if presence is Presence.ABSENT:
        for item in justifications:
            if item.enrollment_id == enrollment.id and item.covers(day):
                justification = item.id
                break
    arrival, departure = _stay(stay)
    return AttendanceRecord.of(
        enrollment,
        day,
        presence,
        booked=book.is_booked(day),
        recorded_by=actor.user_id,
        recorded_at=now,
        justification_id=justification,
        arrival=arrival,
        departure=departure,
    )


def _stay(stay: object) -> tuple[time | None, time | None]:
    if stay is None:
        return None, None
    if not isinstance(stay, tuple) or len(stay) != 2:
        raise InvalidInputError("arrivée et départ attendus (deux heures)", path="stay")
    arrival, departure = stay
    minutes_between(arrival, departure)
    return arrival, departure


def record_roll_call(
    day: date,
    presences: Mapping[str, Presence | str],
    *,
    enrollments: Mapping[str, Enrollment],
    books: Mapping[str, ReservationBook],
    actor: Actor,
    clock: Clock,
    justifications: Iterable[AbsenceJustification] = (),
    stays: Mapping[str, tuple[time, time]] | None = None,
) -> tuple[AttendanceRecord, ...]:
    """Record a whole roll call: ``presences`` maps enrollment ids to present / absent;
    ``stays`` maps enrollment ids to the arrival and departure of present children.

    All or nothing: any bad entry (unknown enrollment: :class:`NotFoundError`, or an error of
    :func:`record_attendance`) raises before any record is returned. A missing book means
    nothing was booked.
    """
    justified = tuple(justifications)
    records: list[AttendanceRecord] = []
    for enrollment_id, presence in presences.items():
        enrollment = enrollments.get(enrollment_id)
        if enrollment is None:
            raise NotFoundError(f"unknown enrollment {enrollment_id!r}")
        book = books.get(enrollment_id) or ReservationBook.empty(enrollment)
        records.append(
            record_attendance(
                enrollment,
                book,
                day,
                presence,
                actor=actor,
                clock=clock,
                justifications=justified,
                stay=(stays or {}).get(enrollment_id),
            )
        )
    return tuple(records)


def justify_absences(
    enrollment: Enrollment,
    first_day: date,
    last_day: date,
    *,
    document: str = "Certificat médical",
    document_ref: str | None = None,
    records: Iterable[AttendanceRecord] = (),
    actor: Actor,
    clock: Clock,
    new_id: Callable[[], str] | None = None,
) -> tuple[AbsenceJustification, tuple[AttendanceRecord, ...]]:
    """Record a justification over a range and justify the absences it covers.

    Returns the justification and the updated records (only absences of this enrollment in the
    range that were not yet justified). The range may extend into the future (a doctor's
    certificate for the coming week).
    """
    ensure_allowed(actor, Action.RECORD_ATTENDANCE)
    now = ensure_aware(clock.now(), "clock.now()")
    justification = AbsenceJustification(
        id=new_id() if new_id is not None else random_id(),
        enrollment_id=enrollment.id,
        child_id=enrollment.child_id,
        first_day=first_day,
        last_day=last_day,
        document=document,
        document_ref=document_ref,
        recorded_by=actor.user_id,
        recorded_at=now,
    )
    updated = tuple(
        attrs.evolve(record, justification_id=justification.id)
        for record in records
        if record.enrollment_id == enrollment.id
        and record.presence is Presence.ABSENT
        and record.justification_id is None
        and justification.covers(record.day)
    )
    return justification, updated


@attrs.frozen(kw_only=True)
class AttendanceLine:
    """One service day of an enrollment as billing sees it.

    ``presence`` is ``None`` when nothing was recorded; ``justified`` is true for an absence
    covered by a justification (recorded or not).
    """

    day: date
    booked: bool
    presence: Presence | None
    justified: bool
    late_booked: bool = False
    late_cancelled: bool = False

    @property
    def unbooked_presence(self) -> bool:
        """Present without a reservation."""
        return self.presence is Presence.PRESENT and not self.booked


def attendance_lines(
    enrollment: Enrollment,
    book: ReservationBook,
    start: date,
    end: date,
    *,
    records: Iterable[AttendanceRecord] = (),
    justifications: Iterable[AbsenceJustification] = (),
) -> tuple[AttendanceLine, ...]:
    """Per service day of the enrollment from ``start`` to ``end``: booked, presence, justified.

    Days with neither a booking nor a record are left out (nothing to bill).
    """
    if end < start:
        raise InvalidInputError(ends_before_start_fr("la période", start, end), path="end")
    by_day = {r.day: r for r in records if r.enrollment_id == enrollment.id}
    covering = [j for j in justifications if j.enrollment_id == enrollment.id]
    late_booked = set(book.late_booked_days())
    late_cancelled = set(book.late_cancelled_days())
    lines: list[AttendanceLine] = []
    for day in enrollment.open_days(start, end):
        record = by_day.get(day)
        booked = book.is_booked(day)
        if record is None and not booked and day not in late_cancelled:
            continue
        presence = record.presence if record is not None else None
        justified = presence is not Presence.PRESENT and (
            (record is not None and record.justified) or any(j.covers(day) for j in covering)
        )
        lines.append(
            AttendanceLine(
                day=day,
                booked=booked,
                presence=presence,
                justified=justified,
                late_booked=day in late_booked,
                late_cancelled=day in late_cancelled,
            )
        )
    return tuple(lines)
