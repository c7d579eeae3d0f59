"""The JSON bodies of the HTTP API, as attrs classes (Litestar derives the OpenAPI schemas).

Amounts are decimal strings in euros (``"13.40"``); dates ``YYYY-MM-DD``; instants ISO 8601
with their offset. French texts meant for display (``summary``, ``text``, ``reason``) are
ready to show.

One idea that reads better whole: the API's JSON bodies, requests then
responses, in the order a reader of the OpenAPI document meets them; a feature with many bodies
of its own may keep them in a module beside this one (``schemas_<feature>.py``).
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from canteen_adapters.web.schemas_enrollment import EnrollmentRequestOut

# -- requests ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LoginBody:
    """``POST /api/v1/session``."""

    username: str
    password: str


@attrs.frozen(kw_only=True)
class TokenBody:
    """The token of an e-mailed link (activation)."""

    token: str


@attrs.frozen(kw_only=True)
class PasswordChangeBody:
    """Change one's own password (the temporary one at first login)."""

    current_password: str
    new_password: str


@attrs.frozen(kw_only=True)
class ResetRequestBody:
    """Ask for a password-reset link (username or e-mail)."""

    login: str


@attrs.frozen(kw_only=True)
class ResetBody:
    """Set a new password from a reset link."""

    token: str
    new_password: str


@attrs.frozen(kw_only=True)
class DayChange:
    """One day of a grid submission: booked (``true``) or not."""

    day: date
    booked: bool


@attrs.frozen(kw_only=True)
class ReservationsBody:
    """The grid's changes (step 2 validates them, ``/preview`` only describes them)."""

    changes: list[DayChange]


@attrs.frozen(kw_only=True)
class FillBody:
    """ "Tout cocher" (``booked: true``) or "Tout décocher" from ``start`` to ``end``."""

    start: date
    end: date
    booked: bool


@attrs.frozen(kw_only=True)
class PeriodicityBody:
    """ "Appliquer une périodicité": weekdays (``mon``..``sun``), every week / every other
    week (``every_other_week``) / ``even_weeks`` / ``odd_weeks``, from ``start`` to ``end``."""

    weekdays: list[str]
    start: date
    end: date
    recurrence: str = "every_week"
    replace: bool = True


@attrs.frozen(kw_only=True)
class PaymentBody:
    """Start paying an invoice online."""

    provider: str = "payzen"
    return_url: str | None = None


@attrs.frozen(kw_only=True)
class ContactBody:
    """Change a guardian's e-mail or civility."""

    guardian_id: str
    email: str | None = None
    civility: str | None = None


@attrs.frozen(kw_only=True)
class DecisionBody:
    """Staff's decision on a pending request (a reason is required to reject)."""

    approve: bool
    reason: str | None = None


# -- responses -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SessionOut:
    """The logged-in user."""

    user_id: str
    display_name: str
    roles: list[str]
    household_ids: list[str]
    must_change_password: bool
    csrf_token: str
    logged_in_at: datetime


@attrs.frozen(kw_only=True)
class Message:
    """A French message for the user."""

    message: str


@attrs.frozen(kw_only=True)
class GuardianOut:
    """A payer or co-representative."""

    id: str
    display_name: str
    first_name: str
    last_name: str
    civility: str | None
    email: str | None


@attrs.frozen(kw_only=True)
class ChildOut:
    """A member of the household."""

    id: str
    display_name: str
    first_name: str
    last_name: str
    birth_date: date
    diet: str
    pai: bool


@attrs.frozen(kw_only=True)
class EnrollmentOut:
    """An enrollment ("Alban - Restauration Scolaire - Ecole Élémentaire RONDE")."""

    id: str
    child_id: str
    child_name: str
    service_id: str
    service_name: str
    site_id: str
    site_name: str
    start: date
    end: date
    late_change: str
    label: str


@attrs.frozen(kw_only=True)
class RequestOut:
    """A late-change request and its state."""

    id: str
    enrollment_id: str
    child_id: str
    day: date
    action: str
    status: str
    status_label: str
    requested_at: datetime
    deadline: datetime
    decided_at: datetime | None
    reason: str | None


@attrs.frozen(kw_only=True)
class InvoicesSummary:
    """The dashboard's "Vous avez N facture(s) non réglée(s)"."""

    unpaid_count: int
    unpaid_amount: str
    available_credit: str
    summary: str


@attrs.frozen(kw_only=True)
class PortalOut:
    """The portal's name and opening date."""

    name: str
    opening_date: datetime | None
    news: str | None


@attrs.frozen(kw_only=True)
class DashboardOut:
    """The family's dashboard, in one call."""

    household_id: str
    greeting: str
    last_login: str | None
    last_login_at: datetime | None
    invoices: InvoicesSummary
    latest_requests: list[RequestOut]
    #: The household's latest enrollment requests and their state.
    enrollment_requests: list[EnrollmentRequestOut]
    payer: GuardianOut
    co_representative: GuardianOut | None
    members: list[ChildOut]
    enrollments: list[EnrollmentOut]
    portal: PortalOut


@attrs.frozen(kw_only=True)
class CellOut:
    """One day of the grid. ``state``: ``booked``, ``free``, ``closed`` (with ``reason``),
    ``locked`` (past, or past the deadline in refuse mode: ``reason`` and ``deadline``),
    ``late`` (past the deadline: a change becomes a request or is surcharged), ``pending`` (a
    request awaits instruction), ``waiting`` (on the day's waiting list: ``waiting`` says the
    rank), ``offered`` (a place is offered until a deadline: ``waiting`` says it)."""

    day: date
    label: str
    state: str
    booked: bool
    editable: bool
    deadline: datetime | None
    pending_action: str | None
    reason: str | None
    #: On a full day's waiting list: ``"liste d'attente (rang 2)"`` or the place offered.
    waiting: str | None = None


