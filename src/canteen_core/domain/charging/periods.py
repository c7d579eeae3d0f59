"""The charging rules over a period: :func:`charge_periods` groups the charged days of each period
(:class:`ChargedDays`) with the same outcome as :func:`decide` day by day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

import attrs

from canteen_core.domain._validators import items_of
from canteen_core.domain.charging.days import _carried, _household, _Outcome, _ranks, _rule_of
from canteen_core.domain.charging.facts import ChargeRule, ChargingPolicy, PeriodFacts
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Household
from canteen_core.domain.tariffs import (
    DEFAULT_DISCOUNTED_CATEGORIES,
    PriceQuote,
    SurchargeReason,
    TariffBook,
)


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
        """How many days are charged (for an activity's facts, see
        :func:`~canteen_core.domain.invoice_runs.activity_lines`)."""
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
    items = items_of(PeriodFacts, facts, "facts")
    seen: set[tuple[str, str, str | None]] = set()
    for index, item in enumerate(items):
        key = (item.enrollment_id, item.child_id, item.tariff_service_id)
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
    carried = _carried(carried_runs)
    default_ranks = _period_ranks(items, households) if ranks is None else {}
    charged: list[ChargedDays] = []
    # By the policy's identity (alive for the call): hashing an attrs policy per facts costs
    # more than the lookup; equal policies at two identities only fill two tables alike.
    outcomes: dict[int, dict[tuple[int, int], _Outcome]] = {}
    for item in items:
        rules = overrides.get(item.enrollment_id, default)
        table = outcomes.get(id(rules))
        if table is None:
            table = outcomes[id(rules)] = {}
        groups = _charged_groups(item, rules, carried.get(item.enrollment_id, 0), table)
        if not groups and not item.late_pickups:
            continue
        household = _household(households, item.household_id)
        if ranks is not None:
            rank = ranks.get(item.child_id, 1)
        else:
            rank = default_ranks.get((item.service_id, item.child_id), 1)
        mine: list[ChargedDays] = []
        for (rule, surcharge), days in groups.items():
            for quote, quoted in tariffs.quote_days(
                service_id=item.tariff_service_id or item.service_id,
                days=days,
                category=item.category,
                household=household,
                sibling_rank=rank,
                surcharge=surcharge,
            ):
                mine.append(ChargedDays(facts=item, rule=rule, quote=quote, days=tuple(quoted)))
        if item.late_pickups:
            mine.extend(_late_pickups(item, tariffs))
        if len(mine) > 1:
            mine.sort(key=lambda group: group.days[0])
        charged.extend(mine)
    return tuple(charged)


def _late_pickups(item: PeriodFacts, tariffs: TariffBook) -> list[ChargedDays]:
    """The late pick-ups of ``item`` charged the fee of the grid valid on each day (days
    whose grid charges no fee are not charged)."""
    by_quote: dict[PriceQuote, list[date]] = {}
    for day in sorted(item.late_pickups):
        grid = tariffs.grid_on(item.tariff_service_id or item.service_id, day)
        quote = grid.late_pickup_quote(item.category)
        if quote is not None:
            by_quote.setdefault(quote, []).append(day)
    return [
        ChargedDays(facts=item, rule=ChargeRule.LATE_PICKUP, quote=quote, days=tuple(days))
        for quote, days in by_quote.items()
    ]


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
    return _ranks(billed, households)
