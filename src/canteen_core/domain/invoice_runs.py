"""Building invoices: lines from charges, the post-paid run, prepaid baskets and their credits.

The documents, their numbering and their terms are in :mod:`canteen_core.domain.invoicing`;
this module turns priced charges into them:

- :func:`run_postpaid_periods` bills a period for every household from
  :class:`~canteen_core.domain.charging.PeriodFacts` (one per enrollment), one invoice per
  household with charges, numbered once, in household-id order;
- :func:`invoice_prepaid_basket` bills a validated reservation basket for its service month,
  and :func:`prepaid_cancellation_credit` credits prepaid days cancelled before the deadline;
- :func:`lines_from_charges` groups day charges into invoice lines.
"""

from __future__ import annotations

import calendar as _calendar
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._unchecked import unchecked
from canteen_core.domain._validators import aware_datetime
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
from canteen_core.domain.invoicing import (
    BillingMode,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceTerms,
    NumberSequence,
    _check_sequence,
    _document_id,
    _line_amount,
    _sum,
    billing_key,
    credit_note,
    month_label,
)
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import PriceQuote, TariffBook

__all__ = [
    "BillingRun",
    "PrepaidInvoicing",
    "invoice_prepaid_basket",
    "lines_from_charges",
    "prepaid_cancellation_credit",
    "run_postpaid_periods",
]


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
        currency = lines[0].amount.currency
        fields: dict[str, Any] = {
            "id": _document_id("invoice", issuer_id, number),
            "number": number,
            "issuer_id": issuer_id,
            "household_id": household_id,
            "label": text,
            "mode": BillingMode.POSTPAID,
            "billing_key": key,
            "period_start": period_start,
            "period_end": period_end,
            "issue_date": issue_date,
            "due_date": due_date,
            "payment_open_date": open_date,
            "lines": lines,
            "currency": currency,
            "payer_name": by_id[household_id].payer.display_name,
        }
        if invoices and all(line.amount.currency == currency for line in lines):
            # The run's fields were checked on its first invoice; this one differs in its
            # number, household (a validated Household's id), key, lines (InvoiceLine values
            # in one currency) and their total: valid by construction (compared by tests).
            invoices.append(_unchecked_invoice(**fields, total=_sum(lines, currency)))
            continue
        # The first invoice, or lines in mixed currencies: every check runs (Money.sum
        # refuses mixed currencies).
        total = Money.sum((line.amount for line in lines), currency)
        invoices.append(Invoice(**fields, total=total))
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
    extra_lines: Mapping[str, Iterable[InvoiceLine]] | None = None,
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

    ``extra_lines``: household id -> lines added after the period's own (the régularisation
    of months billed before, :func:`~canteen_core.domain.regularisation.regularise`); a
    household with only such lines gets an invoice too.
    """
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise InvalidInputError("period bounds must be dates", path="period_start")
    if period_end < period_start:
        raise InvalidInputError(
            ends_before_start_fr("la période facturée", period_start, period_end), path="period_end"
        )
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
    for household_id, extra in (extra_lines or {}).items():
        more = tuple(extra)
        for index, line in enumerate(more):
            if not isinstance(line, InvoiceLine):
                raise InvalidInputError("expected InvoiceLine", path=f"extra_lines[{index}]")
        if household_id not in by_id:
            raise NotFoundError(f"unknown household {household_id!r}")
        if more:
            lines_of[household_id] = lines_of.get(household_id, ()) + more
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
