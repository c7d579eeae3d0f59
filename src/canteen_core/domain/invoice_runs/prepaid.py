"""Prepaid billing: a validated reservation basket invoiced for its service month, and the credit
of prepaid days cancelled before the deadline.
"""

from __future__ import annotations

import calendar as _calendar
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime

import attrs

from canteen_core.domain.charging import (
    ChargeRule,
    DayDecision,
    DayFacts,
    decide,
    price,
)
from canteen_core.domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.families import Household
from canteen_core.domain.invoice_runs.lines import _child_names, _paris_date, lines_from_charges
from canteen_core.domain.invoicing import (
    BillingMode,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceTerms,
    NumberSequence,
    _document_id,
    billing_key,
    credit_note,
    month_label,
)
from canteen_core.domain.money import Money
from canteen_core.domain.numbering import check_sequence
from canteen_core.domain.tariffs import TariffBook


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
    check_sequence(sequence, issuer_id, issue_date, "")
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
