"""The reservation engine: operations, cut-offs, late changes, change requests, bad input."""

from __future__ import annotations

import itertools
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _calendars import (
    ALBAN,
    CALENDAR,
    HOUSEHOLD,
    LAST_DAY,
    OTHER,
    OTHER_CHILD,
    PREVIOUS_DAY_11,
    RENTREE,
    SERVICE,
    SITE,
    THURSDAY_10,
    enrollment,
)
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.calendar import WEEKDAY_NAMES_FR, ClosureKind, Period
from canteen_core.domain.change_requests import (
    ChangeAction,
    ChangeRequest,
    RequestStatus,
    approve,
    reject,
    withdraw,
)
from canteen_core.domain.clock import PARIS, FixedClock
from canteen_core.domain.deadlines import FixedDelay, wall_clock
from canteen_core.domain.enrollments import Enrollment, HouseholdChildren, LateChangeMode, enroll
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.periodicity import Periodicity
from canteen_core.domain.reservations import (
    ReservationBook,
    SkipReason,
    apply_periodicity,
    apply_periodicity_to_service_days,
    book_day,
    cancel_day,
    drop_closed_days,
    fill_service_days,
    set_days,
    tick_month,
    tick_range,
    tick_week,
    untick_range,
    untick_week,
)
from canteen_core.domain.reservations.rules import (
    _check_context,
    _check_context_household_checked,
)

MAMAN = Actor.guardian("g-maman", HOUSEHOLD.id)
STRANGER = Actor.guardian("g-martin", OTHER.id)
STAFF = Actor.staff("agent-1")
#: Bookings on a family's behalf at the town hall desk are an admin's (see
#: canteen_core.domain.policy).
DESK = Actor.staff("agent-2", Role.ADMIN)
SUMMER = datetime(2023, 8, 20, 8, 0, tzinfo=UTC)  # before everything


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def ctx(e: Enrollment, when: datetime = SUMMER, actor: Actor = MAMAN, **more: Any) -> Any:
    counter = itertools.count(1)
    return {
        "enrollment": e,
        "household": HOUSEHOLD,
        "actor": actor,
        "clock": FixedClock(when),
        "new_id": lambda: f"req-{next(counter)}",
        **more,
    }


# -- basic operations ------------------------------------------------------------------


def test_book_and_cancel_one_day() -> None:
    e = enrollment()
    book = ReservationBook.empty(e)
    booked, result = book_day(book, date(2023, 9, 11), **ctx(e))
    assert booked.booked_days() == (date(2023, 9, 11),)
    assert booked.version == 1
    assert book.version == 0
    assert len(book) == 0
    assert result.booked == (date(2023, 9, 11),)
    assert result.event is not None
    assert result.event.booked == (date(2023, 9, 11),)
    assert result.event.actor_id == "g-maman"
    assert result.event.child_id == ALBAN.id
    again, result = book_day(booked, date(2023, 9, 11), **ctx(e))
    assert again is booked
    assert result.unchanged == (date(2023, 9, 11),)
    assert result.event is None
    cancelled, result = cancel_day(booked, date(2023, 9, 11), **ctx(e))
    assert len(cancelled) == 0
    assert cancelled.version == 2
    assert result.cancelled == (date(2023, 9, 11),)


def test_tick_month_skips_closed_days_with_reasons() -> None:
    e = enrollment()
    book, result = tick_month(ReservationBook.empty(e), 2023, 10, **ctx(e))
    assert book.booked_days() == CALENDAR.open_days(date(2023, 10, 1), date(2023, 10, 31))
    assert len(book) == 12  # 2-20 October, Monday/Tuesday/Thursday/Friday
    reasons = {item.day: item for item in result.skipped}
    assert reasons[date(2023, 10, 4)].message == "Mercredi"
    assert reasons[date(2023, 10, 4)].closure_kind is ClosureKind.CLOSED_WEEKDAY
    assert reasons[date(2023, 10, 23)].message == "Vacances de la Toussaint"
    assert reasons[date(2023, 10, 1)].message == "Week-end"
    assert all(item.reason is SkipReason.CLOSED for item in result.skipped)
    assert set(result.booked) | set(result.skipped_days) == {
        date(2023, 10, 1) + timedelta(days=i) for i in range(31)
    }


def test_range_is_clamped_to_the_enrollment() -> None:
    e = enrollment(start=date(2023, 9, 11), end=date(2023, 9, 22))
    book, result = tick_range(
        ReservationBook.empty(e), date(2023, 9, 4), date(2023, 9, 29), **ctx(e)
    )
    assert book.booked_days()[0] == date(2023, 9, 11)
    assert book.booked_days()[-1] == date(2023, 9, 22)
    # The days clamped away are not listed (the work is bounded by the enrollment).
    assert result.skipped_for(SkipReason.OUTSIDE_ENROLLMENT) == ()
    assert all(e.start <= day <= e.end for day in result.skipped_days)
    same, _ = tick_range(ReservationBook.empty(e), e.start, e.end, **ctx(e))
    assert same.booked_days() == book.booked_days()
    untouched, result = untick_range(book, date(2023, 10, 1), date(2200, 12, 31), **ctx(e))
    assert untouched is book
    assert result.changed == ()


