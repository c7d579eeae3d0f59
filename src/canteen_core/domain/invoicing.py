"""Invoices, credit notes, numbering and the two billing modes.

- **Numbering.** Invoice numbers are unique and gapless per issuer (régie) and year:
  ``2023-000123``. :class:`NumberSequence` is a pure allocator: given the last number used it
  returns the next ones and the new state; storage keeps it and makes it concurrency-safe (one
  row per issuer/year/prefix, locked and updated in the same transaction as the documents).
  The sequence passed must be the one of the issue year. Credit notes have their own sequence
  (prefix ``AV-``).
- **Invoices** are immutable once issued. Their total is exactly the sum of their lines, and
  every line amount is ``quantity x unit price`` rounded half-up to the cent. Amount paid,
  balance due and status depend on payments and credit notes: see
  :class:`canteen_core.domain.ledger.HouseholdAccount`.
- **Corrections** are :class:`CreditNote` records referencing the invoice.
- **Billing modes.** :func:`run_postpaid_periods` bills a period for every household from
  :class:`~canteen_core.domain.charging.PeriodFacts` (one per enrollment: the days of each kind
  of fact), numbering each invoice once; :func:`invoice_prepaid_basket` bills a validated
  reservation basket for its service month (the seed's "SEPTEMBRE 2023" invoice issued in June),
  and :func:`prepaid_cancellation_credit` credits days cancelled before the deadline. Every
  invoice carries a deterministic :func:`billing_key`; a run skips keys already billed, so
  re-running a period never invoices twice.
"""

from __future__ import annotations

import calendar as _calendar
import enum
import functools
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from canteen_core.domain._unchecked import unchecked
from canteen_core.domain._validators import a_date, aware_datetime, non_empty_str
from canteen_core.domain.calendar import MONTH_NAMES_FR
from canteen_core.domain.charging import (
    Charge,
    ChargedDays,
    ChargeRule,
    ChargingPolicy,
    DayDecision,
    DayFacts,
    PeriodFacts,
    charge_periods,
    decide,
    price,
)
from canteen_core.domain.clock import PARIS, ensure_aware
from canteen_core.domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.families import Household
from canteen_core.domain.money import EUR, Money
from canteen_core.domain.tariffs import PriceQuote, TariffBook, TariffCategory

