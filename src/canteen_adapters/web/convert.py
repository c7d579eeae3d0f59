"""Domain values to the API's bodies (:mod:`canteen_adapters.web.schemas`), request bodies to
the facade's arguments, and the few facade reads the API and the pages share (the roll call,
the household search)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from canteen_adapters.web import schemas as s
from canteen_adapters.web import schemas_office as so
from canteen_core.domain.actors import Actor
from canteen_core.domain.change_requests import ChangeRequest, RequestStatus
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.families import Child, Guardian, Household
from canteen_core.domain.grids import Grid, GridCell
from canteen_core.domain.invoicing import Invoice
from canteen_core.domain.ledger import InvoiceState, Statement
from canteen_core.domain.money import Money
from canteen_core.domain.reservations import BulkResult

if TYPE_CHECKING:
    from canteen_core.services import Canteen
    from canteen_core.services.catalog import SiteClosure
    from canteen_core.services.enrollment_requests import EnrollmentOffer

__all__ = [
    "arguments",
    "body",
    "change_out",
    "child_out",
    "closure_out",
    "enrollment_out",
    "grid_out",
    "guardian_out",
    "household_out",
    "invoice_out",
    "money",
    "people_names",
    "request_out",
    "request_status_fr",
    "roll_call_out",
    "search_households",
    "service_and_site",
    "statement_out",
]


def arguments(sent: attrs.AttrsInstance) -> dict[str, Any]:
    """A request body's fields as the keyword arguments of the facade call it mirrors one for
    one (same names, same meaning)."""
    return attrs.asdict(sent, recurse=False)


def money(value: Money) -> str:
    """``"13.40"``."""
    return f"{value.rounded().amount:.2f}"


Body = TypeVar("Body", bound=attrs.AttrsInstance)


def _json_value(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Money):
        return money(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def body(cls: type[Body], *sources: object, **values: Any) -> Body:
    """A body of ``cls``: each field not given in ``values`` is the attribute of that name of
    the first of ``sources`` that has one (an enum as its value, an amount as its decimal
    string, a tuple as a list); a field none has keeps its default."""
    copied: dict[str, object] = {}
    for field in attrs.fields(cls):
        if field.name in values:
            continue
        source = next((source for source in sources if hasattr(source, field.name)), None)
        if source is not None:
            copied[field.name] = _json_value(getattr(source, field.name))
    return cls(**copied, **values)


def closure_out(closure: SiteClosure) -> so.ClosureOut:
    """A site closure's answer: the bookings cancelled, and the days already invoiced it
    cancels (credited by the next billing run)."""
    billed = closure.billed
    return so.ClosureOut(
        cancelled={key: list(days) for key, days in closure.cancelled.items()},
        billed=so.BilledDaysOut(
            count=billed.count,
            households=list(billed.household_ids),
            invoices=list(billed.invoice_numbers),
            months=[f"{month:%Y-%m}" for month in billed.months],
            summary=billed.summary_fr,
        ),
    )


def guardian_out(guardian: Guardian) -> s.GuardianOut:
    """A guardian's body."""
    return body(s.GuardianOut, guardian)


def child_out(child: Child) -> s.ChildOut:
    """A child's body."""
    return body(s.ChildOut, child)


def household_out(household: Household) -> s.HouseholdOut:
    """A household's body."""
    co = household.co_representative
    return s.HouseholdOut(
        id=household.id,
        payer=guardian_out(household.payer),
        co_representative=None if co is None else guardian_out(co),
        children=[child_out(child) for child in household.children],
    )


def service_and_site(placed: Enrollment | EnrollmentOffer) -> dict[str, str]:
    """The ids and names of the service and site of an enrollment or an offer, as bodies name
    them."""
    service, site = placed.service, placed.site
    return {
        "service_id": service.id,
        "service_name": service.name,
        "site_id": site.id,
        "site_name": site.name,
    }


def enrollment_out(enrollment: Enrollment, household: Household | None = None) -> s.EnrollmentOut:
    """An enrollment's body (the child's name when the household is given)."""
    name = enrollment.child_id
    if household is not None:
        child = next((c for c in household.children if c.id == enrollment.child_id), None)
        if child is not None:
            name = child.first_name
    return body(
        s.EnrollmentOut,
        enrollment,
        child_name=name,
        label=f"{name} - {enrollment.label_fr}",
        **service_and_site(enrollment),
    )


def request_status_fr(request: ChangeRequest) -> str:
    """A change request's state as families read it (API and dashboard alike): the status,
    with the reason after a rejection ("Refusée : <motif>"; an approval's note is not shown)."""
    label = request.status.label
    if request.status is RequestStatus.REJECTED and request.reason:
        return f"{label} : {request.reason}"
    return label


def request_out(request: ChangeRequest) -> s.RequestOut:
    """A change request's body."""
    return body(s.RequestOut, request, status_label=request_status_fr(request))


def cell_state(cell: GridCell) -> str:
    """The state a portal draws a cell with."""
    if cell.pending is not None:
        return "pending"
    if cell.waiting is not None:
        return "offered" if cell.offered else "waiting"
    if not cell.open:
        return "closed"
    if not cell.editable:
        return "locked"
    if cell.late:
        return "late"
    return "booked" if cell.booked else "free"


def _cell(cell: GridCell | None) -> s.CellOut | None:
    if cell is None:
        return None
    return body(
        s.CellOut,
        cell,
        state=cell_state(cell),
        deadline=cell.editable_until,
        pending_action=None if cell.pending is None else cell.pending.value,
    )