def test_range_far_beyond_the_enrollment_costs_what_the_enrollment_costs() -> None:
    e = enrollment()
    started = time_module.perf_counter()
    book, _ = tick_range(ReservationBook.empty(e), date(1900, 1, 1), date(2200, 12, 31), **ctx(e))
    assert time_module.perf_counter() - started < 1.0  # was ~100,000 skip records, seconds
    full, _ = tick_range(ReservationBook.empty(e), e.start, e.end, **ctx(e))
    assert book.booked_days() == full.booked_days()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2023, 9, 1), date(9999, 12, 31)),
        (date(1, 1, 1), date(2023, 9, 30)),
        (date(1899, 12, 31), date(2023, 9, 30)),
        (date(2023, 9, 1), date(2201, 1, 1)),
        ("2023-09-01", date(2023, 9, 30)),
        (datetime(2023, 9, 1, tzinfo=UTC), date(2023, 9, 30)),
        (date(2023, 9, 1), None),
    ],
)
def test_range_bounds_outside_the_supported_years_or_not_dates_are_refused(
    start: Any, end: Any
) -> None:
    e = enrollment()
    with pytest.raises(InvalidInputError) as caught:
        tick_range(ReservationBook.empty(e), start, end, **ctx(e))
    assert caught.value.path in ("start", "end")
    assert "date" in caught.value.message  # French: "une date ... est attendue" / "la date ..."


@pytest.mark.parametrize(
    ("year", "month", "path"),
    [
        (0, 1, "year"),
        (10000, 1, "year"),
        (2**31, 1, "year"),
        (-(2**63), 1, "year"),
        (True, 1, "year"),
        ("2023", 9, "year"),
        (2023, 0, "month"),
        (2023, 13, "month"),
        (2023, 2**31, "month"),
        (2023, 9.0, "month"),
    ],
)
def test_month_outside_the_supported_years_is_refused_in_french(
    year: Any, month: Any, path: str
) -> None:
    e = enrollment()
    with pytest.raises(InvalidInputError) as caught:
        tick_month(ReservationBook.empty(e), year, month, **ctx(e))
    assert caught.value.path == path
    assert caught.value.message.startswith(("l'année", "le mois"))


def test_periodicity_beyond_the_enrollment_is_clamped_and_keeps_its_phase() -> None:
    e = enrollment()
    every_other = Periodicity(
        weekdays="lundi",
        start=date(1900, 1, 1),
        end=date(2200, 12, 31),
        recurrence="every_other_week",
        anchor=date(2023, 9, 4),
    )
    started = time_module.perf_counter()
    book, result = apply_periodicity(ReservationBook.empty(e), every_other, **ctx(e))
    assert time_module.perf_counter() - started < 1.0
    assert result.skipped_for(SkipReason.OUTSIDE_ENROLLMENT) == ()
    booked = book.booked_days()
    assert booked[0] == date(2023, 9, 4)
    assert all((day - date(2023, 9, 4)).days % 14 == 0 for day in booked)
    bulk, _ = apply_periodicity_to_service_days(ReservationBook.empty(e), every_other, **ctx(e))
    assert bulk.booked_days() == booked
    clamped = every_other.within(date(2023, 9, 11), date(2023, 9, 30))
    assert clamped is not None
    assert clamped.days() == (date(2023, 9, 18),)
    assert every_other.within(date(2201, 1, 1), date(2201, 2, 1)) is None
    assert every_other.within(every_other.start, every_other.end) is every_other