__all__ = [
    "CREDIT_NOTE_PREFIX",
    "MONTH_NAMES_FR",
    "BillingMode",
    "BillingRun",
    "CreditNote",
    "DueDateKind",
    "DueDateRule",
    "Invoice",
    "InvoiceLine",
    "InvoiceTerms",
    "NumberSequence",
    "PrepaidInvoicing",
    "billing_key",
    "credit_note",
    "invoice_prepaid_basket",
    "lines_from_charges",
    "month_label",
    "parse_number",
    "prepaid_cancellation_credit",
    "run_postpaid_periods",
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
    key = (
        f"{BillingMode(mode)}/{issuer_id}/{household_id}/"
        f"{first_day.isoformat()}/{last_day.isoformat()}"
    )
    return key if basket_id is None else f"{key}/{basket_id}"


# -- numbering -------------------------------------------------------------------------------


def _non_negative_int(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(
            f"must be a non-negative integer, got {value!r}", path=attribute.name
        )


def _year(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 < value < 10000:
        raise InvalidInputError(f"not a year: {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class NumberSequence:
    """The numbering state of one issuer, year and kind: the last number used.

    >>> seq = NumberSequence(issuer_id="regie", year=2023, last_used=122)
    >>> numbers, seq = seq.allocate(2)
    >>> numbers, seq.last_used
    (('2023-000123', '2023-000124'), 124)
    """

    issuer_id: str = attrs.field(validator=non_empty_str)
    year: int = attrs.field(validator=_year)
    last_used: int = attrs.field(default=0, validator=_non_negative_int)
    prefix: str = ""

    def format(self, number: int) -> str:
        """The printed number: ``{prefix}{year}-{number:06d}``."""
        return f"{self.prefix}{self.year}-{number:06d}"

    def allocate(self, count: int = 1) -> tuple[tuple[str, ...], NumberSequence]:
        """The next ``count`` numbers and the advanced sequence (nothing is skipped)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInputError(f"count must be a non-negative integer, got {count!r}")
        numbers = tuple(self.format(self.last_used + i) for i in range(1, count + 1))
        return numbers, attrs.evolve(self, last_used=self.last_used + count)

    @classmethod
    def first(cls, issuer_id: str, year: int, *, prefix: str = "") -> NumberSequence:
        """The sequence of a year nothing was numbered in yet."""
        return cls(issuer_id=issuer_id, year=year, last_used=0, prefix=prefix)


def parse_number(text: str, *, prefix: str = "") -> tuple[int, int]:
    """``"2023-000123"`` -> ``(2023, 123)``; :class:`InvalidInputError` if malformed."""
    body = text[len(prefix) :] if prefix and text.startswith(prefix) else text
    year, sep, number = body.partition("-")
    if (
        not sep
        or (prefix and not text.startswith(prefix))
        or not (year.isdigit() and len(year) == 4)
        or not (number.isdigit() and len(number) >= 6)
    ):
        raise InvalidInputError(f"malformed document number {text!r}", path="number")
    return int(year), int(number)


# -- dates -----------------------------------------------------------------------------------


class DueDateKind(enum.StrEnum):
    """How a :class:`DueDateRule` counts."""

    DAYS_AFTER_ISSUE = "days_after_issue"
    DAY_OF_NEXT_MONTH = "day_of_next_month"


def _due_kind(value: str) -> DueDateKind:
    try:
        return DueDateKind(value)
    except ValueError:
        raise InvalidInputError(
            f"unknown due-date rule {value!r}; use {[k.value for k in DueDateKind]}", path="kind"
        ) from None


@attrs.frozen(kw_only=True)
class DueDateRule:
    """When an invoice must be paid: N days after issue, or a fixed day of the next month."""

    kind: DueDateKind = attrs.field(converter=_due_kind)
    value: int = attrs.field(validator=_non_negative_int)

    def __attrs_post_init__(self) -> None:
        if self.kind == DueDateKind.DAY_OF_NEXT_MONTH and not 1 <= self.value <= 31:
            raise InvalidInputError(f"day of month must be 1-31, got {self.value}", path="value")

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
    payment_opens_after_days: int = attrs.field(default=0, validator=_non_negative_int)

    def dates(self, issue_date: date) -> tuple[date, date]:
        """``(due_date, payment_open_date)`` for ``issue_date``."""
        return (
            self.due.due_date(issue_date),
            issue_date + timedelta(days=self.payment_opens_after_days),
        )


# -- documents -------------------------------------------------------------------------------


def _days(items: Iterable[date]) -> tuple[date, ...]:
    return tuple(sorted(items))


def _positive_quantity(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInputError(
            f"quantity must be a positive integer, got {value!r}", path="quantity"
        )


def _money(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidInputError(f"must be Money, got {type(value).__name__}", path=attribute.name)
    if value.is_negative:
        raise InvalidInputError(f"must not be negative, got {value}", path=attribute.name)


def _optional_rule(value: ChargeRule | str | None) -> ChargeRule | None:
    if value is None:
        return None
    try:
        return ChargeRule(value)
    except ValueError:
        raise InvalidInputError(f"unknown charge rule {value!r}", path="rule") from None


def _optional_category(value: TariffCategory | str | None) -> TariffCategory | None:
    if value is None:
        return None
    try:
        return TariffCategory(value)
    except ValueError:
        raise InvalidInputError(f"unknown tariff category {value!r}", path="category") from None


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
    quantity: int = attrs.field(validator=_positive_quantity)
    unit_price: Money = attrs.field(validator=_money)
    amount: Money = attrs.field(validator=_money)
    days: tuple[date, ...] = attrs.field(default=(), converter=_days)
    rule: ChargeRule | None = attrs.field(default=None, converter=_optional_rule)
    grid_id: str | None = None

    def __attrs_post_init__(self) -> None:
        expected = _line_amount(self.unit_price, self.quantity)
        if self.amount != expected:
            raise InvalidInputError(
                f"line amount {self.amount} is not "
                f"{self.quantity} x {self.unit_price} = {expected}",
                path="amount",
            )
        if self.days and len(self.days) != self.quantity:
            raise InvalidInputError(
                f"{len(self.days)} traced days for a quantity of {self.quantity}", path="days"
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
    ) -> InvoiceLine:
        """A line whose amount is computed: ``quantity x unit_price`` rounded half-up."""
        if not isinstance(unit_price, Money):
            raise InvalidInputError("unit price must be Money", path="unit_price")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInputError("quantity must be an integer", path="quantity")
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
        raise InvalidInputError(f"{what} without lines", path="lines")
    for index, line in enumerate(lines):
        if not isinstance(line, InvoiceLine):
            raise InvalidInputError("expected InvoiceLine", path=f"lines[{index}]")
        if line.amount.currency != currency:
            raise InvalidInputError(
                f"line in {line.amount.currency}, {what} in {currency}", path=f"lines[{index}]"
            )
    expected = _sum(lines, currency)
    if total != expected:
        raise InvalidInputError(
            f"{what} total {total} differs from the sum of its lines {expected}", path="total"
        )


@attrs.frozen(kw_only=True)
class Invoice:
    """An issued invoice (facture). Never changes; corrections are :class:`CreditNote` records.

    Payments and credit notes live in the ledger, which derives amount paid, balance due and
    status (:class:`canteen_core.domain.ledger.InvoiceStatus`).
    """

    id: str = attrs.field(validator=non_empty_str)
    number: str = attrs.field(validator=non_empty_str)
    issuer_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
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
        _check_document(self.lines, self.total, self.currency, "invoice")
        if self.period_end < self.period_start:
            raise InvalidInputError("period ends before it starts", path="period_end")
        if self.due_date < self.issue_date:
            raise InvalidInputError("due date before issue date", path="due_date")

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
class CreditNote:
    """A credit note (avoir) reducing what is due on ``invoice_id``."""

    id: str = attrs.field(validator=non_empty_str)
    number: str = attrs.field(validator=non_empty_str)
    issuer_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    invoice_id: str = attrs.field(validator=non_empty_str)
    issue_date: date = attrs.field(validator=a_date)
    reason: str = attrs.field(validator=non_empty_str)
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_lines)
    total: Money
    currency: str = EUR

    def __attrs_post_init__(self) -> None:
        _check_document(self.lines, self.total, self.currency, "credit note")

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
            f"a credit note credits a positive amount, got {total.format_fr()}", path="lines"
        )
    already = Money.sum((note.total for note in earlier), invoice.currency)
    if already + total > invoice.total:
        raise RuleViolationError(
            f"credit of {total} exceeds what remains of invoice {invoice.number} "
            f"({invoice.total - already})"
        )
    if issue_date < invoice.issue_date:
        raise InvalidInputError("credit note dated before its invoice", path="issue_date")
    _check_sequence(sequence, invoice.issuer_id, issue_date, CREDIT_NOTE_PREFIX)
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


def _check_sequence(sequence: NumberSequence, issuer_id: str, day: date, prefix: str) -> None:
    if not isinstance(sequence, NumberSequence):
        raise InvalidInputError("expected a NumberSequence", path="sequence")
    if sequence.issuer_id != issuer_id:
        raise InvalidInputError(
            f"sequence of issuer {sequence.issuer_id!r} used for issuer {issuer_id!r}",
            path="sequence",
        )
    if sequence.prefix != prefix:
        raise InvalidInputError(
            f"sequence prefix {sequence.prefix!r}, expected {prefix!r}", path="sequence"
        )
    if sequence.year != day.year:
        # Never roll over silently: storage must load the row of the document's year, or the
        # numbers of that year could be reused.
        raise InvalidInputError(
            f"a document dated {day.isoformat()} needs the {day.year} sequence, "
            f"not {sequence.year} (NumberSequence.first(...) if the year has none yet)",
            path="sequence",
        )


# -- lines from charges ----------------------------------------------------------------------


def _line_description(charge: Charge, service_names: Mapping[str, str]) -> str:
    return _description(charge.facts.service_id, charge.rule, charge.quote, service_names)


def _description(
    service_id: str, rule: ChargeRule, quote: PriceQuote, service_names: Mapping[str, str]
) -> str:
    return _description_text(service_id, rule, quote.description, service_names)


def _description_text(
    service_id: str, rule: ChargeRule, quote_text: str, service_names: Mapping[str, str]
) -> str:
    service = service_names.get(service_id, service_id)
    return f"{service} – {rule.label_fr} ({quote_text})"


def lines_from_charges(
    charges: Iterable[Charge],
    *,
    child_names: Mapping[str, str] | None = None,
    service_names: Mapping[str, str] | None = None,
) -> tuple[InvoiceLine, ...]:
    """Group charges into invoice lines: one per child, service, rule and unit price.

    Each line lists the days it bills (``days``) and the rule (``rule``).
    """
    names = child_names or {}
    services = service_names or {}
    groups: dict[tuple[str, str, str, str, str, str], list[Charge]] = defaultdict(list)
    for charge in charges:
        facts = charge.facts
        key = (
            facts.child_id,
            facts.service_id,
            str(facts.category),
            str(charge.rule),
            str(charge.quote.unit_price.amount),
            charge.quote.description,
        )
        groups[key].append(charge)
    lines: list[InvoiceLine] = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], min(c.day for c in groups[k]))):
        group = groups[key]
        first = group[0]
        lines.append(
            InvoiceLine.build(
                child_id=first.facts.child_id,
                child_name=names.get(first.facts.child_id),
                service_id=first.facts.service_id,
                category=first.facts.category,
                description=_line_description(first, services),
                quantity=len(group),
                unit_price=first.quote.unit_price,
                days=[c.day for c in group],
                rule=first.rule,
                grid_id=first.quote.grid_id,
            )
        )
    return tuple(lines)


def _grouped_lines(
    groups: Iterable[ChargedDays],
    names: Mapping[str, str],
    services: Mapping[str, str],
    quote_parts: dict[int, tuple[PriceQuote, str, str]],
    *,
    trusted: bool,
) -> tuple[InvoiceLine, ...]:
    """The invoice lines of charged days grouped by period
    (:func:`~canteen_core.domain.charging.charge_periods`): the lines :func:`lines_from_charges`
    gives for the same charges day by day, in the same order. ``quote_parts`` caches, per quote
    (by identity, the
    quote kept alive in the value), its price text and description across households.
    ``trusted``: the groups come from :func:`~canteen_core.domain.charging.charge_periods` (lines
    are then built without InvoiceLine's checks, which they pass by construction)."""
    positions: dict[int, int] = {}
    # key -> [first group (earliest day, then earliest facts), its facts position, groups]
    keyed: dict[tuple[str, str, str, str, str, str], list[Any]] = {}
    for group in groups:
        facts = group.facts
        position = positions.setdefault(id(facts), len(positions))
        quote = group.quote
        parts = quote_parts.get(id(quote))
        if parts is None:
            parts = quote_parts[id(quote)] = (
                quote,
                str(quote.unit_price.amount),
                quote.description,
            )
        key = (
            facts.child_id,
            facts.service_id,
            str(facts.category),
            str(group.rule),
            parts[1],
            parts[2],
        )
        entry = keyed.get(key)
        if entry is None:
            keyed[key] = [group, position, [group]]
            continue
        entry[2].append(group)
        if (group.days[0], position) < (entry[0].days[0], entry[1]):
            entry[0], entry[1] = group, position
    ordered = sorted(keyed.items(), key=lambda item: (*item[0][:2], item[1][0].days[0], item[1][1]))
    lines: list[InvoiceLine] = []
    for key, (first, _, members) in ordered:
        facts = first.facts
        days = [day for member in members for day in member.days]
        days.sort()
        quote = first.quote
        unit_price = quote.unit_price
        description = _description_text(facts.service_id, first.rule, key[5], services)
        child_name = names.get(facts.child_id)
        if not trusted or unit_price.is_negative or not description.strip():
            # Groups from elsewhere, or a line InvoiceLine refuses: its checks decide.
            lines.append(
                InvoiceLine.build(
                    child_id=facts.child_id,
                    child_name=child_name,
                    service_id=facts.service_id,
                    category=facts.category,
                    description=description,
                    quantity=len(days),
                    unit_price=unit_price,
                    days=days,
                    rule=first.rule,
                    grid_id=quote.grid_id,
                )
            )
            continue
        # Valid by construction (groups of charge_periods): ids and category from validated
        # period facts, a rule, a priced non-negative quote, its days (never none) sorted and
        # counted, the amount computed as InvoiceLine.build does (compared by tests).
        lines.append(
            _unchecked_line(
                child_id=facts.child_id,
                child_name=child_name,
                service_id=facts.service_id,
                category=facts.category,
                description=description,
                quantity=len(days),
                unit_price=unit_price,
                amount=_line_amount(unit_price, len(days)),
                days=tuple(days),
                rule=first.rule,
                grid_id=quote.grid_id,
            )
        )
    return tuple(lines)


_unchecked_line = unchecked(InvoiceLine)


def _child_names(household: Household) -> dict[str, str]:
    return {child.id: child.display_name for child in household.children}


# -- post-paid run ---------------------------------------------------------------------------


def _paris_date(instant: datetime) -> date:
    return ensure_aware(instant, "issued_at").astimezone(PARIS).date()


@attrs.frozen(kw_only=True)
class BillingRun:
    """The outcome of a billing run.

    ``invoices`` are new; ``skipped_keys`` were already billed; ``without_charges`` lists
    households that had nothing to bill (no number consumed); ``sequence`` is the numbering
    state to store; ``decisions`` is the audit trail of every day considered.
    """

    invoices: tuple[Invoice, ...]
    events: tuple[InvoiceIssued, ...]
    sequence: NumberSequence
    skipped_keys: tuple[str, ...]
    without_charges: tuple[str, ...]
    decisions: tuple[DayDecision, ...]
    issued_at: datetime = attrs.field(validator=aware_datetime)

    @property
    def billed_keys(self) -> frozenset[str]:
        """Billing keys of the new invoices."""
        return frozenset(invoice.billing_key for invoice in self.invoices)


def _households(households: Mapping[str, Household] | Iterable[Household]) -> dict[str, Household]:
    items = list(households.values() if isinstance(households, Mapping) else households)
    for index, item in enumerate(items):
        if not isinstance(item, Household):
            raise InvalidInputError(
                f"expected a Household, got {type(item).__name__}", path=f"households[{index}]"
            )
    return {household.id: household for household in items}


def _postpaid_run(
    *,
    issuer_id: str,
    period_start: date,
    period_end: date,
    households: Mapping[str, Household],
    keys: Mapping[str, str],
    billed: Collection[str],
    lines_of: Mapping[str, tuple[InvoiceLine, ...]],
    sequence: NumberSequence,
    issued_at: datetime,
    terms: InvoiceTerms | None,
    label: str | None,
    decisions: tuple[DayDecision, ...],
) -> BillingRun:
    """One invoice per household with lines, numbered in household-id order."""
    by_id = households
    issue_date = _paris_date(issued_at)
    due_date, open_date = (terms or InvoiceTerms()).dates(issue_date)
    text = label or month_label(period_start)
    invoices: list[Invoice] = []
    skipped: list[str] = []
    empty: list[str] = []
    billable: list[tuple[str, str, tuple[InvoiceLine, ...]]] = []
    for household_id in sorted(by_id):
        key = keys[household_id]
        if key in billed:
            skipped.append(key)
            continue
        lines = lines_of.get(household_id)
        if not lines:
            empty.append(household_id)
            continue
        billable.append((household_id, key, lines))
    # The same numbers as allocating one by one, in household-id order.
    allocated, current = sequence.allocate(len(billable))
    for (household_id, key, lines), number in zip(billable, allocated, strict=True):
        numbers = (number,)
        currency = lines[0].amount.currency
        if invoices and all(line.amount.currency == currency for line in lines):
            # The run's fields were checked on its first invoice; this one differs in its
            # number, household (a validated Household's id), key, lines (InvoiceLine values
            # in one currency) and their total: valid by construction (compared by tests).
            invoices.append(
                _unchecked_invoice(
                    id=_document_id("invoice", issuer_id, numbers[0]),
                    number=numbers[0],
                    issuer_id=issuer_id,
                    household_id=household_id,
                    label=text,
                    mode=BillingMode.POSTPAID,
                    billing_key=key,
                    period_start=period_start,
                    period_end=period_end,
                    issue_date=issue_date,
                    due_date=due_date,
                    payment_open_date=open_date,
                    lines=lines,
                    total=_sum(lines, currency),
                    currency=currency,
                    payer_name=by_id[household_id].payer.display_name,
                )
            )
            continue
        invoices.append(
            Invoice(
                id=_document_id("invoice", issuer_id, numbers[0]),
                number=numbers[0],
                issuer_id=issuer_id,
                household_id=household_id,
                label=text,
                mode=BillingMode.POSTPAID,
                billing_key=key,
                period_start=period_start,
                period_end=period_end,
                issue_date=issue_date,
                due_date=due_date,
                payment_open_date=open_date,
                lines=lines,
                total=Money.sum((line.amount for line in lines), lines[0].amount.currency),
                currency=lines[0].amount.currency,
                payer_name=by_id[household_id].payer.display_name,
            )
        )
    return BillingRun(
        invoices=tuple(invoices),
        events=tuple(invoice.issued_event(issued_at) for invoice in invoices),
        sequence=current,
        skipped_keys=tuple(skipped),
        without_charges=tuple(empty),
        decisions=decisions,
        issued_at=issued_at,
    )


_unchecked_invoice = unchecked(Invoice)


def run_postpaid_periods(
    *,
    issuer_id: str,
    period_start: date,
    period_end: date,
    facts: Iterable[PeriodFacts],
    households: Mapping[str, Household] | Iterable[Household],
    tariffs: TariffBook,
    sequence: NumberSequence,
    issued_at: datetime,
    terms: InvoiceTerms | None = None,
    already_billed: Collection[str] = frozenset(),
    policy: ChargingPolicy | None = None,
    policies: Mapping[str, ChargingPolicy] | None = None,
    carried_runs: Mapping[str, int] | None = None,
    ranks: Mapping[str, int] | None = None,
    label: str | None = None,
    service_names: Mapping[str, str] | None = None,
) -> BillingRun:
    """Bill ``period_start..period_end`` (inclusive) for every household, post-paid, from
    :class:`~canteen_core.domain.charging.PeriodFacts` (one per enrollment and child).

    One invoice per household with charges, numbered from ``sequence`` in household-id order
    (the only place a post-paid invoice gets its number). Households whose billing key is in
    ``already_billed`` are skipped: re-running a period is idempotent. Everything is computed
    before anything is returned: a bad fact or a missing grid raises and no number is
    consumed. The charges are those of the day-by-day rules
    (:func:`~canteen_core.domain.charging.decide`, :func:`~canteen_core.domain.charging.price`;
    the tests keep that per-day path as the oracle), priced per group of alike days
    (:func:`~canteen_core.domain.charging.charge_periods`). The run's ``decisions`` are left empty:
    each invoice line keeps its days and rule, and :func:`~canteen_core.domain.charging.decide` over
    :meth:`~canteen_core.domain.charging.PeriodFacts.day_facts` gives the day-by-day trail.
    """
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise InvalidInputError("period bounds must be dates", path="period_start")
    if period_end < period_start:
        raise InvalidInputError("period ends before it starts", path="period_end")
    issue_date = _paris_date(issued_at)
    _check_sequence(sequence, issuer_id, issue_date, "")
    by_id = _households(households)
    items = list(facts)
    for index, item in enumerate(items):
        if not isinstance(item, PeriodFacts):
            raise InvalidInputError("expected PeriodFacts", path=f"facts[{index}]")
        kinds = (item.booked, item.closed, item.present, item.absent, item.late_cancelled)
        if any(days and (min(days) < period_start or max(days) > period_end) for days in kinds):
            outside = next(day for day in item.days() if not period_start <= day <= period_end)
            raise InvalidInputError(
                f"{outside.isoformat()} is outside the billed period", path=f"facts[{index}]"
            )
        if item.household_id not in by_id:
            raise NotFoundError(f"unknown household {item.household_id!r}")
    keys = {
        household_id: billing_key(
            BillingMode.POSTPAID,
            issuer_id=issuer_id,
            household_id=household_id,
            first_day=period_start,
            last_day=period_end,
        )
        for household_id in by_id
    }
    billed = set(already_billed)
    groups = charge_periods(
        [item for item in items if keys[item.household_id] not in billed],
        tariffs=tariffs,
        households=by_id,
        policy=policy,
        policies=policies,
        carried_runs=carried_runs,
        ranks=ranks,
    )
    per_household: dict[str, list[ChargedDays]] = defaultdict(list)
    for group in groups:
        per_household[group.facts.household_id].append(group)
    quote_parts: dict[int, tuple[PriceQuote, str, str]] = {}
    lines_of = {
        household_id: _grouped_lines(
            household_groups,
            _child_names(by_id[household_id]),
            service_names or {},
            quote_parts,
            trusted=True,
        )
        for household_id, household_groups in per_household.items()
    }
    return _postpaid_run(
        issuer_id=issuer_id,
        period_start=period_start,
        period_end=period_end,
        households=by_id,
        keys=keys,
        billed=billed,
        lines_of=lines_of,
        sequence=sequence,
        issued_at=issued_at,
        terms=terms,
        label=label,
        decisions=(),
    )


# -- prepaid ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PrepaidInvoicing:
    """The outcome of billing one prepaid basket: the invoice (``None`` if already billed)."""

    invoice: Invoice | None
    event: InvoiceIssued | None
    sequence: NumberSequence
    billing_key: str


def invoice_prepaid_basket(
    *,
    issuer_id: str,
    basket_id: str,
    household: Household,
    bookings: Iterable[DayFacts],
    tariffs: TariffBook,
    sequence: NumberSequence,
    issued_at: datetime,
    terms: InvoiceTerms | None = None,
    already_billed: Collection[str] = frozenset(),
    ranks: Mapping[str, int] | None = None,
    service_names: Mapping[str, str] | None = None,
) -> PrepaidInvoicing:
    """Invoice a validated reservation basket for its service month (prepaid mode).

    ``bookings`` are the booked days of the basket, all in one calendar month (the service
    month, which names the invoice: ``"SEPTEMBRE 2023"``). Every booked, non-closed day is billed
    at its grid price with rule ``prepaid_booking`` (late bookings with the late-booking
    surcharge). A basket already billed (its key in ``already_billed``) gives no invoice.
    """
    items = list(bookings)
    if not items:
        raise InvalidInputError("an empty basket cannot be invoiced", path="bookings")
    for index, item in enumerate(items):
        if not isinstance(item, DayFacts) or not item.booked:
            raise InvalidInputError("basket entries must be booked days", path=f"bookings[{index}]")
        if item.household_id != household.id:
            raise InvalidInputError(
                f"booking of household {item.household_id!r} in a basket of {household.id!r}",
                path=f"bookings[{index}]",
            )
    months = {(item.day.year, item.day.month) for item in items}
    if len(months) != 1:
        raise InvalidInputError(
            "a prepaid basket must cover one service month; split it per month", path="bookings"
        )
    year, month = months.pop()
    first_day = date(year, month, 1)
    last_day = date(year, month, _calendar.monthrange(year, month)[1])
    key = billing_key(
        BillingMode.PREPAID,
        issuer_id=issuer_id,
        household_id=household.id,
        first_day=first_day,
        last_day=last_day,
        basket_id=basket_id,
    )
    issue_date = _paris_date(issued_at)
    _check_sequence(sequence, issuer_id, issue_date, "")
    decisions = decide(items)
    # In prepaid mode the booking itself is billed, whatever happens on the day (not known yet).
    prepaid = [
        DayDecision(
            facts=d.facts,
            rule=ChargeRule.PREPAID_BOOKING,
            charged=not d.facts.closed_by_organiser,
            surcharge=d.surcharge if d.rule is not ChargeRule.CLOSED_BY_ORGANISER else None,
        )
        for d in decisions
    ]
    charges = price(prepaid, tariffs=tariffs, households={household.id: household}, ranks=ranks)
    if key in set(already_billed) or not charges:
        return PrepaidInvoicing(invoice=None, event=None, sequence=sequence, billing_key=key)
    lines = lines_from_charges(
        charges, child_names=_child_names(household), service_names=service_names
    )
    due_date, open_date = (terms or InvoiceTerms()).dates(issue_date)
    numbers, advanced = sequence.allocate(1)
    invoice = Invoice(
        id=_document_id("invoice", issuer_id, numbers[0]),
        number=numbers[0],
        issuer_id=issuer_id,
        household_id=household.id,
        label=month_label(first_day),
        mode=BillingMode.PREPAID,
        billing_key=key,
        period_start=first_day,
        period_end=last_day,
        issue_date=issue_date,
        due_date=due_date,
        payment_open_date=open_date,
        lines=lines,
        total=Money.sum((line.amount for line in lines), lines[0].amount.currency),
        currency=lines[0].amount.currency,
        payer_name=household.payer.display_name,
    )
    return PrepaidInvoicing(
        invoice=invoice, event=invoice.issued_event(issued_at), sequence=advanced, billing_key=key
    )


def prepaid_cancellation_credit(
    invoice: Invoice,
    *,
    cancelled: Iterable[tuple[str, str, date]],
    sequence: NumberSequence,
    issue_date: date,
    previous: Iterable[CreditNote] = (),
    reason: str = "Annulation dans les délais",
) -> tuple[CreditNote, NumberSequence]:
    """Credit prepaid days cancelled before the deadline.

    ``cancelled`` lists ``(child_id, service_id, day)``; each day is credited at the unit price of
    the invoice line that billed it. A day the invoice does not bill raises
    :class:`NotFoundError`; a day already credited by ``previous`` notes raises
    :class:`RuleViolationError`.
    """
    earlier = [note for note in previous if note.invoice_id == invoice.id]
    credited: set[tuple[str | None, str, date]] = set()
    for note in earlier:
        credited |= note.credited_days()
    wanted = list(dict.fromkeys(cancelled))
    if not wanted:
        raise InvalidInputError("no cancelled day to credit", path="cancelled")
    groups: dict[int, list[date]] = defaultdict(list)
    for child_id, service_id, day in wanted:
        if (child_id, service_id, day) in credited:
            raise RuleViolationError(
                f"{day.isoformat()} of child {child_id!r} was already credited"
            )
        for index, line in enumerate(invoice.lines):
            if line.child_id == child_id and line.service_id == service_id and day in line.days:
                groups[index].append(day)
                break
        else:
            raise NotFoundError(
                f"invoice {invoice.number} does not bill {day.isoformat()} for child {child_id!r}"
            )
    lines = [
        InvoiceLine.build(
            child_id=invoice.lines[index].child_id,
            child_name=invoice.lines[index].child_name,
            service_id=invoice.lines[index].service_id,
            category=invoice.lines[index].category,
            description=f"{reason} – {invoice.lines[index].description}",
            quantity=len(days),
            unit_price=invoice.lines[index].unit_price,
            days=days,
            rule=invoice.lines[index].rule,
            grid_id=invoice.lines[index].grid_id,
        )
        for index, days in sorted(groups.items())
    ]
    return credit_note(
        invoice,
        lines=lines,
        reason=reason,
        sequence=sequence,
        issue_date=issue_date,
        previous=earlier,
    )
