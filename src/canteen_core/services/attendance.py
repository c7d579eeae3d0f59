"""Attendance (pointage) and justified absences: what billing reads.

``canteen.attendance`` on the facade. Staff record roll calls (one transaction per call,
however many children), justify absences over a range with a document, and list unbooked
presences. Families may read their own children's attendance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, time, timedelta

import attrs

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._validators import check_date, items_of
from canteen_core.domain.actors import Actor
from canteen_core.domain.attendance import (
    AbsenceJustification,
    AttendanceLine,
    AttendanceRecord,
    Presence,
    attendance_lines,
    justify_absences,
    record_roll_call,
)
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import Range
from canteen_core.services.billing.billed_days import ensure_days_not_billed
from canteen_core.services.reservations import load_enrollments
from canteen_core.services.runner import ServiceBase, Transaction
from canteen_core.services.school_years import ensure_years_open

__all__ = ["AttendanceService", "JustificationRequest", "justify_in"]


def _range(start: object, end: object) -> tuple[date, date]:
    first, last = check_date(start, "start"), check_date(end, "end")
    if last < first:
        raise InvalidInputError(ends_before_start_fr("la période", first, last), path="end")
    return first, last


def _covering(tx: Transaction, first: date, last: date) -> list[AbsenceJustification]:
    """Justifications overlapping ``first``..``last`` (one query)."""
    return list(tx.uow.absences.list(first_day=Range(high=last), last_day=Range(low=first)))


def _text(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{attribute.name} : texte non vide attendu", path=attribute.name)


def _optional_text(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidInputError(f"{attribute.name} : un texte est attendu", path=attribute.name)


def _day(_: object, attribute: attrs.Attribute[date], value: object) -> None:
    check_date(value, attribute.name)


@attrs.frozen(kw_only=True)
class JustificationRequest:
    """One justification of :meth:`AttendanceService.justify_many`: an enrollment's absences
    from ``first_day`` to ``last_day`` (both inclusive) covered by a document."""

    enrollment_id: str = attrs.field(validator=_text)
    first_day: date = attrs.field(validator=_day)
    last_day: date = attrs.field(validator=_day)
    document: str = attrs.field(default="Certificat médical", validator=_text)
    document_ref: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        _range(self.first_day, self.last_day)


def _requests(items: object) -> list[JustificationRequest]:
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise InvalidInputError("expected justification requests", path="requests")
    return list(items_of(JustificationRequest, items, "requests"))


def _days_of(records: Iterable[AttendanceRecord]) -> dict[str, list[date]]:
    """Household id -> days of ``records`` (for ``[billing] billed_days = "refuse"``)."""
    days: dict[str, list[date]] = defaultdict(list)
    for record in records:
        days[record.household_id].append(record.day)
    return days


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def justify_in(
    tx: Transaction, items: list[JustificationRequest]
) -> list[tuple[AbsenceJustification, tuple[AttendanceRecord, ...]]]:
    """Record ``items`` inside the running use case ``tx`` (which authorizes each household):
    what :meth:`AttendanceService.justify_many` does, for a use case that justifies absences
    as a consequence of another change (an accepted medical certificate)."""
    ids = list(dict.fromkeys(item.enrollment_id for item in items))
    first = min(item.first_day for item in items)
    last = max(item.last_day for item in items)
    enrollments = load_enrollments(tx, ids)
    ensure_years_open(tx, enrollments.values())
    tx.authorize_many(e.household_id for e in enrollments.values())
    current: dict[str, AttendanceRecord] = {}
    by_enrollment: defaultdict[str, list[str]] = defaultdict(list)
    for record in tx.uow.attendance.list(enrollment_id=tuple(ids), day=Range(first, last)):
        current[record.id] = record
        by_enrollment[record.enrollment_id].append(record.id)
    clock = FixedClock(tx.now)
    results: list[tuple[AbsenceJustification, tuple[AttendanceRecord, ...]]] = []
    changed: dict[str, AttendanceRecord] = {}
    assert tx.actor is not None
    for item in items:
        justification, updated = justify_absences(
            enrollments[item.enrollment_id],
            item.first_day,
            item.last_day,
            document=item.document,
            document_ref=item.document_ref,
            records=[current[key] for key in by_enrollment[item.enrollment_id]],
            actor=tx.actor,
            clock=clock,
            new_id=tx.new_id,
        )
        for record in updated:
            current[record.id] = changed[record.id] = record
        results.append((justification, updated))
    spans: dict[str, list[date]] = defaultdict(list)
    for item in items:
        household_id = enrollments[item.enrollment_id].household_id
        spans[household_id].extend(_span(item.first_day, item.last_day))
    ensure_days_not_billed(tx.uow, tx.context.deployment, spans)
    tx.uow.absences.add_many(justification for justification, _ in results)
    for record in changed.values():
        tx.uow.attendance.save(record)
    return results


class AttendanceService(ServiceBase):
    """Roll calls, justified absences and what billing reads."""

    def record(
        self,
        actor: Actor,
        enrollment_id: str,
        day: date,
        presence: Presence | str,
        *,
        arrival: time | None = None,
        departure: time | None = None,
    ) -> AttendanceRecord:
        """Record one child present or absent on a (past or current) service day, with the
        child's ``arrival`` and ``departure`` (both or neither) for a present child."""
        stays = None
        if arrival is not None or departure is not None:
            if arrival is None or departure is None:
                raise InvalidInputError(
                    "l'arrivée et le départ se notent ensemble", path="departure"
                )
            stays = {enrollment_id: (arrival, departure)}
        return self.roll_call(actor, day, {enrollment_id: presence}, stays=stays)[0]

    def roll_call(
        self,
        actor: Actor,
        day: date,
        presences: Mapping[str, Presence | str],
        *,
        stays: Mapping[str, tuple[time, time]] | None = None,
    ) -> tuple[AttendanceRecord, ...]:
        """Record a whole roll call (enrollment id -> present/absent) in one transaction;
        ``stays`` gives present children's arrival and departure (enrollment id -> times).

        All or nothing: a bad entry refuses the whole call. Recording a day again replaces
        its records. An absence within a recorded justification is justified.
        """
        if stays is not None and (
            not isinstance(stays, Mapping) or not set(stays) <= set(presences)
        ):
            raise InvalidInputError(
                "les heures d'arrivée et de départ sont celles d'enfants pointés", path="stays"
            )
        day = check_date(day, "day")
        if not isinstance(presences, Mapping) or not presences:
            raise InvalidInputError(
                "indiquez la présence d'au moins une inscription", path="presences"
            )
        ids = [str(key) for key in presences]
        with self._ctx.use_case(actor, Action.RECORD_ATTENDANCE) as tx:
            enrollments = load_enrollments(tx, ids)
            ensure_years_open(tx, enrollments.values())
            tx.authorize_many(e.household_id for e in enrollments.values())
            books = tx.uow.reservations.load_many(ids)
            records = record_roll_call(
                day,
                dict(presences),
                enrollments=enrollments,
                books=books,
                actor=actor,
                clock=FixedClock(tx.now),
                justifications=_covering(tx, day, day),
                stays=stays,
            )
            ensure_days_not_billed(tx.uow, self._ctx.deployment, _days_of(records))
            existing: set[str] = set()
            for site_id in {record.site_id for record in records}:
                existing.update(r.id for r in tx.uow.attendance.list(site_id=site_id, day=day))
            fresh = [record for record in records if record.id not in existing]
            for record in records:
                if record.id in existing:
                    tx.uow.attendance.save(record)
            tx.uow.attendance.add_many(fresh)
        return records

    def roll_calls(
        self, actor: Actor, calls: Mapping[date, Mapping[str, Presence | str]]
    ) -> dict[date, tuple[AttendanceRecord, ...]]:
        """Record several days' roll calls (day -> enrollment id -> presence) in one
        transaction, with one query per kind of document for all of them (a month's
        attendance entered at once, an import from a tablet).

        Same rules as :meth:`roll_call`, all or nothing over every day.
        """
        if not isinstance(calls, Mapping) or not calls:
            raise InvalidInputError(
                "indiquez au moins un jour et ses présences par inscription", path="calls"
            )
        days: dict[date, dict[str, Presence | str]] = {}
        for day, presences in calls.items():
            checked = check_date(day, "calls")
            if not isinstance(presences, Mapping) or not presences:
                raise InvalidInputError(
                    f"indiquez la présence d'au moins une inscription le {checked:%d/%m/%Y}",
                    path=f"calls[{checked}]",
                )
            days[checked] = {str(key): value for key, value in presences.items()}
        ids = list(dict.fromkeys(key for presences in days.values() for key in presences))
        first, last = min(days), max(days)
        with self._ctx.use_case(actor, Action.RECORD_ATTENDANCE) as tx:
            enrollments = load_enrollments(tx, ids)
            ensure_years_open(tx, enrollments.values())
            tx.authorize_many(e.household_id for e in enrollments.values())
            books = tx.uow.reservations.load_many(ids)
            covering = _covering(tx, first, last)
            clock = FixedClock(tx.now)
            recorded = {
                day: record_roll_call(
                    day,
                    presences,
                    enrollments=enrollments,
                    books=books,
                    actor=actor,
                    clock=clock,
                    justifications=covering,
                )
                for day, presences in sorted(days.items())
            }
            ensure_days_not_billed(
                tx.uow,
                self._ctx.deployment,
                _days_of(record for records in recorded.values() for record in records),
            )
            existing = {
                r.id
                for r in tx.uow.attendance.list(enrollment_id=tuple(ids), day=Range(first, last))
            }
            fresh: list[AttendanceRecord] = []
            for records in recorded.values():
                for record in records:
                    if record.id in existing:
                        tx.uow.attendance.save(record)
                    else:
                        fresh.append(record)
            tx.uow.attendance.add_many(fresh)
        return recorded

    def justify_many(
        self, actor: Actor, requests: Iterable[JustificationRequest]
    ) -> tuple[tuple[AbsenceJustification, tuple[AttendanceRecord, ...]], ...]:
        """Record many justifications in one transaction (a batch of certificates).

        Same rules as :meth:`justify` for each request, in order (a later request sees the
        records an earlier one justified); all or nothing. The enrollments, their records and
        the stored justifications are read with one query each, whatever the count.
        """
        items = _requests(requests)
        if not items:
            return ()
        with self._ctx.use_case(actor, Action.RECORD_ATTENDANCE) as tx:
            results = justify_in(tx, items)
        return tuple(results)

    def justify(
        self,
        actor: Actor,
        enrollment_id: str,
        first_day: date,
        last_day: date,
        *,
        document: str = "Certificat médical",
        document_ref: str | None = None,
    ) -> tuple[AbsenceJustification, tuple[AttendanceRecord, ...]]:
        """Record a justification (a medical certificate) over a range; the absences it
        covers are justified (billing then does not charge them). Returns the justification
        and the records it changed."""
        first, last = _range(first_day, last_day)
        with self._ctx.use_case(actor, Action.RECORD_ATTENDANCE) as tx:
            enrollment = load_enrollments(tx, [enrollment_id])[enrollment_id]
            ensure_years_open(tx, [enrollment])
            tx.authorize(enrollment.household_id)
            records = tx.uow.attendance.list(enrollment_id=enrollment_id, day=Range(first, last))
            justification, updated = justify_absences(
                enrollment,
                first,
                last,
                document=document,
                document_ref=document_ref,
                records=records,
                actor=actor,
                clock=FixedClock(tx.now),
                new_id=tx.new_id,
            )
            ensure_days_not_billed(
                tx.uow,
                self._ctx.deployment,
                {enrollment.household_id: _span(first, last)},
            )
            tx.uow.absences.add(justification)
            for record in updated:
                tx.uow.attendance.save(record)
        return justification, updated

    def records(
        self,
        actor: Actor,
        *,
        start: date,
        end: date,
        site_id: str | None = None,
        household_id: str | None = None,
        enrollment_id: str | None = None,
    ) -> tuple[AttendanceRecord, ...]:
        """Attendance records of a period, by site, household or enrollment (families: their
        own household only)."""
        first, last = _range(start, end)
        where: dict[str, object] = {"day": Range(first, last)}
        for key, value in (
            ("site_id", site_id),
            ("household_id", household_id),
            ("enrollment_id", enrollment_id),
        ):
            if value is not None:
                where[key] = value
        with self._viewing(actor, Action.VIEW_RESERVATIONS, household_id) as tx:
            found = [r for r in tx.uow.attendance.list(**where) if tx.may(r.household_id)]
            tx.filtered()
        return tuple(sorted(found, key=lambda r: (r.day, r.enrollment_id)))

    def unbooked_presences(
        self, actor: Actor, *, start: date, end: date, site_id: str | None = None
    ) -> tuple[AttendanceRecord, ...]:
        """Children present without a reservation (billed with a surcharge)."""
        return tuple(
            record
            for record in self.records(actor, start=start, end=end, site_id=site_id)
            if record.unbooked_presence
        )

    def lines(
        self, actor: Actor, enrollment_id: str, start: date, end: date
    ) -> tuple[AttendanceLine, ...]:
        """Per service day of a period: booked, presence, justified (what billing reads)."""
        first, last = _range(start, end)
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            enrollment = load_enrollments(tx, [enrollment_id])[enrollment_id]
            tx.authorize(enrollment.household_id)
            book = tx.uow.reservations.load(enrollment_id)
            records = tx.uow.attendance.list(enrollment_id=enrollment_id, day=Range(first, last))
            justifications = [
                j for j in _covering(tx, first, last) if j.enrollment_id == enrollment_id
            ]
            return attendance_lines(
                enrollment,
                book,
                first,
                last,
                records=records,
                justifications=justifications,
            )
