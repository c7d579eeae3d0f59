"""Invoices, credit notes, numbering and the two billing modes.

- **Numbering.** Invoice numbers are unique and gapless per issuer (régie) and year:
  ``2023-000123``. :class:`NumberSequence` is a pure allocator: given the last number used it
  returns the next ones and the new state; storage keeps it and makes it concurrency-safe (one
  row per issuer/year/prefix, locked and updated in the same transaction as the documents).
  The sequence passed must be the one of the issue year. Credit notes have their own sequence
  (prefix ``AV-``). The numbering is :mod:`canteen_core.domain.numbering`, re-exported here.
- **Invoices** are immutable once issued. Their total is exactly the sum of their lines, and
  every line amount is ``quantity x unit price`` rounded half-up to the cent. Amount paid,
  balance due and status depend on payments and credit notes: see
  :class:`canteen_core.domain.ledger.HouseholdAccount`.
- **Corrections** are :class:`CreditNote` records referencing the invoice.
- **Billing modes.** Building invoices is :mod:`canteen_core.domain.invoice_runs`: the
  post-paid run from period facts (each invoice numbered once), the prepaid basket for its
  service month (the seed's "SEPTEMBRE 2023" invoice issued in June) and the credit of prepaid
  days cancelled before the deadline. Every invoice carries a deterministic
  :func:`billing_key`; a run skips keys already billed, so re-running a period never invoices
  twice.
"""

from __future__ import annotations

import calendar as _calendar
import enum
import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import attrs

from canteen_core.domain._french import ends_before_start_fr, not_positive_fr
from canteen_core.domain._validators import (
    a_date,
    enum_member,
    non_empty_str,
    non_negative_int,
    non_negative_money,
    positive_int,
)
from canteen_core.domain.calendar import MONTH_NAMES_FR
from canteen_core.domain.charging import (
    ChargeRule,
)
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.money import EUR, Money
from canteen_core.domain.numbering import (
    NumberSequence,
    check_sequence,
    parse_number,
)
from canteen_core.domain.tariffs import TariffCategory

__all__ = [
    "CREDIT_NOTE_PREFIX",
    "MONTH_NAMES_FR",
    "BillingMode",
    "CreditNote",
    "DueDateKind",
    "DueDateRule",
    "Invoice",
    "InvoiceLine",
    "InvoiceTerms",
    "NumberSequence",
    "billing_key",
    "credit_note",
    "month_label",
    "parse_number",
]

#: Prefix of credit-note numbers (``AV-2023-000001``): a sequence separate from invoices.
CREDIT_NOTE_PREFIX = "AV-"


def month_label(day: date) -> str:
    """``"SEPTEMBRE 2023"``: the invoice label of the month of ``day``, as the seed shows it."""
    return f"{MONTH_NAMES_FR[day.month - 1].upper()} {day.year}"


class BillingMode(enum.StrEnum):
    """Prepaid (the booking basket is billed) or post-paid (attendance is billed)."""

    PREPAID = "prepaid"
    POSTPAID = "postpaid"


def billing_key(
    mode: BillingMode | str,
    *,
    issuer_id: str,
    household_id: str,
    first_day: date,
    last_day: date,
    basket_id: str | None = None,
) -> str:
    """The deterministic key of one household's bill for one period (and prepaid basket).

    ``postpaid/regie-1/H42/2023-09-01/2023-09-30``. Storage keeps the keys of issued invoices
    (unique index); a run given those keys skips them.
    """
    if type(mode) is not BillingMode:  # a member as it is (a run keys every household)
        mode = BillingMode(mode)
    key = f"{mode}/{issuer_id}/{household_id}/{first_day.isoformat()}/{last_day.isoformat()}"
    return key if basket_id is None else f"{key}/{basket_id}"


# -- dates -----------------------------------------------------------------------------------


class DueDateKind(enum.StrEnum):
    """How a :class:`DueDateRule` counts."""

    DAYS_AFTER_ISSUE = "days_after_issue"
    DAY_OF_NEXT_MONTH = "day_of_next_month"


def _due_kind(value: str) -> DueDateKind:
    return enum_member(DueDateKind, value, path="kind", what="la règle d'échéance")