@pytest.mark.parametrize(
    "bad", [date(1, 1, 1), date(9999, 12, 31), datetime(2023, 9, 4), "2023-09-04"]
)
def test_periodicity_dates_are_bounded(bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        Periodicity(weekdays="lundi", start=bad, end=date(2023, 9, 30))
    with pytest.raises(InvalidInputError):
        Periodicity(weekdays="lundi", start=date(2023, 9, 4), end=bad)


def test_periodicity_replaces_the_range_and_is_idempotent() -> None:
    e = enrollment()
    start, end = date(2023, 9, 4), date(2023, 10, 20)
    full, _ = tick_range(ReservationBook.empty(e), start, end, **ctx(e))
    pattern = Periodicity(weekdays="lundi,jeudi", start=start, end=end)
    book, result = apply_periodicity(full, pattern, **ctx(e))
    assert {d.weekday() for d in book.booked_days()} == {0, 3}
    assert len(result.cancelled) == len(CALENDAR.open_days(start, end)) // 2
    again, result = apply_periodicity(book, pattern, **ctx(e))
    assert again is book
    assert result.changed == ()
    assert result.event is None
    added, _ = apply_periodicity(
        book, Periodicity(weekdays="ven", start=start, end=end), replace=False, **ctx(e)
    )
    assert {d.weekday() for d in added.booked_days()} == {0, 3, 4}


def test_rows_round_trip() -> None:
    e = enrollment()
    book, _ = tick_week(ReservationBook.empty(e), date(2023, 9, 4), **ctx(e))
    rows = book.rows()
    assert rows == tuple(
        (e.id, d) for d in (date(2023, 9, 4), date(2023, 9, 5), date(2023, 9, 7), date(2023, 9, 8))
    )
    again = ReservationBook.from_days(e.id, e.start, [day for _, day in rows], version=book.version)
    assert again == book
    assert book.count(date(2023, 9, 5), date(2023, 9, 7)) == 2
    assert book.booked_days(end=date(2023, 9, 4)) == (date(2023, 9, 4),)
    with pytest.raises(InvalidInputError):
        ReservationBook.from_days(e.id, e.start, [date(2023, 9, 1)])


# -- real regulations, at the exact minute ---------------------------------------------


def test_thursday_10_for_next_week_at_the_minute() -> None:
    e = enrollment(booking=THURSDAY_10)
    book = ReservationBook.empty(e)
    target = date(2023, 9, 11)
    ok, _ = book_day(book, target, **ctx(e, paris(2023, 9, 7, 9, 59)))
    assert ok.is_booked(target)
    for late in (paris(2023, 9, 7, 10, 0), paris(2023, 9, 7, 10, 1)):
        with pytest.raises(RuleViolationError, match=r"jeudi 7 septembre 2023 à 10 h 00"):
            book_day(book, target, **ctx(e, late))


def test_previous_school_day_11_around_toussaint_at_the_minute() -> None:
    e = enrollment(booking=PREVIOUS_DAY_11)
    target = date(2023, 11, 6)  # first day after the holidays
    book, _ = book_day(ReservationBook.empty(e), target, **ctx(e))
    ok, _ = cancel_day(book, target, **ctx(e, paris(2023, 10, 20, 10, 59)))
    assert not ok.is_booked(target)
    # During the holidays it is already too late.
    for late in (paris(2023, 10, 20, 11, 0), paris(2023, 10, 20, 11, 1), paris(2023, 11, 3, 9)):
        with pytest.raises(RuleViolationError, match=r"vendredi 20 octobre 2023 à 11 h 00"):
            cancel_day(book, target, **ctx(e, late))


def test_previous_school_day_11_around_wednesday_at_the_minute() -> None:
    e = enrollment(booking=PREVIOUS_DAY_11)
    thursday = date(2023, 9, 14)
    ok, _ = book_day(ReservationBook.empty(e), thursday, **ctx(e, paris(2023, 9, 12, 10, 59)))
    assert ok.is_booked(thursday)
    with pytest.raises(RuleViolationError, match=r"mardi 12 septembre 2023 à 11 h 00"):
        book_day(ReservationBook.empty(e), thursday, **ctx(e, paris(2023, 9, 12, 11, 0)))


def test_48_hours_in_calendar_days_at_the_minute() -> None:
    e = enrollment(booking=FixedDelay.days(2))
    thursday = date(2023, 9, 14)
    ok, _ = book_day(ReservationBook.empty(e), thursday, **ctx(e, paris(2023, 9, 11, 23, 59)))
    assert ok.is_booked(thursday)
    with pytest.raises(RuleViolationError, match=r"mardi 12 septembre 2023 à 0 h 00"):
        book_day(ReservationBook.empty(e), thursday, **ctx(e, paris(2023, 9, 12, 0, 0)))


def test_booking_and_cancelling_have_their_own_policies() -> None:
    e = enrollment(booking=THURSDAY_10, cancellation=PREVIOUS_DAY_11)
    book, _ = book_day(ReservationBook.empty(e), date(2023, 9, 14), **ctx(e))
    when = paris(2023, 9, 12, 10, 30)  # too late to book for that week, in time to cancel
    with pytest.raises(RuleViolationError):
        book_day(book, date(2023, 9, 15), **ctx(e, when))
    cancelled, _ = cancel_day(book, date(2023, 9, 14), **ctx(e, when))
    assert len(cancelled) == 0


def test_bulk_operations_skip_late_days_with_the_deadline() -> None:
    e = enrollment(booking=PREVIOUS_DAY_11)
    book, result = tick_week(
        ReservationBook.empty(e), date(2023, 9, 11), **ctx(e, paris(2023, 9, 12, 12))
    )
    assert book.booked_days() == (date(2023, 9, 15),)
    late = result.skipped_for(SkipReason.LATE)
    assert [item.day for item in late] == [date(2023, 9, 14)]
    assert late[0].deadline == paris(2023, 9, 12, 11)
    assert late[0].message == "Délai dépassé depuis le mardi 12 septembre 2023 à 11 h 00"
    past = result.skipped_for(SkipReason.PAST)
    assert [item.day for item in past] == [date(2023, 9, 11), date(2023, 9, 12)]


# -- late changes ----------------------------------------------------------------------


def test_pending_requests_and_their_instruction() -> None:
    e = enrollment(late=LateChangeMode.PENDING)
    book = ReservationBook.empty(e)
    late = paris(2023, 9, 8, 12)  # after Thursday 7 September 10:00
    same, result = book_day(book, date(2023, 9, 11), **ctx(e, late))
    assert same is book  # nothing booked yet
    (request,) = result.pending
    assert request.status is RequestStatus.PENDING
    assert request.action is ChangeAction.BOOK
    assert request.id == "req-1"
    assert request.deadline == paris(2023, 9, 7, 10)
    assert request.status_fr == "En attente d'instruction"
    assert result.event is not None
    assert result.event.pending == (date(2023, 9, 11),)
    # Asking again: already pending.
    with pytest.raises(ConflictError):
        book_day(book, date(2023, 9, 11), **ctx(e, late, pending=[request]))
    # A guardian cannot decide.
    with pytest.raises(NotAuthorizedError):
        approve(request, book, enrollment=e, actor=MAMAN, clock=FixedClock(late))
    decided, approved_book, event = approve(
        request, book, enrollment=e, actor=STAFF, clock=FixedClock(late)
    )
    assert approved_book.is_booked(date(2023, 9, 11))
    assert approved_book.version == 1
    assert decided.status is RequestStatus.APPROVED
    assert decided.decided_by == "agent-1"
    assert event.approved
    assert event.request_id == "req-1"
    with pytest.raises(ConflictError):
        approve(decided, approved_book, enrollment=e, actor=STAFF, clock=FixedClock(late))


def test_reject_and_withdraw() -> None:
    e = enrollment(late="pending")
    book = ReservationBook.empty(e)
    late = paris(2023, 9, 8, 12)
    _, result = book_day(book, date(2023, 9, 11), **ctx(e, late))
    (request,) = result.pending
    with pytest.raises(InvalidInputError):
        reject(request, reason="  ", actor=STAFF, clock=FixedClock(late))
    rejected, event = reject(
        request, reason="Effectifs complets", actor=STAFF, clock=FixedClock(late)
    )
    assert rejected.status_fr == "Refusée : Effectifs complets"
    assert not event.approved
    # Unticking a pending tick withdraws the request.
    unchanged, result = set_days(
        book, {date(2023, 9, 11): False}, **ctx(e, late, pending=[request])
    )
    assert unchanged is book
    (withdrawn,) = result.withdrawn
    assert withdrawn.status is RequestStatus.WITHDRAWN
    assert withdrawn.id == request.id
    assert withdraw(request, actor=MAMAN, clock=FixedClock(late)).status is RequestStatus.WITHDRAWN
    with pytest.raises(NotAuthorizedError):
        withdraw(request, actor=STRANGER, clock=FixedClock(late))


def test_approval_refused_when_the_day_closed_meanwhile() -> None:
    e = enrollment(late="pending")
    late = paris(2023, 9, 8, 12)
    _, result = book_day(ReservationBook.empty(e), date(2023, 9, 11), **ctx(e, late))
    strike = attrs.evolve(
        e,
        calendar=CALENDAR.with_closures(
            Period(name="Grève", first_day=date(2023, 9, 11), last_day=date(2023, 9, 11))
        ),
    )
    with pytest.raises(RuleViolationError, match="Grève"):
        approve(
            result.pending[0],
            ReservationBook.empty(e),
            enrollment=strike,
            actor=STAFF,
            clock=FixedClock(late),
        )


def test_surcharge_mode_marks_late_changes() -> None:
    e = enrollment(late=LateChangeMode.SURCHARGE, cancellation=PREVIOUS_DAY_11)
    late = paris(2023, 9, 7, 12)
    book, result = book_day(ReservationBook.empty(e), date(2023, 9, 11), **ctx(e, late))
    assert book.is_booked(date(2023, 9, 11))
    assert result.surcharged == (date(2023, 9, 11),)
    assert book.late_booked_days() == (date(2023, 9, 11),)
    # Cancelled in time (previous school day 11:00): no meal, no surcharge.
    cancelled, result = cancel_day(book, date(2023, 9, 11), **ctx(e, paris(2023, 9, 8, 10, 59)))
    assert cancelled.late_booked_days() == ()
    assert result.surcharged == ()
    # Cancelled too late: the marker says so.
    late_cancel, result = cancel_day(book, date(2023, 9, 11), **ctx(e, paris(2023, 9, 8, 11, 0)))
    assert late_cancel.late_cancelled_days() == (date(2023, 9, 11),)
    assert late_cancel.late_booked_days() == ()


def test_the_commune_books_whatever_the_deadline() -> None:
    e = enrollment()
    late = paris(2023, 9, 12, 15)
    with pytest.raises(NotAuthorizedError):  # canteen staff instruct requests, they do not book
        book_day(ReservationBook.empty(e), date(2023, 9, 12), **ctx(e, late, STAFF))
    book, result = book_day(ReservationBook.empty(e), date(2023, 9, 12), **ctx(e, late, DESK))
    assert book.is_booked(date(2023, 9, 12))
    assert result.surcharged == ()
    s = enrollment(late="surcharge")
    book, result = book_day(ReservationBook.empty(s), date(2023, 9, 12), **ctx(s, late, DESK))
    assert result.surcharged == (date(2023, 9, 12),)


def test_family_cannot_change_a_started_day_even_in_pending_mode() -> None:
    e = enrollment(late="pending")
    booked = ReservationBook.from_days(e.id, e.start, [date(2023, 9, 12)])
    with pytest.raises(RuleViolationError, match="Jour passé"):
        cancel_day(booked, date(2023, 9, 12), **ctx(e, paris(2023, 9, 12, 11, 30)))
    _, result = book_day(
        ReservationBook.empty(e), date(2023, 9, 12), **ctx(e, paris(2023, 9, 12, 11, 29))
    )
    assert len(result.pending) == 1


def test_drop_closed_days_after_a_strike() -> None:
    e = enrollment()
    book, _ = tick_week(ReservationBook.empty(e), date(2023, 9, 11), **ctx(e))
    strike = attrs.evolve(
        e,
        calendar=CALENDAR.with_closures(
            Period(name="Grève", first_day=date(2023, 9, 14), last_day=date(2023, 9, 14))
        ),
    )
    new, dropped = drop_closed_days(book, strike)
    assert dropped == (date(2023, 9, 14),)
    assert not new.is_booked(date(2023, 9, 14))
    assert new.version == book.version + 1
    assert drop_closed_days(new, strike) == (new, ())


# -- bad input: clear errors, nothing changed -------------------------------------------


def test_unknown_child() -> None:
    with pytest.raises(NotFoundError, match="c-nobody"):
        enroll(
            HOUSEHOLD,
            "c-nobody",
            id="e",
            service=SERVICE,
            site=SITE,
            calendar=CALENDAR,
            start=RENTREE,
            end=LAST_DAY,
            booking_policy=THURSDAY_10,
        )
    ghost = attrs.evolve(enrollment(), child_id="c-nobody")
    book = ReservationBook.empty(ghost)
    with pytest.raises(NotFoundError):
        book_day(book, date(2023, 9, 11), **ctx(ghost))
    assert len(book) == 0
    assert book.version == 0


def _enrolled(household: object, child_id: object) -> Enrollment | str:
    """What enroll gives (or its error) for ``household`` and ``child_id``."""
    try:
        return enroll(
            household,  # type: ignore[arg-type]
            child_id,  # type: ignore[arg-type]
            id="e",
            service=SERVICE,
            site=SITE,
            calendar=CALENDAR,
            start=RENTREE,
            end=LAST_DAY,
            booking_policy=THURSDAY_10,
        )
    except (NotFoundError, InvalidInputError) as exc:
        return f"{type(exc).__name__}: {exc}"


@given(
    st.one_of(
        st.sampled_from([child.id for child in HOUSEHOLD.children] + [OTHER_CHILD.id, ""]),
        st.text(max_size=8),
        st.none(),
        st.integers(),
        st.lists(st.text(max_size=2), max_size=2),
    )
)
def test_enroll_checks_the_child_against_child_ids_as_against_the_household(
    child_id: object,
) -> None:
    # A bulk enrollment passes the children's ids read from storage, not the household.
    children = HouseholdChildren(
        id=HOUSEHOLD.id, child_ids=frozenset(c.id for c in HOUSEHOLD.children)
    )
    assert _enrolled(children, child_id) == _enrolled(HOUSEHOLD, child_id)


def test_enroll_refuses_what_is_not_a_household() -> None:
    assert _enrolled("h-concerto", ALBAN.id) == (
        "InvalidInputError: household: expected a Household, got str"
    )
    with pytest.raises(InvalidInputError, match="child_ids"):
        HouseholdChildren(
            id="h-concerto", child_ids=ALBAN.id
        )  # a string is not a collection of ids
    with pytest.raises(InvalidInputError, match="id"):
        HouseholdChildren(id="", child_ids=frozenset({ALBAN.id}))
    assert HouseholdChildren(id="h", child_ids=["c"]).child_ids == frozenset({"c"})


def test_day_outside_enrollment_and_closed_day() -> None:
    e = enrollment(end=date(2023, 12, 22))
    book, _ = book_day(ReservationBook.empty(e), date(2023, 9, 11), **ctx(e))
    with pytest.raises(InvalidInputError, match="Hors inscription") as error:
        book_day(book, date(2024, 1, 8), **ctx(e))
    assert error.value.path == "day"
    with pytest.raises(RuleViolationError, match="Vacances de la Toussaint"):
        book_day(book, date(2023, 10, 24), **ctx(e))
    with pytest.raises(RuleViolationError, match="Mercredi"):
        book_day(book, date(2023, 9, 13), **ctx(e))
    with pytest.raises(InvalidInputError):
        book_day(book, datetime(2023, 9, 11, 12, tzinfo=UTC), **ctx(e))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        untick_range(book, date(2023, 9, 30), date(2023, 9, 1), **ctx(e))
    assert book.booked_days() == (date(2023, 9, 11),)
    assert book.version == 1


def test_malformed_operation_arguments() -> None:
    e = enrollment()
    book = ReservationBook.empty(e)
    day = date(2023, 9, 11)
    with pytest.raises(InvalidInputError, match="True or False"):
        set_days(book, {day: "yes"}, **ctx(e))
    with pytest.raises(InvalidInputError):
        set_days(book, {day: True}, True, **ctx(e))
    with pytest.raises(InvalidInputError):
        set_days(book, [day], **ctx(e))
    with pytest.raises(InvalidInputError, match="ChangeRequest"):
        set_days(book, [day], True, **ctx(e, pending=["r1"]))
    with pytest.raises(InvalidInputError):
        set_days(book, ["2023-09-11"], True, **ctx(e))
    with pytest.raises(NotAuthorizedError):
        set_days(book, [day], True, **ctx(e, actor="g-maman"))
    assert len(book) == 0
    assert book.version == 0


def test_malformed_records_and_enrollments() -> None:
    late = paris(2023, 9, 8, 12)
    with pytest.raises(InvalidInputError) as error:
        ChangeRequest(
            id="r",
            enrollment_id="e",
            household_id="h",
            child_id="c",
            day=date(2023, 9, 11),
            action="swap",
            requested_by="u",
            requested_at=late,
            deadline=late,
        )
    assert error.value.path == "action"
    with pytest.raises(InvalidInputError) as error:
        attrs.evolve(enrollment(), calendar=None)
    assert error.value.path == "calendar"
    with pytest.raises(InvalidInputError):
        enrollment(late="ignore")
    with pytest.raises(InvalidInputError):
        enrollment(start=date(2024, 1, 1), end=date(2023, 12, 1))


def test_malformed_periodicity() -> None:
    for bad in (
        {"weekdays": "", "start": RENTREE, "end": LAST_DAY},
        {"weekdays": "lun,funday", "start": RENTREE, "end": LAST_DAY},
        {"weekdays": [7], "start": RENTREE, "end": LAST_DAY},
        {"weekdays": "lun", "start": LAST_DAY, "end": RENTREE},
        {"weekdays": "lun", "start": RENTREE, "end": LAST_DAY, "recurrence": "monthly"},
        {"weekdays": "lun", "start": RENTREE, "end": LAST_DAY, "anchor": RENTREE},
    ):
        with pytest.raises(InvalidInputError):
            Periodicity(**bad)
    e = enrollment()
    with pytest.raises(InvalidInputError):
        apply_periodicity(ReservationBook.empty(e), "lun,mar", **ctx(e))  # type: ignore[arg-type]


def test_guardian_from_another_household() -> None:
    e = enrollment()
    book = ReservationBook.empty(e)
    with pytest.raises(NotAuthorizedError):
        book_day(book, date(2023, 9, 11), **ctx(e, actor=STRANGER))
    with pytest.raises(NotAuthorizedError):
        tick_month(book, 2023, 9, **ctx(e, actor=Actor.staff("compta", Role.FINANCE)))
    # Papa is co-representative of both households: he may act on both.
    papa = Actor(
        user_id="g-papa", roles={Role.CO_REPRESENTATIVE}, household_ids={HOUSEHOLD.id, OTHER.id}
    )
    zoe = enrollment(child_id=OTHER_CHILD.id, household=OTHER)
    booked, _ = book_day(
        ReservationBook.empty(zoe),
        date(2023, 9, 11),
        **{**ctx(zoe, actor=papa), "household": OTHER},
    )
    assert len(booked) == 1
    # The wrong household for the enrollment, or another enrollment's book.
    with pytest.raises(InvalidInputError):
        book_day(ReservationBook.empty(zoe), date(2023, 9, 11), **ctx(zoe, actor=papa))
    with pytest.raises(InvalidInputError):
        book_day(ReservationBook.empty(zoe), date(2023, 9, 11), **ctx(e))
    assert len(book) == 0


def test_the_household_checked_context_refuses_the_rest_as_the_full_check() -> None:
    """The services check the household side from child ids, the engine the rest."""
    e = enrollment()
    zoe = enrollment(child_id=OTHER_CHILD.id, household=OTHER)
    book = ReservationBook.empty(e)
    moved = attrs.evolve(book, origin=date(2023, 9, 1))
    cases: list[tuple[Any, Any, Actor, type[Exception]]] = [
        ("book", e, MAMAN, InvalidInputError),
        (book, "enrollment", MAMAN, InvalidInputError),
        (book, e, STRANGER, NotAuthorizedError),
        (ReservationBook.empty(zoe), e, MAMAN, InvalidInputError),
        (moved, e, MAMAN, ConflictError),
    ]
    for bad_book, bad_enrollment, actor, error in cases:
        with pytest.raises(error):
            _check_context(bad_book, bad_enrollment, HOUSEHOLD, actor)
        with pytest.raises(error):
            _check_context_household_checked(bad_book, bad_enrollment, actor)
    _check_context_household_checked(book, e, MAMAN)
    _check_context_household_checked(ReservationBook.empty(zoe), zoe, DESK)  # not HOUSEHOLD's


# -- properties ------------------------------------------------------------------------

school_days = st.dates(min_value=date(2023, 8, 28), max_value=date(2024, 7, 12))
#: Weekdays a periodicity may name: those the service runs on (the others are refused).
served_weekdays = st.frozensets(st.sampled_from(sorted(CALENDAR.open_weekdays)), min_size=1)
ranges = st.tuples(school_days, school_days).map(sorted)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), ranges),
        st.tuples(st.just("untick"), ranges),
        st.tuples(st.just("day"), school_days),
        st.tuples(
            st.just("periodicity"),
            st.tuples(
                served_weekdays,
                ranges,
                st.sampled_from(["every_week", "every_other_week", "even_weeks", "odd_weeks"]),
            ),
        ),
    ),
    max_size=6,
)


