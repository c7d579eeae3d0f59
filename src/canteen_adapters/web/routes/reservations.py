"""The reservation grid: week and month views, submissions, "Tout cocher", periodicities.

Writes follow the seed's two steps: ``POST .../reservations/preview`` is the recap (what will
change, which changes become requests awaiting instruction, which days cannot change), then
``POST .../reservations`` validates. The grid's ``version`` (and ``ETag``) is the reservation
book's version: a write with a stale ``If-Match`` gets 412, a write that collides with a
concurrent one gets 409 with the current version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated

from litestar import Response, get
from litestar.params import FromPath, HeaderParameter, JSONBody

from canteen_adapters.web import convert
from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.problems import CONFLICT_TITLE, Problem
from canteen_adapters.web.routes._actions import action
from canteen_adapters.web.routes._dates import parse_month, parse_week
from canteen_adapters.web.schemas import (
    ChangeOut,
    FillBody,
    GridOut,
    PeriodicityBody,
    ReservationsBody,
    SkippedOut,
)
from canteen_core.domain.actors import Actor
from canteen_core.domain.enrollments import LateChangeMode
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.domain.grids import Grid
from canteen_core.domain.periodicity import Periodicity
from canteen_core.domain.reservations import BulkResult
from canteen_core.services.billing import BasketInvoices

__all__ = ["HANDLERS"]

TAGS = ["Réservations"]
_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')
#: At most this many days in one submission (a school year is about 140).
MAX_CHANGES = 400

IfMatch = HeaderParameter(
    name="If-Match",
    required=False,
    description='The grid\'s version (its ETag, e.g. "12"): refused with 412 if it changed.',
)


def _version(web: Web, actor: Actor, enrollment_id: FromPath[str]) -> int:
    return web.canteen.reservations.book_of(actor, enrollment_id).version


def _grid_response(
    web: Web, actor: Actor, enrollment_id: FromPath[str], build: Callable[[], Grid]
) -> Response[GridOut]:
    grid = build()  # its version is the book's it shows, read in the same transaction
    out = convert.grid_out(enrollment_id, grid, grid.version)
    return Response(out, headers={"ETag": f'"{grid.version}"'})


@get("/api/v1/enrollments/{enrollment_id:str}/weeks/{week:str}", tags=TAGS, sync_to_thread=True)
def week_grid(
    request: AnyRequest, web: Web, enrollment_id: FromPath[str], week: FromPath[str]
) -> Response[GridOut]:
    """The week view (``week``: ``2023-W36``): each day booked, free, closed with its reason,
    locked past its deadline (with the deadline), late, or pending instruction."""
    actor = web.actor(request)
    day = parse_week(week)
    return _grid_response(
        web,
        actor,
        enrollment_id,
        lambda: web.canteen.reservations.week_grid(actor, enrollment_id, day),
    )


@get("/api/v1/enrollments/{enrollment_id:str}/months/{month:str}", tags=TAGS, sync_to_thread=True)
def month_grid(
    request: AnyRequest, web: Web, enrollment_id: FromPath[str], month: FromPath[str]
) -> Response[GridOut]:
    """The month view (``month``: ``2023-09``, title "Septembre 2023"), by ISO weeks."""
    actor = web.actor(request)
    year, number = parse_month(month)
    return _grid_response(
        web,
        actor,
        enrollment_id,
        lambda: web.canteen.reservations.month_grid(actor, enrollment_id, year, number),
    )


def _wanted(data: JSONBody[ReservationsBody]) -> dict[date, bool]:
    if len(data.changes) > MAX_CHANGES:
        raise InvalidInputError(f"au plus {MAX_CHANGES} jours par envoi", path="changes")
    return {change.day: change.booked for change in data.changes}


@action("/api/v1/enrollments/{enrollment_id:str}/reservations/preview", tags=TAGS)
def preview(
    request: AnyRequest,
    web: Web,
    enrollment_id: FromPath[str],
    data: JSONBody[ReservationsBody],
) -> ChangeOut:
    """Step 2's recap: what validating these changes would do (nothing is saved)."""
    actor = web.actor(request)
    wanted = _wanted(data)
    # The enrollment and the grids of the days' months: one transaction.
    enrollment, grids = web.canteen.reservations.recap_grids(actor, enrollment_id, wanted)
    cells = {cell.day: cell for grid in grids.values() for cell in grid.cells()}
    booked: list[date] = []
    cancelled: list[date] = []
    unchanged: list[date] = []
    pending: list[date] = []
    skipped: list[SkippedOut] = []
    requests_become_pending = actor.is_family and enrollment.late_change is LateChangeMode.PENDING
    for day in sorted(wanted):
        cell = cells.get(day)
        want = wanted[day]
        if cell is None or not cell.open:
            reason = (
                "outside_enrollment" if cell is None or not enrollment.covers(day) else "closed"
            )
            message = (cell.reason if cell is not None else None) or "Jour sans service"
            skipped.append(SkippedOut(day=day, reason=reason, message=message))
        elif cell.pending is not None or want == cell.booked:
            unchanged.append(day)
        elif not cell.editable:
            reason = "past" if cell.reason == "Jour passé" else "late"
            skipped.append(SkippedOut(day=day, reason=reason, message=cell.reason or ""))
        elif cell.late and requests_become_pending:
            pending.append(day)
        else:
            (booked if want else cancelled).append(day)
    # The grids' versions (the oldest: a stale one errs on the safe side), read with them.
    version = min((grid.version for grid in grids.values()), default=None)
    if version is None:
        version = _version(web, actor, enrollment_id)
    return ChangeOut(
        enrollment_id=enrollment_id,
        version=version,
        booked=booked,
        cancelled=cancelled,
        unchanged=unchanged,
        pending=pending,
        skipped=skipped,
        summary=convert.summary_fr(
            len(booked), len(cancelled), len(pending), len(skipped), preview=True
        ),
    )


