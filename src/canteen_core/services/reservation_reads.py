"""Reservations, read: a book, its booked days and the week and month grids the portal shows
(part of ``canteen.reservations``; the writes are :mod:`canteen_core.services.reservations`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from canteen_core.domain._access import acts_as_commune
from canteen_core.domain._validators import check_date
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.grids import Grid, month_grid, week_grid
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import ReservationBook, month_days
from canteen_core.services.capacity import mark_waiting, waiting_days
from canteen_core.services.loading import pending_by_enrollment
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = ["ReservationReads"]


class ReservationReads(ServiceBase):
    """A book, its booked days and its grids (part of ``canteen.reservations``)."""

    def book_of(self, actor: Actor, enrollment_id: str) -> ReservationBook:
        """The enrollment's reservation book (booked days, surcharge markers, version)."""
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            enrollment = tx.uow.enrollments.get(enrollment_id)
            tx.authorize(enrollment.household_id)
            return tx.uow.reservations.load(enrollment_id)

    def booked_days(
        self,
        actor: Actor,
        enrollment_id: str,
        start: date | None = None,
        end: date | None = None,
    ) -> tuple[date, ...]:
        """The booked days of an enrollment between ``start`` and ``end`` (inclusive)."""
        return self.book_of(actor, enrollment_id).booked_days(start, end)

    def _grid(self, actor: Actor, enrollment_id: str, build: Callable[..., Grid]) -> Grid:
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            enrollment = self._ctx.intern(tx.uow.enrollments.get(enrollment_id))
            tx.authorize(enrollment.household_id)
            return _grids(tx, actor, enrollment, [build])[0]

    def recap_grids(
        self, actor: Actor, enrollment_id: str, days: Iterable[date]
    ) -> tuple[Enrollment, dict[tuple[int, int], Grid]]:
        """The enrollment and the month grids of ``days``' months (``(year, month)`` -> grid),
        read in one transaction: what a recap of changes to those days compares them with
        (the portal's step 2). Authorized as :meth:`EnrollmentService.get
        <canteen_core.services.enrollments.EnrollmentService.get>` and :meth:`month_grid` both;
        the grids carry their book's version (one book: the same in each)."""
        months = sorted({(day.year, day.month) for day in days})
        builds = [functools.partial(_month_grid_of, year, month) for year, month in months]
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            enrollment = self._ctx.intern(tx.uow.enrollments.get(enrollment_id))
            tx.authorize(enrollment.household_id, action=Action.VIEW_HOUSEHOLD)
            tx.authorize(enrollment.household_id)
            grids = _grids(tx, actor, enrollment, builds)
        return enrollment, dict(zip(months, grids, strict=True))

    def week_grid(self, actor: Actor, enrollment_id: str, week: date) -> Grid:
        """The week view for the UI (rows = ISO weeks, columns = open weekdays)."""
        week = check_date(week, "week")
        return self._grid(actor, enrollment_id, lambda book, **kw: week_grid(book, week, **kw))

    def month_grid(self, actor: Actor, enrollment_id: str, year: int, month: int) -> Grid:
        """The month view for the UI (title ``"Septembre 2023"``)."""
        month_days(year, month)  # validates
        return self._grid(
            actor, enrollment_id, lambda book, **kw: month_grid(book, year, month, **kw)
        )


def _domain_viewer(actor: Actor) -> Actor:
    """The actor the grid functions see. The policy has authorized the view already; the
    reservation engine's own check (``canteen_core.domain._access``) knows only staff, admin and
    system among commune roles, so finance is shown the grid as staff sees it."""
    if actor.is_family or acts_as_commune(actor):
        return actor
    return Actor(user_id=actor.user_id, roles={Role.STAFF})


def _month_grid_of(year: int, month: int, book: ReservationBook, **kw: Any) -> Grid:
    return month_grid(book, year, month, **kw)


def _grids(
    tx: Transaction, actor: Actor, enrollment: Enrollment, builds: Sequence[Callable[..., Grid]]
) -> list[Grid]:
    """The grids ``builds`` make of ``enrollment``'s book (read once), with their pending
    requests and waiting days."""
    enrollment_id = enrollment.id
    book = tx.uow.reservations.load(enrollment_id)
    pending = pending_by_enrollment(tx, {enrollment_id: enrollment})[enrollment_id]
    waiting = waiting_days(tx, [enrollment_id])[enrollment_id]
    viewer = _domain_viewer(actor)
    clock = FixedClock(tx.now)
    return [
        mark_waiting(
            build(book, enrollment=enrollment, actor=viewer, clock=clock, pending=pending),
            waiting,
        )
        for build in builds
    ]