@attrs.frozen(kw_only=True)
class RowOut:
    """An ISO week of the grid ("Semaine 36"); ``cells`` follow ``columns`` (``null``: that
    weekday is outside the view)."""

    iso_year: int
    iso_week: int
    label: str
    cells: list[CellOut | None]


@attrs.frozen(kw_only=True)
class GridOut:
    """The week or month view of an enrollment's reservations. ``version`` is the
    reservation book's version (also the ``ETag``: send it back in ``If-Match``)."""

    enrollment_id: str
    title: str
    columns: list[str]
    first_day: date
    last_day: date
    version: int
    rows: list[RowOut]
    #: The service booked and, for an activity, its unit and hours.
    activity: str = ""


@attrs.frozen(kw_only=True)
class SkippedOut:
    """A day left unchanged, with why."""

    day: date
    reason: str
    message: str


@attrs.frozen(kw_only=True)
class BasketInvoiceOut:
    """An invoice a family's validation issued (prepaid deployments): "Facture OCTOBRE 2023
    émise : 2,10 €", payable online from ``payable_online_from`` (``GET /api/v1/invoices/{id}``
    for its lines)."""

    id: str
    number: str
    label: str
    total: str
    due_date: date
    payable_online_from: date


@attrs.frozen(kw_only=True)
class ChangeOut:
    """What a submission did (or, for a preview, would do).

    On a prepaid deployment (``[billing] mode = "prepaid"``) a family's validation also
    invoices its basket of each month it booked new days in: ``invoices`` lists the invoices
    issued (empty otherwise), ``invoicing_problems`` why a month could not be invoiced (the
    days stay booked)."""

    enrollment_id: str
    version: int
    booked: list[date]
    cancelled: list[date]
    unchanged: list[date]
    pending: list[date]
    skipped: list[SkippedOut]
    summary: str
    invoices: list[BasketInvoiceOut] = attrs.field(factory=list)
    invoicing_problems: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class InvoiceRowOut:
    """A line of "MES FACTURES"."""

    id: str
    number: str
    label: str
    issue_date: date
    due_date: date
    total: str
    paid: str
    balance_due: str
    status: str
    status_label: str
    payable_online_from: date
    can_pay_online: bool
    online_payment_refusal: str | None


@attrs.frozen(kw_only=True)
class InvoicesOut:
    """The "MES FACTURES" page."""

    household_id: str
    summary: str
    unpaid_count: int
    balance_due: str
    available_credit: str
    invoices: list[InvoiceRowOut]


@attrs.frozen(kw_only=True)
class InvoiceLineOut:
    """A line of an invoice."""

    child_id: str | None
    child_name: str | None
    description: str
    quantity: int
    unit_price: str
    amount: str
    days: list[date]
    #: An activity's unit (``half_hour``, ``week``, ``meal``...); ``None`` for lunch.
    unit: str | None = None


@attrs.frozen(kw_only=True)
class InvoiceOut:
    """One invoice with its lines and what is left to pay."""

    id: str
    number: str
    household_id: str
    label: str
    issue_date: date
    due_date: date
    total: str
    paid: str
    credited: str
    balance_due: str
    status: str
    status_label: str  # "Prélèvement prévu le 20/10/2023", "Facture réglée"
    scheduled_on: date | None  # a direct debit covers it, collected on that day
    lines: list[InvoiceLineOut]


@attrs.frozen(kw_only=True)
class FormField:
    """A field of the provider's form."""

    name: str
    value: str


@attrs.frozen(kw_only=True)
class PaymentStartOut:
    """What the browser does next: post ``form_fields`` to ``form_action`` (PayZen) or go to
    ``redirect_url`` (PayFiP)."""

    provider: str
    transaction_id: str
    reference: str
    amount: str
    form_action: str | None
    form_method: str | None
    form_fields: list[FormField]
    redirect_url: str | None


@attrs.frozen(kw_only=True)
class NotificationOut:
    """What was done with a provider's notification."""

    decision: str
    reason: str
    transaction_id: str | None
    credited: bool


@attrs.frozen(kw_only=True)
class EntryOut:
    """A line of the household account statement."""

    day: date
    kind: str
    reference: str
    label: str
    debit: str
    credit: str


@attrs.frozen(kw_only=True)
class StatementOut:
    """The household account (relevé de compte)."""

    household_id: str
    entries: list[EntryOut]
    invoiced: str
    credited: str
    received: str
    refunded: str
    balance_due: str
    available_credit: str
    net_balance: str


@attrs.frozen(kw_only=True)
class HouseholdOut:
    """A household as staff see it in a search."""

    id: str
    payer: GuardianOut
    co_representative: GuardianOut | None
    children: list[ChildOut]


@attrs.frozen(kw_only=True)
class FieldErrorOut:
    """A field a malformed request got wrong, and where it was (``body``, ``query``,
    ``path``, ``header``...)."""

    field: str
    source: str


@attrs.frozen(kw_only=True)
class ProblemOut:
    """An error (RFC 9457). ``type`` is stable per kind of error (``urn:canteen:problem:...``),
    ``detail`` is French, ``field`` names the field in error; 409 and 412 add
    ``current_version``, 400 adds ``errors``."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    #: The reservation book's version now (409, 412): reload the grid, or send it in ``If-Match``.
    current_version: int | None = None
    #: Every field a malformed request (400) got wrong.
    errors: list[FieldErrorOut] | None = None
