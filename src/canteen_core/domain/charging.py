"""Charging rules: which days are billed, at which price, and why.

The billing input is one :class:`DayFacts` per (child, enrollment, day): was the day booked, was
the child there, was the absence justified, did the organiser close the service. The service
layer builds these from reservations and attendance; this module never looks at them directly.

:func:`decide` applies the rules (post-paid billing) and gives one :class:`DayDecision` per day:

============================================  =================================  ==========
situation                                     rule                               charged
============================================  =================================  ==========
service closed by the organiser (strike...)   ``closed_by_organiser``            no
booked, present                               ``present``                        yes
booked, attendance not recorded               ``booked_not_recorded``            per policy
booked, absent, not justified                 ``absent_unjustified``             yes
booked, absent, justified, within carence     ``justified_absence_carence``      yes
booked, absent, justified, after carence      ``justified_absence``              no
not booked, present                           ``unbooked_present``               yes + surcharge
not booked, cancelled after the deadline      ``late_cancellation``              per policy
not booked, not present                       ``not_booked``                     no
============================================  =================================  ==========

A booking made after the deadline (``late_booking``) is charged with the grid's late-booking
surcharge whenever it is charged.

**Carence.** A justified absence is charged for its first ``carence_days`` days, then free. Days
are counted per *run* of justified absences of one enrollment: the run goes on across closed and
unbooked days and ends at the first booked day that is not a justified absence (the child came
back, or missed the day without a justification) or a day the child ate without booking. A run
that started before the billed period is continued with ``carried_runs``.

:func:`price` turns the charged decisions into :class:`Charge` records priced with the
:class:`~canteen_core.domain.tariffs.TariffBook`; each charge keeps the day, the rule and the price
quote,
so every invoice line can be traced back to them.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from canteen_core.domain._validators import a_date, non_empty_str
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.families import Household
from canteen_core.domain.tariffs import (
    DEFAULT_DISCOUNTED_CATEGORIES,
    PriceQuote,
    SurchargeReason,
    TariffBook,
    TariffCategory,
    sibling_ranks,
)

__all__ = [
    "Charge",
    "ChargeRule",
    "ChargedDays",
    "ChargingPolicy",
    "DayDecision",
    "DayFacts",
    "PeriodFacts",
    "charge_periods",
    "decide",
    "price",
]


class ChargeRule(enum.StrEnum):
    """The rule that decided whether a day is charged (kept on every invoice line)."""

    PRESENT = "present"
    BOOKED_NOT_RECORDED = "booked_not_recorded"
    ABSENT_UNJUSTIFIED = "absent_unjustified"
    JUSTIFIED_ABSENCE_CARENCE = "justified_absence_carence"
    JUSTIFIED_ABSENCE = "justified_absence"
    UNBOOKED_PRESENT = "unbooked_present"
    CLOSED_BY_ORGANISER = "closed_by_organiser"
    LATE_CANCELLATION = "late_cancellation"
    NOT_BOOKED = "not_booked"
    PREPAID_BOOKING = "prepaid_booking"  # prepaid mode: the validated booking itself is billed

    @property
    def label_fr(self) -> str:
        """The French wording printed on invoices."""
        return _RULE_LABELS_FR[self]


_RULE_LABELS_FR = {
    ChargeRule.PRESENT: "repas pris",
    ChargeRule.BOOKED_NOT_RECORDED: "repas réservés",
    ChargeRule.ABSENT_UNJUSTIFIED: "absence non justifiée",
    ChargeRule.JUSTIFIED_ABSENCE_CARENCE: "absence justifiée (jour de carence)",
    ChargeRule.JUSTIFIED_ABSENCE: "absence justifiée",
    ChargeRule.UNBOOKED_PRESENT: "repas pris sans réservation",
    ChargeRule.CLOSED_BY_ORGANISER: "fermeture du service",
    ChargeRule.LATE_CANCELLATION: "annulation hors délai",
    ChargeRule.NOT_BOOKED: "non réservé",
    ChargeRule.PREPAID_BOOKING: "repas réservés",
}


def _category(value: TariffCategory | str) -> TariffCategory:
    try:
        return TariffCategory(value)
    except ValueError:
        raise InvalidInputError(f"unknown tariff category {value!r}", path="category") from None


def _flag(_: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(f"must be True or False, got {value!r}", path=attribute.name)


def _optional_flag(_: object, attribute: attrs.Attribute[bool | None], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInputError(
            f"must be True, False or None (not recorded), got {value!r}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class DayFacts:
    """What happened for one child's enrollment on one day: the input of billing.

    ``present`` is ``None`` when attendance was not recorded. ``absence_justified`` only makes
    sense for a booked day the child missed; ``late_cancellation`` for a day no longer booked;
    ``late_booking`` for a booked day. Inconsistent combinations are refused.
    """

    child_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    enrollment_id: str = attrs.field(validator=non_empty_str)
    service_id: str = attrs.field(validator=non_empty_str)
    category: TariffCategory = attrs.field(
        default=TariffCategory.RESIDENT_CHILD, converter=_category
    )
    day: date = attrs.field(validator=a_date)
    booked: bool = attrs.field(validator=_flag)
    present: bool | None = attrs.field(default=None, validator=_optional_flag)
    absence_justified: bool = attrs.field(default=False, validator=_flag)
    closed_by_organiser: bool = attrs.field(default=False, validator=_flag)
    late_booking: bool = attrs.field(default=False, validator=_flag)
    late_cancellation: bool = attrs.field(default=False, validator=_flag)

    def __attrs_post_init__(self) -> None:
        if self.absence_justified and not (self.booked and self.present is False):
            raise InvalidInputError(
                "a justified absence needs a booked day the child missed (present=False)",
                path="absence_justified",
            )
        if self.late_booking and not self.booked:
            raise InvalidInputError("a late booking must be booked", path="late_booking")
        if self.late_cancellation and self.booked:
            raise InvalidInputError(
                "a late cancellation cannot still be booked", path="late_cancellation"
            )

    @property
    def key(self) -> tuple[str, str, date]:
        """``(enrollment_id, child_id, day)``: at most one record per key."""
        return (self.enrollment_id, self.child_id, self.day)


_NO_DAYS: frozenset[date] = frozenset()


def _day_set(value: Iterable[date]) -> frozenset[date]:
    if type(value) is frozenset:
        return value
    return frozenset(value) if value else _NO_DAYS


@attrs.frozen(kw_only=True)
class PeriodFacts:
    """What happened for one child's enrollment over a period: :class:`DayFacts` in bulk.

    One set of days per kind of fact instead of one object per day (a month of a city is
    tens of thousands of days, most of them alike). ``booked``: booked service days;
    ``closed``: booked days the organiser closed the service (strike, works); ``present`` /
    ``absent``: recorded attendance; ``justified``: booked days missed with a justification
    (recorded absent or not recorded); ``late_booked``: booked days booked after the deadline;
    ``late_cancelled``: days no longer booked, cancelled after the deadline. :meth:`day_facts`
    gives the equivalent :class:`DayFacts`; inconsistent sets are refused like those.
    """

    child_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    enrollment_id: str = attrs.field(validator=non_empty_str)
    service_id: str = attrs.field(validator=non_empty_str)
    category: TariffCategory = attrs.field(
        default=TariffCategory.RESIDENT_CHILD, converter=_category
    )
    booked: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    closed: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    present: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    absent: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    justified: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    late_booked: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)
    late_cancelled: frozenset[date] = attrs.field(default=frozenset(), converter=_day_set)

    def __attrs_post_init__(self) -> None:
        for name in ("booked", "closed", "present", "absent", "late_cancelled"):
            for day in getattr(self, name):
                if type(day) is not date and (
                    not isinstance(day, date) or isinstance(day, datetime)
                ):
                    raise InvalidInputError(f"must be dates, got {day!r}", path=name)
        if self.present & self.absent:
            raise InvalidInputError("a day cannot be both present and absent", path="present")
        if not self.justified <= self.booked - self.present:
            raise InvalidInputError(
                "a justified absence needs a booked day the child missed", path="justified"
            )
        if not self.late_booked <= self.booked:
            raise InvalidInputError("a late booking must be booked", path="late_booked")
        if self.late_cancelled & self.booked:
            raise InvalidInputError(
                "a late cancellation cannot still be booked", path="late_cancelled"
            )
        if self.closed & (self.booked | self.present | self.absent | self.late_cancelled):
            raise InvalidInputError(
                "a day closed by the organiser has no other fact", path="closed"
            )

    def days(self) -> list[date]:
        """Every day with a fact, in order."""
        return sorted(self.booked | self.closed | self.present | self.absent | self.late_cancelled)

    def _day(self, day: date) -> dict[str, Any]:
        """The facts of ``day`` as :class:`DayFacts` keyword arguments (flags only)."""
        if day in self.closed:
            return {"booked": True, "closed_by_organiser": True}
        justified = day in self.justified
        present = (
            True if day in self.present else (False if justified or day in self.absent else None)
        )
        return {
            "booked": day in self.booked,
            "present": present,
            "absence_justified": justified,
            "late_booking": day in self.late_booked,
            "late_cancellation": day in self.late_cancelled,
        }

    def day_facts(self) -> list[DayFacts]:
        """The same facts, one :class:`DayFacts` per day, in day order."""
        return [
            DayFacts(
                child_id=self.child_id,
                household_id=self.household_id,
                enrollment_id=self.enrollment_id,
                service_id=self.service_id,
                category=self.category,
                day=day,
                **self._day(day),
            )
            for day in self.days()
        ]


def _non_negative_int(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(
            f"must be a non-negative integer, got {value!r}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class ChargingPolicy:
    """Per-enrollment charging choices.

    ``carence_days``: charged first days of each justified-absence run (0 = never charged).
    ``charge_late_cancellation``: whether a cancellation after the deadline is still charged.
    ``charge_unrecorded``: whether a booked day with no attendance record is charged as booked.
    """

    carence_days: int = attrs.field(default=1, validator=_non_negative_int)
    charge_late_cancellation: bool = attrs.field(default=True, validator=_flag)
    charge_unrecorded: bool = attrs.field(default=True, validator=_flag)


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
    items = list(facts)
    seen: set[tuple[str, str, date]] = set()
    for index, item in enumerate(items):
        if not isinstance(item, DayFacts):
            raise InvalidInputError(
                f"expected DayFacts, got {type(item).__name__}", path=f"facts[{index}]"
            )
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
    carried = carried_runs or {}
    for enrollment_id, count in carried.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInputError(
                f"carried run must be a non-negative integer, got {count!r}",
                path=f"carried_runs.{enrollment_id}",
            )
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
    """The charging rules for one day (the table of the module docstring).

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
    ranks: dict[tuple[str, str], int] = {}
    for (household_id, service_id), child_ids in billed.items():
        household = _household(households, household_id)
        children = [household.child(child_id) for child_id in child_ids]
        for child_id, rank in sibling_ranks(children).items():
            ranks[(service_id, child_id)] = rank
    return ranks


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


