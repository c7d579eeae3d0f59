"""Week and month reservation grids for a UI, as plain data ("Mes réservations").

A grid has one row per ISO week and one column per open weekday of the service (``LUNDI MARDI
JEUDI VENDREDI`` for a school restaurant). Each cell tells a template everything it needs: the
date, whether it is booked, until when it can be changed freely (``editable_until``), whether a
change now would be late (and become a pending request or carry a surcharge), whether a request
is pending, and why the cell cannot be changed. Cells of days outside the viewed month are
``None``. The grid is computed with the same rules as the operations in
:mod:`canteen_core.domain.reservations`, for the acting user at ``clock.now()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import attrs

from canteen_core.domain._access import acts_as_commune, ensure_may_act_for
from canteen_core.domain._validators import check_date
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar_words import MONTH_NAMES_FR
from canteen_core.domain.change_requests import ChangeAction, ChangeRequest
from canteen_core.domain.clock import Clock, ensure_aware
from canteen_core.domain.deadlines import format_instant, wall_clock
from canteen_core.domain.enrollments import Enrollment, LateChangeMode
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import ReservationBook, month_days

__all__ = ["Grid", "GridCell", "GridRow", "month_grid", "week_grid"]


@attrs.frozen(kw_only=True)
class GridCell:
    """One day of a grid.

    ``editable``: a click changes something now (on time, or late but accepted as a request or
    with a surcharge -- then ``late`` is true). ``editable_until`` is the deadline of the change
    a click would make (cancelling if booked, booking otherwise), ``None`` on closed days.
    ``pending`` is the action awaiting instruction, if any. ``reason`` says in French why the
    cell is not editable (or why a change would be late).
    """

    day: date
    label: str  # "04/09"
    open: bool
    booked: bool
    editable: bool
    editable_until: datetime | None = None
    late: bool = False
    pending: ChangeAction | None = None
    surcharge: bool = False  # booked late, a surcharge marker is set
    reason: str | None = None
    #: On a full day's waiting list: ``"liste d'attente (rang 2)"``, or the place offered
    #: (:mod:`canteen_core.domain.capacity`); ``None`` otherwise.
    waiting: str | None = None
    offered: bool = False
    waiting_entry: str | None = None  # the waiting-list entry's id (to accept an offer)


@attrs.frozen(kw_only=True)
class GridRow:
    """An ISO week: ``cells`` align with the grid's ``columns`` (``None`` = not in view)."""

    iso_year: int
    iso_week: int
    cells: tuple[GridCell | None, ...]


@attrs.frozen(kw_only=True)
class Grid:
    """A week or month view: ``title``, column labels, weekday numbers and rows."""

    title: str
    columns: tuple[str, ...]
    weekdays: tuple[int, ...]
    first_day: date
    last_day: date
    rows: tuple[GridRow, ...]
    #: The service booked, as families read it (``Service.activity_fr``: "Accueil du soir, à
    #: la demi-heure, de 16 h 30 à 18 h 30"); lunch's is its name.
    activity: str = ""
    #: The version of the reservation book the grid shows (what a write sends as ``If-Match``).
    version: int = 0

    def cells(self) -> tuple[GridCell, ...]:
        """Every cell in view, in date order."""
        return tuple(cell for row in self.rows for cell in row.cells if cell is not None)

    def cell(self, day: date) -> GridCell:
        """The cell of ``day``; :class:`InvalidInputError` if it is not in view."""
        for cell in self.cells():
            if cell.day == day:
                return cell
        raise InvalidInputError(f"{day} is not in this grid", path="day")