@given(
    period=ranges,
    ops=operations,
    commune=st.booleans(),
)
def test_no_reservation_on_a_closed_day_or_outside_the_enrollment(
    period: list[date], ops: list[Any], commune: bool
) -> None:
    e = enrollment(start=period[0], end=period[1])
    book = ReservationBook.empty(e)
    context = ctx(e, actor=DESK if commune else MAMAN)
    for kind, arg in ops:
        if kind == "tick":
            book, _ = tick_range(book, arg[0], arg[1], **context)
        elif kind == "untick":
            book, _ = untick_range(book, arg[0], arg[1], **context)
        elif kind == "day":
            book, _ = set_days(book, {arg: True}, **context)
        else:
            weekdays, (start, end), recurrence = arg
            pattern = Periodicity(weekdays=weekdays, start=start, end=end, recurrence=recurrence)
            book, _ = apply_periodicity(book, pattern, **context)
    for day in book.booked_days():
        assert e.covers(day)
        assert CALENDAR.closure(day) is None


@given(
    weekdays=served_weekdays,
    span=ranges,
    recurrence=st.sampled_from(["every_week", "every_other_week", "even_weeks", "odd_weeks"]),
    replace=st.booleans(),
    now=st.datetimes(
        min_value=datetime(2023, 8, 1), max_value=datetime(2024, 7, 1), timezones=st.just(UTC)
    ),
    mode=st.sampled_from(list(LateChangeMode)),
)
def test_applying_the_same_periodicity_twice_changes_nothing_the_second_time(
    weekdays: frozenset[int],
    span: list[date],
    recurrence: str,
    replace: bool,
    now: datetime,
    mode: LateChangeMode,
) -> None:
    e = enrollment(late=mode)
    pattern = Periodicity(weekdays=weekdays, start=span[0], end=span[1], recurrence=recurrence)
    context = ctx(e, now)
    once, first = apply_periodicity(ReservationBook.empty(e), pattern, replace=replace, **context)
    twice, second = apply_periodicity(
        once, pattern, replace=replace, **{**context, "pending": first.pending}
    )
    assert twice == once
    assert second.changed == ()
    assert second.pending == ()
    assert second.withdrawn == ()