@attrs.frozen(kw_only=True)
class DueDateRule:
    """When an invoice must be paid: N days after issue, or a fixed day of the next month."""

    kind: DueDateKind = attrs.field(converter=_due_kind)
    value: int = attrs.field(validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        if self.kind == DueDateKind.DAY_OF_NEXT_MONTH and not 1 <= self.value <= 31:
            raise InvalidInputError(
                f"le jour d'échéance du mois suivant doit aller de 1 à 31 (reçu « {self.value} »)",
                path="value",
            )

    @classmethod
    def days_after_issue(cls, days: int) -> DueDateRule:
        """Due ``days`` days after the issue date (0: due on issue, as in the seed)."""
        return cls(kind=DueDateKind.DAYS_AFTER_ISSUE, value=days)

    @classmethod
    def day_of_next_month(cls, day: int) -> DueDateRule:
        """Due on ``day`` of the month after issue (clamped to the month's last day)."""
        return cls(kind=DueDateKind.DAY_OF_NEXT_MONTH, value=day)

    def due_date(self, issue_date: date) -> date:
        """The due date of an invoice issued on ``issue_date``."""
        if self.kind == DueDateKind.DAYS_AFTER_ISSUE:
            return issue_date + timedelta(days=self.value)
        year, month = (
            (issue_date.year + 1, 1)
            if issue_date.month == 12
            else (issue_date.year, issue_date.month + 1)
        )
        last = _calendar.monthrange(year, month)[1]
        return date(year, month, min(self.value, last))


@attrs.frozen(kw_only=True)
class InvoiceTerms:
    """The due-date rule and how many days after issue online payment opens."""

    due: DueDateRule = attrs.field(factory=lambda: DueDateRule.days_after_issue(30))
    payment_opens_after_days: int = attrs.field(default=0, validator=non_negative_int)

    def dates(self, issue_date: date) -> tuple[date, date]:
        """``(due_date, payment_open_date)`` for ``issue_date``."""
        return (
            self.due.due_date(issue_date),
            issue_date + timedelta(days=self.payment_opens_after_days),
        )


# -- documents -------------------------------------------------------------------------------


def _days(items: Iterable[date]) -> tuple[date, ...]:
    return tuple(sorted(items))


def _optional_rule(value: ChargeRule | str | None) -> ChargeRule | None:
    if value is None:
        return None
    return enum_member(ChargeRule, value, path="rule", what="la règle de facturation")


def _optional_category(value: TariffCategory | str | None) -> TariffCategory | None:
    if value is None:
        return None
    return enum_member(TariffCategory, value, path="category", what="la catégorie tarifaire")


@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One line of an invoice or credit note.

    ``amount`` is ``quantity x unit_price`` rounded half-up to the cent; ``days`` and ``rule``
    trace the line back to the charged days and the charging rule that produced them.
    """

    child_id: str | None = None
    child_name: str | None = None
    service_id: str = attrs.field(validator=non_empty_str)
    category: TariffCategory | None = attrs.field(default=None, converter=_optional_category)
    description: str = attrs.field(validator=non_empty_str)
    quantity: int = attrs.field(validator=positive_int)
    unit_price: Money = attrs.field(validator=non_negative_money)
    amount: Money = attrs.field(validator=non_negative_money)
    days: tuple[date, ...] = attrs.field(default=(), converter=_days)
    rule: ChargeRule | None = attrs.field(default=None, converter=_optional_rule)
    grid_id: str | None = None
    #: What one unit of the line is, for an activity's line (``"half_hour"``, ``"week"``,
    #: ``"meal"``...: its quantity is then units, not days); ``None`` for a lunch line.
    unit: str | None = None

    def __attrs_post_init__(self) -> None:
        expected = _line_amount(self.unit_price, self.quantity)
        if self.amount != expected:
            raise InvalidInputError(
                f"le montant de la ligne ({self.amount.format_fr()}) n'est pas "
                f"{self.quantity} × {self.unit_price.format_fr()} = {expected.format_fr()}",
                path="amount",
            )
        if self.unit is not None and (not isinstance(self.unit, str) or not self.unit):
            raise InvalidInputError("l'unité ne doit pas être vide", path="unit")
        if self.days and self.unit is None and len(self.days) != self.quantity:
            raise InvalidInputError(
                f"{len(self.days)} jours tracés pour une quantité de {self.quantity}",
                path="days",
            )

    @classmethod
    def build(
        cls,
        *,
        service_id: str,
        description: str,
        quantity: int,
        unit_price: Money,
        child_id: str | None = None,
        child_name: str | None = None,
        category: TariffCategory | None = None,
        days: Iterable[date] = (),
        rule: ChargeRule | None = None,
        grid_id: str | None = None,
        unit: str | None = None,
    ) -> InvoiceLine:
        """A line whose amount is computed: ``quantity x unit_price`` rounded half-up."""
        if not isinstance(unit_price, Money):
            raise InvalidInputError("le prix unitaire doit être un montant", path="unit_price")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInputError("la quantité doit être un nombre entier", path="quantity")
        return cls(
            child_id=child_id,
            child_name=child_name,
            service_id=service_id,
            category=category,
            description=description,
            quantity=quantity,
            unit_price=unit_price,
            amount=_line_amount(unit_price, quantity),
            days=tuple(days),
            rule=rule,
            grid_id=grid_id,
            unit=unit,
        )

    def part(self, days: Sequence[date], *, unit_price: Money, description: str) -> InvoiceLine:
        """A line billing ``days``, one unit each, at ``unit_price``, for this line's child,
        service, category, rule and grid: what crediting some of its days writes."""
        return attrs.evolve(
            self,
            description=description,
            quantity=len(days),
            unit_price=unit_price,
            amount=_line_amount(unit_price, len(days)),
            days=days,
            unit=None,
        )


@functools.lru_cache(maxsize=4096)
def _line_amount(unit_price: Money, quantity: int) -> Money:
    """``quantity x unit_price`` rounded half-up to the cent (a run has few distinct pairs)."""
    return (unit_price * quantity).rounded()


def _sum(lines: Iterable[InvoiceLine], currency: str) -> Money:
    """:meth:`Money.sum` of the line amounts (same Decimal additions, one Money at the end);
    the lines are known to be in ``currency``."""
    return Money(sum((line.amount.amount for line in lines), Decimal(0)), currency)


def _lines(items: Iterable[InvoiceLine]) -> tuple[InvoiceLine, ...]:
    return tuple(items)


def _check_document(lines: tuple[InvoiceLine, ...], total: Money, currency: str, what: str) -> None:
    if not lines:
        raise InvalidInputError(f"{what} sans lignes", path="lines")
    for index, line in enumerate(lines):
        if not isinstance(line, InvoiceLine):
            raise InvalidInputError(
                f"une ligne de facture est attendue, pas {type(line).__name__}",
                path=f"lines[{index}]",
            )
        if line.amount.currency != currency:
            raise InvalidInputError(
                f"ligne en {line.amount.currency}, {what} en {currency}", path=f"lines[{index}]"
            )
    expected = _sum(lines, currency)
    if total != expected:
        raise InvalidInputError(
            f"{what} : le total ({total.format_fr()}) n'est pas la somme de ses lignes "
            f"({expected.format_fr()})",
            path="total",
        )


@attrs.frozen(kw_only=True)
class _NumberedDocument:
    """What an invoice and a credit note both open with: their id, their number in the
    issuer's sequence, the issuer (régie) and the household (the fields stay first, in this
    order, in both documents' stored form)."""

    id: str = attrs.field(validator=non_empty_str)
    number: str = attrs.field(validator=non_empty_str)
    issuer_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)