# -- by period -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ChargedDays:
    """Charged days of one :class:`PeriodFacts` sharing a rule and a price quote.

    The bulk form of :class:`Charge`: ``days`` (in order) are each charged ``quote`` by ``rule``.
    """

    facts: PeriodFacts
    rule: ChargeRule
    quote: PriceQuote
    days: tuple[date, ...]

    @property
    def quantity(self) -> int:
        """How many days are charged."""
        return len(self.days)


# Bits of a day's flags in _charged_groups.
_BOOKED, _PRESENT, _ABSENT, _JUSTIFIED, _CLOSED, _LATE_BOOKED, _LATE_CANCELLED = (
    1 << bit for bit in range(7)
)


def _outcome(mask: int, rules: ChargingPolicy, run: int) -> _Outcome:
    """:func:`_rule_of` for a day given as a mask of flags."""
    justified = bool(mask & _JUSTIFIED)
    present = True if mask & _PRESENT else (False if justified or mask & _ABSENT else None)
    return _rule_of(
        booked=bool(mask & _BOOKED),
        present=present,
        absence_justified=justified,
        closed=bool(mask & _CLOSED),
        late_booking=bool(mask & _LATE_BOOKED),
        late_cancellation=bool(mask & _LATE_CANCELLED),
        rules=rules,
        run=run,
    )


