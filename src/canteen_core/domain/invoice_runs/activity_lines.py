"""Invoice lines of activities (:func:`activity_lines`): charged days counted in the activity's
unit, each activity (and its meal) on lines of its own.

The charged days of an activity's :class:`~canteen_core.domain.charging.PeriodFacts` (``unit``
set) are grouped as lunch's are (per child, service, rule and price), then counted in the unit:

- hours and half-hours: the units of each day (``PeriodFacts.quantities``), ``"Accueil du
  soir : 6 h 30 – présence (...)"``;
- weeks: one line per week, charged once whatever the rules of its days (the rule and price
  of its first charged day), ``"ALSH : semaine du 12/02 – présence (...)"``;
- other units (day, half-day, slot): one unit per day, ``"Mercredi : 2 demi-journées"``;
- late pick-ups (rule ``late_pickup``): one fee per day, ``"Accueil du soir : 1 retard"``;
- the meal of an activity with meal (``tariff_service_id`` set): one meal per day, priced by
  the meal's grid, ``"Mercredi : 2 repas"``.

Each line keeps the days it bills and its ``unit``, so a day's units are on one line only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from canteen_core.domain.activities import Unit, week_of
from canteen_core.domain.charging import ChargedDays, ChargeRule
from canteen_core.domain.invoicing import InvoiceLine

__all__ = ["LATE_PICKUP_UNIT", "MEAL_UNIT", "activity_lines", "is_activity", "rule_label_fr"]

#: The :attr:`InvoiceLine.unit` of an activity's meal line.
MEAL_UNIT = "meal"
#: The :attr:`InvoiceLine.unit` of an activity's late pick-up fees.
LATE_PICKUP_UNIT = "late_pickup"

_RULE_LABELS_FR = {
    ChargeRule.PRESENT: "présence",
    ChargeRule.BOOKED_NOT_RECORDED: "réservé",
    ChargeRule.UNBOOKED_PRESENT: "présence sans réservation",
    ChargeRule.PREPAID_BOOKING: "réservé",
}


def rule_label_fr(rule: ChargeRule) -> str:
    """The wording of ``rule`` on an activity's line (lunch's "repas pris" is "présence")."""
    return _RULE_LABELS_FR.get(rule, rule.label_fr)


def is_activity(group: ChargedDays) -> bool:
    """Whether ``group`` is an activity's (its lines are :func:`activity_lines`)."""
    return group.facts.unit is not None


def _quantity_text(unit: Unit | None, quantity: int, meal: bool) -> str:
    if meal:
        return f"{quantity} repas"
    return (unit or Unit.DAY).quantity_fr(quantity)


def activity_lines(
    groups: Iterable[ChargedDays],
    child_names: Mapping[str, str],
    service_names: Mapping[str, str],
) -> tuple[InvoiceLine, ...]:
    """The invoice lines of activities' charged days, ordered by child, service, first day."""
    keyed: dict[tuple[object, ...], list[ChargedDays]] = {}
    for group in groups:
        facts = group.facts
        key: tuple[object, ...] = (
            facts.child_id,
            facts.service_id,
            facts.tariff_service_id or "",
            str(facts.category),
        )
        if (
            facts.unit is not Unit.WEEK
            or facts.tariff_service_id is not None
            or group.rule is ChargeRule.LATE_PICKUP
        ):
            key += (str(group.rule), str(group.quote.unit_price.amount), group.quote.description)
        keyed.setdefault(key, []).append(group)
    lines: list[tuple[tuple[object, ...], InvoiceLine]] = []
    for members in keyed.values():
        members.sort(key=lambda member: member.days[0])
        facts = members[0].facts
        if (
            facts.unit is Unit.WEEK
            and facts.tariff_service_id is None
            and members[0].rule is not ChargeRule.LATE_PICKUP
        ):
            lines.extend(_week_lines(members, child_names, service_names))
            continue
        days = sorted(day for member in members for day in member.days)
        first = members[0]
        meal = facts.tariff_service_id is not None
        quantities = dict(facts.quantities)
        late = first.rule is ChargeRule.LATE_PICKUP
        if facts.unit is not None and facts.unit.timed and not meal and not late:
            quantity = sum(quantities.get(day, 1) for day in days)
        else:
            quantity = len(days)
        service = service_names.get(facts.service_id, facts.service_id)
        if late:
            text = f"{quantity} retard{'s' if quantity > 1 else ''} à la sortie"
        else:
            text = f"{_quantity_text(facts.unit, quantity, meal)} – {rule_label_fr(first.rule)}"
        line = InvoiceLine.build(
            child_id=facts.child_id,
            child_name=child_names.get(facts.child_id),
            service_id=facts.service_id,
            category=facts.category,
            description=f"{service} : {text} ({first.quote.description})",
            quantity=quantity,
            unit_price=first.quote.unit_price,
            days=days,
            rule=first.rule,
            grid_id=first.quote.grid_id,
            unit=LATE_PICKUP_UNIT if late else MEAL_UNIT if meal else str(facts.unit),
        )
        lines.append(((facts.child_id, facts.service_id, days[0], meal, late), line))
    lines.sort(key=lambda item: item[0])
    return tuple(line for _, line in lines)


def _week_lines(
    members: list[ChargedDays],
    child_names: Mapping[str, str],
    service_names: Mapping[str, str],
) -> list[tuple[tuple[object, ...], InvoiceLine]]:
    """One line per week of a week-unit activity: its first charged day's rule and price."""
    weeks: dict[date, list[tuple[date, ChargedDays]]] = {}
    for member in members:
        for day in member.days:
            weeks.setdefault(week_of(day), []).append((day, member))
    result: list[tuple[tuple[object, ...], InvoiceLine]] = []
    for monday, entries in sorted(weeks.items()):
        entries.sort(key=lambda entry: entry[0])
        first = entries[0][1]
        facts = first.facts
        service = service_names.get(facts.service_id, facts.service_id)
        line = InvoiceLine.build(
            child_id=facts.child_id,
            child_name=child_names.get(facts.child_id),
            service_id=facts.service_id,
            category=facts.category,
            description=(
                f"{service} : semaine du {monday:%d/%m} – {rule_label_fr(first.rule)} "
                f"({first.quote.description})"
            ),
            quantity=1,
            unit_price=first.quote.unit_price,
            days=[day for day, _ in entries],
            rule=first.rule,
            grid_id=first.quote.grid_id,
            unit=str(Unit.WEEK),
        )
        result.append(((facts.child_id, facts.service_id, entries[0][0], False, False), line))
    return result