@given(
    initial=st.sets(st.sampled_from(CALENDAR.open_days())),
    week=st.sampled_from(CALENDAR.open_days()),
    now=st.datetimes(
        min_value=datetime(2023, 8, 1), max_value=datetime(2024, 7, 6), timezones=st.just(UTC)
    ),
    policy=st.sampled_from([THURSDAY_10, PREVIOUS_DAY_11, FixedDelay.hours(48)]),
)
def test_tick_then_untick_a_week_restores_every_editable_day(
    initial: set[date], week: date, now: datetime, policy: Any
) -> None:
    e = enrollment(booking=policy)
    before = ReservationBook.from_days(e.id, e.start, initial)
    context = ctx(e, now)
    ticked, result = tick_week(before, week, **context)
    restored, _ = set_days(ticked, result.booked, False, **context)
    assert restored.bits == before.bits
    # Unticking the whole week clears every day that was editable and leaves the others alone.
    cleared, result = untick_week(ticked, week, **context)
    not_editable = {item.day for item in result.skipped}
    for day in (week - timedelta(days=week.weekday()) + timedelta(days=i) for i in range(7)):
        if day in not_editable:
            assert cleared.is_booked(day) == ticked.is_booked(day)
        else:
            assert not cleared.is_booked(day)
    back, _ = set_days(cleared, result.cancelled, True, **context)
    assert back.bits == ticked.bits


