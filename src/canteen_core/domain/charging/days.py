"""The charging rules day by day: :func:`decide` gives one :class:`DayDecision` per day and
:func:`price` turns the charged days into :class:`Charge` lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

import attrs

from canteen_core.domain._validators import items_of
from canteen_core.domain.charging.facts import ChargeRule, ChargingPolicy, DayFacts
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.families import Household
from canteen_core.domain.tariffs import (
    DEFAULT_DISCOUNTED_CATEGORIES,
    PriceQuote,
    SurchargeReason,
    TariffBook,
    sibling_ranks,
)


@attrs.frozen(kw_only=True)
class DayDecision:
    """The rule applied to one :class:`DayFacts` and whether it is charged.

    ``carence_position`` is the 1-based position of the day in its justified-absence run (only
    for justified absences).
    """

    facts: DayFacts
    rule: ChargeRule
    charged: bool
    surcharge: SurchargeReason | None = None
    carence_position: int | None = None


@attrs.frozen(kw_only=True)
class Charge:
    """One charged day, priced: the atom invoice lines are built from."""

    decision: DayDecision
    quote: PriceQuote

    @property
    def facts(self) -> DayFacts:
        """The day's facts."""
        return self.decision.facts

    @property
    def day(self) -> date:
        """The charged day."""
        return self.decision.facts.day

    @property
    def rule(self) -> ChargeRule:
        """The rule that charged it."""
        return self.decision.rule


def _check_facts(facts: Iterable[DayFacts]) -> list[DayFacts]:
    items = list(items_of(DayFacts, facts, "facts"))
    seen: set[tuple[str, str, date]] = set()
    for index, item in enumerate(items):
        if item.key in seen:
            raise InvalidInputError(
                f"two records for child {item.child_id!r}, enrollment {item.enrollment_id!r} "
                f"on {item.day.isoformat()}",
                path=f"facts[{index}]",
            )
        seen.add(item.key)
    return items


def decide(
    facts: Iterable[DayFacts],
    *,
    policy: ChargingPolicy | None = None,
    policies: Mapping[str, ChargingPolicy] | None = None,
    carried_runs: Mapping[str, int] | None = None,
) -> tuple[DayDecision, ...]:
    """Apply the charging rules to ``facts``; one decision per fact, ordered by day.

    ``policies`` overrides ``policy`` per enrollment id. ``carried_runs`` gives, per enrollment
    id, how many justified-absence days the run open at the start of the period already counts
    (so the carence is not charged twice for an illness spanning two months).
    """
    items = _check_facts(facts)
    default = policy or ChargingPolicy()
    overrides = policies or {}
    carried = _carried(carried_runs)
    by_enrollment: dict[tuple[str, str], list[DayFacts]] = defaultdict(list)
    for item in items:
        by_enrollment[(item.enrollment_id, item.child_id)].append(item)
    decisions: list[DayDecision] = []
    for (enrollment_id, _child), days in by_enrollment.items():
        rules = overrides.get(enrollment_id, default)
        run = carried.get(enrollment_id, 0)
        for item in sorted(days, key=lambda f: f.day):
            decision, run = _decide_day(item, rules, run)
            decisions.append(decision)
    decisions.sort(key=lambda d: (d.facts.day, d.facts.household_id, d.facts.child_id))
    return tuple(decisions)


#: ``(rule, charged, surcharge, justified-absence run after the day)``: one day's outcome.
_Outcome = tuple[ChargeRule, bool, SurchargeReason | None, int]


def _rule_of(
    *,
    booked: bool,
    present: bool | None,
    absence_justified: bool,
    closed: bool,
    late_booking: bool,
    late_cancellation: bool,
    rules: ChargingPolicy,
    run: int,
) -> _Outcome:
    """The charging rules for one day (the table of :mod:`canteen_core.domain.charging`).

    ``run`` is the justified-absence run length before the day; the returned one is after it
    (for a justified absence, also the day's carence position).
    """
    late = SurchargeReason.LATE_BOOKING if late_booking else None
    if closed:
        return ChargeRule.CLOSED_BY_ORGANISER, False, None, run
    if booked:
        if present is True:
            return ChargeRule.PRESENT, True, late, 0
        if present is None:
            charged = rules.charge_unrecorded
            return ChargeRule.BOOKED_NOT_RECORDED, charged, late if charged else None, 0
        if not absence_justified:
            return ChargeRule.ABSENT_UNJUSTIFIED, True, late, 0
        run += 1
        if run <= rules.carence_days:
            return ChargeRule.JUSTIFIED_ABSENCE_CARENCE, True, late, run
        return ChargeRule.JUSTIFIED_ABSENCE, False, None, run
    if present is True:
        return ChargeRule.UNBOOKED_PRESENT, True, SurchargeReason.UNBOOKED_MEAL, 0
    if late_cancellation:
        return ChargeRule.LATE_CANCELLATION, rules.charge_late_cancellation, None, run
    return ChargeRule.NOT_BOOKED, False, None, run