@attrs.frozen(kw_only=True)
class Invoice(_NumberedDocument):
    """An issued invoice (facture). Never changes; corrections are :class:`CreditNote` records.

    Payments and credit notes live in the ledger, which derives amount paid, balance due and
    status (:class:`canteen_core.domain.ledger.InvoiceStatus`).
    """

    label: str = attrs.field(validator=non_empty_str)
    mode: BillingMode = attrs.field(converter=BillingMode)
    billing_key: str = attrs.field(validator=non_empty_str)
    period_start: date = attrs.field(validator=a_date)
    period_end: date = attrs.field(validator=a_date)
    issue_date: date = attrs.field(validator=a_date)
    due_date: date = attrs.field(validator=a_date)
    payment_open_date: date = attrs.field(validator=a_date)
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_lines)
    total: Money
    currency: str = EUR
    payer_name: str | None = None

    def __attrs_post_init__(self) -> None:
        _check_document(self.lines, self.total, self.currency, "facture")
        if self.period_end < self.period_start:
            raise InvalidInputError(
                ends_before_start_fr("la période facturée", self.period_start, self.period_end),
                path="period_end",
            )
        if self.due_date < self.issue_date:
            raise InvalidInputError(
                "l'échéance ne peut pas précéder la date d'émission", path="due_date"
            )

    @property
    def year(self) -> int:
        """The numbering year (the year of issue)."""
        return self.issue_date.year

    def issued_event(self, occurred_at: datetime) -> InvoiceIssued:
        """The :class:`~canteen_core.domain.events.InvoiceIssued` event for this invoice."""
        return InvoiceIssued(
            occurred_at=occurred_at,
            invoice_id=self.id,
            number=self.number,
            household_id=self.household_id,
            total=self.total,
            due_date=self.due_date,
        )