def stale_problem(current: int) -> Problem:
    """The 412 of a write whose ``If-Match`` is not the book's ``current`` version."""
    return Problem(
        412,
        "stale-version",
        "Réservations modifiées entre-temps",
        "Les réservations ont changé depuis l'affichage de la grille : rechargez-la et "
        "recommencez.",
        field="If-Match",
        headers={"ETag": f'"{current}"'},
        extra={"current_version": current},
    )


def conflict_problem(current: int) -> Problem:
    """The 409 of a write another one overtook (the book is now at ``current``)."""
    return Problem(
        409,
        "conflict",
        CONFLICT_TITLE,
        "Une autre modification des réservations vient d'avoir lieu : rechargez la grille "
        "et recommencez.",
        headers={"ETag": f'"{current}"'},
        extra={"current_version": current},
    )


def _write(
    web: Web,
    actor: Actor,
    enrollment_id: FromPath[str],
    if_match: str | None,
    operation: Callable[[int | None], BulkResult],
) -> Response[ChangeOut]:
    """Run ``operation(expected_version)``: the ``If-Match`` version is checked by the facade
    in the write's own transaction (a stale one is 412, another collision 409). On a prepaid
    deployment, a family's write that booked days then invoices the basket of their months
    (after the booking is stored: an invoice that cannot be issued leaves it booked, and the
    answer says why in ``invoicing_problems``)."""
    reservations = web.canteen.reservations
    expected: int | None = None
    if if_match is not None:
        match = _IF_MATCH.match(if_match)
        if match is None:
            raise stale_problem(_version(web, actor, enrollment_id))
        expected = int(match.group(1))
    try:
        result = operation(expected)
    except ConflictError:
        current = _version(web, actor, enrollment_id)
        if expected is not None and current != expected:
            raise stale_problem(current) from None
        raise conflict_problem(current) from None
    version = result.book_version
    if version is None:  # an operation that does not say it (none of the facade's today)
        version = reservations.book_of(actor, enrollment_id).version
    invoiced = BasketInvoices()
    if actor.is_family and result.booked:
        invoiced = web.canteen.billing.invoice_validation(actor, enrollment_id, result.booked)
    out = convert.change_out(result, version, invoiced.invoices, invoiced.problems)
    return Response(out, headers={"ETag": f'"{version}"'})


@action("/api/v1/enrollments/{enrollment_id:str}/reservations", tags=TAGS)
def submit(
    request: AnyRequest,
    web: Web,
    enrollment_id: FromPath[str],
    data: JSONBody[ReservationsBody],
    if_match: Annotated[str | None, IfMatch] = None,
) -> Response[ChangeOut]:
    """Validate the grid's changes. Late changes become requests awaiting instruction (or
    are refused or surcharged, as the enrollment says); closed and past days are skipped with
    a reason. On a prepaid deployment, the family's basket of each month it booked new days in
    is invoiced: ``invoices`` lists the invoices issued."""
    actor = web.actor(request)
    wanted = _wanted(data)
    return _write(
        web,
        actor,
        enrollment_id,
        if_match,
        lambda expected: web.canteen.reservations.set_days(
            actor, enrollment_id, wanted, expected_version=expected
        ),
    )


@action("/api/v1/enrollments/{enrollment_id:str}/reservations/fill", tags=TAGS)
def fill(
    request: AnyRequest,
    web: Web,
    enrollment_id: FromPath[str],
    data: JSONBody[FillBody],
    if_match: Annotated[str | None, IfMatch] = None,
) -> Response[ChangeOut]:
    """ "Tout cocher" / "Tout décocher" from ``start`` to ``end`` (open days only)."""
    actor = web.actor(request)
    reservations = web.canteen.reservations
    method = reservations.tick_range if data.booked else reservations.untick_range
    return _write(
        web,
        actor,
        enrollment_id,
        if_match,
        lambda expected: method(
            actor, enrollment_id, data.start, data.end, expected_version=expected
        ),
    )


@action("/api/v1/enrollments/{enrollment_id:str}/periodicity", tags=TAGS)
def periodicity(
    request: AnyRequest,
    web: Web,
    enrollment_id: FromPath[str],
    data: JSONBody[PeriodicityBody],
    if_match: Annotated[str | None, IfMatch] = None,
) -> Response[ChangeOut]:
    """ "Appliquer une périodicité": book the weekdays over the range (with ``replace``, the
    other days of the range are cancelled)."""
    actor = web.actor(request)
    pattern = Periodicity(
        weekdays=data.weekdays,
        start=data.start,
        end=data.end,
        recurrence=data.recurrence,  # every other week: from the week of ``start``
    )
    return _write(
        web,
        actor,
        enrollment_id,
        if_match,
        lambda expected: web.canteen.reservations.apply_periodicity(
            actor, enrollment_id, pattern, replace=data.replace, expected_version=expected
        ),
    )


HANDLERS = [week_grid, month_grid, preview, submit, fill, periodicity]