def grid_out(enrollment_id: str, grid: Grid, version: int) -> s.GridOut:
    """A grid's body."""
    return body(
        s.GridOut,
        grid,
        enrollment_id=enrollment_id,
        version=version,
        rows=[
            body(
                s.RowOut,
                row,
                label=f"Semaine {row.iso_week}",
                cells=[_cell(cell) for cell in row.cells],
            )
            for row in grid.rows
        ],
    )


def summary_fr(booked: int, cancelled: int, pending: int, skipped: int, *, preview: bool) -> str:
    """``"2 repas réservés, 1 annulé, 1 demande en attente d'instruction"``."""

    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    parts = []
    if booked:
        parts.append(count(booked, "repas réservé", "repas réservés"))
    if cancelled:
        parts.append(count(cancelled, "repas annulé", "repas annulés"))
    if pending:
        parts.append(
            count(pending, "demande en attente d'instruction", "demandes en attente d'instruction")
        )
    if skipped:
        parts.append(count(skipped, "jour non modifiable", "jours non modifiables"))
    if not parts:
        return "Aucune modification."
    text = ", ".join(parts)
    return ("Après validation : " + text + ".") if preview else (text[0].upper() + text[1:] + ".")


def change_out(
    result: BulkResult,
    version: int,
    invoices: Iterable[Invoice] = (),
    invoicing_problems: Iterable[str] = (),
) -> s.ChangeOut:
    """What a submission did (with, in prepaid mode, the invoices its validation issued)."""
    pending = [request.day for request in result.pending]
    return body(
        s.ChangeOut,
        result,
        version=version,
        pending=pending,
        skipped=[body(s.SkippedOut, item) for item in result.skipped],
        invoices=[
            body(s.BasketInvoiceOut, invoice, payable_online_from=invoice.payment_open_date)
            for invoice in invoices
        ],
        invoicing_problems=list(invoicing_problems),
        summary=summary_fr(
            len(result.booked),
            len(result.cancelled),
            len(pending),
            len(result.skipped),
            preview=False,
        ),
    )


def invoice_out(state: InvoiceState) -> s.InvoiceOut:
    """An invoice with its lines."""
    return body(
        s.InvoiceOut,
        state,
        state.invoice,
        status_label=state.status_label_fr,
        scheduled_on=state.scheduled_on if state.scheduled.is_positive else None,
        lines=[body(s.InvoiceLineOut, line) for line in state.invoice.lines],
    )


def statement_out(statement: Statement) -> s.StatementOut:
    """The household account."""
    return body(
        s.StatementOut,
        statement,
        entries=[body(s.EntryOut, entry) for entry in statement.entries],
    )


def days_of(changes: Iterable[s.DayChange]) -> dict[object, bool]:
    """The submission as the facade takes it."""
    return {change.day: change.booked for change in changes}


def people_names(
    canteen: Canteen, actor: Actor, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """For each ``(household_id, child_id)``, the child's "First LAST" name and the
    household's "LAST First" payer name, as staff pages show them (each household read once;
    a child no longer in the household keeps its id)."""
    wanted = set(pairs)
    households = {
        household_id: canteen.families.get(actor, household_id)
        for household_id in sorted({household_id for household_id, _ in wanted})
    }
    names: dict[tuple[str, str], tuple[str, str]] = {}
    for household_id, child_id in wanted:
        household = households[household_id]
        child = next((c for c in household.children if c.id == child_id), None)
        names[household_id, child_id] = (
            f"{child.first_name} {child.last_name}" if child else child_id,
            f"{household.payer.last_name} {household.payer.first_name}",
        )
    return names


def roll_call_out(canteen: Canteen, actor: Actor, site_id: str, day: date) -> so.RollCallOut:
    """The roll call of a site and day: each enrollment covering the day, booked or not, with
    the presence recorded so far, by child name."""
    enrollments = [
        e for e in canteen.enrollments.list_enrollments(actor, site_id=site_id) if e.covers(day)
    ]
    recorded = {
        r.enrollment_id: r
        for r in canteen.attendance.records(actor, start=day, end=day, site_id=site_id)
    }
    names = people_names(canteen, actor, ((e.household_id, e.child_id) for e in enrollments))
    entries = []
    for enrollment in enrollments:
        child_name, household_name = names[enrollment.household_id, enrollment.child_id]
        booked = canteen.reservations.book_of(actor, enrollment.id).is_booked(day)
        record = recorded.get(enrollment.id)
        entries.append(
            body(
                so.RollCallEntryOut,
                enrollment,
                enrollment_id=enrollment.id,
                child_name=child_name,
                household_name=household_name,
                booked=booked,
                presence=None if record is None else record.presence.value,
                arrival=None if record is None else record.arrival,
                departure=None if record is None else record.departure,
            )
        )
    entries.sort(key=lambda entry: (entry.child_name.casefold(), entry.enrollment_id))
    return so.RollCallOut(site_id=site_id, day=day, entries=entries)


#: At most this many households per search answer.
SEARCH_LIMIT = 50


def search_households(canteen: Canteen, actor: Actor, text: str) -> list[Household]:
    """The households whose id, guardian or child name or e-mail contains ``text`` (any case),
    at most :data:`SEARCH_LIMIT`."""
    needle = text.strip().casefold()
    found: list[Household] = []
    for household in canteen.families.list_households(actor):
        people: list[Guardian | Child] = [*household.guardians, *household.children]
        haystack = " ".join(
            [household.id]
            + [f"{p.first_name} {p.last_name}" for p in people]
            + [g.email or "" for g in household.guardians]
        ).casefold()
        if needle in haystack:
            found.append(household)
            if len(found) >= SEARCH_LIMIT:
                break
    return found
