"""Régularisation in a post-paid run: the months a household was billed before are checked
again against the days as they stand, and what changed is charged on the new invoice or
credited by a credit note on the invoice that billed it (docs/rules/invoicing.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date

import attrs

from canteen_core.domain.charging import ChargedDays, ChargingPolicy, PeriodFacts, charge_periods
from canteen_core.domain.errors import CanteenError
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import (
    CREDIT_NOTE_PREFIX,
    BillingMode,
    CreditNote,
    Invoice,
    InvoiceLine,
    NumberSequence,
    credit_note,
)
from canteen_core.domain.regularisation import Regularisation, regularise
from canteen_core.domain.tariffs import TariffBook, TariffCategory
from canteen_core.ports.storage import Range, UnitOfWork
from canteen_core.services.billing.problems import pricing_problem

#: ``(uow, households, start, end, carried, services, failed) -> facts`` (the run's reader).
FactsReader = Callable[
    [
        UnitOfWork,
        Mapping[str, Household],
        date,
        date,
        dict[str, int],
        dict[str, str],
        dict[str, str],
    ],
    list[PeriodFacts],
]

#: The reason of a régularisation credit note.
REASON = "Régularisation"


def _months_back(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def regularise_batch(
    uow: UnitOfWork,
    households: Mapping[str, Household],
    start: date,
    *,
    lookback_months: int,
    tariffs: TariffBook,
    policy: ChargingPolicy,
    read_facts: FactsReader,
    services: dict[str, str],
    failed: dict[str, str],
) -> tuple[dict[str, Regularisation], dict[str, list[Invoice]], dict[str, list[CreditNote]]]:
    """The régularisation of each household of a batch billed for the month starting at
    ``start``: the post-paid months it was invoiced for in the ``lookback_months`` before,
    recomputed. Returns the non-empty régularisations, and the documents read (by household).

    Two queries when nobody was billed before (invoices of the batch issued in the window, and
    their credit notes); then, per month to check, the reads of a billing run for the
    households billed that month. A household whose month cannot be priced any more is added
    to ``failed`` (skipped by the run, as for its current month).
    """
    window = _months_back(start, lookback_months)
    members = tuple(sorted(households))
    if not members or lookback_months == 0:
        return {}, {}, {}
    invoices: defaultdict[str, list[Invoice]] = defaultdict(list)
    months_of: defaultdict[tuple[date, date], list[str]] = defaultdict(list)
    for invoice in uow.invoices.list(household_id=members, issue_date=Range(window, None)):
        if invoice.mode is not BillingMode.POSTPAID:
            continue
        invoices[invoice.household_id].append(invoice)
        if window <= invoice.period_start and invoice.period_end < start:
            months_of[(invoice.period_start, invoice.period_end)].append(invoice.household_id)
    if not months_of:
        return {}, dict(invoices), {}
    billed_categories = {
        (household_id, invoice.period_start): _categories_billed(invoice)
        for household_id, items in invoices.items()
        for invoice in items
    }
    notes: defaultdict[str, list[CreditNote]] = defaultdict(list)
    for note in uow.credit_notes.list(household_id=members, issue_date=Range(window, None)):
        notes[note.household_id].append(note)
    facts: defaultdict[str, list[PeriodFacts]] = defaultdict(list)
    charged: defaultdict[str, list[ChargedDays]] = defaultdict(list)
    spans: defaultdict[str, list[tuple[date, date]]] = defaultdict(list)
    for (first, last), ids in sorted(months_of.items()):
        subset = {h: households[h] for h in sorted(set(ids)) if h not in failed}
        carried: dict[str, int] = {}
        month_facts = read_facts(uow, subset, first, last, carried, services, failed)
        for household_id in subset:
            spans[household_id].append((first, last))
        per_household: defaultdict[str, list[PeriodFacts]] = defaultdict(list)
        for item in month_facts:
            billed = billed_categories.get((item.household_id, first), {})
            category = billed.get((item.child_id, item.service_id))
            if category is not None and category is not item.category:
                # The enrollment's category changed since: it applies from then on, not to
                # the days already invoiced (``EnrollmentService.amend``).
                item = attrs.evolve(item, category=category)
            per_household[item.household_id].append(item)
        for household_id, items in per_household.items():
            if household_id in failed:
                continue
            try:
                groups = charge_periods(
                    items,
                    tariffs=tariffs,
                    households={household_id: households[household_id]},
                    policy=policy,
                    carried_runs=carried,
                )
            except CanteenError as error:
                failed[household_id] = pricing_problem(error, items, tariffs, services)
                continue
            facts[household_id].extend(items)
            charged[household_id].extend(groups)
    found: dict[str, Regularisation] = {}
    for household_id, months in spans.items():
        if household_id in failed:
            continue
        household = households[household_id]
        outcome = regularise(
            months=months,
            facts=facts[household_id],
            charged=charged[household_id],
            invoices=invoices[household_id],
            credit_notes=notes[household_id],
            service_names=services,
            child_names={child.id: child.display_name for child in household.children},
        )
        if not outcome.is_empty:
            found[household_id] = outcome
    return found, dict(invoices), dict(notes)


def _categories_billed(invoice: Invoice) -> dict[tuple[str, str], TariffCategory]:
    """The tariff category each ``(child, service)`` was invoiced in for the invoice's own
    month (its régularisation lines of earlier months left out); one only, or none."""
    found: defaultdict[tuple[str, str], set[TariffCategory]] = defaultdict(set)
    for line in invoice.lines:
        if (
            line.child_id is not None
            and line.category is not None
            and line.days
            and invoice.period_start <= min(line.days)
        ):
            found[(line.child_id, line.service_id)].add(line.category)
    return {key: next(iter(kinds)) for key, kinds in found.items() if len(kinds) == 1}


def regularisation_credits(
    uow: UnitOfWork,
    issuer_id: str,
    today: date,
    credits: Iterable[tuple[Invoice, Iterable[CreditNote], Iterable[InvoiceLine]]],
) -> list[CreditNote]:
    """Issue the régularisation credit notes ``(invoice, its earlier notes, lines)`` dated
    ``today`` (or the invoice's issue date if later), numbered from the credit-note sequence
    (locked once, only when there is something to credit), and store them."""
    items = list(credits)
    if not items:
        return []
    issued: list[CreditNote] = []
    sequences: dict[int, NumberSequence] = {}
    for invoice, previous, lines in items:
        issue_date = max(today, invoice.issue_date)
        sequence = sequences.get(issue_date.year)
        if sequence is None:
            sequence = uow.invoices.sequence(
                issuer_id, issue_date.year, kind="credit_note", prefix=CREDIT_NOTE_PREFIX
            )
        note, advanced = credit_note(
            invoice,
            lines=lines,
            reason=REASON,
            sequence=sequence,
            issue_date=issue_date,
            previous=previous,
        )
        sequences[issue_date.year] = advanced
        issued.append(note)
    uow.credit_notes.add_many(issued)
    for advanced in sequences.values():
        uow.invoices.save_sequence(advanced, kind="credit_note")
    return issued
