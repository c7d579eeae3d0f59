""" "Mes réservations": the week and month grids, "Tout cocher" / "Tout décocher", "Appliquer
une périodicité", step 2's recap, then validation.

The grid is one form: a checkbox per child and open day (``day``), the editable days shown
(``shown``) so unticking is told from "not shown". Step 2 compares the wanted state with the
grid and lists what will change and which changes become requests awaiting instruction; the
recap's "Valider" posts the changes to the facade.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.convert import summary_fr
from canteen_adapters.web.pages.common import (
    Refusal,
    form_of,
    page,
    parse_day,
    run,
    session_of,
)
from canteen_adapters.web.pages.render import context_of, euros, fr_date
from canteen_core.domain.clock import paris_today
from canteen_core.domain.enrollments import LateChangeMode
from canteen_core.domain.errors import CanteenError, InvalidInputError
from canteen_core.domain.grids import Grid, GridCell
from canteen_core.domain.periodicity import Periodicity, Recurrence
from canteen_core.domain.reservations import BulkResult
from canteen_core.services.billing import BasketInvoices

__all__ = ["HANDLERS"]

WEEKDAYS_FR = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
RECURRENCES_FR = (
    (Recurrence.EVERY_WEEK.value, "Toutes les semaines"),
    (Recurrence.EVERY_OTHER_WEEK.value, "Une semaine sur deux"),
    (Recurrence.EVEN_WEEKS.value, "Semaines paires"),
    (Recurrence.ODD_WEEKS.value, "Semaines impaires"),
)
#: At most this many days in one submission (a school year is about 140).
MAX_DAYS = 400


def _days(values: list[str]) -> set[date]:
    if len(values) > MAX_DAYS:
        raise InvalidInputError(f"au plus {MAX_DAYS} jours par envoi", path="day")
    return {parse_day(value, date.min, path="date") for value in values}


def _load(request: AnyRequest, enrollment_id: str, view: str, when: date) -> dict[str, Any]:
    session = session_of(request)
    canteen = context_of(request).canteen
    actor = session.actor
    enrollment = canteen.enrollments.get(actor, enrollment_id)
    household = canteen.families.get(actor, enrollment.household_id)
    child = next((c.first_name for c in household.children if c.id == enrollment.child_id), "")
    if view == "semaine":
        grid = canteen.reservations.week_grid(actor, enrollment_id, when)
        first = when - timedelta(days=when.weekday())
        previous, following = when - timedelta(days=7), when + timedelta(days=7)
        next_first = first + timedelta(days=7)
    else:
        grid = canteen.reservations.month_grid(actor, enrollment_id, when.year, when.month)
        first = when.replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        following = next_first = (first + timedelta(days=32)).replace(day=1)
    # No link to a week or month wholly outside the enrollment (nothing but "Hors inscription").
    return {
        "enrollment": enrollment,
        "child": child,
        "label": f"{child} - {enrollment.label_fr}",
        "grid": grid,
        "view": view,
        "when": when,
        "previous": previous if first > enrollment.start else None,
        "following": following if next_first <= enrollment.end else None,
    }


def _show(
    request: AnyRequest,
    values: dict[str, Any],
    ticked: set[date] | None = None,
    message: str | None = None,
    refusal: Refusal | None = None,
    invoiced: BasketInvoices | None = None,
) -> Response[str]:
    grid: Grid = values["grid"]
    cells = [cell for cell in grid.cells() if cell.open and cell.editable and cell.pending is None]
    checked = {c.day for c in cells if c.booked} if ticked is None else ticked
    frozen = _frozen(list(grid.cells()), values["view"])
    return page(
        request,
        "reservations.html",
        refusal=refusal,
        title="Mes réservations",
        checked=checked,
        changed=ticked is not None,
        message=message,
        weekdays=WEEKDAYS_FR,
        recurrences=RECURRENCES_FR,
        state=_state,
        frozen=frozen,
        # The periodicity reaches the days after the grid: useless only when none is left in
        # the enrollment and the grid's own days are past their deadlines (so are earlier ones).
        periodicity=frozen is None
        or values["following"] is not None
        or not any(_state(cell) == "locked" for cell in grid.cells()),
        issued=_issued(request, invoiced),
        invoicing_problems=[p[:1].upper() + p[1:] for p in invoiced.problems] if invoiced else [],
        **values,
    )


def _frozen(cells: list[GridCell], view: str) -> str | None:
    """Why no day of the grid can be ticked or unticked, in one French line (``None``: some
    can). "Tout cocher", "Tout décocher" and "Aller à l'étape 2" are not shown then."""
    states = {_state(cell) for cell in cells}
    if "free" in states:
        return None
    period = "cette semaine" if view == "semaine" else "ce mois-ci"
    if states <= {"closed"}:
        return (
            f"Aucun repas à réserver {period} : pas de service ces jours-là "
            "(fermeture, vacances ou hors inscription)."
        )
    if states <= {"closed", "locked"}:
        return f"Plus aucun jour n'est modifiable {period} : la date limite est dépassée."
    return (
        f"Aucun jour n'est modifiable {period} (date limite dépassée, jour complet ou demande "
        "en attente d'instruction)."
    )


def _issued(request: AnyRequest, invoiced: BasketInvoices | None) -> list[dict[str, str]]:
    """What the page says of each invoice a validation issued (prepaid deployments):
    "Facture SEPTEMBRE 2023 émise : 13,40 €", and a link to "Mes factures" to pay it."""
    if invoiced is None:
        return []
    today = paris_today(context_of(request).canteen.context.clock)
    return [
        {
            "text": f"Facture {invoice.label} émise : {euros(invoice.total)}",
            "link": f"/foyer/{invoice.household_id}/factures",
            "link_text": "La payer en ligne"
            if invoice.payment_open_date <= today
            else f"Payable en ligne à partir du {fr_date(invoice.payment_open_date)}",
        }
        for invoice in invoiced.invoices
    ]


def _invoice_validation(
    request: AnyRequest, enrollment_id: str, result: BulkResult
) -> BasketInvoices | None:
    """On a prepaid deployment, a family's validation that booked days invoices the basket of
    their months (after the booking is stored; see ``BillingService.invoice_validation``)."""
    actor = session_of(request).actor
    if not actor.is_family or not result.booked:
        return None
    billing = context_of(request).canteen.billing
    return billing.invoice_validation(actor, enrollment_id, result.booked)


def _state(cell: GridCell) -> str:
    if cell.pending is not None:
        return "pending"
    if cell.waiting is not None:  # a full day: the child is on its waiting list
        return "waiting"
    if not cell.open:
        return "closed"
    if not cell.editable:
        return "locked"
    return "free"


@get("/reservations/{enrollment_id:str}", include_in_schema=False)
async def grid_page(request: AnyRequest, enrollment_id: FromPath[str]) -> Response[str]:
    """The grid (``vue=semaine`` or ``vue=mois``, ``date=2023-10-09``)."""
    today = context_of(request).canteen.context.clock.now().date()
    view = "semaine" if request.query_params.get("vue") == "semaine" else "mois"
    when = parse_day(request.query_params.get("date"), today, path="date")
    values = await run(_load, request, enrollment_id, view, when)
    return _show(request, values)


def _wanted(form: FormMultiDict) -> dict[date, bool]:
    shown = _days(form.getall("shown", []))
    ticked = _days(form.getall("day", []))
    return {day: day in ticked for day in sorted(shown)}


def _recap(request: AnyRequest, enrollment_id: str, wanted: dict[date, bool]) -> dict[str, Any]:
    """What validating would do (nothing saved), as the API's preview."""
    session = session_of(request)
    canteen = context_of(request).canteen
    actor = session.actor
    # The enrollment and the grids of the days' months: one transaction.
    enrollment, grids = canteen.reservations.recap_grids(actor, enrollment_id, wanted)
    cells: dict[date, GridCell] = {c.day: c for grid in grids.values() for c in grid.cells()}
    book: list[date] = []
    cancel: list[date] = []
    pending: list[tuple[date, bool]] = []
    refused: list[tuple[date, str]] = []
    becomes_request = actor.is_family and enrollment.late_change is LateChangeMode.PENDING
    for day, want in wanted.items():
        cell = cells.get(day)
        if cell is None or not cell.open:
            refused.append((day, (cell.reason if cell else None) or "Jour sans service"))
        elif cell.pending is not None or want == cell.booked:
            continue
        elif not cell.editable:
            refused.append((day, cell.reason or "Date limite dépassée"))
        elif cell.late and becomes_request:
            pending.append((day, want))
        else:
            (book if want else cancel).append(day)
    return {
        "book": book,
        "cancel": cancel,
        "pending": pending,
        "refused": refused,
        "summary": summary_fr(len(book), len(cancel), len(pending), len(refused), preview=True),
    }


