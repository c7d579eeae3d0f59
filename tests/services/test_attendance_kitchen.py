"""Attendance, justified absences and kitchen headcounts through the facade."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from canteen_core.domain.attendance import Presence
from canteen_core.domain.calendar import Period
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.families import Diet
from canteen_core.services.attendance import JustificationRequest

from ._world import ADMIN, OTHER, PAYER, STAFF, SYSTEM, World

MON_11 = date(2023, 9, 11)
TUE_12 = date(2023, 9, 12)
THU_14 = date(2023, 9, 14)


def _book_week(world: World) -> None:
    for enrollment_id in ("e-alban", "e-zoe", "e-lea"):
        world.canteen.reservations.tick_week(ADMIN, enrollment_id, MON_11)


def test_roll_call_records_presence_and_unbooked_presence(
    any_world: World, clock: FixedClock
) -> None:
    canteen = any_world.canteen
    canteen.reservations.book(PAYER, "e-alban", MON_11)
    clock.set(datetime(2023, 9, 11, 12, 0, tzinfo=UTC))
    records = canteen.attendance.roll_call(
        STAFF, MON_11, {"e-alban": Presence.PRESENT, "e-zoe": "present", "e-lea": "absent"}
    )
    assert [r.booked for r in records] == [True, False, False]
    unbooked = canteen.attendance.unbooked_presences(STAFF, start=MON_11, end=MON_11)
    assert [r.child_id for r in unbooked] == ["zoe"]
    # Recording again replaces the day's records.
    canteen.attendance.record(STAFF, "e-zoe", MON_11, "absent")
    assert canteen.attendance.unbooked_presences(STAFF, start=MON_11, end=MON_11) == ()
    seen = canteen.attendance.records(PAYER, start=MON_11, end=MON_11, household_id="concerto")
    assert [r.child_id for r in seen] == ["alban", "zoe"]


def test_attendance_refuses_future_closed_days_and_families(world: World) -> None:
    canteen = world.canteen
    with pytest.raises(RuleViolationError):
        canteen.attendance.record(STAFF, "e-alban", MON_11, "present")  # future
    with pytest.raises(NotAuthorizedError):
        canteen.attendance.record(PAYER, "e-alban", date(2023, 9, 1), "present")
    with pytest.raises(InvalidInputError):
        canteen.attendance.roll_call(STAFF, MON_11, {"e-alban": "sleeping"})
    with pytest.raises(NotAuthorizedError):
        canteen.attendance.records(OTHER, start=MON_11, end=MON_11, household_id="concerto")
    assert canteen.attendance.records(ADMIN, start=MON_11, end=date(2024, 7, 5)) == ()


def test_justified_absences_over_a_range(world: World, clock: FixedClock) -> None:
    canteen = world.canteen
    _book_week(world)
    clock.set(datetime(2023, 9, 14, 14, 0, tzinfo=UTC))
    canteen.attendance.roll_call(STAFF, MON_11, {"e-alban": "absent"})
    canteen.attendance.roll_call(STAFF, TUE_12, {"e-alban": "absent"})
    justification, updated = canteen.attendance.justify(
        STAFF, "e-alban", MON_11, date(2023, 9, 15), document_ref="scan-42"
    )
    assert justification.document == "Certificat médical"
    assert [r.day for r in updated] == [MON_11, TUE_12]
    # An absence recorded later within the range is justified on recording.
    (record,) = canteen.attendance.roll_call(STAFF, THU_14, {"e-alban": "absent"})
    assert record.justification_id == justification.id
    lines = canteen.attendance.lines(PAYER, "e-alban", MON_11, date(2023, 9, 15))
    assert [(line.day, line.justified) for line in lines] == [
        (MON_11, True),
        (TUE_12, True),
        (THU_14, True),
        (date(2023, 9, 15), True),
    ]
    with pytest.raises(InvalidInputError):
        canteen.attendance.justify(STAFF, "e-alban", THU_14, MON_11)


def test_kitchen_headcount_by_diet_and_pai(any_world: World) -> None:
    canteen = any_world.canteen
    _book_week(any_world)
    count = canteen.kitchen.headcount(STAFF, "ronde", MON_11)
    assert count.meals[Diet.NO_PORK] == 1
    assert count.meals[Diet.VEGETARIAN] == 1
    assert count.meals[Diet.STANDARD] == 0
    assert count.pai_baskets == 1
    assert count.total == 3
    week = canteen.kitchen.headcounts(SYSTEM, "ronde", MON_11, date(2023, 9, 17))
    assert [c.total for c in week] == [3, 3, 0, 3, 3, 0, 0]
    assert canteen.kitchen.headcounts_by_site(STAFF, ["ronde"], TUE_12)["ronde"].total == 3
    # Several sites (one grouped query), duplicates once, a site without bookings at zero.
    order = canteen.kitchen.headcounts_by_site(STAFF, ["lac", "ronde", "lac"], TUE_12)
    assert list(order) == ["lac", "ronde"]
    assert (order["lac"].total, order["ronde"].total) == (0, 3)
    assert order["ronde"] == canteen.kitchen.headcount(STAFF, "ronde", TUE_12)
    assert canteen.kitchen.headcounts_by_site(STAFF, [], TUE_12) == {}
    with pytest.raises(NotAuthorizedError):
        canteen.kitchen.headcount(PAYER, "ronde", MON_11)
    with pytest.raises(InvalidInputError):
        canteen.kitchen.headcounts(STAFF, "ronde", MON_11, date(2023, 9, 1))


def test_kitchen_headcounts_of_sites_is_each_sites_range(any_world: World) -> None:
    canteen = any_world.canteen
    _book_week(any_world)
    sunday = date(2023, 9, 17)
    city = canteen.kitchen.headcounts_of_sites(SYSTEM, ["lac", "ronde", "lac"], MON_11, sunday)
    assert list(city) == ["lac", "ronde"]
    assert city["ronde"] == canteen.kitchen.headcounts(SYSTEM, "ronde", MON_11, sunday)
    assert [c.total for c in city["lac"]] == [0] * 7
    assert [c.day for c in city["lac"]] == [c.day for c in city["ronde"]]
    assert canteen.kitchen.headcounts_of_sites(STAFF, [], MON_11, sunday) == {}
    with pytest.raises(NotAuthorizedError):
        canteen.kitchen.headcounts_of_sites(PAYER, ["ronde"], MON_11, sunday)
    with pytest.raises(InvalidInputError, match="avant de commencer"):
        canteen.kitchen.headcounts_of_sites(STAFF, ["ronde"], sunday, MON_11)
    with pytest.raises(InvalidInputError, match="identifiant") as caught:
        canteen.kitchen.headcounts_of_sites(STAFF, ["ronde", ""], MON_11, sunday)
    assert caught.value.path == "site_ids[1]"
    with pytest.raises(InvalidInputError, match="jours au plus"):
        canteen.kitchen.headcounts_of_sites(STAFF, ["ronde"], MON_11, date(2025, 1, 1))


def test_site_closure_drops_bookings_and_counts(world: World) -> None:
    canteen = world.canteen
    _book_week(world)
    strike = Period(name="Grève", first_day=TUE_12, last_day=TUE_12)
    with pytest.raises(NotAuthorizedError):
        canteen.enrollments.close_site(STAFF, "ronde", strike)
    dropped = canteen.enrollments.close_site(ADMIN, "ronde", strike)
    assert dropped == {"e-alban": (TUE_12,), "e-lea": (TUE_12,), "e-zoe": (TUE_12,)}
    assert canteen.kitchen.headcount(STAFF, "ronde", TUE_12).total == 0
    with pytest.raises(RuleViolationError, match="Grève"):
        canteen.reservations.book(ADMIN, "e-alban", TUE_12)


def test_enrollment_end_cancels_later_bookings(world: World) -> None:
    canteen = world.canteen
    _book_week(world)
    changed = canteen.enrollments.end_on(ADMIN, "e-lea", TUE_12)
    assert changed.end == TUE_12
    assert canteen.reservations.booked_days(ADMIN, "e-lea") == (MON_11, TUE_12)
    assert [e.id for e in canteen.enrollments.of_household(OTHER, "voisins")] == ["e-lea"]
    assert [s.id for s in canteen.enrollments.sites(STAFF)] == ["ronde"]
    assert [s.id for s in canteen.enrollments.services(PAYER)] == ["rs"]


def test_roll_calls_record_several_days_in_one_transaction(
    any_world: World, clock: FixedClock
) -> None:
    canteen = any_world.canteen
    _book_week(any_world)
    clock.set(datetime(2023, 9, 14, 14, 0, tzinfo=UTC))
    recorded = canteen.attendance.roll_calls(
        STAFF,
        {
            MON_11: {"e-alban": "present", "e-zoe": Presence.ABSENT},
            TUE_12: {"e-alban": "absent", "e-lea": "present"},
        },
    )
    assert sorted(recorded) == [MON_11, TUE_12]
    assert [(r.child_id, r.presence) for r in recorded[MON_11]] == [
        ("alban", Presence.PRESENT),
        ("zoe", Presence.ABSENT),
    ]
    # Again, with one day changed: the day's records are replaced, not duplicated.
    canteen.attendance.roll_calls(
        STAFF, {MON_11: {"e-alban": "absent"}, THU_14: {"e-zoe": "present"}}
    )
    seen = canteen.attendance.records(ADMIN, start=MON_11, end=THU_14)
    assert [(r.day, r.child_id, r.presence.value) for r in seen] == [
        (MON_11, "alban", "absent"),
        (MON_11, "zoe", "absent"),
        (TUE_12, "alban", "absent"),
        (TUE_12, "lea", "present"),
        (THU_14, "zoe", "present"),
    ]


def test_roll_calls_are_all_or_nothing(world: World, clock: FixedClock) -> None:
    canteen = world.canteen
    clock.set(datetime(2023, 9, 14, 14, 0, tzinfo=UTC))
    for bad in ({}, {MON_11: {}}, {"2023-09-11": {"e-alban": "present"}}, [MON_11]):
        with pytest.raises(InvalidInputError):
            canteen.attendance.roll_calls(STAFF, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        canteen.attendance.roll_calls(
            STAFF, {MON_11: {"e-alban": "present"}, TUE_12: {"e-zoe": "sleeping"}}
        )
    with pytest.raises(NotAuthorizedError):
        canteen.attendance.roll_calls(PAYER, {MON_11: {"e-alban": "present"}})
    assert canteen.attendance.records(ADMIN, start=MON_11, end=TUE_12) == ()


def test_justify_many_records_a_batch_of_certificates(any_world: World, clock: FixedClock) -> None:
    canteen = any_world.canteen
    _book_week(any_world)
    clock.set(datetime(2023, 9, 14, 14, 0, tzinfo=UTC))
    canteen.attendance.roll_calls(
        STAFF,
        {
            MON_11: {"e-alban": "absent", "e-zoe": "absent", "e-lea": "present"},
            TUE_12: {"e-alban": "absent", "e-zoe": "absent"},
        },
    )
    results = canteen.attendance.justify_many(
        STAFF,
        [
            JustificationRequest(enrollment_id="e-alban", first_day=MON_11, last_day=MON_11),
            JustificationRequest(
                enrollment_id="e-zoe",
                first_day=MON_11,
                last_day=date(2023, 9, 15),
                document="Attestation",
                document_ref="scan-7",
            ),
            # Overlaps the first: only the absence not yet justified is updated.
            JustificationRequest(enrollment_id="e-alban", first_day=MON_11, last_day=TUE_12),
        ],
    )
    assert [(j.enrollment_id, [r.day for r in updated]) for j, updated in results] == [
        ("e-alban", [MON_11]),
        ("e-zoe", [MON_11, TUE_12]),
        ("e-alban", [TUE_12]),
    ]
    assert results[1][0].document == "Attestation"
    seen = canteen.attendance.records(ADMIN, start=MON_11, end=TUE_12)
    justified = {(r.child_id, r.day): r.justification_id for r in seen}
    assert justified[("alban", MON_11)] == results[0][0].id
    assert justified[("alban", TUE_12)] == results[2][0].id
    assert justified[("zoe", TUE_12)] == results[1][0].id
    assert justified[("lea", MON_11)] is None
    # The same as one by one: billing's view through the lines.
    lines = canteen.attendance.lines(PAYER, "e-zoe", MON_11, TUE_12)
    assert [line.justified for line in lines] == [True, True]
    assert canteen.attendance.justify_many(STAFF, []) == ()


def test_justify_many_refuses_bad_requests_and_stores_nothing(
    world: World, clock: FixedClock
) -> None:
    canteen = world.canteen
    clock.set(datetime(2023, 9, 14, 14, 0, tzinfo=UTC))
    canteen.attendance.roll_call(STAFF, MON_11, {"e-alban": "absent"})
    with pytest.raises(InvalidInputError, match="avant de commencer"):
        JustificationRequest(enrollment_id="e-alban", first_day=TUE_12, last_day=MON_11)
    with pytest.raises(InvalidInputError):
        JustificationRequest(enrollment_id="", first_day=MON_11, last_day=MON_11)
    with pytest.raises(InvalidInputError):
        canteen.attendance.justify_many(STAFF, ["e-alban"])  # type: ignore[list-item]
    good = JustificationRequest(enrollment_id="e-alban", first_day=MON_11, last_day=MON_11)
    with pytest.raises(NotFoundError):
        canteen.attendance.justify_many(
            STAFF,
            [good, JustificationRequest(enrollment_id="nope", first_day=MON_11, last_day=MON_11)],
        )
    with pytest.raises(NotAuthorizedError):
        canteen.attendance.justify_many(PAYER, [good])
    (record,) = canteen.attendance.records(ADMIN, start=MON_11, end=MON_11)
    assert record.justification_id is None
