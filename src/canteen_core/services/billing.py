"""Billing use cases: tariff grids, billing runs, credit notes, statements, reminders.

``canteen.billing`` (:class:`BillingService`) is what the finance office and the family portal
call. Every method takes the acting :class:`~canteen_core.domain.actors.Actor` and runs through
:meth:`~canteen_core.services.runner.ServiceContext.use_case`: authorized by the policy, one
transaction, events published after the commit, emails queued in the outbox in the same
transaction.

Post-paid billing run (:meth:`BillingService.run_postpaid`)
    For a period ``"YYYY-MM"`` the run maps, per enrollment, reservations (with the late
    booking and late cancellation markers), attendance, justified absences and closures into
    one :class:`~canteen_core.domain.charging.PeriodFacts` (the enrollment's
    :class:`~canteen_core.domain.charging.DayFacts` in bulk, see :func:`period_facts`), and prices
    them with the stored tariff grids (QF valid on the day, category from the enrollment,
    sibling rank among the children billed for the service), alike days grouped
    (:func:`~canteen_core.domain.invoicing.run_postpaid_periods`). Numbers come from the issuer's
    sequence, taken (and locked) inside the transaction, so they stay gapless.

    **Batches.** Households are processed in batches of :attr:`BillingOptions.batch_size`,
    **one transaction per batch**: only one batch of households, enrollments, books and
    attendance is in memory at a time (a city of 25,000 households bills in bounded memory),
    the numbering lock is held for one batch only (a prepaid validation or a credit note waits
    seconds, not the whole run), and a failure loses at most the current batch. Batches are
    taken in household-id order, so numbers follow household ids. A run that stops half-way
    (crash, lost connection) is simply started again: every invoice carries its billing key
    (household, period, mode), unique in the database, and already billed households are
    skipped. Two runs started at once produce each invoice once: the second waits for the
    first's numbering lock, then sees its keys; if the database still reports a duplicate key
    (:class:`~canteen_core.domain.errors.ConflictError`), that household's invoice is skipped, its
    number reused by the next invoice, and the household listed in
    :attr:`BillingReport.conflicts`.

Prepaid mode
    :meth:`BillingService.invoice_basket` invoices a household's validated reservation basket
    for its service month (only days not invoiced yet), and
    :meth:`BillingService.credit_cancellations` credits days invoiced in advance and cancelled
    before the deadline (a late cancellation, marked by the reservation engine, is not
    credited).

The ledger
    Nothing derived is stored: a household's :class:`~canteen_core.domain.ledger.HouseholdAccount`
    is
    rebuilt from its documents (:func:`household_account`) by replaying them in date order
    (invoices, credit notes, payments, refunds, rejections). Allocation is oldest invoice first.

Reminders and the arrears rule
    :meth:`BillingService.run_reminders` sends each reminder level of an invoice once: the
    highest level sent is kept per invoice in the storage's numbering table (kind
    ``"dunning"``), a monotonic counter updated in the same transaction as the outbox messages.
    :func:`booking_block_reason` is the optional arrears rule; the reservations service calls it
    (or :meth:`BillingService.ensure_bookings_allowed`) before accepting new bookings.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from canteen_core.config.deployment import BillingMode as DeploymentBillingMode
from canteen_core.domain._unchecked import unchecked
from canteen_core.domain.actors import Actor
from canteen_core.domain.attendance import (
    AbsenceJustification,
    AttendanceRecord,
    Presence,
    attendance_lines,
)
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.charging import ChargingPolicy, DayFacts, PeriodFacts
from canteen_core.domain.clock import PARIS, paris_today
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import (
    CREDIT_NOTE_PREFIX,
    BillingMode,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceTerms,
    NumberSequence,
    billing_key,
    credit_note,
    invoice_prepaid_basket,
    prepaid_cancellation_credit,
)
from canteen_core.domain.invoicing import run_postpaid_periods as _run_postpaid_periods
from canteen_core.domain.ledger import HouseholdAccount, InvoiceState, Payment, Refund, Statement
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import OutgoingMessage, Recipient
from canteen_core.domain.online_payment import online_payment_refusal
from canteen_core.domain.policy import Action, is_allowed
from canteen_core.domain.reminders import (
    ArrearsRule,
    DunningSchedule,
    due_reminders,
    reminder_level,
)
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import (
    TariffBook,
    TariffCategory,
    TariffGrid,
)
from canteen_core.ports.storage import Range, UnitOfWork
from canteen_core.services.runner import ServiceBase, ServiceContext, Transaction

__all__ = [
    "BillingOptions",
    "BillingReport",
    "BillingService",
    "InvoiceRow",
    "InvoicesPage",
    "IssuedInvoice",
    "ReminderReport",
    "booking_block_reason",
    "day_facts",
    "household_account",
    "household_accounts",
    "household_recipients",
    "parse_period",
    "period_facts",
    "tariff_category_of",
]

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")
_DUNNING_COUNTER = "dunning"


# -- options and results -------------------------------------------------------------------------


def _batch_size(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise InvalidInputError(f"must be an integer from 1 to 10000, got {value!r}", path="batch")


def _lookback(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise InvalidInputError(f"must be 0-366 days, got {value!r}", path=attribute.name)


def _optional_rule(
    _: object, attribute: attrs.Attribute[ArrearsRule | None], value: object
) -> None:
    if value is not None and not isinstance(value, ArrearsRule):
        raise InvalidInputError("must be an ArrearsRule or None", path=attribute.name)


def _minimum(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money) or value.is_negative:
        raise InvalidInputError(f"must be non-negative Money, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class BillingOptions:
    """How a deployment bills (the deployment file only says prepaid or post-paid).

    ``terms``: due date and online-payment opening; ``charging``: carence days and what late
    cancellations and unrecorded days cost; ``dunning``: reminder levels; ``arrears_rule``:
    block new bookings above overdue arrears (``None``: never); ``batch_size``: households per
    transaction in billing and reminder runs; ``carence_lookback_days``: how far back a run
    looks for a justified-absence run that started before the period (so the carence is not
    charged twice for an illness spanning two months); ``online_payment_minimum``: the
    smallest balance payable online (shown in "MES FACTURES").
    """

    terms: InvoiceTerms = attrs.Factory(InvoiceTerms)
    charging: ChargingPolicy = attrs.Factory(ChargingPolicy)
    dunning: DunningSchedule = attrs.Factory(DunningSchedule)
    arrears_rule: ArrearsRule | None = attrs.field(default=None, validator=_optional_rule)
    batch_size: int = attrs.field(default=200, validator=_batch_size)
    carence_lookback_days: int = attrs.field(default=62, validator=_lookback)
    online_payment_minimum: Money = attrs.field(default=Money.of("1.00"), validator=_minimum)


@attrs.frozen(kw_only=True)
class IssuedInvoice:
    """A short record of an invoice a run issued (the invoice itself is in storage)."""

    invoice_id: str
    number: str
    household_id: str
    total: Money


@attrs.frozen(kw_only=True)
class BillingReport:
    """What a post-paid run did.

    ``issued``: new invoices; ``already_billed``: households skipped because the period was
    billed for them before; ``conflicts``: households skipped because another run billed them
    at the same time; ``without_charges``: households with nothing to bill (no number used).
    """

    period_start: date
    period_end: date
    issued: tuple[IssuedInvoice, ...]
    already_billed: tuple[str, ...]
    conflicts: tuple[str, ...]
    without_charges: tuple[str, ...]
    batches: int

    @property
    def total(self) -> Money:
        """Sum of the new invoices."""
        return Money.sum(item.total for item in self.issued)

    @property
    def count(self) -> int:
        """How many invoices were issued."""
        return len(self.issued)


@attrs.frozen(kw_only=True)
class InvoiceRow:
    """One line of the portal's "MES FACTURES" table."""

    invoice_id: str
    number: str
    label: str
    issue_date: date
    due_date: date
    total: Money
    paid: Money
    balance_due: Money
    status: str
    status_label: str
    payable_online_from: date
    online_payment_refusal: str | None  # why "Payer" is not offered now (French), or None

    @property
    def can_pay_online(self) -> bool:
        """Whether the portal may show the "Payer en ligne" button now."""
        return self.online_payment_refusal is None


