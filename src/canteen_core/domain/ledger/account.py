""":class:`HouseholdAccount`, the immutable aggregate of one household's invoices, credit notes,
payments, allocations and refunds (the rules are in :mod:`canteen_core.domain.ledger`); one
class that reads better whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import TypeVar

import attrs

from canteen_core.domain._validators import non_empty_str
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import PaymentReceived
from canteen_core.domain.invoicing import CreditNote, Invoice
from canteen_core.domain.ledger.records import (
    Allocation,
    InvoiceState,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
    Statement,
    StatementEntry,
)
from canteen_core.domain.money import EUR, Money

_R = TypeVar("_R", Invoice, CreditNote, Payment, Refund)


def _keys(record: Invoice | CreditNote | Payment | Refund) -> tuple[object, ...]:
    """What identifies a record in an account: its id, and for an invoice or a credit note
    also its number in its issuer's sequence."""
    if isinstance(record, Invoice | CreditNote):
        return (record.id, (record.issuer_id, record.number))
    return (record.id,)


def _recorded(records: Iterable[_R], record: _R, name: str, *, differently: bool = False) -> bool:
    """Whether ``record`` is among ``records`` already (recording it again changes nothing).

    Another record with one of its :func:`_keys` is a :class:`ConflictError`:
    ``"<name> is already recorded"``, ``differently`` added.
    """
    keys = _keys(record)
    for existing in records:
        if any(key in keys for key in _keys(existing)):
            if existing == record:
                return True
            raise ConflictError(
                f"{name} is already recorded" + (" differently" if differently else "")
            )
    return False


#: Per invoice id: money received on it, debits scheduled on it, their latest collection date.
_Coverage = tuple[dict[str, Money], dict[str, Money], dict[str, date]]


def _sorted_invoices(items: Iterable[Invoice]) -> tuple[Invoice, ...]:
    return tuple(sorted(items, key=lambda i: (i.issue_date, i.number, i.id)))


def _tuple_notes(items: Iterable[CreditNote]) -> tuple[CreditNote, ...]:
    return tuple(items)


def _tuple_payments(items: Iterable[Payment]) -> tuple[Payment, ...]:
    return tuple(items)


def _tuple_allocations(items: Iterable[Allocation]) -> tuple[Allocation, ...]:
    return tuple(items)