@post("/reservations/{enrollment_id:str}/etape-2", include_in_schema=False)
async def step_two(request: AnyRequest, enrollment_id: FromPath[str]) -> Response[str]:
    """ "Aller à l'étape 2" (the recap), or "Tout cocher" / "Tout décocher" without
    JavaScript (the grid again, every editable day ticked or unticked, nothing saved)."""
    form = await form_of(request)
    view = "semaine" if form.get("vue") == "semaine" else "mois"
    today = context_of(request).canteen.context.clock.now().date()
    when = parse_day(str(form.get("date", "")), today, path="date")
    wanted = _wanted(form)
    action = form.get("action")
    if action in {"cocher", "decocher"}:
        values = await run(_load, request, enrollment_id, view, when)
        ticked = set(wanted) if action == "cocher" else set()
        return _show(request, values, ticked)
    values = await run(_load, request, enrollment_id, view, when)
    recap = await run(_recap, request, enrollment_id, wanted)
    return page(request, "recapitulatif.html", title="Étape 2 : récapitulatif", **values, **recap)


def _saved(prefix: str, result: BulkResult) -> str:
    """The confirmation once changes are saved: ``prefix``, then what was done."""
    counts = (result.booked, result.cancelled, result.pending, result.skipped)
    return prefix + summary_fr(*(len(days) for days in counts), preview=False)


