"""Household accounts and statements: the ledger rebuilt from stored documents, the
statement, the "MES FACTURES" page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import (
    CreditHeldError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.invoicing import (
    CreditNote,
    Invoice,
)
from canteen_core.domain.ledger import (
    HouseholdAccount,
    InvoiceState,
    InvoiceStatus,
    Payment,
    Refund,
    Statement,
)
from canteen_core.domain.money import Money
from canteen_core.domain.online_payment import online_payment_refusal
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.billing._base import BillingBase, _chunks, _household_id


@attrs.frozen(kw_only=True)
class InvoiceRow:
    """One line of the portal's "MES FACTURES" table. ``balance_due`` includes a scheduled
    direct debit until its collection date (``scheduled_on``; the status label says it)."""

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
    scheduled_on: date | None = None  # a direct debit covers it, collected on that day

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
        """Invoices with something left to pay (a scheduled debit not collected yet included)."""
        return sum(1 for row in self.rows if row.balance_due.is_positive)

    @property
    def summary_fr(self) -> str:
        """``"Vous avez 1 facture non réglée"`` as the portal shows it, with the scheduled
        debits (``", prélèvement prévu le 20/10/2023"``)."""
        count = self.unpaid_count
        if count == 0:
            return "Vous n'avez aucune facture non réglée"
        plural = "s" if count > 1 else ""
        summary = f"Vous avez {count} facture{plural} non réglée{plural}"
        days = [r.scheduled_on for r in self.rows if r.balance_due.is_positive and r.scheduled_on]
        if not days:
            return summary
        if len(days) < count:
            return f"{summary}, dont {len(days)} avec un prélèvement prévu"
        if len(set(days)) > 1:
            return f"{summary}, prélèvements prévus"
        return f"{summary}, prélèvement prévu le {days[0]:%d/%m/%Y}"


def payment_refusal(state: InvoiceState, *, today: date, minimum: Money) -> str | None:
    """Why ``state``'s invoice cannot be paid online on ``today`` (French, for the family), or
    ``None``: a scheduled direct debit covers it (no double payment), or the reasons of
    :func:`~canteen_core.domain.online_payment.online_payment_refusal` for what is left."""
    if state.status is InvoiceStatus.DEBIT_SCHEDULED:
        return (
            f"Cette facture sera réglée par le prélèvement prévu le {state.scheduled_on:%d/%m/%Y}."
        )
    return online_payment_refusal(
        status=state.status.value,
        balance_due=state.uncovered,
        payment_open_date=state.invoice.payment_open_date,
        today=today,
        minimum=minimum,
    )


def household_account(
    uow: UnitOfWork, household_id: str, *, as_of: date | None = None
) -> HouseholdAccount:
    """The household's ledger account rebuilt from its stored documents, read on ``as_of``
    (the family's today: a direct debit collected later is scheduled, not paid; ``None``:
    every payment counts, as the operations need).

    Documents are replayed in date order (invoices, then credit notes, payments, rejections
    of the same day), so allocation is oldest invoice first and deterministic.
    """
    documents = uow.invoices.account_documents(household_id)
    return _replay(
        household_id,
        documents.invoices,
        documents.credit_notes,
        documents.payments,
        documents.refunds,
    ).on(as_of)


def refund_uncovered(uow: UnitOfWork, household_id: str, refund: Refund) -> bool:
    """Whether ``refund``, added to the household's documents, is one the account replayed in
    date order cannot cover: dated before the credit it pays back existed, or taking the
    credit a later refund or rejection needs. One read of the documents, replayed with and
    without it (movements already uncovered before it do not count)."""
    documents = uow.invoices.account_documents(household_id)

    def uncovered(refunds: Iterable[Refund]) -> set[str]:
        forced: set[str] = set()
        _replay(
            household_id,
            documents.invoices,
            documents.credit_notes,
            documents.payments,
            refunds,
            forced=forced,
        )
        return forced

    return bool(uncovered((*documents.refunds, refund)) - uncovered(documents.refunds))


def refuse_while_money_held(
    uow: UnitOfWork, household_id: str, *, today: date, refused: str
) -> None:
    """:class:`RuleViolationError` (``refused`` opens its French message) while the household
    owes money on an invoice (one a direct debit still to be collected covers included: it
    may come back unpaid), or :class:`~canteen_core.domain.errors.CreditHeldError` while it
    holds credit: removing the household would leave the debt, or the family's money, with
    no one to claim it from or pay it back to."""
    account = household_account(uow, household_id, as_of=today)
    due = [state for state in account.invoice_states() if state.balance_due.is_positive]
    if due:
        numbers = ", ".join(state.invoice.number for state in due[:5])
        more = ", …" if len(due) > 5 else ""
        raise RuleViolationError(
            f"{refused} : le foyer {household_id} a {len(due)} facture(s) impayée(s) "
            f"({numbers}{more}) ; elles doivent être réglées ou annulées d'abord"
        )
    credit = account.available_credit
    if credit.is_positive:
        raise CreditHeldError(
            f"{refused} : le foyer {household_id} détient un avoir de {credit.format_fr()} ; "
            "il doit d'abord lui être remboursé",
            household_id=household_id,
            credit=credit.amount,
        )


#: Households per ``IN`` list when reading many accounts at once.
_ACCOUNTS_CHUNK = 500


def household_accounts(
    uow: UnitOfWork, household_ids: Iterable[str], *, as_of: date | None = None
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
            ).on(as_of)
    return accounts


def _replay(
    household_id: str,
    invoices: Iterable[Invoice],
    notes: Iterable[CreditNote],
    payments: Iterable[Payment],
    refunds: Iterable[Refund],
    *,
    forced: set[str] | None = None,
) -> HouseholdAccount:
    """The account the documents make, replayed in date order. A refund or a rejection the
    account refuses at its date is applied anyway (stored documents are facts); its
    ``refund:<id>`` or ``rejection:<id>`` is added to ``forced`` when given."""
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
                if forced is not None:
                    forced.add(f"refund:{item.id}")
        else:
            assert isinstance(item, tuple)
            try:
                account = account.reject_payment(item[1].id, rejected_on=day)
            except RuleViolationError:
                account = _force_reject(account, item[1].id, day)
                if forced is not None:
                    forced.add(f"rejection:{item[1].id}")
    return account


def _force_reject(account: HouseholdAccount, payment_id: str, day: date) -> HouseholdAccount:
    """Apply a stored rejection even when it leaves a refund uncovered (replay only)."""
    payments = tuple(
        attrs.evolve(p, rejected_on=day) if p.id == payment_id else p for p in account.payments
    )
    allocations = tuple(a for a in account.allocations if a.payment_id != payment_id)
    return attrs.evolve(account, payments=payments, allocations=allocations).apply_credit()


class Statements(BillingBase):
    """Reading invoices, statements and the invoices page."""

    # -- reading -------------------------------------------------------------------------------

    def invoice(self, actor: Actor, invoice_id: str) -> InvoiceState:
        """One invoice with what was paid, credited and is left to pay (``view_invoices``).

        A family sees only its own households' invoices (:class:`NotAuthorizedError`).
        """
        with self._ctx.use_case(actor, Action.VIEW_INVOICES, read_only=True) as tx:
            invoice = tx.uow.invoices.get(invoice_id)
            tx.authorize(invoice.household_id)
            account = household_account(tx.uow, invoice.household_id, as_of=paris_date(tx.now))
            return account.invoice_state(invoice_id)

    def statement(self, actor: Actor, household_id: str) -> Statement:
        """The household statement: invoices, credit notes, payments, refunds and balance.

        ``view_invoices``: a guardian sees only their own households.
        """
        with self._ctx.use_case(
            actor, Action.VIEW_INVOICES, household_id=_household_id(household_id), read_only=True
        ) as tx:
            tx.uow.households.get(household_id)
            return household_account(tx.uow, household_id, as_of=paris_date(tx.now)).statement()

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
            today = paris_date(tx.now)
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
            today = paris_date(tx.now)
            accounts = household_accounts(tx.uow, ids, as_of=today)
        return [(household_id, accounts[household_id]) for household_id in ids], today

    def _page(self, account: HouseholdAccount, today: date) -> InvoicesPage:
        account = account.on(today)  # a debit not collected yet is shown as scheduled
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
                status_label=state.status_label_fr,
                payable_online_from=state.invoice.payment_open_date,
                online_payment_refusal=payment_refusal(
                    state, today=today, minimum=self.options.online_payment_minimum
                ),
                scheduled_on=state.scheduled_on if state.scheduled.is_positive else None,
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