def _tuple_refunds(items: Iterable[Refund]) -> tuple[Refund, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class HouseholdAccount:
    """Everything billed to and paid by one household (immutable; operations return copies).

    ``as_of``: the day the account is read on (Europe/Paris). A direct debit whose collection
    date (``received_on``) comes after it is *scheduled*: it covers its invoice (no reminder,
    no second debit, no online payment) but is not received yet, so the invoice is not paid
    and the money is not in ``received``. ``None`` counts every payment as received. The
    operations allocate the same whatever ``as_of`` is.
    """

    household_id: str = attrs.field(validator=non_empty_str)
    currency: str = EUR
    invoices: tuple[Invoice, ...] = attrs.field(default=(), converter=_sorted_invoices)
    credit_notes: tuple[CreditNote, ...] = attrs.field(default=(), converter=_tuple_notes)
    payments: tuple[Payment, ...] = attrs.field(default=(), converter=_tuple_payments)
    allocations: tuple[Allocation, ...] = attrs.field(default=(), converter=_tuple_allocations)
    refunds: tuple[Refund, ...] = attrs.field(default=(), converter=_tuple_refunds)
    auto_apply_credit: bool = True
    as_of: date | None = None

    @classmethod
    def empty(cls, household_id: str, *, auto_apply_credit: bool = True) -> HouseholdAccount:
        """An account with nothing on it."""
        return cls(household_id=household_id, auto_apply_credit=auto_apply_credit)

    # -- queries ---------------------------------------------------------------------------

    def _zero(self) -> Money:
        return Money.zero(self.currency)

    def invoice(self, invoice_id: str) -> Invoice:
        """The invoice with ``invoice_id``; :class:`NotFoundError` if not on this account."""
        for invoice in self.invoices:
            if invoice.id == invoice_id:
                return invoice
        raise NotFoundError(f"no invoice {invoice_id!r} for household {self.household_id!r}")

    def payment(self, payment_id: str) -> Payment:
        """The payment with ``payment_id``; :class:`NotFoundError` if unknown."""
        for payment in self.payments:
            if payment.id == payment_id:
                return payment
        raise NotFoundError(f"no payment {payment_id!r} for household {self.household_id!r}")

    def on(self, day: date | None) -> HouseholdAccount:
        """The same account read on ``day`` (see ``as_of``)."""
        return attrs.evolve(self, as_of=day)

    def is_scheduled(self, payment: Payment) -> bool:
        """Whether ``payment`` is a direct debit still to be collected on ``as_of``."""
        return (
            self.as_of is not None
            and payment.method is PaymentMethod.DIRECT_DEBIT
            and not payment.is_rejected
            and payment.received_on > self.as_of
        )

    def _scheduled_payments(self) -> dict[str, Payment]:
        return {p.id: p for p in self.payments if self.is_scheduled(p)}

    def _coverage(self) -> _Coverage:
        """Per invoice: the money received on it, and the debits scheduled on it with the
        latest collection date."""
        scheduled_payments = self._scheduled_payments()
        paid: dict[str, Money] = defaultdict(self._zero)
        scheduled: dict[str, Money] = defaultdict(self._zero)
        scheduled_on: dict[str, date] = {}
        for allocation in self.allocations:
            key = allocation.invoice_id
            payment = scheduled_payments.get(allocation.payment_id)
            if payment is None:
                paid[key] = paid[key] + allocation.amount
                continue
            scheduled[key] = scheduled[key] + allocation.amount
            scheduled_on[key] = max(scheduled_on.get(key, payment.received_on), payment.received_on)
        return paid, scheduled, scheduled_on

    def _credited_by_invoice(self) -> dict[str, Money]:
        credited: dict[str, Money] = defaultdict(self._zero)
        for note in self.credit_notes:
            credited[note.invoice_id] = credited[note.invoice_id] + note.total
        return credited

    def _state(self, invoice: Invoice, coverage: _Coverage, credited: Money) -> InvoiceState:
        paid = coverage[0][invoice.id]
        scheduled = coverage[1][invoice.id]
        balance = invoice.total - credited - paid
        if credited >= invoice.total:
            status = InvoiceStatus.CANCELLED
        elif not balance.is_positive:
            status = InvoiceStatus.PAID
        elif scheduled.is_positive and not (balance - scheduled).is_positive:
            status = InvoiceStatus.DEBIT_SCHEDULED
        elif paid.is_positive or credited.is_positive or scheduled.is_positive:
            status = InvoiceStatus.PARTIALLY_PAID
        else:
            status = InvoiceStatus.ISSUED
        return InvoiceState(
            invoice=invoice,
            paid=paid,
            credited=credited,
            balance_due=balance,
            status=status,
            scheduled=scheduled,
            scheduled_on=coverage[2].get(invoice.id),
        )

    def invoice_states(self) -> tuple[InvoiceState, ...]:
        """Every invoice with paid, credited, scheduled, balance due and status, oldest first."""
        coverage = self._coverage()
        credited = self._credited_by_invoice()
        return tuple(
            self._state(invoice, coverage, credited[invoice.id]) for invoice in self.invoices
        )

    def invoice_state(self, invoice_id: str) -> InvoiceState:
        """One invoice's state; :class:`NotFoundError` if unknown."""
        invoice = self.invoice(invoice_id)
        return self._state(invoice, self._coverage(), self._credited_by_invoice()[invoice.id])

    def open_invoices(self) -> tuple[InvoiceState, ...]:
        """Invoices with something left to pay that no scheduled debit covers, oldest first
        (what reminders, a debit run or an online payment may ask for)."""
        return tuple(state for state in self.invoice_states() if state.uncovered.is_positive)

    @property
    def balance_due(self) -> Money:
        """What the household still owes on its invoices (reste à payer), scheduled debits
        included until collected."""
        return Money.sum((s.balance_due for s in self.invoice_states()), self.currency)

    @property
    def received(self) -> Money:
        """Payments received and not rejected (scheduled debits not yet)."""
        return Money.sum(
            (p.amount for p in self.payments if not p.is_rejected and not self.is_scheduled(p)),
            self.currency,
        )

    @property
    def allocated(self) -> Money:
        """Payments received applied to invoices."""
        scheduled = self._scheduled_payments()
        return Money.sum(
            (a.amount for a in self.allocations if a.payment_id not in scheduled), self.currency
        )

    @property
    def scheduled(self) -> Money:
        """Direct debits applied to invoices and still to be collected (see ``as_of``)."""
        return Money.sum((s.scheduled for s in self.invoice_states()), self.currency)

    @property
    def refunded(self) -> Money:
        """Credit paid back to the family."""
        return Money.sum((r.amount for r in self.refunds), self.currency)

    @property
    def available_credit(self) -> Money:
        """Money received and neither applied to invoices nor refunded."""
        return self.received - self.allocated - self.refunded

    def _free_credit(self) -> Money:
        """:attr:`available_credit` counting scheduled debits as received: the operations'
        view, the same whatever ``as_of`` is."""
        return self.on(None).available_credit

    def allocations_for(self, payment_id: str) -> tuple[Allocation, ...]:
        """The allocations of one payment."""
        return tuple(a for a in self.allocations if a.payment_id == payment_id)

    def payment_event(self, payment_id: str, occurred_at: datetime) -> PaymentReceived:
        """The :class:`~canteen_core.domain.events.PaymentReceived` event for a recorded payment."""
        payment = self.payment(payment_id)
        return PaymentReceived(
            occurred_at=occurred_at,
            payment_id=payment.id,
            household_id=self.household_id,
            amount=payment.amount,
            method=str(payment.method),
            invoice_ids=tuple(
                dict.fromkeys(a.invoice_id for a in self.allocations_for(payment.id))
            ),
            received_on=payment.received_on,
        )

    def statement(self) -> Statement:
        """The household statement: every document and movement, in date order. A scheduled
        debit is not a movement yet: it shows on its invoice and in ``scheduled`` only."""
        zero = self._zero()
        entries: list[tuple[date, int, StatementEntry]] = []
        for invoice in self.invoices:
            entries.append((invoice.issue_date, 0, StatementEntry(
                day=invoice.issue_date, kind="invoice", reference=invoice.number,
                label=f"Facture {invoice.label}", debit=invoice.total, credit=zero,
            )))  # fmt: skip
        for note in self.credit_notes:
            entries.append((note.issue_date, 1, StatementEntry(
                day=note.issue_date, kind="credit_note", reference=note.number,
                label=f"Avoir : {note.reason}", debit=zero, credit=note.total,
            )))  # fmt: skip
        for payment in self.payments:
            if self.is_scheduled(payment):
                continue
            entries.append((payment.received_on, 2, StatementEntry(
                day=payment.received_on, kind="payment", reference=payment.id,
                label=f"Règlement ({payment.method.label_fr})", debit=zero, credit=payment.amount,
            )))  # fmt: skip
            if payment.rejected_on is not None:
                entries.append((payment.rejected_on, 3, StatementEntry(
                    day=payment.rejected_on, kind="payment_rejected", reference=payment.id,
                    label=f"Rejet du règlement ({payment.method.label_fr})", debit=payment.amount,
                    credit=zero,
                )))  # fmt: skip
        for refund in self.refunds:
            entries.append((refund.refunded_on, 4, StatementEntry(
                day=refund.refunded_on, kind="refund", reference=refund.id,
                label=f"Remboursement ({refund.method.label_fr})", debit=refund.amount,
                credit=zero,
            )))  # fmt: skip
        entries.sort(key=lambda item: (item[0], item[1], item[2].reference))
        invoiced = Money.sum((i.total for i in self.invoices), self.currency)
        credited = Money.sum((n.total for n in self.credit_notes), self.currency)
        return Statement(
            household_id=self.household_id,
            entries=tuple(entry for _, _, entry in entries),
            invoices=self.invoice_states(),
            invoiced=invoiced,
            credited=credited,
            received=self.received,
            allocated=self.allocated,
            refunded=self.refunded,
            balance_due=self.balance_due,
            available_credit=self.available_credit,
            scheduled=self.scheduled,
            net_balance=invoiced - credited - self.received + self.refunded,
        )

    # -- operations ------------------------------------------------------------------------

    def _check_household(self, household_id: str, what: str) -> None:
        if household_id != self.household_id:
            raise InvalidInputError(
                f"{what} of household {household_id!r} on the account of {self.household_id!r}",
                path="household_id",
            )

    def _check_currency(self, money: Money, what: str) -> None:
        if money.currency != self.currency:
            raise InvalidInputError(
                f"{what} in {money.currency}, account in {self.currency}", path="currency"
            )

    def _check_own(self, household_id: str, money: Money, what: str) -> None:
        """``what`` is this household's, in the account's currency."""
        self._check_household(household_id, what)
        self._check_currency(money, what)

    def add_invoice(self, invoice: Invoice) -> HouseholdAccount:
        """Record an issued invoice (idempotent for the same invoice); applies available credit."""
        if not isinstance(invoice, Invoice):
            raise InvalidInputError("expected an Invoice", path="invoice")
        self._check_own(invoice.household_id, invoice.total, "invoice")
        if _recorded(self.invoices, invoice, f"another invoice {invoice.number}"):
            return self
        account = attrs.evolve(self, invoices=(*self.invoices, invoice))
        return account._auto_apply()

    def add_credit_note(self, note: CreditNote) -> HouseholdAccount:
        """Record a credit note on one of the account's invoices.

        Releases payments beyond what remains due on the invoice (they become credit).
        """
        if not isinstance(note, CreditNote):
            raise InvalidInputError("expected a CreditNote", path="credit_note")
        self._check_own(note.household_id, note.total, "credit note")
        if _recorded(self.credit_notes, note, f"another credit note {note.number}"):
            return self
        invoice = self.invoice(note.invoice_id)
        credited = self._credited_by_invoice()[invoice.id] + note.total
        if credited > invoice.total:
            raise RuleViolationError(
                f"credit notes ({credited}) would exceed invoice {invoice.number} ({invoice.total})"
            )
        account = attrs.evolve(self, credit_notes=(*self.credit_notes, note))
        return account._release_excess(invoice.id)._auto_apply()

    def record_payment(self, payment: Payment) -> HouseholdAccount:
        """Record and allocate a payment (targets first, then oldest first; rest is credit).

        Paying a cancelled invoice explicitly raises :class:`RuleViolationError`; an unknown
        target raises :class:`NotFoundError`. A payment larger than everything due leaves credit.
        """
        if not isinstance(payment, Payment):
            raise InvalidInputError("expected a Payment", path="payment")
        self._check_own(payment.household_id, payment.amount, "payment")
        if payment.is_rejected:
            raise InvalidInputError("record the payment before rejecting it", path="rejected_on")
        # A payment recorded then rejected is the same notification again.
        unrejected = (
            attrs.evolve(existing, rejected_on=None) if existing.is_rejected else existing
            for existing in self.payments
        )
        if _recorded(unrejected, payment, f"payment {payment.id!r}", differently=True):
            return self
        states = {state.invoice.id: state for state in self.invoice_states()}
        for invoice_id in payment.invoice_ids:
            if invoice_id not in states:
                raise NotFoundError(
                    f"no invoice {invoice_id!r} for household {self.household_id!r}"
                )
            if states[invoice_id].status is InvoiceStatus.CANCELLED:
                raise RuleViolationError(
                    f"invoice {states[invoice_id].invoice.number} was cancelled by a credit note; "
                    "it cannot be paid"
                )
        order = [states[i] for i in payment.invoice_ids]
        order += [s for s in states.values() if s.invoice.id not in payment.invoice_ids]
        remaining = payment.amount
        new: list[Allocation] = []
        for state in order:
            if not remaining.is_positive:
                break
            if not state.uncovered.is_positive:
                continue
            part = min(remaining, state.uncovered)
            new.append(Allocation(payment_id=payment.id, invoice_id=state.invoice.id, amount=part))
            remaining = remaining - part
        account = attrs.evolve(
            self, payments=(*self.payments, payment), allocations=(*self.allocations, *new)
        )
        return account._auto_apply()

    def reject_payment(self, payment_id: str, *, rejected_on: date) -> HouseholdAccount:
        """Mark a payment rejected (returned direct debit, bounced cheque): its invoices reopen.

        Rejecting twice is a no-op. Refused if the credit it brought was already refunded.
        """
        payment = self.payment(payment_id)
        if payment.is_rejected:
            return self
        if not isinstance(rejected_on, date) or rejected_on < payment.received_on:
            raise InvalidInputError(
                "rejection date must be a date on or after receipt", path="rejected_on"
            )
        payments = tuple(
            attrs.evolve(p, rejected_on=rejected_on) if p.id == payment_id else p
            for p in self.payments
        )
        allocations = tuple(a for a in self.allocations if a.payment_id != payment_id)
        account = attrs.evolve(self, payments=payments, allocations=allocations)
        if account._free_credit().is_negative:
            raise RuleViolationError(
                f"payment {payment_id!r} funded a refund; settle the refund before rejecting it"
            )
        return account._auto_apply()

    def refund(self, refund: Refund) -> HouseholdAccount:
        """Pay household credit back; refused above the available credit."""
        if not isinstance(refund, Refund):
            raise InvalidInputError("expected a Refund", path="refund")
        self._check_own(refund.household_id, refund.amount, "refund")
        if _recorded(self.refunds, refund, f"refund {refund.id!r}", differently=True):
            return self
        credit = self._free_credit()
        if refund.amount > credit:
            raise RuleViolationError(f"cannot refund {refund.amount}: available credit is {credit}")
        return attrs.evolve(self, refunds=(*self.refunds, refund))

    def apply_credit(self) -> HouseholdAccount:
        """Apply available credit to open invoices, oldest payment to oldest invoice."""
        credit = self._free_credit()
        if not credit.is_positive:
            return self
        used: dict[str, Money] = defaultdict(self._zero)
        for allocation in self.allocations:
            used[allocation.payment_id] = used[allocation.payment_id] + allocation.amount
        # Refunds consume the newest money first, so older payments fund invoices.
        refunded = self.refunded
        free: list[tuple[str, Money]] = []
        for payment in self.payments:
            if payment.is_rejected:
                continue
            left = payment.amount - used[payment.id]
            if left.is_positive:
                free.append((payment.id, left))
        for index in range(len(free) - 1, -1, -1):
            if not refunded.is_positive:
                break
            payment_id, left = free[index]
            take = min(left, refunded)
            free[index] = (payment_id, left - take)
            refunded = refunded - take
        new: list[Allocation] = []
        states = list(self.open_invoices())
        position = 0
        for payment_id, left in free:
            while left.is_positive and position < len(states):
                state = states[position]
                already = Money.sum(
                    (a.amount for a in new if a.invoice_id == state.invoice.id), self.currency
                )
                due = state.uncovered - already
                if not due.is_positive:
                    position += 1
                    continue
                part = min(left, due)
                new.append(
                    Allocation(payment_id=payment_id, invoice_id=state.invoice.id, amount=part)
                )
                left = left - part
        if not new:
            return self
        return attrs.evolve(self, allocations=_merge((*self.allocations, *new)))

    def _auto_apply(self) -> HouseholdAccount:
        return self.apply_credit() if self.auto_apply_credit else self

    def _release_excess(self, invoice_id: str) -> HouseholdAccount:
        """Drop allocations on ``invoice_id`` beyond what remains due, newest payment first."""
        state = self.invoice_state(invoice_id)
        excess = -state.uncovered
        if not excess.is_positive:
            return self
        kept_reversed: list[Allocation] = []
        for allocation in reversed(self.allocations):
            if excess.is_positive and allocation.invoice_id == invoice_id:
                take = min(allocation.amount, excess)
                excess = excess - take
                rest = allocation.amount - take
                if rest.is_positive:
                    kept_reversed.append(attrs.evolve(allocation, amount=rest))
                continue
            kept_reversed.append(allocation)
        kept = tuple(reversed(kept_reversed))
        return attrs.evolve(self, allocations=kept)


def _merge(allocations: Iterable[Allocation]) -> tuple[Allocation, ...]:
    """One allocation per (payment, invoice), in first-seen order."""
    merged: dict[tuple[str, str], Money] = {}
    for allocation in allocations:
        key = (allocation.payment_id, allocation.invoice_id)
        merged[key] = merged[key] + allocation.amount if key in merged else allocation.amount
    return tuple(
        Allocation(payment_id=payment_id, invoice_id=invoice_id, amount=amount)
        for (payment_id, invoice_id), amount in merged.items()
    )