_JUSTIFIED_RULES = frozenset({ChargeRule.JUSTIFIED_ABSENCE_CARENCE, ChargeRule.JUSTIFIED_ABSENCE})


def _decide_day(item: DayFacts, rules: ChargingPolicy, run: int) -> tuple[DayDecision, int]:
    """Decide one day; ``run`` is the current justified-absence run length (returned updated)."""
    rule, charged, surcharge, after = _rule_of(
        booked=item.booked,
        present=item.present,
        absence_justified=item.absence_justified,
        closed=item.closed_by_organiser,
        late_booking=item.late_booking,
        late_cancellation=item.late_cancellation,
        rules=rules,
        run=run,
    )
    position = after if rule in _JUSTIFIED_RULES else None
    decision = DayDecision(
        facts=item, rule=rule, charged=charged, surcharge=surcharge, carence_position=position
    )
    return decision, after


def _default_ranks(
    decisions: Iterable[DayDecision], households: Mapping[str, Household]
) -> dict[tuple[str, str], int]:
    """Sibling ranks per (service, child) among the household's children billed for the service."""
    billed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for decision in decisions:
        facts = decision.facts
        if facts.category in DEFAULT_DISCOUNTED_CATEGORIES:
            billed[(facts.household_id, facts.service_id)].add(facts.child_id)
    return _ranks(billed, households)


def _ranks(
    billed: Mapping[tuple[str, str], set[str]], households: Mapping[str, Household]
) -> dict[tuple[str, str], int]:
    """Sibling ranks per (service, child) of the children billed per (household, service)."""
    ranks: dict[tuple[str, str], int] = {}
    for (household_id, service_id), child_ids in billed.items():
        household = _household(households, household_id)
        children = [household.child(child_id) for child_id in child_ids]
        for child_id, rank in sibling_ranks(children).items():
            ranks[(service_id, child_id)] = rank
    return ranks


def _carried(carried_runs: Mapping[str, int] | None) -> Mapping[str, int]:
    """``carried_runs`` (justified-absence days counted before the period, per enrollment id)
    checked: non-negative integers; ``{}`` for ``None``."""
    carried = carried_runs or {}
    for enrollment_id, count in carried.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInputError(
                f"carried run must be a non-negative integer, got {count!r}",
                path=f"carried_runs.{enrollment_id}",
            )
    return carried


def _household(households: Mapping[str, Household], household_id: str) -> Household:
    try:
        return households[household_id]
    except KeyError:
        raise NotFoundError(f"unknown household {household_id!r}") from None


def price(
    decisions: Iterable[DayDecision],
    *,
    tariffs: TariffBook,
    households: Mapping[str, Household],
    ranks: Mapping[str, int] | None = None,
) -> tuple[Charge, ...]:
    """Price every charged decision with the grid and the QF valid on its day.

    ``ranks`` gives each child's sibling rank (see
    :func:`~canteen_core.domain.tariffs.sibling_ranks`);
    by default children are ranked by birth date among the household's children that appear in
    ``decisions`` for the same service. Raises :class:`NotFoundError` for an unknown household,
    child or a day without a grid, :class:`ConfigurationError` for a category the grid lacks.
    """
    items = list(decisions)
    for index, item in enumerate(items):
        if not isinstance(item, DayDecision):
            raise InvalidInputError("expected DayDecision", path=f"decisions[{index}]")
    if not isinstance(tariffs, TariffBook):
        raise InvalidInputError("expected a TariffBook", path="tariffs")
    default_ranks = _default_ranks(items, households) if ranks is None else {}
    charges: list[Charge] = []
    for decision in items:
        if not decision.charged:
            continue
        facts = decision.facts
        household = _household(households, facts.household_id)
        if ranks is not None:
            rank = ranks.get(facts.child_id, 1)
        else:
            rank = default_ranks.get((facts.service_id, facts.child_id), 1)
        quote = tariffs.quote(
            service_id=facts.service_id,
            day=facts.day,
            category=facts.category,
            household=household,
            sibling_rank=rank,
            surcharge=decision.surcharge,
        )
        charges.append(Charge(decision=decision, quote=quote))
    return tuple(charges)
