"""Week and month grids as plain data, consistent with the operations."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _calendars import HOUSEHOLD, OTHER, PREVIOUS_DAY_11, enrollment
from canteen_core.domain.actors import Actor
from canteen_core.domain.change_requests import ChangeAction
from canteen_core.domain.clock import PARIS, FixedClock
from canteen_core.domain.errors import InvalidInputError, NotAuthorizedError
from canteen_core.domain.grids import month_grid, week_grid
from canteen_core.domain.reservations import (
    ReservationBook,
    SkipReason,
    book_day,
    set_days,
    tick_week,
)

MAMAN = Actor.guardian("g-maman", HOUSEHOLD.id)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_month_view_of_september_as_in_the_portal() -> None:
    e = enrollment()
    clock = FixedClock(paris(2023, 8, 25, 9))
    book, _ = tick_week(
        ReservationBook.empty(e),
        date(2023, 9, 4),
        enrollment=e,
        household=HOUSEHOLD,
        actor=MAMAN,
        clock=clock,
    )
    book, _ = set_days(
        book, {date(2023, 9, 8): False}, enrollment=e, household=HOUSEHOLD, actor=MAMAN, clock=clock
    )
    grid = month_grid(book, 2023, 9, enrollment=e, actor=MAMAN, clock=clock)
    assert grid.title == "Septembre 2023"
    assert grid.columns == ("LUNDI", "MARDI", "JEUDI", "VENDREDI")
    assert [row.iso_week for row in grid.rows] == [35, 36, 37, 38, 39]
    first_row = grid.rows[0]  # 28/08-03/09: only Friday 1 September is in the month
    assert first_row.cells[:3] == (None, None, None)
    friday = first_row.cells[3]
    assert friday is not None
    assert friday.label == "01/09"
    assert not friday.open
    assert not friday.editable
    assert friday.reason == "Hors inscription"
    week36 = grid.rows[1].cells
    assert [cell.label for cell in week36 if cell] == ["04/09", "05/09", "07/09", "08/09"]
    assert [cell.booked for cell in week36 if cell] == [True, True, True, False]
    monday = grid.cell(date(2023, 9, 4))
    assert monday.editable
    assert monday.editable_until == paris(2023, 8, 31, 10)
    with pytest.raises(InvalidInputError):
        grid.cell(date(2023, 10, 2))


def test_october_has_no_row_for_a_week_without_a_service_day_of_the_month() -> None:
    e = enrollment()
    clock = FixedClock(paris(2023, 9, 25, 9))
    grid = month_grid(ReservationBook.empty(e), 2023, 10, enrollment=e, actor=MAMAN, clock=clock)
    # Sunday 1 October is week 39's only day in the month, and Sunday is no service day.
    assert [row.iso_week for row in grid.rows] == [40, 41, 42, 43, 44]


@given(year=st.integers(min_value=2020, max_value=2030), month=st.integers(1, 12))
def test_every_month_row_holds_a_day_of_the_month(year: int, month: int) -> None:
    e = enrollment()
    clock = FixedClock(paris(2023, 9, 25, 9))
    grid = month_grid(ReservationBook.empty(e), year, month, enrollment=e, actor=MAMAN, clock=clock)
    assert all(any(cell is not None for cell in row.cells) for row in grid.rows)
    in_month = {
        date(year, month, 1) + timedelta(days=i)
        for i in range(31)
        if (date(year, month, 1) + timedelta(days=i)).month == month
    }
    service = {day for day in in_month if day.weekday() in e.service.weekdays}
    assert {cell.day for cell in grid.cells()} == service


def test_week_view_reasons_after_the_deadline() -> None:
    e = enrollment(booking=PREVIOUS_DAY_11)
    clock = FixedClock(paris(2023, 10, 19, 12))  # Thursday after 11:00
    book = ReservationBook.from_days(e.id, e.start, [date(2023, 10, 16), date(2023, 10, 20)])
    grid = week_grid(book, date(2023, 10, 18), enrollment=e, actor=MAMAN, clock=clock)
    assert grid.title == "Semaine 42 du 16/10/2023 au 22/10/2023"
    cells = {cell.day: cell for cell in grid.cells()}
    assert cells[date(2023, 10, 16)].reason == "Jour passé"
    friday = cells[date(2023, 10, 20)]
    assert not friday.editable
    assert friday.reason == "Délai dépassé depuis le jeudi 19 octobre 2023 à 11 h 00"
    # Staff may still change it; the cell says it is late.
    staff = week_grid(book, date(2023, 10, 18), enrollment=e, actor=Actor.staff("a"), clock=clock)
    assert staff.cell(date(2023, 10, 20)).editable
    assert staff.cell(date(2023, 10, 20)).late


def test_pending_and_surcharge_cells() -> None:
    e = enrollment(late="pending")
    clock = FixedClock(paris(2023, 9, 8, 12))
    counter = itertools.count()
    book = ReservationBook.empty(e)
    _, result = book_day(
        book,
        date(2023, 9, 11),
        enrollment=e,
        household=HOUSEHOLD,
        actor=MAMAN,
        clock=clock,
        new_id=lambda: f"r{next(counter)}",
    )
    grid = week_grid(
        book, date(2023, 9, 11), enrollment=e, actor=MAMAN, clock=clock, pending=result.pending
    )
    cell = grid.cell(date(2023, 9, 11))
    assert cell.pending is ChangeAction.BOOK
    assert cell.editable
    assert not cell.booked
    assert cell.reason == "En attente d'instruction"
    other = grid.cell(date(2023, 9, 12))
    assert other.editable
    assert other.late
    assert other.reason is not None
    assert other.reason.endswith("(demande soumise à instruction)")
    s = enrollment(late="surcharge")
    booked, _ = book_day(
        ReservationBook.empty(s),
        date(2023, 9, 11),
        enrollment=s,
        household=HOUSEHOLD,
        actor=MAMAN,
        clock=clock,
    )
    cell = week_grid(booked, date(2023, 9, 11), enrollment=s, actor=MAMAN, clock=clock).cell(
        date(2023, 9, 11)
    )
    assert cell.booked
    assert cell.surcharge


def test_grid_authorization_and_input() -> None:
    e = enrollment()
    clock = FixedClock(datetime(2023, 9, 1, tzinfo=UTC))
    book = ReservationBook.empty(e)
    with pytest.raises(NotAuthorizedError):
        month_grid(book, 2023, 9, enrollment=e, actor=Actor.guardian("x", OTHER.id), clock=clock)
    with pytest.raises(InvalidInputError):
        month_grid(book, 2023, 13, enrollment=e, actor=MAMAN, clock=clock)


@given(
    week=st.dates(min_value=date(2023, 9, 1), max_value=date(2024, 7, 10)),
    now=st.datetimes(
        min_value=datetime(2023, 8, 1), max_value=datetime(2024, 7, 10), timezones=st.just(UTC)
    ),
    mode=st.sampled_from(["refuse", "pending", "surcharge"]),
)
def test_editable_cells_are_exactly_the_days_a_tick_changes(
    week: date, now: datetime, mode: str
) -> None:
    e = enrollment(booking=PREVIOUS_DAY_11, late=mode)
    clock = FixedClock(now)
    book = ReservationBook.empty(e)
    grid = week_grid(book, week, enrollment=e, actor=MAMAN, clock=clock)
    _, result = tick_week(book, week, enrollment=e, household=HOUSEHOLD, actor=MAMAN, clock=clock)
    editable = {cell.day for cell in grid.cells() if cell.editable}
    acted = set(result.booked) | {request.day for request in result.pending}
    assert editable == acted
    late = {cell.day for cell in grid.cells() if cell.late}
    assert late == {request.day for request in result.pending} | set(result.surcharged)
    refused = {item.day for item in result.skipped_for(SkipReason.LATE)}
    assert refused == {
        cell.day
        for cell in grid.cells()
        if not cell.editable and cell.reason and cell.reason.startswith("Délai")
    }