@given(
    day=st.sampled_from(CALENDAR.open_days()),
    before=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=60)),
    policy=st.sampled_from(
        [THURSDAY_10, PREVIOUS_DAY_11, FixedDelay.hours(48), FixedDelay.days(8, time(18))]
    ),
    book_it=st.booleans(),
)
def test_a_change_before_the_deadline_is_never_pending(
    day: date, before: timedelta, policy: Any, book_it: bool
) -> None:
    e = enrollment(booking=policy, late=LateChangeMode.PENDING)
    now = policy.deadline(day, CALENDAR) - before
    start = ReservationBook.empty(e) if book_it else ReservationBook.from_days(e.id, e.start, [day])
    book, result = set_days(start, {day: book_it}, **ctx(e, now))
    assert result.pending == ()
    assert result.skipped == ()
    assert book.is_booked(day) == book_it
    assert now < wall_clock(day, SERVICE.starts_at)


@given(
    initial=st.sets(st.sampled_from(CALENDAR.open_days()), max_size=40),
    span=ranges,
    weekdays=served_weekdays,
    booked=st.booleans(),
    replace=st.booleans(),
    now=st.datetimes(
        min_value=datetime(2023, 8, 1), max_value=datetime(2024, 7, 6), timezones=st.just(UTC)
    ),
    mode=st.sampled_from(list(LateChangeMode)),
    commune=st.booleans(),
)
def test_the_bulk_forms_are_set_days_on_the_service_days(
    initial: set[date],
    span: list[date],
    weekdays: frozenset[int],
    booked: bool,
    replace: bool,
    now: datetime,
    mode: LateChangeMode,
    commune: bool,
) -> None:
    e = enrollment(late=mode, booking=PREVIOUS_DAY_11, cancellation=THURSDAY_10)
    book = ReservationBook.from_days(e.id, e.start, initial, version=3)
    actor = DESK if commune else MAMAN
    start, end = span
    service = e.open_days(start, end)
    assert fill_service_days(book, start, end, booked, **ctx(e, now, actor=actor)) == set_days(
        book, service, booked, **ctx(e, now, actor=actor)
    )
    pattern = Periodicity(weekdays=weekdays, start=start, end=end)
    days = set(pattern.days())
    wanted = (
        {day: day in days for day in service}
        if replace
        else dict.fromkeys((day for day in service if day in days), True)
    )
    assert apply_periodicity_to_service_days(
        book, pattern, replace=replace, **ctx(e, now, actor=actor)
    ) == set_days(book, wanted, **ctx(e, now, actor=actor))