@post("/reservations/{enrollment_id:str}/valider", include_in_schema=False)
async def validate(request: AnyRequest, enrollment_id: FromPath[str]) -> Response[str]:
    """Validate step 2: the changes are saved (late ones become requests to instruct)."""
    session = session_of(request)
    form = await form_of(request)
    canteen = context_of(request).canteen
    view = "semaine" if form.get("vue") == "semaine" else "mois"
    today = canteen.context.clock.now().date()
    when = parse_day(str(form.get("date", "")), today, path="date")
    wanted = dict.fromkeys(_days(form.getall("book", [])), True)
    wanted.update(dict.fromkeys(_days(form.getall("cancel", [])), False))
    result = await run(canteen.reservations.set_days, session.actor, enrollment_id, wanted)
    message = _saved("Vos réservations sont enregistrées : ", result)
    invoiced = await run(_invoice_validation, request, enrollment_id, result)
    values = await run(_load, request, enrollment_id, view, when)
    return _show(request, values, message=message, invoiced=invoiced)


@post("/reservations/{enrollment_id:str}/periodicite", include_in_schema=False)
async def periodicity(request: AnyRequest, enrollment_id: FromPath[str]) -> Response[str]:
    """ "Appliquer une périodicité": the weekdays ticked, every week / every other week / even
    / odd weeks, from-to (the range's other days are cancelled). A refused periodicity (a
    weekday without service, a bad range) shows the grid again with the French reason,
    nothing changed."""
    session = session_of(request)
    form = await form_of(request)
    canteen = context_of(request).canteen
    today = canteen.context.clock.now().date()
    weekdays = form.getall("weekday", [])
    try:
        if not weekdays:
            raise InvalidInputError("cochez au moins un jour de la semaine", path="weekday")
        pattern = Periodicity(
            weekdays=[int(w) if w.isdigit() else w for w in weekdays],
            start=parse_day(str(form.get("start", "")), today, path="date"),
            end=parse_day(str(form.get("end", "")), today, path="date"),
            recurrence=str(form.get("recurrence", Recurrence.EVERY_WEEK.value)),
        )
        result = await run(
            canteen.reservations.apply_periodicity, session.actor, enrollment_id, pattern
        )
    except CanteenError as error:
        refusal = Refusal.of(request, error)
        if refusal.status != 422:
            raise
        try:  # the month the family was looking at, when its date is one
            when = parse_day(str(form.get("start", "")), today, path="date")
        except InvalidInputError:
            when = today
        values = await run(_load, request, enrollment_id, "mois", when)
        return _show(request, values, refusal=refusal)
    message = _saved("Périodicité appliquée : ", result)
    invoiced = await run(_invoice_validation, request, enrollment_id, result)
    values = await run(_load, request, enrollment_id, "mois", pattern.start)
    return _show(request, values, message=message, invoiced=invoiced)


HANDLERS = [grid_page, step_two, validate, periodicity]
