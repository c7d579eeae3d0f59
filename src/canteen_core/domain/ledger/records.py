"""The records of the ledger: payments, allocations, refunds, invoice states and statements, each
an immutable value checked when built.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from canteen_core.domain._french import not_positive_fr
from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain._validators import a_date, enum_member, non_empty_str, optional_date
from canteen_core.domain.errors import (
    InvalidInputError,
)
from canteen_core.domain.invoicing import Invoice
from canteen_core.domain.money import CENT, Money


class PaymentMethod(LabelledEnum):
    """How money was received; ``label`` (or ``label_fr``) is the French wording for statements
    and receipts."""

    CARD = "card", "carte bancaire"
    DIRECT_DEBIT = "direct_debit", "prélèvement"
    CASH = "cash", "espèces"
    CHEQUE = "cheque", "chèque"
    # chèque emploi service universel (accepted by some communes for garderie)
    CESU = "cesu", "CESU"
    # how the régie pays credit back (a refund), never how money is received
    TRANSFER = "transfer", "virement"


class InvoiceStatus(LabelledEnum):
    """Where an invoice stands; ``label`` (or ``label_fr``) is the French wording for the family
    portal."""

    ISSUED = "issued", "Facture non réglée"
    PARTIALLY_PAID = "partially_paid", "Facture partiellement réglée"
    PAID = "paid", "Facture réglée"
    # a direct debit covers it; its collection date to come
    DEBIT_SCHEDULED = "debit_scheduled", "Prélèvement prévu"
    CANCELLED = "cancelled", "Facture annulée"  # fully cancelled by credit notes


def _positive_money(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidInputError(
            f"must be Money (Decimal amount), got {type(value).__name__}", path=attribute.name
        )
    if not value.is_positive:
        raise InvalidInputError(not_positive_fr("le montant", value), path=attribute.name)


#: The largest amount one payment or refund may carry (as a SEPA debit): a larger one is a
#: typing mistake, and beyond 28 digits Decimal arithmetic in cents would overflow.
MAX_AMOUNT = Decimal("999999999.99")


def check_whole_cents(value: Money, *, path: str = "amount") -> Money:
    """``value`` when it is positive, in whole cents and at most :data:`MAX_AMOUNT`;
    :class:`InvalidInputError` otherwise (``0.001``, ``1E-30``, ``1E+26``)."""
    if not isinstance(value, Money):
        raise InvalidInputError(
            f"must be Money (Decimal amount), got {type(value).__name__}", path=path
        )
    if not value.is_positive:
        raise InvalidInputError(not_positive_fr("le montant", value.format_fr()), path=path)
    if value.amount > MAX_AMOUNT:
        raise InvalidInputError(
            f"must be at most {MAX_AMOUNT} {value.currency}, got {value.amount:E}", path=path
        )
    if value.amount != value.amount.quantize(CENT):
        raise InvalidInputError(f"must be whole cents, got {value.amount}", path=path)
    return value


def _whole_cents(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    check_whole_cents(value, path=attribute.name)  # type: ignore[arg-type]


def _ids(items: Iterable[str]) -> tuple[str, ...]:
    if isinstance(items, str):
        raise InvalidInputError("invoice_ids must be a sequence of ids", path="invoice_ids")
    return tuple(dict.fromkeys(items))


def _method(value: PaymentMethod | str) -> PaymentMethod:
    return enum_member(PaymentMethod, value, path="method", what="le mode de paiement")


@attrs.frozen(kw_only=True)
class _MoneyMovement:
    """What a payment and a refund both open with: their id, the household, and the amount
    (positive, whole cents); the fields stay first, in this order, in their stored form."""

    id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    amount: Money = attrs.field(validator=_whole_cents)


@attrs.frozen(kw_only=True)
class Payment(_MoneyMovement):
    """Money received from a household. ``invoice_ids``: invoices to pay first, in order."""

    method: PaymentMethod = attrs.field(converter=_method)
    received_on: date = attrs.field(validator=a_date)
    invoice_ids: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    reference: str | None = None  # provider transaction id, cheque number, RUM...
    rejected_on: date | None = attrs.field(default=None, validator=optional_date)

    @classmethod
    def of(
        cls,
        *,
        id: str,
        household_id: str,
        amount: object,
        method: PaymentMethod | str,
        received_on: date,
        invoice_ids: Iterable[str] = (),
        reference: str | None = None,
    ) -> Payment:
        """Build from a plain amount (Decimal, int or decimal string; floats are refused)."""
        # Money.of -> to_decimal refuses floats and other bad types with InvalidInputError.
        money = amount if isinstance(amount, Money) else Money.of(amount)  # type: ignore[arg-type]
        return cls(
            id=id,
            household_id=household_id,
            amount=money,
            method=method,
            received_on=received_on,
            invoice_ids=tuple(invoice_ids),
            reference=reference,
        )

    @property
    def is_rejected(self) -> bool:
        """Whether the payment was rejected (returned debit, bounced cheque)."""
        return self.rejected_on is not None


@attrs.frozen(kw_only=True)
class Allocation:
    """Part of a payment applied to an invoice."""

    payment_id: str
    invoice_id: str
    amount: Money = attrs.field(validator=_positive_money)


@attrs.frozen(kw_only=True)
class Refund(_MoneyMovement):
    """Household credit paid back to the family."""

    refunded_on: date = attrs.field(validator=a_date)
    method: PaymentMethod = attrs.field(default=PaymentMethod.TRANSFER, converter=_method)
    reference: str | None = None


@attrs.frozen(kw_only=True)
class InvoiceState:
    """An invoice with what was paid and credited on it.

    ``paid``: money received; ``scheduled``: direct debits that cover it but whose collection
    date (``scheduled_on``, the latest) has not come; ``balance_due``: what the family still
    owes (``total - credited - paid``, scheduled debits included until collected).
    """

    invoice: Invoice
    paid: Money
    credited: Money
    balance_due: Money
    status: InvoiceStatus
    scheduled: Money
    scheduled_on: date | None = None

    @property
    def uncovered(self) -> Money:
        """What is due and no scheduled debit covers: what a reminder, a new debit or an
        online payment may ask for."""
        return self.balance_due - self.scheduled

    @property
    def status_label_fr(self) -> str:
        """The status as the family portal shows it ("Prélèvement prévu le 20/10/2023")."""
        if self.status is InvoiceStatus.DEBIT_SCHEDULED and self.scheduled_on is not None:
            return f"{self.status.label_fr} le {self.scheduled_on:%d/%m/%Y}"
        return self.status.label_fr

    def is_overdue(self, today: date) -> bool:
        """Whether something no scheduled debit covers is still due after the due date."""
        return self.uncovered.is_positive and today > self.invoice.due_date


@attrs.frozen(kw_only=True)
class StatementEntry:
    """One line of a household statement. ``debit``: the family owes more; ``credit``: less."""

    day: date
    kind: str  # invoice, credit_note, payment, payment_rejected, refund
    reference: str
    label: str
    debit: Money
    credit: Money


@attrs.frozen(kw_only=True)
class Statement:
    """A household statement (relevé de compte).

    ``net_balance`` > 0: the family owes that much; < 0: it has that much credit.
    """

    household_id: str
    entries: tuple[StatementEntry, ...]
    invoices: tuple[InvoiceState, ...]
    invoiced: Money
    credited: Money
    received: Money
    allocated: Money
    refunded: Money
    balance_due: Money
    available_credit: Money
    net_balance: Money
    scheduled: Money  # direct debits to be collected after the statement's day