def _charged_groups(
    facts: PeriodFacts, rules: ChargingPolicy, run: int, outcomes: dict[tuple[int, int], _Outcome]
) -> dict[tuple[ChargeRule, SurchargeReason | None], list[date]]:
    """The charged days of ``facts`` by (rule, surcharge), each list in day order.

    ``outcomes`` memoizes :func:`_rule_of` for ``rules`` by (flags, run): a day's outcome
    depends only on them, and a month repeats a handful of combinations.
    """
    if not (
        facts.present
        or facts.absent
        or facts.justified
        or facts.closed
        or facts.late_booked
        or facts.late_cancelled
    ):
        # Booked days and nothing else (no attendance recorded: the usual case): one outcome
        # for every day when the first day's leaves the run as it found the next ones.
        if not facts.booked:
            return {}
        first = outcomes.get((_BOOKED, run))
        if first is None:
            first = outcomes[(_BOOKED, run)] = _outcome(_BOOKED, rules, run)
        after = first[3]
        following = outcomes.get((_BOOKED, after))
        if following is None:
            following = outcomes[(_BOOKED, after)] = _outcome(_BOOKED, rules, after)
        if following == (*first[:3], after):
            rule, charged, surcharge, _ = first
            return {(rule, surcharge): sorted(facts.booked)} if charged else {}
    masks = dict.fromkeys(facts.booked, _BOOKED)
    for bit, days in (
        (_PRESENT, facts.present),
        (_ABSENT, facts.absent),
        (_JUSTIFIED, facts.justified),
        (_CLOSED, facts.closed),
        (_LATE_BOOKED, facts.late_booked),
        (_LATE_CANCELLED, facts.late_cancelled),
    ):
        for day in days:
            masks[day] = masks.get(day, 0) | bit
    groups: dict[tuple[ChargeRule, SurchargeReason | None], list[date]] = {}
    for day in sorted(masks):
        key = (masks[day], run)
        outcome = outcomes.get(key)
        if outcome is None:
            outcome = outcomes[key] = _outcome(key[0], rules, run)
        rule, charged, surcharge, run = outcome
        if charged:
            found = groups.get((rule, surcharge))
            if found is None:
                groups[(rule, surcharge)] = [day]
            else:
                found.append(day)
    return groups