@given(
    initial=st.sets(st.sampled_from(CALENDAR.open_days()), max_size=40),
    span=ranges,
    weekdays=st.frozensets(st.integers(0, 6), min_size=1).filter(
        lambda days: not days <= CALENDAR.open_weekdays
    ),
    replace=st.booleans(),
    commune=st.booleans(),
)
def test_a_periodicity_naming_a_weekday_without_service_is_refused_by_every_form(
    initial: set[date], span: list[date], weekdays: frozenset[int], replace: bool, commune: bool
) -> None:
    """A weekday the service never runs on (Wednesday, the weekend) used to be dropped in
    silence, so "replace" cancelled the range's other days: it is refused, naming it."""
    e = enrollment()
    book = ReservationBook.from_days(e.id, e.start, initial, version=3)
    pattern = Periodicity(weekdays=weekdays, start=span[0], end=span[1])
    context = ctx(e, actor=DESK if commune else MAMAN)
    closed = sorted(weekdays - CALENDAR.open_weekdays)
    for apply in (apply_periodicity, apply_periodicity_to_service_days):
        with pytest.raises(InvalidInputError) as refused:
            apply(book, pattern, replace=replace, **context)
        assert refused.value.path == "weekdays"
        assert WEEKDAY_NAMES_FR[closed[0]] in refused.value.message


# -- bulk forms: masks and bad input ------------------------------------------------------


@given(
    start=st.dates(date(2023, 8, 1), date(2024, 8, 1)),
    length=st.integers(0, 120),
)
def test_open_mask_is_open_days_as_bits(start: date, length: int) -> None:
    from canteen_core.domain.reservations import open_mask

    e = enrollment()
    end = start + timedelta(days=length)
    mask = open_mask(e, start, end)
    base = e.start.toordinal()
    expected = sum(1 << (day.toordinal() - base) for day in e.open_days(start, end))
    assert mask == expected
    assert open_mask(e) == sum(1 << (day.toordinal() - base) for day in e.open_days())