@attrs.frozen(kw_only=True)
class InvoicesPage:
    """The data of the seed's "MES FACTURES" page for one household."""

    household_id: str
    rows: tuple[InvoiceRow, ...]  # newest first
    balance_due: Money
    available_credit: Money

    @property
    def unpaid_count(self) -> int:
        """Invoices with something left to pay."""
        return sum(1 for row in self.rows if row.balance_due.is_positive)

    @property
    def summary_fr(self) -> str:
        """``"Vous avez 1 facture non réglée"`` as the portal shows it."""
        count = self.unpaid_count
        if count == 0:
            return "Vous n'avez aucune facture non réglée"
        plural = "s" if count > 1 else ""
        return f"Vous avez {count} facture{plural} non réglée{plural}"


@attrs.frozen(kw_only=True)
class ReminderReport:
    """What a reminders run sent: one :class:`~canteen_core.domain.events.InvoiceOverdue` per
    (invoice, level), each at most once."""

    sent: tuple[tuple[str, int], ...]  # (invoice id, level)
    households: int
    messages: int


# -- pure helpers ----------------------------------------------------------------------------


def parse_period(period: str) -> tuple[date, date]:
    """``"2023-09"`` -> ``(2023-09-01, 2023-09-30)``; :class:`InvalidInputError` otherwise."""
    match = _PERIOD.fullmatch(period) if isinstance(period, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1901:
        raise InvalidInputError(f"expected a month 'YYYY-MM', got {period!r}", path="period")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


#: Enrollment tariff categories (short names) -> grid categories.
_CATEGORY_ALIASES: Mapping[str, TariffCategory] = {
    "resident": TariffCategory.RESIDENT_CHILD,
    "non_resident": TariffCategory.NON_RESIDENT_CHILD,
    "adult": TariffCategory.ADULT,
    "pai": TariffCategory.PAI_BASKET,
    "occasional": TariffCategory.OCCASIONAL_MEAL,
}


def tariff_category_of(enrollment: Enrollment) -> TariffCategory:
    """The grid category of an enrollment (``"resident"`` -> ``resident_child``...).

    Full category names (``"non_resident_child"``) are accepted too; anything else is a
    :class:`ConfigurationError` naming the enrollment.
    """
    value = enrollment.tariff_category
    if value in _CATEGORY_ALIASES:
        return _CATEGORY_ALIASES[value]
    try:
        return TariffCategory(value)
    except ValueError:
        valid = sorted({*_CATEGORY_ALIASES, *(c.value for c in TariffCategory)})
        raise ConfigurationError(
            f"enrollment {enrollment.id!r} has tariff category {value!r}; use one of {valid}",
            path="tariff_category",
        ) from None


def household_recipients(household: Household) -> list[Recipient]:
    """The household's guardians that have an email address (payer first)."""
    recipients: list[Recipient] = []
    for guardian in household.guardians:
        if guardian.email:
            try:
                recipients.append(Recipient.from_guardian(guardian))
            except InvalidInputError:
                continue  # an unusable address must not block billing; the letter goes by post
    return recipients


def household_account(uow: UnitOfWork, household_id: str) -> HouseholdAccount:
    """The household's ledger account rebuilt from its stored documents.

    Documents are replayed in date order (invoices, then credit notes, payments, rejections
    of the same day), so allocation is oldest invoice first and deterministic.
    """
    invoices = list(uow.invoices.list(household_id=household_id))
    notes = list(uow.credit_notes.list(household_id=household_id))
    payments = list(uow.payments.list(household_id=household_id))
    refunds = list(uow.refunds.list(household_id=household_id))
    return _replay(household_id, invoices, notes, payments, refunds)


#: Households per ``IN`` list when reading many accounts at once.
_ACCOUNTS_CHUNK = 500


def household_accounts(
    uow: UnitOfWork, household_ids: Iterable[str]
) -> dict[str, HouseholdAccount]:
    """:func:`household_account` for many households, with four queries per 500 households
    (invoices, credit notes, payments, refunds) instead of four per household."""
    ids = list(dict.fromkeys(household_ids))
    accounts: dict[str, HouseholdAccount] = {}
    for chunk in _chunks(ids, _ACCOUNTS_CHUNK):
        members = tuple(chunk)
        invoices: defaultdict[str, list[Invoice]] = defaultdict(list)
        notes: defaultdict[str, list[CreditNote]] = defaultdict(list)
        payments: defaultdict[str, list[Payment]] = defaultdict(list)
        refunds: defaultdict[str, list[Refund]] = defaultdict(list)
        for invoice in uow.invoices.list(household_id=members):
            invoices[invoice.household_id].append(invoice)
        for note in uow.credit_notes.list(household_id=members):
            notes[note.household_id].append(note)
        for payment in uow.payments.list(household_id=members):
            payments[payment.household_id].append(payment)
        for refund in uow.refunds.list(household_id=members):
            refunds[refund.household_id].append(refund)
        for household_id in chunk:
            accounts[household_id] = _replay(
                household_id,
                invoices[household_id],
                notes[household_id],
                payments[household_id],
                refunds[household_id],
            )
    return accounts


def _replay(
    household_id: str,
    invoices: Iterable[Invoice],
    notes: Iterable[CreditNote],
    payments: Iterable[Payment],
    refunds: Iterable[Refund],
) -> HouseholdAccount:
    steps: list[tuple[date, int, str, object]] = []
    for invoice in invoices:
        steps.append((invoice.issue_date, 0, invoice.number, invoice))
    for note in notes:
        steps.append((note.issue_date, 1, note.number, note))
    for payment in payments:
        steps.append((payment.received_on, 2, payment.id, payment))
        if payment.rejected_on is not None:
            steps.append((payment.rejected_on, 4, payment.id, ("reject", payment)))
    for refund in refunds:
        steps.append((refund.refunded_on, 3, refund.id, refund))
    steps.sort(key=lambda step: (step[0], step[1], step[2]))
    account = HouseholdAccount.empty(household_id)
    known: set[str] = set()
    for day, _, _, item in steps:
        if isinstance(item, Invoice):
            account = account.add_invoice(item)
            known.add(item.id)
        elif isinstance(item, CreditNote):
            account = account.add_credit_note(item)
        elif isinstance(item, Payment):
            # Targets not issued yet at the payment date are ignored (oldest-first instead).
            targets = tuple(i for i in item.invoice_ids if i in known)
            try:
                account = account.record_payment(
                    attrs.evolve(item, rejected_on=None, invoice_ids=targets)
                )
            except RuleViolationError:
                # Its target was cancelled in the meantime: the money is credit, oldest first.
                account = account.record_payment(
                    attrs.evolve(item, rejected_on=None, invoice_ids=())
                )
        elif isinstance(item, Refund):
            try:
                account = account.refund(item)
            except RuleViolationError:
                # Stored documents are facts: a refund checked against another order of
                # events is kept (the family then owes it) rather than hiding the account.
                account = attrs.evolve(account, refunds=(*account.refunds, item))
        else:
            assert isinstance(item, tuple)
            try:
                account = account.reject_payment(item[1].id, rejected_on=day)
            except RuleViolationError:
                account = _force_reject(account, item[1].id, day)
    return account


def _force_reject(account: HouseholdAccount, payment_id: str, day: date) -> HouseholdAccount:
    """Apply a stored rejection even when it leaves a refund uncovered (replay only)."""
    payments = tuple(
        attrs.evolve(p, rejected_on=day) if p.id == payment_id else p for p in account.payments
    )
    allocations = tuple(a for a in account.allocations if a.payment_id != payment_id)
    return attrs.evolve(account, payments=payments, allocations=allocations).apply_credit()


def booking_block_reason(
    uow: UnitOfWork, household_id: str, *, today: date, rule: ArrearsRule | None
) -> str | None:
    """Why ``household_id`` may not book new days (French, for the family), or ``None``.

    The optional arrears rule: overdue balance above the rule's threshold blocks new bookings.
    Call it inside the booking use case's transaction (it reads the household's documents).
    """
    if rule is None or not rule.enabled:
        return None
    account = household_account(uow, household_id)
    if not rule.blocks_bookings(account, today=today):
        return None
    return (
        "De nouvelles réservations ne sont pas possibles tant que les factures échues "
        f"ne sont pas réglées (reste à payer : {account.balance_due.format_fr()})."
    )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def _paris_date(instant: datetime) -> date:
    return instant.astimezone(PARIS).date()


def _justified_run_before(
    enrollment: Enrollment,
    book: ReservationBook,
    start: date,
    lookback_days: int,
    records: Iterable[AttendanceRecord],
    justifications: Iterable[AbsenceJustification],
) -> int:
    """Length of the justified-absence run still open when the period starts.

    Walks back from the day before ``start`` with the charging module's run rules: the run
    continues across closed and unbooked days and ends at a booked day that is not a
    justified absence, or at a meal taken without booking.
    """
    first = max(enrollment.start, start - timedelta(days=lookback_days))
    last = start - timedelta(days=1)
    if last < first:
        return 0
    lines = attendance_lines(
        enrollment, book, first, last, records=records, justifications=justifications
    )
    run = 0
    for line in reversed(lines):
        if line.booked and line.justified:
            run += 1
        elif line.booked or line.unbooked_presence:
            break
    return run


def day_facts(
    enrollment: Enrollment,
    book: ReservationBook,
    start: date,
    end: date,
    *,
    records: Iterable[AttendanceRecord] = (),
    justifications: Iterable[AbsenceJustification] = (),
) -> list[DayFacts]:
    """The billing facts of one enrollment from ``start`` to ``end`` (both inclusive).

    Service days with a booking, an attendance record or a late cancellation give one fact
    each; booked days the service turned out to be closed on (strike, works) give a fact
    ``closed_by_organiser`` (never charged, but traced).
    """
    records = list(records)
    justifications = list(justifications)
    category = tariff_category_of(enrollment)
    lo, hi = max(start, enrollment.start), min(end, enrollment.end)
    if hi < lo:
        return []
    facts: list[DayFacts] = []
    for line in attendance_lines(
        enrollment, book, lo, hi, records=records, justifications=justifications
    ):
        present = None if line.presence is None else line.presence.value == "present"
        justified = line.booked and line.justified and present is not True
        facts.append(
            DayFacts(
                child_id=enrollment.child_id,
                household_id=enrollment.household_id,
                enrollment_id=enrollment.id,
                service_id=enrollment.service.id,
                category=category,
                day=line.day,
                booked=line.booked,
                present=False if justified else present,
                absence_justified=justified,
                late_booking=line.booked and line.late_booked,
                late_cancellation=(not line.booked) and line.late_cancelled,
            )
        )
    for day in book.booked_days(lo, hi):
        if enrollment.closure(day) is not None:
            facts.append(
                DayFacts(
                    child_id=enrollment.child_id,
                    household_id=enrollment.household_id,
                    enrollment_id=enrollment.id,
                    service_id=enrollment.service.id,
                    category=category,
                    day=day,
                    booked=True,
                    closed_by_organiser=True,
                )
            )
    return facts


def period_facts(
    enrollment: Enrollment,
    book: ReservationBook,
    start: date,
    end: date,
    *,
    records: Iterable[AttendanceRecord] = (),
    justifications: Iterable[AbsenceJustification] = (),
    open_days: frozenset[date] | None = None,
) -> PeriodFacts:
    """:func:`day_facts` in bulk: the same facts as one :class:`PeriodFacts`.

    ``PeriodFacts.day_facts()`` gives what :func:`day_facts` gives (in day order).
    ``open_days``: the enrollment calendar's service days from ``max(start, enrollment.start)``
    to ``min(end, enrollment.end)``, when the caller has them (enrollments of a batch share a
    few calendars); computed otherwise.
    """
    category = tariff_category_of(enrollment)
    lo, hi = max(start, enrollment.start), min(end, enrollment.end)
    identity: dict[str, Any] = {
        "child_id": enrollment.child_id,
        "household_id": enrollment.household_id,
        "enrollment_id": enrollment.id,
        "service_id": enrollment.service.id,
        "category": category,
    }
    if hi < lo:
        return PeriodFacts(**identity)
    if open_days is None:
        open_days = frozenset(enrollment.open_days(lo, hi))
    booked: set[date] = set()
    closed: set[date] = set()
    for day in book.booked_days(lo, hi):
        if day in open_days:
            booked.add(day)
        elif enrollment.closure(day) is not None:
            closed.add(day)
    present: set[date] = set()
    absent: set[date] = set()
    justified: set[date] = set()
    by_day = {r.day: r for r in records if r.enrollment_id == enrollment.id}  # last one wins
    for day, record in by_day.items():
        if day not in open_days:
            continue
        if record.presence is Presence.PRESENT:
            present.add(day)
        else:
            absent.add(day)
            if record.justified and day in booked:
                justified.add(day)
    covering = [j for j in justifications if j.enrollment_id == enrollment.id]
    if covering:
        for day in booked - present - justified:
            if any(j.covers(day) for j in covering):
                justified.add(day)
    late_booked = booked.intersection(book.late_booked_days()) if book.late_booked else ()
    late_cancelled = (
        {d for d in book.late_cancelled_days() if d in open_days and d not in booked}
        if book.late_cancelled
        else ()
    )
    # Consistent by construction, from validated values (an enrollment's ids, the book's and
    # the records' dates): present and absent come from one record per day, justified days
    # are booked and not present, late bookings booked, late cancellations and closures
    # neither booked nor open days. Built without PeriodFacts' checks (compared by tests).
    return _unchecked_period_facts(
        **identity,
        booked=frozenset(booked) if booked else _NO_DAYS,
        closed=frozenset(closed) if closed else _NO_DAYS,
        present=frozenset(present) if present else _NO_DAYS,
        absent=frozenset(absent) if absent else _NO_DAYS,
        justified=frozenset(justified) if justified else _NO_DAYS,
        late_booked=frozenset(late_booked) if late_booked else _NO_DAYS,
        late_cancelled=frozenset(late_cancelled) if late_cancelled else _NO_DAYS,
    )


_unchecked_period_facts = unchecked(PeriodFacts)
_NO_DAYS: frozenset[date] = frozenset()


def _renumbered(invoice: Invoice, number: str) -> Invoice:
    if invoice.number == number:
        return invoice
    # Same deterministic id scheme as canteen_core.domain.invoicing ("invoice:<issuer>:<number>").
    return attrs.evolve(invoice, number=number, id=f"invoice:{invoice.issuer_id}:{number}")


# -- the service -------------------------------------------------------------------------------


class BillingService(ServiceBase):
    """``canteen.billing``: tariffs, billing runs, credit notes, statements and reminders."""

    def __init__(self, context: ServiceContext, options: BillingOptions | None = None) -> None:
        super().__init__(context)
        self.options = options or BillingOptions()

    @property
    def issuer_id(self) -> str:
        """The régie that bills (``[issuer] code`` of the deployment)."""
        return self._ctx.deployment.issuer.code

    @property
    def mode(self) -> BillingMode:
        """The deployment's billing mode (``[billing] mode``)."""
        if self._ctx.deployment.billing.mode is DeploymentBillingMode.PREPAID:
            return BillingMode.PREPAID
        return BillingMode.POSTPAID

    # -- tariffs -------------------------------------------------------------------------------

    def save_tariff_grid(self, actor: Actor, grid: TariffGrid) -> TariffGrid:
        """Store a new or changed tariff grid (``manage_tariffs``).

        Refused with :class:`InvalidInputError` when it overlaps another grid of the same
        service in time. Issued invoices never change: they keep the price they were billed at.
        """
        if not isinstance(grid, TariffGrid):
            raise InvalidInputError("expected a TariffGrid", path="grid")
        with self._ctx.use_case(actor, Action.MANAGE_TARIFFS) as tx:
            others = [g for g in tx.uow.tariffs.list(service_id=grid.service_id) if g.id != grid.id]
            TariffBook(grids=(*others, grid))  # raises on an overlap
            tx.uow.tariffs.save(grid)
        return grid

    def remove_tariff_grid(self, actor: Actor, grid_id: str) -> None:
        """Delete a tariff grid (``manage_tariffs``); :class:`NotFoundError` if unknown."""
        with self._ctx.use_case(actor, Action.MANAGE_TARIFFS) as tx:
            tx.uow.tariffs.remove(grid_id)

    def tariff_grids(self, actor: Actor, *, service_id: str | None = None) -> list[TariffGrid]:
        """The stored grids (of one service), by service and start date (``view_reports``)."""
        with self._ctx.use_case(actor, Action.VIEW_REPORTS, read_only=True) as tx:
            where = {} if service_id is None else {"service_id": service_id}
            grids = list(tx.uow.tariffs.list(**where))
        return sorted(grids, key=lambda g: (g.service_id, g.valid_from))

    def _tariff_book(self, uow: UnitOfWork) -> TariffBook:
        return TariffBook(grids=tuple(uow.tariffs.list()))

    # -- post-paid -----------------------------------------------------------------------------

    def run_postpaid(
        self, actor: Actor, period: str, *, household_ids: Iterable[str] | None = None
    ) -> BillingReport:
        """Bill the month ``period`` (``"2023-09"``) post-paid, for all households or a subset.

        ``run_billing`` (finance, admin, system). One transaction per batch of households (see
        the module docstring); re-running never invoices twice. Raises before writing anything
        for a bad period, an unknown household or a prepaid deployment.
        """
        start, end = parse_period(period)
        if self.mode is not BillingMode.POSTPAID:
            raise RuleViolationError(
                "this deployment bills prepaid: invoices come from validated baskets"
            )
        subset = None if household_ids is None else list(dict.fromkeys(household_ids))
        with self._ctx.use_case(actor, Action.RUN_BILLING, read_only=True) as tx:
            tariffs = TariffBook(grids=tuple(tx.uow.tariffs.list()))
            if subset is None:
                ids = sorted(tx.uow.households.ids())
            else:
                for index, household_id in enumerate(subset):
                    if not isinstance(household_id, str) or not household_id:
                        raise InvalidInputError(
                            "household ids are strings", path=f"household_ids[{index}]"
                        )
                    if tx.uow.households.find(household_id) is None:
                        raise NotFoundError(f"unknown household {household_id!r}")
                ids = sorted(subset)
        issued: list[IssuedInvoice] = []
        already: list[str] = []
        conflicts: list[str] = []
        empty: list[str] = []
        batches = 0
        for batch in _chunks(ids, self.options.batch_size):
            batches += 1
            with self._ctx.use_case(actor, Action.RUN_BILLING) as tx:
                result = self._bill_batch(tx, batch, start, end, tariffs)
            issued.extend(result[0])
            already.extend(result[1])
            conflicts.extend(result[2])
            empty.extend(result[3])
        return BillingReport(
            period_start=start,
            period_end=end,
            issued=tuple(issued),
            already_billed=tuple(already),
            conflicts=tuple(conflicts),
            without_charges=tuple(empty),
            batches=batches,
        )

    def _bill_batch(
        self,
        tx: Transaction,
        batch: Sequence[str],
        start: date,
        end: date,
        tariffs: TariffBook,
    ) -> tuple[list[IssuedInvoice], list[str], list[str], list[str]]:
        """Bill one batch of households in the current transaction, reading each kind of
        document with one query for the whole batch (an ``IN`` list of its households)."""
        uow = tx.uow
        issue_date = _paris_date(tx.now)
        # Lock the numbering first: a concurrent run waits here, then sees our billing keys.
        sequence = uow.invoices.sequence(self.issuer_id, issue_date.year)
        keys = {
            household_id: billing_key(
                BillingMode.POSTPAID,
                issuer_id=self.issuer_id,
                household_id=household_id,
                first_day=start,
                last_day=end,
            )
            for household_id in batch
        }
        billed = uow.invoices.billed_keys(keys.values())
        already = [household_id for household_id in batch if keys[household_id] in billed]
        todo = [household_id for household_id in batch if keys[household_id] not in billed]
        # Households removed since the run started are left out.
        households = uow.households.find_many(todo)
        carried: dict[str, int] = {}
        services: dict[str, str] = {}
        facts = self._batch_facts(uow, households, start, end, carried, services)
        run = _run_postpaid_periods(
            issuer_id=self.issuer_id,
            period_start=start,
            period_end=end,
            facts=facts,
            households=households,
            tariffs=tariffs,
            sequence=sequence,
            issued_at=tx.now,
            terms=self.options.terms,
            already_billed=billed,
            policy=self.options.charging,
            carried_runs=carried,
            service_names=services,
        )
        conflicts: list[str] = []
        stored, current = self._store_invoices(uow, run.invoices, sequence, conflicts)
        issued: list[IssuedInvoice] = []
        # The run's events, for the invoices stored with the run's number (the same event).
        events = {
            id(invoice): event for invoice, event in zip(run.invoices, run.events, strict=True)
        }
        for numbered in stored:
            self._announce(
                tx, numbered, households[numbered.household_id], events.get(id(numbered))
            )
            issued.append(
                IssuedInvoice(
                    invoice_id=numbered.id,
                    number=numbered.number,
                    household_id=numbered.household_id,
                    total=numbered.total,
                )
            )
        if current.last_used != sequence.last_used:
            uow.invoices.save_sequence(current)
        return issued, already, conflicts, list(run.without_charges)

    @staticmethod
    def _store_invoices(
        uow: UnitOfWork,
        invoices: Sequence[Invoice],
        sequence: NumberSequence,
        conflicts: list[str],
    ) -> tuple[list[Invoice], NumberSequence]:
        """Number and store ``invoices``: one bulk insert, or one by one after a conflict.

        The bulk insert runs in a savepoint; when another run billed one of the households
        meanwhile (a unique billing key, :class:`ConflictError`), it is undone and the
        invoices are stored one by one, each conflicting household skipped and its number
        reused by the next invoice (numbering stays gapless).
        """
        if not invoices:
            return [], sequence
        numbers, advanced = sequence.allocate(len(invoices))
        numbered = [
            _renumbered(invoice, number) for invoice, number in zip(invoices, numbers, strict=True)
        ]
        try:
            with uow.savepoint():
                uow.invoices.add_many(numbered)
        except ConflictError:
            pass
        else:
            return numbered, advanced
        stored: list[Invoice] = []
        current = sequence
        for invoice in invoices:
            one, after = current.allocate(1)
            candidate = _renumbered(invoice, one[0])
            try:
                with uow.savepoint():
                    uow.invoices.add(candidate)
            except ConflictError:
                # Another run billed this household meanwhile: its number goes to the next one.
                conflicts.append(invoice.household_id)
                continue
            current = after
            stored.append(candidate)
        return stored, current

    def _batch_facts(
        self,
        uow: UnitOfWork,
        households: Mapping[str, Household],
        start: date,
        end: date,
        carried: dict[str, int],
        services: dict[str, str],
    ) -> list[PeriodFacts]:
        """The billing facts of a batch of households, with a constant number of queries:
        one each for enrollments, attendance and certificates (``IN`` lists) and one
        :meth:`~canteen_core.ports.storage.ReservationRepository.load_many` for the period's days of
        the books; the books and attendance before the period (a justified-absence run open
        when it starts) are read only for the enrollments with a justified absence in it."""
        if not households:
            return []
        lookback = start - timedelta(days=self.options.carence_lookback_days)
        # An enrollment ended before the period has nothing to bill nor a run to carry.
        window = {"first_day": Range(None, end), "last_day": Range(start, None)}
        members = tuple(households)
        enrollments: list[Enrollment] = []
        # Loaded enrollments mostly share calendar instances already: intern each one once.
        calendars: dict[int, ServiceCalendar] = {}
        for enrollment in uow.enrollments.list(household_id=members, **window):
            calendar = enrollment.calendar
            found = calendars.get(id(calendar))
            if found is None:
                found = calendars[id(calendar)] = self._ctx.intern(enrollment).calendar
            if found is not calendar:
                enrollment = attrs.evolve(enrollment, calendar=found)
            enrollments.append(enrollment)
        if not enrollments:
            return []
        books = uow.reservations.load_many((e.id for e in enrollments), between=(start, end))
        records: dict[str, list[AttendanceRecord]] = defaultdict(list)
        for record in uow.attendance.list(household_id=members, day=Range(start, end)):
            records[record.enrollment_id].append(record)
        # A certificate only matters for a booked day the child was not seen: most
        # enrollments have none, and are left out of the certificates query.
        missed: list[str] = []
        for enrollment in enrollments:
            book = books.get(enrollment.id)
            if book is None:
                continue
            seen = {
                r.day
                for r in records[enrollment.id]
                if r.presence is Presence.PRESENT and start <= r.day <= end
            }
            if book.count(start, end) > sum(1 for day in seen if book.is_booked(day)):
                missed.append(enrollment.id)
        justifications: defaultdict[str, list[AbsenceJustification]] = defaultdict(list)
        if missed:
            for justification in uow.absences.list(
                enrollment_id=tuple(missed),
                first_day=Range(None, end),
                last_day=Range(lookback, None),
            ):
                justifications[justification.enrollment_id].append(justification)
        # Enrollments of a batch share a few calendars: their service days are computed once.
        open_days: dict[tuple[int, date, date], frozenset[date]] = {}
        facts: list[PeriodFacts] = []
        ill: list[Enrollment] = []  # a justified absence in the period: a run may be open
        for enrollment in enrollments:
            services[enrollment.service.id] = enrollment.service.name
            book = books.get(enrollment.id) or ReservationBook.empty(enrollment)
            lo, hi = max(start, enrollment.start), min(end, enrollment.end)
            days = None
            if lo <= hi:
                shared = (id(enrollment.calendar), lo, hi)
                days = open_days.get(shared)
                if days is None:
                    days = open_days[shared] = frozenset(enrollment.open_days(lo, hi))
            mine = period_facts(
                enrollment,
                book,
                start,
                end,
                records=records[enrollment.id],
                justifications=justifications[enrollment.id],
                open_days=days,
            )
            facts.append(mine)
            if mine.justified and start > enrollment.start:
                ill.append(enrollment)
        if ill and lookback < start:
            eve = start - timedelta(days=1)
            before = uow.reservations.load_many((e.id for e in ill), between=(lookback, eve))
            for record in uow.attendance.list(
                enrollment_id=tuple(e.id for e in ill), day=Range(lookback, eve)
            ):
                records[record.enrollment_id].append(record)
            for enrollment in ill:
                run = _justified_run_before(
                    enrollment,
                    before.get(enrollment.id) or ReservationBook.empty(enrollment),
                    start,
                    self.options.carence_lookback_days,
                    records[enrollment.id],
                    justifications[enrollment.id],
                )
                if run:
                    carried[enrollment.id] = run
        return facts

    def _announce(
        self,
        tx: Transaction,
        invoice: Invoice,
        household: Household,
        event: InvoiceIssued | None = None,
    ) -> None:
        """Emit ``invoice``'s :class:`InvoiceIssued` (``event`` when already built for it at
        ``tx.now``) and queue its e-mails."""
        if event is None or event.occurred_at != tx.now:
            event = invoice.issued_event(tx.now)
        tx.emit(event)
        tx.send(*self._invoice_messages(event, invoice, household))

    def _invoice_messages(
        self, event: InvoiceIssued, invoice: Invoice, household: Household
    ) -> list[OutgoingMessage]:
        recipients = household_recipients(household)
        if not recipients:
            return []
        return self._ctx.notifier.invoice_issued(
            event, recipients, label=invoice.label, payable_online_from=invoice.payment_open_date
        )

    # -- prepaid -------------------------------------------------------------------------------

    def _family_or(self, actor: Actor, staff_action: Action, family_action: Action) -> Action:
        return staff_action if is_allowed(actor, staff_action) else family_action

    def invoice_basket(self, actor: Actor, household_id: str, month: str) -> Invoice | None:
        """Invoice the household's validated reservation basket for ``month`` (prepaid mode).

        A family validates its own basket (``book_meals``); finance may do it for any
        household (``run_billing``). Only booked days not invoiced yet (or invoiced and since
        credited) are billed, on a new invoice named after the month ("SEPTEMBRE 2023"); with
        nothing new, nothing is issued and ``None`` is returned.
        """
        start, end = parse_period(month)
        if self.mode is not BillingMode.PREPAID:
            raise RuleViolationError("this deployment bills post-paid, after attendance")
        action = self._family_or(actor, Action.RUN_BILLING, Action.BOOK_MEALS)
        with self._ctx.use_case(actor, action, household_id=_household_id(household_id)) as tx:
            uow = tx.uow
            household = uow.households.get(household_id)
            issue_date = _paris_date(tx.now)
            sequence = uow.invoices.sequence(self.issuer_id, issue_date.year)
            previous = [
                invoice
                for invoice in uow.invoices.list(household_id=household_id)
                if invoice.mode is BillingMode.PREPAID and invoice.period_start == start
            ]
            covered = self._invoiced_days(uow, previous)
            bookings: list[DayFacts] = []
            services: dict[str, str] = {}
            for enrollment in uow.enrollments.list(household_id=household_id):
                if enrollment.start > end or enrollment.end < start:
                    continue
                enrollment = self._ctx.intern(enrollment)
                services[enrollment.service.id] = enrollment.service.name
                book = uow.reservations.load(enrollment.id)
                late = set(book.late_booked_days())
                category = tariff_category_of(enrollment)
                for day in book.booked_days(start, end):
                    key = (enrollment.child_id, enrollment.service.id, day)
                    if key in covered or not enrollment.is_bookable(day):
                        continue
                    bookings.append(
                        DayFacts(
                            child_id=enrollment.child_id,
                            household_id=household_id,
                            enrollment_id=enrollment.id,
                            service_id=enrollment.service.id,
                            category=category,
                            day=day,
                            booked=True,
                            late_booking=day in late,
                        )
                    )
            if not bookings:
                return None
            result = invoice_prepaid_basket(
                issuer_id=self.issuer_id,
                basket_id=f"b{len(previous) + 1}",
                household=household,
                bookings=bookings,
                tariffs=self._tariff_book(uow),
                sequence=sequence,
                issued_at=tx.now,
                terms=self.options.terms,
                already_billed=uow.invoices.billed_keys(
                    [
                        billing_key(
                            BillingMode.PREPAID,
                            issuer_id=self.issuer_id,
                            household_id=household_id,
                            first_day=start,
                            last_day=end,
                            basket_id=f"b{len(previous) + 1}",
                        )
                    ]
                ),
                service_names=services,
            )
            if result.invoice is None:
                return None
            uow.invoices.add(result.invoice)
            uow.invoices.save_sequence(result.sequence)
            self._announce(tx, result.invoice, household)
            return result.invoice

    def _invoiced_days(
        self, uow: UnitOfWork, invoices: Iterable[Invoice]
    ) -> set[tuple[str | None, str, date]]:
        """(child, service, day) billed by ``invoices`` and not credited since."""
        days: set[tuple[str | None, str, date]] = set()
        for invoice in invoices:
            for line in invoice.lines:
                days |= {(line.child_id, line.service_id, day) for day in line.days}
            for note in uow.credit_notes.list(invoice_id=invoice.id):
                days -= note.credited_days()
        return days

    def credit_cancellations(self, actor: Actor, household_id: str, month: str) -> list[CreditNote]:
        """Credit prepaid days of ``month`` cancelled before their deadline (prepaid mode).

        Compares what the household's prepaid invoices of the month bill with its current
        bookings: a billed day no longer booked, not marked as a late cancellation and not
        credited yet is credited at the price it was billed. One credit note per invoice.
        Families trigger it for their own household (``cancel_meals``), finance for any
        (``issue_credit_note``). The reservations service should call it after cancellations.
        """
        start, end = parse_period(month)
        action = self._family_or(actor, Action.ISSUE_CREDIT_NOTE, Action.CANCEL_MEALS)
        with self._ctx.use_case(actor, action, household_id=_household_id(household_id)) as tx:
            uow = tx.uow
            uow.households.get(household_id)
            invoices = [
                invoice
                for invoice in uow.invoices.list(household_id=household_id)
                if invoice.mode is BillingMode.PREPAID and invoice.period_start == start
            ]
            if not invoices:
                return []
            books: dict[tuple[str, str], list[tuple[Enrollment, ReservationBook]]] = defaultdict(
                list
            )
            for enrollment in uow.enrollments.list(household_id=household_id):
                if enrollment.start <= end and enrollment.end >= start:
                    books[(enrollment.child_id, enrollment.service.id)].append(
                        (enrollment, uow.reservations.load(enrollment.id))
                    )
            issue_date = _paris_date(tx.now)
            sequence = uow.invoices.sequence(
                self.issuer_id, issue_date.year, kind="credit_note", prefix=CREDIT_NOTE_PREFIX
            )
            notes: list[CreditNote] = []
            for invoice in invoices:
                previous = list(uow.credit_notes.list(invoice_id=invoice.id))
                credited: set[tuple[str | None, str, date]] = set()
                for note in previous:
                    credited |= note.credited_days()
                cancelled: list[tuple[str, str, date]] = []
                for line in invoice.lines:
                    if line.child_id is None:
                        continue
                    for day in line.days:
                        if (line.child_id, line.service_id, day) in credited:
                            continue
                        if _cancelled_in_time(books[(line.child_id, line.service_id)], day):
                            cancelled.append((line.child_id, line.service_id, day))
                if not cancelled:
                    continue
                note, sequence = prepaid_cancellation_credit(
                    invoice,
                    cancelled=cancelled,
                    sequence=sequence,
                    issue_date=issue_date,
                    previous=previous,
                )
                uow.credit_notes.add(note)
                notes.append(note)
            if notes:
                uow.invoices.save_sequence(sequence, kind="credit_note")
            return notes

    # -- credit notes --------------------------------------------------------------------------

    def issue_credit_note(
        self,
        actor: Actor,
        invoice_id: str,
        *,
        reason: str,
        amount: Money | None = None,
        lines: Iterable[InvoiceLine] | None = None,
    ) -> CreditNote:
        """Issue a credit note (avoir) on an invoice (``issue_credit_note``: finance, admin).

        Give either ``lines`` or an ``amount`` (one line "Avoir - <reason>"); with neither, the
        whole remainder of the invoice is credited (cancelling it). Refused above what remains
        of the invoice after earlier credit notes. The ledger turns a credit on a paid invoice
        into household credit.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInputError("give the reason of the credit note", path="reason")
        if amount is not None and lines is not None:
            raise InvalidInputError("give lines or an amount, not both", path="amount")
        if amount is not None and (not isinstance(amount, Money) or not amount.is_positive):
            raise InvalidInputError(f"must be positive Money, got {amount!r}", path="amount")
        with self._ctx.use_case(actor, Action.ISSUE_CREDIT_NOTE) as tx:
            uow = tx.uow
            invoice = uow.invoices.get(invoice_id)
            previous = list(uow.credit_notes.list(invoice_id=invoice.id))
            remaining = invoice.total - Money.sum((n.total for n in previous), invoice.currency)
            if lines is not None:
                items = tuple(lines)
            else:
                value = remaining if amount is None else amount
                if not value.is_positive:
                    raise RuleViolationError(f"invoice {invoice.number} is already fully credited")
                items = (
                    InvoiceLine.build(
                        service_id=invoice.lines[0].service_id,
                        description=f"Avoir – {reason.strip()}",
                        quantity=1,
                        unit_price=value,
                    ),
                )
            issue_date = max(_paris_date(tx.now), invoice.issue_date)
            sequence = uow.invoices.sequence(
                self.issuer_id, issue_date.year, kind="credit_note", prefix=CREDIT_NOTE_PREFIX
            )
            note, advanced = credit_note(
                invoice,
                lines=items,
                reason=reason.strip(),
                sequence=sequence,
                issue_date=issue_date,
                previous=previous,
            )
            account = household_account(uow, invoice.household_id)
            account.add_credit_note(note)  # ledger rules checked before anything is stored
            uow.credit_notes.add(note)
            uow.invoices.save_sequence(advanced, kind="credit_note")
        return note

    # -- reading -------------------------------------------------------------------------------

    def invoice(self, actor: Actor, invoice_id: str) -> InvoiceState:
        """One invoice with what was paid, credited and is left to pay (``view_invoices``).

        A family sees only its own households' invoices (:class:`NotAuthorizedError`).
        """
        with self._ctx.use_case(actor, Action.VIEW_INVOICES, read_only=True) as tx:
            invoice = tx.uow.invoices.get(invoice_id)
            tx.authorize(invoice.household_id)
            return household_account(tx.uow, invoice.household_id).invoice_state(invoice_id)

    def statement(self, actor: Actor, household_id: str) -> Statement:
        """The household statement: invoices, credit notes, payments, refunds and balance.

        ``view_invoices``: a guardian sees only their own households.
        """
        with self._ctx.use_case(
            actor, Action.VIEW_INVOICES, household_id=_household_id(household_id), read_only=True
        ) as tx:
            tx.uow.households.get(household_id)
            return household_account(tx.uow, household_id).statement()

    def invoices_page(self, actor: Actor, household_id: str) -> InvoicesPage:
        """The "MES FACTURES" data: per invoice its date, due date, total, balance due, status
        and from when it can be paid online, plus "Vous avez N facture(s) non réglée(s)".

        ``view_invoices``: a guardian sees only their own households.
        """
        with self._ctx.use_case(
            actor, Action.VIEW_INVOICES, household_id=_household_id(household_id), read_only=True
        ) as tx:
            tx.uow.households.get(household_id)
            account = household_account(tx.uow, household_id)
            today = _paris_date(tx.now)
        return self._page(account, today)

    def statements(self, actor: Actor, household_ids: Iterable[str]) -> dict[str, Statement]:
        """:meth:`statement` for many households at once (a finance office's month end, the
        demo's summary), read with a few queries per 500 households; by household id, in the
        order given. :class:`NotFoundError` for an unknown household, nothing returned."""
        accounts, _ = self._read_accounts(actor, household_ids)
        return {household_id: account.statement() for household_id, account in accounts}

    def invoices_pages(self, actor: Actor, household_ids: Iterable[str]) -> dict[str, InvoicesPage]:
        """:meth:`invoices_page` for many households at once (few queries per 500)."""
        accounts, today = self._read_accounts(actor, household_ids)
        return {household_id: self._page(account, today) for household_id, account in accounts}

    def _read_accounts(
        self, actor: Actor, household_ids: Iterable[str]
    ) -> tuple[list[tuple[str, HouseholdAccount]], date]:
        if isinstance(household_ids, str) or not isinstance(household_ids, Iterable):
            raise InvalidInputError("expected household ids", path="household_ids")
        ids = list(dict.fromkeys(household_ids))
        for index, household_id in enumerate(ids):
            if not isinstance(household_id, str) or not household_id:
                raise InvalidInputError("household ids are strings", path=f"household_ids[{index}]")
        with self._ctx.use_case(actor, Action.VIEW_INVOICES, read_only=True) as tx:
            tx.authorize_many(ids)
            for household_id in ids:
                if tx.uow.households.find(household_id) is None:
                    raise NotFoundError(f"unknown household {household_id!r}")
            accounts = household_accounts(tx.uow, ids)
            today = _paris_date(tx.now)
        return [(household_id, accounts[household_id]) for household_id in ids], today

    def _page(self, account: HouseholdAccount, today: date) -> InvoicesPage:
        rows = [
            InvoiceRow(
                invoice_id=state.invoice.id,
                number=state.invoice.number,
                label=state.invoice.label,
                issue_date=state.invoice.issue_date,
                due_date=state.invoice.due_date,
                total=state.invoice.total,
                paid=state.paid,
                balance_due=state.balance_due,
                status=state.status.value,
                status_label=state.status.label_fr,
                payable_online_from=state.invoice.payment_open_date,
                online_payment_refusal=online_payment_refusal(
                    status=state.status.value,
                    balance_due=state.balance_due,
                    payment_open_date=state.invoice.payment_open_date,
                    today=today,
                    minimum=self.options.online_payment_minimum,
                ),
            )
            for state in account.invoice_states()
        ]
        rows.sort(key=lambda row: (row.issue_date, row.number), reverse=True)
        return InvoicesPage(
            household_id=account.household_id,
            rows=tuple(rows),
            balance_due=account.balance_due,
            available_credit=account.available_credit,
        )

    # -- reminders and arrears -----------------------------------------------------------------

    def run_reminders(self, actor: Actor, *, today: date | None = None) -> ReminderReport:
        """Send the reminders due on ``today`` (default: today in Europe/Paris).

        ``send_reminders`` (finance, admin, system). Each (invoice, level) is sent once: an
        :class:`~canteen_core.domain.events.InvoiceOverdue` event and an email to the guardians.
        Households are processed in batches, one transaction each.
        """
        if today is not None and (not isinstance(today, date) or isinstance(today, datetime)):
            raise InvalidInputError(f"must be a date, got {today!r}", path="today")
        with self._ctx.use_case(actor, Action.SEND_REMINDERS, read_only=True) as tx:
            day = today or _paris_date(tx.now)
            ids = sorted(household.id for household in tx.uow.households.all())
        sent: list[tuple[str, int]] = []
        messages = 0
        for batch in _chunks(ids, self.options.batch_size):
            with self._ctx.use_case(actor, Action.SEND_REMINDERS) as tx:
                for household_id in batch:
                    household = tx.uow.households.find(household_id)
                    if household is None:
                        continue
                    pairs, count = self._remind(tx, household, day)
                    sent.extend(pairs)
                    messages += count
        return ReminderReport(sent=tuple(sent), households=len(ids), messages=messages)

    def _remind(
        self, tx: Transaction, household: Household, today: date
    ) -> tuple[list[tuple[str, int]], int]:
        uow = tx.uow
        account = household_account(uow, household.id)
        schedule = self.options.dunning
        overdue = [
            state for state in account.open_invoices() if reminder_level(state, today, schedule) > 0
        ]
        if not overdue:
            return [], 0
        counters: dict[str, NumberSequence] = {}
        already: set[tuple[str, int]] = set()
        for state in overdue:
            counter = uow.invoices.sequence(
                _DUNNING_COUNTER, state.invoice.issue_date.year, kind=state.invoice.id
            )
            counters[state.invoice.id] = counter
            if counter.last_used:
                already.add((state.invoice.id, counter.last_used))
        events = due_reminders(
            account, today=today, occurred_at=tx.now, schedule=schedule, already_sent=already
        )
        recipients = household_recipients(household)
        count = 0
        for event in events:
            uow.invoices.save_sequence(
                attrs.evolve(counters[event.invoice_id], last_used=event.level),
                kind=event.invoice_id,
            )
            tx.emit(event)
            if recipients:
                found = self._ctx.notifier.invoice_overdue(event, recipients)
                tx.send(*found)
                count += len(found)
        return [(event.invoice_id, event.level) for event in events], count

    def booking_block_reason(self, actor: Actor, household_id: str) -> str | None:
        """Why the household may not book new days now (arrears rule), or ``None``.

        ``view_invoices``: a guardian may ask for their own household (the portal shows it).
        """
        with self._ctx.use_case(
            actor, Action.VIEW_INVOICES, household_id=_household_id(household_id), read_only=True
        ) as tx:
            return booking_block_reason(
                tx.uow,
                household_id,
                today=_paris_date(tx.now),
                rule=self.options.arrears_rule,
            )

    def ensure_bookings_allowed(self, uow: UnitOfWork, household_id: str) -> None:
        """For the reservations service, inside its booking transaction: raise
        :class:`RuleViolationError` when the arrears rule blocks new bookings."""
        reason = booking_block_reason(
            uow,
            household_id,
            today=paris_today(self._ctx.clock),
            rule=self.options.arrears_rule,
        )
        if reason is not None:
            raise RuleViolationError(reason)


def _household_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"expected a household id, got {value!r}", path="household_id")
    return value


def _cancelled_in_time(entries: Sequence[tuple[Enrollment, ReservationBook]], day: date) -> bool:
    """Whether ``day`` is no longer booked in any matching enrollment, and was not cancelled
    after its deadline (a late cancellation stays billed)."""
    relevant = [(e, b) for e, b in entries if e.covers(day)]
    if not relevant:
        return False
    for _, book in relevant:
        if book.is_booked(day) or day in set(book.late_cancelled_days()):
            return False
    return True
