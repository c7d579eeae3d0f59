"""Post-paid billing: :func:`run_postpaid_periods` bills a period for every household from its
period facts, one invoice per household with charges, numbered once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from canteen_core.domain._french import ends_before_start_fr
from canteen_core.domain._unchecked import unchecked
from canteen_core.domain._validators import aware_datetime, items_of
from canteen_core.domain.charging import (
    ChargedDays,
    ChargeRule,
    ChargingPolicy,
    DayDecision,
    PeriodFacts,
    charge_periods,
)
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.families import Household
from canteen_core.domain.invoice_runs.lines import _child_names, _grouped_lines, _paris_date
from canteen_core.domain.invoicing import (
    BillingMode,
    Invoice,
    InvoiceLine,
    InvoiceTerms,
    NumberSequence,
    _document_id,
    _sum,
    billing_key,
    month_label,
)
from canteen_core.domain.money import Money
from canteen_core.domain.numbering import check_sequence
from canteen_core.domain.tariffs import PriceQuote, TariffBook


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
    values = households.values() if isinstance(households, Mapping) else households
    items = items_of(Household, values, "households")
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
            ends_before_start_fr("la période facturée", period_start, period_end),
            path="period_end",
        )
    issue_date = _paris_date(issued_at)
    check_sequence(sequence, issuer_id, issue_date, "")
    by_id = _households(households)
    items = list(facts)
    for index, item in enumerate(items):
        if not isinstance(item, PeriodFacts):
            raise InvalidInputError("expected PeriodFacts", path=f"facts[{index}]")
        kinds = (item.booked, item.closed, item.present, item.absent, item.late_cancelled)
        if [
            days for days in kinds if days and (min(days) < period_start or max(days) > period_end)
        ]:
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
    descriptions: dict[tuple[str, ChargeRule, str], str] = {}
    services = service_names or {}
    lines_of = {
        household_id: _grouped_lines(
            household_groups,
            _child_names(by_id[household_id]),
            services,
            quote_parts,
            trusted=True,
            descriptions=descriptions,
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
