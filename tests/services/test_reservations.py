"""Reservations through the facade: booking, ticking, periodicities, grids, change requests.

The clock stands on Friday 1 September 2023, 10:00 in Paris; the deadline is "Thursday 10:00 of
the previous week", so the rentrée week (4-8 September) is late (pending requests) and the week
of 11 September is on time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

from canteen_core.domain.change_requests import ChangeAction, RequestStatus
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import ChangeRequestDecided, ReservationsChanged
from canteen_core.domain.periodicity import Periodicity, Recurrence
from canteen_core.domain.reservations import SkipReason
from canteen_core.services import Canteen

from ._world import ADMIN, CO_REP, OTHER, PAYER, STAFF, World
from .conftest import EventRecorder

MON_11 = date(2023, 9, 11)
TUE_5 = date(2023, 9, 5)
WED_13 = date(2023, 9, 13)


def test_family_books_and_cancels_on_time(any_world: World, recorder: EventRecorder) -> None:
    canteen = any_world.canteen
    result = canteen.reservations.book(PAYER, "e-alban", MON_11)
    assert result.booked == (MON_11,)
    assert canteen.reservations.booked_days(PAYER, "e-alban") == (MON_11,)
    canteen.reservations.cancel(CO_REP, "e-alban", MON_11)
    assert canteen.reservations.booked_days(STAFF, "e-alban") == ()
    changes = recorder.of(ReservationsChanged)
    assert [(e.booked, e.cancelled) for e in changes] == [((MON_11,), ()), ((), (MON_11,))]
    assert changes[1].actor_id == "papa"


def test_closed_day_is_refused_and_nothing_changes(world: World, recorder: EventRecorder) -> None:
    canteen = world.canteen
    with pytest.raises(RuleViolationError, match="Mercredi"):
        canteen.reservations.book(PAYER, "e-alban", WED_13)
    with pytest.raises(InvalidInputError):
        canteen.reservations.book(PAYER, "e-alban", date(2024, 8, 1))  # outside the enrollment
    with pytest.raises(InvalidInputError):
        canteen.reservations.book(PAYER, "e-alban", "2023-09-11")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        canteen.reservations.book(PAYER, "unknown", MON_11)
    assert canteen.reservations.book_of(PAYER, "e-alban").version == 0
    assert recorder.of(ReservationsChanged) == []


def test_guardian_of_another_household_cannot_book(world: World) -> None:
    canteen = world.canteen
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.book(OTHER, "e-alban", MON_11)
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.month_grid(OTHER, "e-alban", 2023, 9)
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.tick_month_many(PAYER, ["e-alban", "e-lea"], 2023, 9)
    assert canteen.reservations.booked_days(ADMIN, "e-alban") == ()
    assert canteen.reservations.booked_days(ADMIN, "e-lea") == ()


def test_tick_and_untick_month_week_and_range(world: World) -> None:
    canteen = world.canteen
    result = canteen.reservations.tick_month(PAYER, "e-zoe", 2023, 9)
    # The rentrée week is late (pending); 11-29 September: 12 open days (no Wednesdays).
    assert len(result.booked) == 12
    assert {r.day for r in result.pending} == {date(2023, 9, d) for d in (4, 5, 7, 8)}
    assert result.skipped_for(SkipReason.CLOSED)
    canteen.reservations.untick_week(PAYER, "e-zoe", MON_11)
    assert canteen.reservations.book_of(PAYER, "e-zoe").count(MON_11, date(2023, 9, 17)) == 0
    canteen.reservations.tick_week(PAYER, "e-zoe", MON_11)
    canteen.reservations.untick_range(PAYER, "e-zoe", date(2023, 9, 18), date(2023, 9, 30))
    canteen.reservations.tick_range(PAYER, "e-zoe", date(2023, 9, 21), date(2023, 9, 22))
    assert canteen.reservations.booked_days(PAYER, "e-zoe") == (
        date(2023, 9, 11),
        date(2023, 9, 12),
        date(2023, 9, 14),
        date(2023, 9, 15),
        date(2023, 9, 21),
        date(2023, 9, 22),
    )
    canteen.reservations.untick_month(PAYER, "e-zoe", 2023, 9)
    assert canteen.reservations.booked_days(PAYER, "e-zoe") == ()


def test_periodicity_applies_once_and_again_changes_nothing(any_world: World) -> None:
    canteen = any_world.canteen
    pattern = Periodicity(
        weekdays="lun,jeu", start=MON_11, end=date(2023, 10, 20), recurrence=Recurrence.EVERY_WEEK
    )
    first = canteen.reservations.apply_periodicity(PAYER, "e-alban", pattern)
    assert len(first.booked) == 12
    again = canteen.reservations.apply_periodicity(PAYER, "e-alban", pattern)
    assert again.changed == ()
    assert again.event is None


def test_rentree_bulk_periodicity_in_one_transaction(any_world: World) -> None:
    canteen = any_world.canteen
    pattern = Periodicity(weekdays="mon,tue,thu,fri", start=MON_11, end=date(2024, 7, 5))
    results = canteen.reservations.apply_periodicity_many(
        ADMIN, ["e-alban", "e-zoe", "e-lea"], pattern
    )
    assert set(results) == {"e-alban", "e-zoe", "e-lea"}
    counts = {key: len(value.booked) for key, value in results.items()}
    assert len(set(counts.values())) == 1
    assert counts["e-alban"] > 130
    book = canteen.reservations.book_of(STAFF, "e-lea")
    assert book.count() == counts["e-lea"]
    assert not book.is_booked(date(2023, 11, 1))  # Toussaint holidays


def test_bulk_call_is_all_or_nothing(world: World) -> None:
    canteen = world.canteen
    with pytest.raises(NotFoundError):
        canteen.reservations.tick_month_many(ADMIN, ["e-alban", "missing"], 2023, 10)
    assert canteen.reservations.booked_days(ADMIN, "e-alban") == ()
    with pytest.raises(InvalidInputError):
        canteen.reservations.tick_month_many(ADMIN, "e-alban", 2023, 10)


def test_bulk_range_fills_the_service_days_between_the_bounds(world: World) -> None:
    canteen = world.canteen
    start, end = date(2023, 9, 4), date(2023, 9, 29)
    results = canteen.reservations.tick_range_many(PAYER, ["e-alban", "e-zoe"], start, end)
    for enrollment in (world.alban, world.zoe):
        result = results[enrollment.id]
        # The rentrée week is late (pending requests); closed days are not listed.
        asked = sorted((*result.booked, *(request.day for request in result.pending)))
        assert tuple(asked) == enrollment.open_days(start, end)
        assert result.skipped == ()
    booked = canteen.reservations.booked_days(PAYER, "e-alban")
    assert booked == results["e-alban"].booked
    cancelled = canteen.reservations.untick_range_many(PAYER, ["e-alban"], start, start)
    assert cancelled["e-alban"].changed == ()  # the 4th is pending, not booked
    month = canteen.reservations.untick_month_many(ADMIN, ["e-alban", "e-zoe"], 2023, 9)
    assert month["e-alban"].cancelled == booked
    assert canteen.reservations.booked_days(PAYER, "e-zoe") == ()


BadFill = Callable[[Canteen], object]


@pytest.mark.parametrize(
    ("call", "path", "message"),
    [
        (
            lambda c: c.reservations.tick_range_many(
                PAYER, ["e-alban"], date(2023, 9, 29), date(2023, 9, 4)
            ),
            "end",
            "avant de commencer",
        ),
        (
            lambda c: c.reservations.untick_range_many(
                PAYER, ["e-alban"], datetime(2023, 9, 4, 8), date(2023, 9, 29)
            ),
            "start",
            "une date",
        ),
        (
            lambda c: c.reservations.tick_range_many(
                PAYER, ["e-alban"], date(2023, 9, 4), "2023-09-29"
            ),
            "end",
            "une date",
        ),
        (
            # Arguments are checked in order where they enter the facade: the ids first.
            lambda c: c.reservations.tick_range_many(
                PAYER, "e-alban", date(2023, 9, 29), date(2023, 9, 4)
            ),
            "enrollment_ids",
            "une collection",
        ),
        (
            lambda c: c.reservations.tick_month_many(PAYER, ["e-alban"], 2023, 13),
            "month",
            "le mois",
        ),
        (
            lambda c: c.reservations.untick_month_many(PAYER, ["e-alban"], 2023, 0),
            "month",
            "le mois",
        ),
    ],
)
def test_bulk_fill_refuses_a_bad_range_and_stores_nothing(
    world: World, recorder: EventRecorder, call: BadFill, path: str, message: str
) -> None:
    canteen = world.canteen
    with pytest.raises(InvalidInputError, match=message) as raised:
        call(canteen)
    assert raised.value.path == path
    assert canteen.reservations.book_of(PAYER, "e-alban").version == 0
    assert canteen.reservations.pending_requests(PAYER, household_id="concerto") == ()
    assert recorder.events == []


def test_family_submits_a_month_for_both_children(world: World) -> None:
    canteen = world.canteen
    results = canteen.reservations.set_days_many(
        PAYER,
        {
            "e-alban": {MON_11: True, date(2023, 9, 12): True},
            "e-zoe": {MON_11: True, WED_13: True},
        },
    )
    assert results["e-alban"].booked == (MON_11, date(2023, 9, 12))
    assert results["e-zoe"].booked == (MON_11,)
    assert results["e-zoe"].skipped_days == (WED_13,)
    single = canteen.reservations.set_days(PAYER, "e-alban", {MON_11: False})
    assert single.cancelled == (MON_11,)


def test_grids_show_booked_pending_and_closed_days(world: World) -> None:
    canteen = world.canteen
    canteen.reservations.book(PAYER, "e-alban", MON_11)
    canteen.reservations.book(PAYER, "e-alban", TUE_5)  # late: pending
    grid = canteen.reservations.month_grid(PAYER, "e-alban", 2023, 9)
    assert grid.title == "Septembre 2023"
    assert grid.columns == ("LUNDI", "MARDI", "JEUDI", "VENDREDI")
    assert grid.cell(MON_11).booked
    assert grid.cell(TUE_5).pending is ChangeAction.BOOK
    week = canteen.reservations.week_grid(STAFF, "e-alban", MON_11)
    assert [cell.day for cell in week.cells()] == [
        MON_11,
        date(2023, 9, 12),
        date(2023, 9, 14),
        date(2023, 9, 15),
    ]
    with pytest.raises(InvalidInputError):
        canteen.reservations.month_grid(PAYER, "e-alban", 2023, 13)


def test_a_recap_reads_the_enrollment_and_its_months_grids_in_one_use_case(
    world: World,
) -> None:
    canteen = world.canteen
    canteen.reservations.book(PAYER, "e-alban", MON_11)
    canteen.reservations.book(PAYER, "e-alban", TUE_5)  # late: pending
    october = date(2023, 10, 2)
    opened: list[bool] = []
    storage = canteen.context.storage
    real = storage.unit_of_work

    def counted(*args: Any, **kwargs: Any) -> Any:
        opened.append(True)
        return real(*args, **kwargs)

    storage.unit_of_work = counted  # type: ignore[method-assign]
    try:
        enrollment, grids = canteen.reservations.recap_grids(
            PAYER, "e-alban", [october, MON_11, TUE_5]
        )
    finally:
        del storage.unit_of_work
    assert len(opened) == 1
    assert enrollment == canteen.enrollments.get(PAYER, "e-alban")
    assert list(grids) == [(2023, 9), (2023, 10)]
    assert grids[(2023, 9)] == canteen.reservations.month_grid(PAYER, "e-alban", 2023, 9)
    assert grids[(2023, 10)] == canteen.reservations.month_grid(PAYER, "e-alban", 2023, 10)
    assert grids[(2023, 9)].cell(TUE_5).pending is ChangeAction.BOOK
    assert canteen.reservations.recap_grids(PAYER, "e-alban", [])[1] == {}
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.recap_grids(OTHER, "e-alban", [MON_11])


def test_late_change_becomes_a_request_staff_approve(
    any_world: World, recorder: EventRecorder
) -> None:
    canteen = any_world.canteen
    result = canteen.reservations.book(PAYER, "e-alban", TUE_5)
    assert result.booked == ()
    (request,) = result.pending
    assert canteen.reservations.pending_requests(PAYER, household_id="concerto") == (request,)
    assert canteen.reservations.pending_requests(STAFF) == (request,)
    assert canteen.reservations.pending_requests(STAFF, site_id="ronde") == (request,)
    assert canteen.reservations.pending_requests(OTHER, household_id="voisins") == ()
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.pending_requests(OTHER, household_id="concerto")
    with pytest.raises(ConflictError):
        canteen.reservations.book(PAYER, "e-alban", TUE_5)  # already pending

    decided = canteen.reservations.approve(STAFF, request.id)
    assert decided.status is RequestStatus.APPROVED
    assert canteen.reservations.booked_days(PAYER, "e-alban") == (TUE_5,)
    assert canteen.reservations.pending_requests(STAFF) == ()
    (event,) = recorder.of(ChangeRequestDecided)
    assert event.approved
    assert event.decided_by == "agent"
    messages = canteen.accounts.outbox(ADMIN)
    assert sorted(r.message.to_address for r in messages) == [
        "maman@concerto.fr",
        "papa@concerto.fr",
    ]
    assert all(r.message.kind == "change-request-decided" for r in messages)
    with pytest.raises(ConflictError):
        canteen.reservations.reject(STAFF, request.id, reason="trop tard")


def test_rejection_needs_a_reason_and_the_family_reads_it(world: World) -> None:
    canteen = world.canteen
    (request,) = canteen.reservations.cancel(PAYER, "e-alban", TUE_5).pending or (None,)
    assert request is None  # nothing booked: nothing to cancel, no request
    (request,) = canteen.reservations.book(PAYER, "e-alban", TUE_5).pending
    with pytest.raises(InvalidInputError):
        canteen.reservations.reject(STAFF, request.id, reason="  ")
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.reject(PAYER, request.id, reason="moi-même")
    assert canteen.reservations.pending_requests(STAFF) == (request,)
    assert canteen.accounts.outbox(ADMIN) == []
    rejected = canteen.reservations.reject(STAFF, request.id, reason="Délai dépassé")
    (seen,) = canteen.reservations.requests(PAYER, household_id="concerto")
    assert seen == rejected
    assert seen.status_fr == "Refusée : Délai dépassé"
    assert canteen.reservations.booked_days(PAYER, "e-alban") == ()


def test_family_withdraws_its_request(world: World) -> None:
    canteen = world.canteen
    (request,) = canteen.reservations.book(PAYER, "e-alban", TUE_5).pending
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.withdraw(OTHER, request.id)
    withdrawn = canteen.reservations.withdraw(CO_REP, request.id)
    assert withdrawn.status is RequestStatus.WITHDRAWN
    assert canteen.reservations.pending_requests(STAFF) == ()


def test_empty_bulk_calls_do_nothing_but_check_the_role(world: World) -> None:
    canteen = world.canteen
    assert canteen.reservations.set_days_many(PAYER, {}) == {}
    assert canteen.reservations.tick_month_many(ADMIN, [], 2023, 9) == {}
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.tick_month_many(STAFF, [], 2023, 9)


def test_range_to_the_far_future_is_bounded_by_the_enrollment(any_world: World) -> None:
    """#22 item 5: ``tick_range(..., 2023-09-01, 9999-12-31)`` ran a core for minutes."""
    import time

    canteen = any_world.canteen
    started = time.perf_counter()
    far = canteen.reservations.tick_range(ADMIN, "e-alban", date(2023, 9, 1), date(2200, 12, 31))
    assert time.perf_counter() - started < 2.0
    enrollment = any_world.alban
    assert far.booked == enrollment.open_days()
    assert far.skipped_for(SkipReason.OUTSIDE_ENROLLMENT) == ()
    cleared = canteen.reservations.untick_range(
        ADMIN, "e-alban", date(1900, 1, 1), date(2200, 1, 1)
    )
    assert cleared.cancelled == enrollment.open_days()


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda r: r.tick_range(PAYER, "e-alban", date(2023, 9, 1), date(9999, 12, 31)), "end"),
        (lambda r: r.untick_range(PAYER, "e-alban", date(1, 1, 1), date(2023, 9, 30)), "start"),
        (lambda r: r.tick_range(PAYER, "e-alban", "2023-09-01", date(2023, 9, 30)), "start"),
        (lambda r: r.tick_month(PAYER, "e-alban", 0, 1), "year"),
        (lambda r: r.tick_month(PAYER, "e-alban", 10000, 1), "year"),
        (lambda r: r.untick_month(PAYER, "e-alban", 2**31, 1), "year"),
        (lambda r: r.month_grid(PAYER, "e-alban", 2**31, 1), "year"),
        (lambda r: r.tick_month_many(PAYER, ["e-alban"], 10000, 12), "year"),
        (lambda r: r.week_grid(PAYER, "e-alban", date(9999, 12, 31)), "week"),
        (lambda r: r.tick_week(PAYER, "e-alban", date(1, 1, 1)), "week"),
        (lambda r: r.book(PAYER, "e-alban", datetime(2023, 9, 11, 12, 0)), "day"),
    ],
)
def test_extreme_or_wrong_dates_are_refused_in_french(
    any_world: World, call: Callable[..., object], path: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(any_world.canteen.reservations)
    assert caught.value.path == path
    assert any(word in caught.value.message for word in ("date", "année"))
    assert any_world.canteen.reservations.book_of(ADMIN, "e-alban").version == 0


def test_expected_version_is_checked_in_the_write_transaction(any_world: World) -> None:
    """``expected_version`` (an HTTP If-Match) is compared with the book loaded by the write
    itself: a stale one writes nothing, a current one writes."""
    reservations = any_world.canteen.reservations
    reservations.book(PAYER, "e-alban", MON_11)
    version = reservations.book_of(PAYER, "e-alban").version
    mondays = Periodicity(weekdays=(0,), start=MON_11, end=date(2023, 9, 22))
    stale_writes: list[Callable[[], object]] = [
        lambda: reservations.set_days(
            PAYER, "e-alban", {MON_11: False}, expected_version=version - 1
        ),
        lambda: reservations.tick_range(
            PAYER, "e-alban", MON_11, date(2023, 9, 15), expected_version=version - 1
        ),
        lambda: reservations.untick_range(
            PAYER, "e-alban", MON_11, date(2023, 9, 15), expected_version=version + 1
        ),
        lambda: reservations.apply_periodicity(
            PAYER, "e-alban", mondays, expected_version=version + 1
        ),
    ]
    for write in stale_writes:
        with pytest.raises(ConflictError, match="les réservations ont changé"):
            write()
    assert reservations.book_of(PAYER, "e-alban").version == version
    assert reservations.booked_days(PAYER, "e-alban") == (MON_11,)
    with pytest.raises(InvalidInputError):
        reservations.set_days(PAYER, "e-alban", {MON_11: False}, expected_version=-1)
    done = reservations.set_days(PAYER, "e-alban", {MON_11: False}, expected_version=version)
    assert done.cancelled == (MON_11,)


@pytest.mark.parametrize(
    ("weekdays", "named"),
    [("mer", "le mercredi"), ("lun,mer,sam", "le mercredi ni le samedi")],
)
def test_a_periodicity_on_days_the_service_never_runs_is_refused_and_cancels_nothing(
    any_world: World, recorder: EventRecorder, weekdays: str, named: str
) -> None:
    """Walkthrough: "Wednesday" for a lunch that never runs on Wednesday used to cancel every
    booked day of the range (the other open days) and book nothing. It is refused, in French,
    naming the weekdays, whatever the form (one enrollment or many) and nothing changes."""
    reservations = any_world.canteen.reservations
    reservations.tick_range(PAYER, "e-alban", MON_11, date(2023, 9, 22))
    booked = reservations.booked_days(PAYER, "e-alban")
    version = reservations.book_of(PAYER, "e-alban").version
    events = len(recorder.events)
    pattern = Periodicity(weekdays=weekdays, start=MON_11, end=date(2023, 10, 20))
    calls: list[Callable[[], object]] = [
        lambda: reservations.apply_periodicity(PAYER, "e-alban", pattern),
        lambda: reservations.apply_periodicity(PAYER, "e-alban", pattern, replace=False),
        lambda: reservations.apply_periodicity(ADMIN, "e-alban", pattern),
        lambda: reservations.apply_periodicity_many(ADMIN, ["e-alban", "e-zoe"], pattern),
        lambda: reservations.apply_periodicities(ADMIN, {"e-alban": pattern}),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert caught.value.path == "weekdays"
        assert f"n'a pas lieu {named}" in caught.value.message
        assert "lundi, mardi, jeudi et vendredi" in caught.value.message
    assert reservations.booked_days(PAYER, "e-alban") == booked
    assert reservations.book_of(PAYER, "e-alban").version == version
    assert reservations.booked_days(ADMIN, "e-zoe") == ()
    assert len(recorder.events) == events


def test_a_reservation_change_that_changes_nothing_leaves_no_audit_entry(
    any_world: World, recorder: EventRecorder
) -> None:
    """Walkthrough: submitting days already in the asked state wrote an audit entry
    ("Réservation de repas") for nothing. No change: no entry, no new version, no event; the
    result is the same as before (every day ``unchanged`` or skipped with its reason)."""
    canteen = any_world.canteen
    reservations = canteen.reservations
    done = reservations.set_days(PAYER, "e-alban", {MON_11: True, date(2023, 9, 12): False})
    assert done.booked == (MON_11,)
    entries = canteen.audit.entries(ADMIN)
    version = reservations.book_of(PAYER, "e-alban").version
    events = len(recorder.events)
    again = reservations.set_days(PAYER, "e-alban", {MON_11: True, date(2023, 9, 12): False})
    assert again.changed == ()
    assert again.unchanged == (MON_11, date(2023, 9, 12))
    assert again.book_version == version
    closed = reservations.set_days(PAYER, "e-alban", {WED_13: True}, expected_version=version)
    assert [skip.reason for skip in closed.skipped] == [SkipReason.CLOSED]
    assert reservations.book(PAYER, "e-alban", MON_11).unchanged == (MON_11,)
    assert reservations.tick_range(PAYER, "e-alban", MON_11, MON_11).unchanged == (MON_11,)
    mondays = Periodicity(weekdays="lun", start=MON_11, end=MON_11)
    assert reservations.apply_periodicity(PAYER, "e-alban", mondays).changed == ()
    assert reservations.set_days_many(PAYER, {}) == {}
    assert canteen.audit.entries(ADMIN) == entries
    assert reservations.book_of(PAYER, "e-alban").version == version
    assert len(recorder.events) == events
    # A real change still leaves its entry.
    reservations.cancel(PAYER, "e-alban", MON_11)
    (last,) = canteen.audit.entries(ADMIN)[len(entries) :]
    assert last.action == "cancel_meals"
    assert "concerto" in last.household_ids
