"""Invoice lines from priced charges (:func:`lines_from_charges`), grouped per child, service, rule
and price; shared by both billing modes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from canteen_core.domain._unchecked import unchecked
from canteen_core.domain.charging import (
    Charge,
    ChargedDays,
    ChargeRule,
)
from canteen_core.domain.clock import PARIS, ensure_aware
from canteen_core.domain.families import Household
from canteen_core.domain.invoice_runs.activity_lines import activity_lines
from canteen_core.domain.invoicing import (
    InvoiceLine,
    _line_amount,
)
from canteen_core.domain.tariffs import PriceQuote, TariffCategory


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
    descriptions: dict[tuple[str, ChargeRule, str], str] | None = None,
) -> tuple[InvoiceLine, ...]:
    """The invoice lines of charged days grouped by period
    (:func:`~canteen_core.domain.charging.charge_periods`): the lines :func:`lines_from_charges`
    gives for the same charges day by day, in the same order. ``quote_parts`` caches, per quote
    (by identity, the
    quote kept alive in the value), its price text and description across households.
    ``trusted``: the groups come from :func:`~canteen_core.domain.charging.charge_periods` (lines
    are then built without InvoiceLine's checks, which they pass by construction).
    ``descriptions`` caches a line's description by (service id, rule, quote text) across the
    households of a run (its ``services`` are the same for every household)."""
    groups = list(groups)
    activities = [group for group in groups if group.facts.unit is not None]
    if activities:
        lunches = [group for group in groups if group.facts.unit is None]
        return _grouped_lines(
            lunches, names, services, quote_parts, trusted=trusted, descriptions=descriptions
        ) + activity_lines(activities, names, services)
    positions: dict[int, int] = {}
    # key -> [first group (earliest day, then earliest facts), its facts position, groups].
    # The category and rule are StrEnum members: they group as their text would.
    keyed: dict[tuple[str, str, TariffCategory, ChargeRule, str, str], list[Any]] = {}
    for group in groups:
        facts = group.facts
        position = positions.get(id(facts))
        if position is None:
            position = positions[id(facts)] = len(positions)
        quote = group.quote
        parts = quote_parts.get(id(quote))
        if parts is None:
            parts = quote_parts[id(quote)] = (
                quote,
                str(quote.unit_price.amount),
                quote.description,
            )
        key = (facts.child_id, facts.service_id, facts.category, group.rule, parts[1], parts[2])
        entry = keyed.get(key)
        if entry is None:
            keyed[key] = [group, position, [group]]
            continue
        entry[2].append(group)
        if (group.days[0], position) < (entry[0].days[0], entry[1]):
            entry[0], entry[1] = group, position
    ordered = sorted(keyed.items(), key=lambda item: (*item[0][:2], item[1][0].days[0], item[1][1]))
    if descriptions is None:
        descriptions = {}
    lines: list[InvoiceLine] = []
    for (child_id, service_id, category, rule, _, quote_text), (first, _, members) in ordered:
        days: Sequence[date]
        if trusted and len(members) == 1:
            days = first.days  # charge_periods gives a group's days in order
        else:
            days = sorted(day for member in members for day in member.days)
        quote = first.quote
        unit_price = quote.unit_price
        described = (service_id, rule, quote_text)
        description = descriptions.get(described)
        if description is None:
            description = descriptions[described] = _description_text(
                service_id, rule, quote_text, services
            )
        if not trusted or unit_price.is_negative or not description.strip():
            # Groups from elsewhere, or a line InvoiceLine refuses: its checks decide.
            lines.append(
                InvoiceLine.build(
                    child_id=child_id,
                    child_name=names.get(child_id),
                    service_id=service_id,
                    category=category,
                    description=description,
                    quantity=len(days),
                    unit_price=unit_price,
                    rule=rule,
                    grid_id=quote.grid_id,
                    unit=None,
                    days=days,
                )
            )
            continue
        # Valid by construction (groups of charge_periods): ids and category from validated
        # period facts, a rule, a priced non-negative quote, its days (never none) sorted and
        # counted, the amount computed as InvoiceLine.build does (compared by tests).
        lines.append(
            _unchecked_line(
                child_id=child_id,
                child_name=names.get(child_id),
                service_id=service_id,
                category=category,
                description=description,
                quantity=len(days),
                unit_price=unit_price,
                amount=_line_amount(unit_price, len(days)),
                days=tuple(days),
                rule=rule,
                grid_id=quote.grid_id,
                unit=None,
            )
        )
    return tuple(lines)


_unchecked_line = unchecked(InvoiceLine)


def _child_names(household: Household) -> dict[str, str]:
    return {child.id: child.display_name for child in household.children}


def _paris_date(instant: datetime) -> date:
    return ensure_aware(instant, "issued_at").astimezone(PARIS).date()
