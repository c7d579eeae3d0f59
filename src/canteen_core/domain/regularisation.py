"""Régularisation: correcting months already invoiced, without touching their invoices.

A post-paid invoice bills the days of its month as they stood when it was issued. A booking,
a cancellation or a roll call changed afterwards (or a certificate brought later) changes
what the :doc:`charging rules </rules/charging>` give for those days. :func:`regularise`
compares, per ``(child, service, day)``, what the rules charge now with what was invoiced
minus what was credited, and returns:

- the **charges** for days now due and not (or differently) invoiced, as dated, explained
  lines for the household's next invoice ("Régularisation septembre : 12/09 repas pris – ...");
- the **credits** for days invoiced and no longer due, per invoice that billed them, as lines
  of a credit note on that invoice ("Régularisation septembre : 11/09 annulé – ...").

An issued invoice is never modified. Both kinds of lines keep their days, so once issued
they count in the next comparison: regularising twice gives nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

import attrs

from canteen_core.domain.charging import ChargedDays, PeriodFacts
from canteen_core.domain.invoicing import MONTH_NAMES_FR, CreditNote, Invoice, InvoiceLine

__all__ = ["Regularisation", "regularise"]

#: ``(child_id, service_id, day)``
DayKey = tuple[str, str, date]


@attrs.frozen(kw_only=True)
class Regularisation:
    """What :func:`regularise` found for one household.

    ``charges``: lines to add to the household's next invoice; ``credits``: invoice id ->
    lines of a credit note on that invoice. Both empty when the billed months still hold.
    """

    charges: tuple[InvoiceLine, ...] = ()
    credits: Mapping[str, tuple[InvoiceLine, ...]] = attrs.Factory(dict)

    @property
    def is_empty(self) -> bool:
        """Nothing to charge nor to credit."""
        return not self.charges and not self.credits


def _short(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}"


def _prefix(days: Iterable[date]) -> str:
    ordered = sorted(days)
    month = MONTH_NAMES_FR[ordered[0].month - 1]
    return f"Régularisation {month} : {', '.join(_short(day) for day in ordered)}"


def _why_not_due(facts: PeriodFacts | None, day: date) -> str:
    """Why a day invoiced earlier is no longer charged (French, for the family)."""
    if facts is None or (day not in facts.booked and day not in facts.present):
        if facts is not None and day in facts.closed:
            return "fermeture du service"
        return "annulé"
    if day in facts.closed:
        return "fermeture du service"
    if day in facts.justified:
        return "absence justifiée"
    return "non dû"


def regularise(
    *,
    months: Iterable[tuple[date, date]],
    facts: Iterable[PeriodFacts],
    charged: Iterable[ChargedDays],
    invoices: Iterable[Invoice],
    credit_notes: Iterable[CreditNote],
    service_names: Mapping[str, str] | None = None,
    child_names: Mapping[str, str] | None = None,
) -> Regularisation:
    """Regularise one household's billed ``months`` (first and last day of each).

    ``facts`` and ``charged`` are the household's period facts and charged days of those
    months computed now (:func:`~canteen_core.domain.charging.charge_periods`); ``invoices``
    and ``credit_notes`` are its documents that may bill or credit days of those months. A
    day charged now at the price it was invoiced (and not credited) is left alone; a day
    charged at another price is credited and charged again; a day invoiced twice is credited
    once.
    """
    spans = sorted(set(months))

    def billed(day: date) -> bool:
        return any(first <= day <= last for first, last in spans)

    services = service_names or {}
    names = child_names or {}
    facts_of: dict[DayKey, PeriodFacts] = {}
    # Activities (a unit other than lunch's day, see docs/rules/activities.md) are billed
    # as they stand: régularisation compares days, and theirs carry units.
    for item in facts:
        if item.unit is not None:
            continue
        for day in item.days():
            facts_of[(item.child_id, item.service_id, day)] = item
    due: dict[DayKey, ChargedDays] = {}
    for group in charged:
        if group.facts.unit is not None:
            continue
        for day in group.days:
            if billed(day):
                due[(group.facts.child_id, group.facts.service_id, day)] = group
    # What stands on the invoices: (invoice, line) per day, minus one per credited day.
    standing: defaultdict[DayKey, list[tuple[Invoice, InvoiceLine]]] = defaultdict(list)
    # Days of each invoice line (invoice id, position) already credited: a new credit of the
    # line continues their rounding (see _credit_lines).
    credited: defaultdict[tuple[str, int], int] = defaultdict(int)
    by_id: dict[str, Invoice] = {}
    for invoice in invoices:
        by_id[invoice.id] = invoice
        for line in invoice.lines:
            if line.child_id is None or line.unit is not None:
                continue
            for day in line.days:
                if billed(day):
                    standing[(line.child_id, line.service_id, day)].append((invoice, line))
    for note in credit_notes:
        for line in note.lines:
            if line.child_id is None or line.unit is not None:
                continue
            for day in line.days:
                entries = standing.get((line.child_id, line.service_id, day))
                if not entries:
                    continue
                for index, (invoice, billed_line) in enumerate(entries):
                    if invoice.id == note.invoice_id:
                        del entries[index]
                        credited[(invoice.id, _position(invoice, billed_line))] += 1
                        break
    to_credit: defaultdict[tuple[str, int, str], list[date]] = defaultdict(list)
    lines_of: dict[tuple[str, int], InvoiceLine] = {}
    to_charge: defaultdict[tuple[str, str, str, str, str, int], list[date]] = defaultdict(list)
    groups: dict[tuple[str, str, str, str, str, int], ChargedDays] = {}
    for key in sorted(set(standing) | set(due)):
        entries = standing.get(key, [])
        wanted = due.get(key)
        keep = None
        if wanted is not None:
            price = wanted.quote.unit_price
            keep = next(
                (i for i, (_, line) in enumerate(entries) if line.unit_price == price), None
            )
        for index, (invoice, line) in enumerate(entries):
            if index == keep:
                continue
            why = _why_not_due(facts_of.get(key), key[2]) if wanted is None else "tarif corrigé"
            position = _position(invoice, line)
            lines_of[(invoice.id, position)] = line
            to_credit[(invoice.id, position, why)].append(key[2])
        if wanted is not None and keep is None:
            ident = (
                wanted.facts.child_id,
                wanted.facts.service_id,
                str(wanted.rule),
                str(wanted.quote.unit_price.amount),
                wanted.quote.description,
                key[2].year * 12 + key[2].month,
            )
            groups.setdefault(ident, wanted)
            to_charge[ident].append(key[2])
    charges = []
    for ident, days in sorted(to_charge.items(), key=lambda item: (item[1][0], item[0])):
        group = groups[ident]
        service = services.get(group.facts.service_id, group.facts.service_id)
        charges.append(
            InvoiceLine.build(
                child_id=group.facts.child_id,
                child_name=names.get(group.facts.child_id),
                service_id=group.facts.service_id,
                category=group.facts.category,
                description=(
                    f"{_prefix(days)} {group.rule.label_fr} – {service} ({group.quote.description})"
                ),
                quantity=len(days),
                unit_price=group.quote.unit_price,
                days=days,
                rule=group.rule,
                grid_id=group.quote.grid_id,
            )
        )
    credits: defaultdict[str, list[InvoiceLine]] = defaultdict(list)
    for (invoice_id, position, why), days in sorted(
        to_credit.items(), key=lambda item: (item[0][0], item[1][0], item[0][1])
    ):
        line = lines_of[(invoice_id, position)]
        service = services.get(line.service_id, line.service_id)
        before = credited[(invoice_id, position)]
        credited[(invoice_id, position)] += len(days)
        credits[invoice_id].extend(
            _credit_lines(line, days, before, f"{_prefix(days)} {why} – {service}")
        )
    return Regularisation(
        charges=tuple(charges), credits={key: tuple(value) for key, value in credits.items()}
    )


def _position(invoice: Invoice, line: InvoiceLine) -> int:
    """The index of ``line`` (the very object) among the invoice's lines."""
    return next(i for i, item in enumerate(invoice.lines) if item is line)


def _credit_lines(
    line: InvoiceLine, days: list[date], before: int, description: str
) -> list[InvoiceLine]:
    """Credit lines for ``days`` of the invoice ``line``, ``before`` of its days being
    credited already.

    With a unit price in fractions of a cent, crediting the days of a line group by group
    would round each group on its own, and the groups could add up to a cent more than the
    line (a credit note crediting more than what remains is refused). The credit of days
    ``before + 1`` to ``before + n`` is instead what ``before + n`` days cost minus what
    ``before`` days cost, each rounded once: the credits of a line add up to at most its
    amount, and to exactly its amount once every day is credited. When that differs from
    ``n x price`` rounded, the last day is its own line, at the cent that makes up the
    difference.
    """
    price = line.unit_price
    target = (price * (before + len(days))).rounded() - (price * before).rounded()
    whole = line.part(days, unit_price=price, description=description)
    if whole.amount == target:
        return [whole]
    ordered = sorted(days)
    head = (
        [line.part(ordered[:-1], unit_price=price, description=description)]
        if len(ordered) > 1
        else []
    )
    rest = target - head[0].amount if head else target
    return [*head, line.part(ordered[-1:], unit_price=rest, description=description)]