@attrs.frozen(kw_only=True)
class CreditNote(_NumberedDocument):
    """A credit note (avoir) reducing what is due on ``invoice_id``."""

    invoice_id: str = attrs.field(validator=non_empty_str)
    issue_date: date = attrs.field(validator=a_date)
    reason: str = attrs.field(validator=non_empty_str)
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_lines)
    total: Money
    currency: str = EUR

    def __attrs_post_init__(self) -> None:
        _check_document(self.lines, self.total, self.currency, "avoir")

    def credited_days(self) -> set[tuple[str | None, str, date]]:
        """``(child_id, service_id, day)`` of every traced day this note credits."""
        return {(line.child_id, line.service_id, day) for line in self.lines for day in line.days}


def _document_id(kind: str, issuer_id: str, number: str) -> str:
    # Deterministic: the number is unique per issuer, so is the id.
    return f"{kind}:{issuer_id}:{number}"


def credit_note(
    invoice: Invoice,
    *,
    lines: Iterable[InvoiceLine],
    reason: str,
    sequence: NumberSequence,
    issue_date: date,
    previous: Iterable[CreditNote] = (),
) -> tuple[CreditNote, NumberSequence]:
    """Issue a credit note on ``invoice``; returns it and the advanced credit-note sequence.

    Refused (:class:`RuleViolationError`) when it would credit more than what remains of the
    invoice after ``previous`` credit notes. Amounts already paid are not the concern here: the
    ledger turns a credit on a paid invoice into household credit.
    """
    items = tuple(lines)
    earlier = [note for note in previous if note.invoice_id == invoice.id]
    total = Money.sum((line.amount for line in items), invoice.currency)
    if not total.is_positive:
        raise InvalidInputError(
            not_positive_fr("le montant d'un avoir", total.format_fr()), path="lines"
        )
    already = Money.sum((note.total for note in earlier), invoice.currency)
    if already + total > invoice.total:
        raise RuleViolationError(
            f"l'avoir de {total.format_fr()} dépasse ce qui reste de la facture"
            f" {invoice.number} ({(invoice.total - already).format_fr()})"
        )
    if issue_date < invoice.issue_date:
        raise InvalidInputError(
            "l'avoir ne peut pas être daté d'avant sa facture", path="issue_date"
        )
    check_sequence(sequence, invoice.issuer_id, issue_date, CREDIT_NOTE_PREFIX)
    numbers, advanced = sequence.allocate(1)
    note = CreditNote(
        id=_document_id("credit-note", invoice.issuer_id, numbers[0]),
        number=numbers[0],
        issuer_id=invoice.issuer_id,
        household_id=invoice.household_id,
        invoice_id=invoice.id,
        issue_date=issue_date,
        reason=reason,
        lines=items,
        total=total,
        currency=invoice.currency,
    )
    return note, advanced