def charge_periods(
    facts: Iterable[PeriodFacts],
    *,
    tariffs: TariffBook,
    households: Mapping[str, Household],
    policy: ChargingPolicy | None = None,
    policies: Mapping[str, ChargingPolicy] | None = None,
    carried_runs: Mapping[str, int] | None = None,
    ranks: Mapping[str, int] | None = None,
) -> tuple[ChargedDays, ...]:
    """Charge periods: the rules of :func:`decide` and the prices of :func:`price`, charged
    days grouped.

    Gives, for each :class:`PeriodFacts` in order, its charged days grouped by rule and price
    quote (groups in the order of their first day): exactly the charges :func:`decide` then
    :func:`price` give for the equivalent :class:`DayFacts`
    (:meth:`PeriodFacts.day_facts`), without an object per day. Sibling ranks, carried runs,
    policies and errors are those of :func:`decide` and :func:`price`.
    """
    items = list(facts)
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        if not isinstance(item, PeriodFacts):
            raise InvalidInputError(
                f"expected PeriodFacts, got {type(item).__name__}", path=f"facts[{index}]"
            )
        key = (item.enrollment_id, item.child_id)
        if key in seen:
            raise InvalidInputError(
                f"two period facts for child {item.child_id!r}, enrollment {item.enrollment_id!r}",
                path=f"facts[{index}]",
            )
        seen.add(key)
    if not isinstance(tariffs, TariffBook):
        raise InvalidInputError("expected a TariffBook", path="tariffs")
    default = policy or ChargingPolicy()
    overrides = policies or {}
    carried = carried_runs or {}
    for enrollment_id, count in carried.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInputError(
                f"carried run must be a non-negative integer, got {count!r}",
                path=f"carried_runs.{enrollment_id}",
            )
    default_ranks = _period_ranks(items, households) if ranks is None else {}
    charged: list[ChargedDays] = []
    outcomes: dict[ChargingPolicy, dict[tuple[int, int], _Outcome]] = {}
    for item in items:
        rules = overrides.get(item.enrollment_id, default)
        table = outcomes.get(rules)
        if table is None:
            table = outcomes[rules] = {}
        groups = _charged_groups(item, rules, carried.get(item.enrollment_id, 0), table)
        if not groups:
            continue
        household = _household(households, item.household_id)
        if ranks is not None:
            rank = ranks.get(item.child_id, 1)
        else:
            rank = default_ranks.get((item.service_id, item.child_id), 1)
        mine: list[ChargedDays] = []
        for (rule, surcharge), days in groups.items():
            for quote, quoted in tariffs.quote_days(
                service_id=item.service_id,
                days=days,
                category=item.category,
                household=household,
                sibling_rank=rank,
                surcharge=surcharge,
            ):
                mine.append(ChargedDays(facts=item, rule=rule, quote=quote, days=tuple(quoted)))
        mine.sort(key=lambda group: group.days[0])
        charged.extend(mine)
    return tuple(charged)


def _period_ranks(
    items: Iterable[PeriodFacts], households: Mapping[str, Household]
) -> dict[tuple[str, str], int]:
    """:func:`_default_ranks` for period facts: a child with any day counts."""
    billed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in items:
        if item.category in DEFAULT_DISCOUNTED_CATEGORIES and (
            item.booked or item.closed or item.present or item.absent or item.late_cancelled
        ):
            billed[(item.household_id, item.service_id)].add(item.child_id)
    ranks: dict[tuple[str, str], int] = {}
    for (household_id, service_id), child_ids in billed.items():
        household = _household(households, household_id)
        children = [household.child(child_id) for child_id in child_ids]
        for child_id, rank in sibling_ranks(children).items():
            ranks[(service_id, child_id)] = rank
    return ranks