@given(days=st.lists(st.dates(date(2023, 9, 4), date(2024, 7, 5)), max_size=20))
def test_policy_deadlines_are_each_days_deadline(days: list[date]) -> None:
    e = enrollment()
    for policy in (e.booking_policy, FixedDelay(amount=2, unit="days")):
        expected = [policy.deadline(day, CALENDAR) for day in days]
        assert policy.deadlines(days, CALENDAR) == expected
        assert policy.deadlines(iter(days), CALENDAR) == expected


def test_bulk_forms_refuse_bad_input_and_change_nothing() -> None:
    e = enrollment()
    book = ReservationBook.empty(e)
    start, end = date(2023, 9, 4), date(2023, 9, 29)
    with pytest.raises(InvalidInputError, match="booked"):
        fill_service_days(book, start, end, "yes", **ctx(e))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError) as bad_start:
        fill_service_days(book, "2023-09-04", end, True, **ctx(e))  # type: ignore[arg-type]
    assert bad_start.value.path == "start"
    with pytest.raises(InvalidInputError) as bad_end:
        fill_service_days(book, start, datetime(2023, 9, 29, 12), True, **ctx(e))
    assert bad_end.value.path == "end"
    with pytest.raises(NotAuthorizedError):
        fill_service_days(book, start, end, True, **ctx(e, actor=STRANGER))
    with pytest.raises(InvalidInputError, match="Periodicity") as bad_pattern:
        apply_periodicity_to_service_days(book, "mon,tue", **ctx(e))  # type: ignore[arg-type]
    assert bad_pattern.value.path == "periodicity"
    assert len(book) == 0
    assert book.version == 0


@given(start=st.dates(date(2000, 1, 1), date(2100, 1, 1)), length=st.integers(-3, 400))
def test_days_between_is_each_day_from_start_to_end(start: date, length: int) -> None:
    from canteen_core.domain.reservations.days import _check_range, days_between

    end = start + timedelta(days=length)
    if length < 0:
        for check in (days_between, _check_range):
            with pytest.raises(InvalidInputError, match="avant de commencer") as raised:
                check(start, end)
            assert raised.value.path == "end"
        return
    days = days_between(start, end)
    assert days[0] == start
    assert days[-1] == end
    assert all(later - earlier == timedelta(days=1) for earlier, later in itertools.pairwise(days))
    assert all(type(day) is date for day in days)
    assert _check_range(start, end) == (start, end)


@given(year=st.integers(1900, 2200), month=st.integers(1, 12))
def test_month_bounds_are_the_first_and_last_day_of_month_days(year: int, month: int) -> None:
    from canteen_core.domain.reservations.days import _month_range, month_days

    days = month_days(year, month)
    assert _month_range(year, month) == (days[0], days[-1])
    assert {day.month for day in days} == {month}
    assert (days[-1] + timedelta(days=1)).month != month


@pytest.mark.parametrize("bad", [(2023, 0), (2023, 13), (2023, "9"), ("2023", 9)])
def test_month_bounds_refuse_what_month_days_refuses(bad: tuple[Any, Any]) -> None:
    from canteen_core.domain.reservations.days import _month_range, month_days

    for check in (month_days, _month_range):
        with pytest.raises(InvalidInputError, match=r"l'année|le mois") as raised:
            check(*bad)
        assert raised.value.path == ("year" if isinstance(bad[0], str) else "month")


@given(
    booked=st.sets(st.integers(0, 60)),
    marked=st.sets(st.integers(0, 60)),
    book=st.sets(st.integers(0, 60)),
    cancel=st.sets(st.integers(0, 60)),
    late=st.sets(st.integers(0, 60)),
)
def test_mask_changes_follow_the_day_by_day_rules(
    booked: set[int], marked: set[int], book: set[int], cancel: set[int], late: set[int]
) -> None:
    """``_changed`` (every operation's last step) against the rules applied day by day."""
    cancel -= book  # the operations pass disjoint masks
    e = enrollment()
    days = [e.start + timedelta(days=offset) for offset in range(61)]
    late_booked = {days[i] for i in marked & booked}
    late_cancelled = {days[i] for i in marked - booked}
    before = ReservationBook.from_days(
        e.id,
        e.start,
        [days[i] for i in booked],
        version=2,
        late_booked=late_booked,
        late_cancelled=late_cancelled,
    )
    expected_days = {days[i] for i in booked}
    for offset in sorted(book | cancel):
        day = days[offset]
        wanted = offset in book
        if (day in expected_days) == wanted:
            continue  # already so: the day keeps its marker
        late_booked.discard(day)
        late_cancelled.discard(day)
        if wanted:
            expected_days.add(day)
            if offset in late:
                late_booked.add(day)
        else:
            expected_days.discard(day)
            if offset in late:
                late_cancelled.add(day)

    def mask(offsets: set[int]) -> int:
        return sum(1 << offset for offset in offsets)

    after = before._changed(book=mask(book), cancel=mask(cancel), late=mask(late))
    if expected_days == set(before.booked_days()):
        assert after is before
        return
    assert after == ReservationBook.from_days(
        e.id,
        e.start,
        expected_days,
        version=3,
        late_booked=late_booked,
        late_cancelled=late_cancelled,
    )
    assert type(after) is ReservationBook