def _cell(
    day: date,
    book: ReservationBook,
    enrollment: Enrollment,
    now: datetime,
    commune: bool,
    pending: dict[date, ChangeRequest],
) -> GridCell:
    booked = book.is_booked(day)
    request = pending.get(day)
    action = request.action if request is not None else None

    def make(
        *,
        open_: bool,
        editable: bool,
        reason: str | None = None,
        deadline: datetime | None = None,
        late: bool = False,
    ) -> GridCell:
        offset = day.toordinal() - book.origin.toordinal()
        surcharge = booked and offset >= 0 and (book.late_booked >> offset) & 1 == 1
        return GridCell(
            day=day,
            label=f"{day:%d/%m}",
            open=open_,
            booked=booked,
            editable=editable,
            editable_until=deadline,
            late=late,
            pending=action,
            surcharge=surcharge,
            reason=reason,
        )

    if not enrollment.covers(day):
        return make(open_=False, editable=False, reason="Hors inscription")
    closure = enrollment.calendar.closure(day)
    if closure is not None:
        return make(open_=False, editable=False, reason=closure.reason)
    policy = enrollment.cancellation_policy if booked else enrollment.booking_policy
    deadline = policy.deadline(day, enrollment.calendar)
    if request is not None and request.wants_booked != booked:
        # A click withdraws the pending request: always possible.
        return make(open_=True, editable=True, reason="En attente d'instruction", deadline=deadline)
    if commune:
        return make(open_=True, editable=True, deadline=deadline, late=now >= deadline)
    if now >= wall_clock(day, enrollment.service.starts_at):
        return make(open_=True, editable=False, reason="Jour passé", deadline=deadline)
    if now < deadline:
        return make(open_=True, editable=True, deadline=deadline)
    limit = f"Délai dépassé depuis le {format_instant(deadline)}"
    mode = enrollment.late_change
    if mode is LateChangeMode.REFUSE:
        return make(open_=True, editable=False, reason=limit, deadline=deadline)
    suffix = "demande soumise à instruction" if mode is LateChangeMode.PENDING else "tarif majoré"
    return make(
        open_=True, editable=True, reason=f"{limit} ({suffix})", deadline=deadline, late=True
    )


def _grid(
    title: str,
    days: tuple[date, ...],
    book: ReservationBook,
    *,
    enrollment: Enrollment,
    actor: Actor,
    clock: Clock,
    pending: Iterable[ChangeRequest],
) -> Grid:
    ensure_may_act_for(actor, enrollment.household_id, Action.VIEW_RESERVATIONS)
    if book.enrollment_id != enrollment.id:
        raise InvalidInputError(
            f"book of enrollment {book.enrollment_id!r} used with enrollment {enrollment.id!r}",
            path="book",
        )
    now = ensure_aware(clock.now(), "clock.now()")
    commune = acts_as_commune(actor)
    open_requests = {
        item.day: item
        for item in pending
        if item.is_pending and item.enrollment_id == enrollment.id
    }
    weekdays = enrollment.service.weekdays
    in_view = set(days)
    rows: list[GridRow] = []
    monday = days[0] - timedelta(days=days[0].weekday())
    while monday <= days[-1]:
        iso = monday.isocalendar()
        cells: list[GridCell | None] = []
        for weekday in weekdays:
            day = monday + timedelta(days=weekday)
            cells.append(
                _cell(day, book, enrollment, now, commune, open_requests)
                if day in in_view
                else None
            )
        if any(cell is not None for cell in cells):  # a week with no service day in view: no row
            rows.append(GridRow(iso_year=iso.year, iso_week=iso.week, cells=tuple(cells)))
        monday += timedelta(weeks=1)
    return Grid(
        title=title,
        columns=enrollment.service.column_labels,
        weekdays=weekdays,
        first_day=days[0],
        last_day=days[-1],
        rows=tuple(rows),
        activity=enrollment.service.activity_fr,
        version=book.version,
    )


def week_grid(
    book: ReservationBook,
    week: date,
    *,
    enrollment: Enrollment,
    actor: Actor,
    clock: Clock,
    pending: Iterable[ChangeRequest] = (),
) -> Grid:
    """The week view of the ISO week containing ``week`` (title ``"Semaine 36 du 04/09/2023"``)."""
    week = check_date(week, "week")  # bounded years: the week's Sunday always exists
    monday = week - timedelta(days=week.weekday())
    days = tuple(monday + timedelta(days=i) for i in range(7))
    title = f"Semaine {monday.isocalendar().week} du {monday:%d/%m/%Y} au {days[-1]:%d/%m/%Y}"
    return _grid(
        title, days, book, enrollment=enrollment, actor=actor, clock=clock, pending=pending
    )


def month_grid(
    book: ReservationBook,
    year: int,
    month: int,
    *,
    enrollment: Enrollment,
    actor: Actor,
    clock: Clock,
    pending: Iterable[ChangeRequest] = (),
) -> Grid:
    """The month view (title ``"Septembre 2023"``); days of other months are ``None`` cells.

    A week none of whose service weekdays falls in the month (October 2023's week 39, only
    Sunday 1 October) is not a row.
    """
    days = month_days(year, month)
    title = f"{MONTH_NAMES_FR[month - 1].capitalize()} {year}"
    return _grid(
        title, days, book, enrollment=enrollment, actor=actor, clock=clock, pending=pending
    )
