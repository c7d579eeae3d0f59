"""Period facts with booked days only (no attendance recorded, the usual enrollment of a
billing run) are charged like their day facts."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from _billing_oracle import compute_charges
from canteen_core.domain.charging import (
    ChargingPolicy,
    PeriodFacts,
    charge_periods,
)
from canteen_core.domain.families import Household
from test_billing_periods import _QUOTIENTS, BOOK, SEPTEMBER, _household


@given(
    days=st.lists(st.sets(st.sampled_from(SEPTEMBER)), min_size=1, max_size=3),
    quotients=_QUOTIENTS,
    carence=st.integers(0, 2),
    unrecorded=st.booleans(),
    carried=st.integers(0, 3),
)
def test_booked_only_periods_are_charged_like_their_days(
    days: list[set[date]],
    quotients: tuple[object, ...],
    carence: int,
    unrecorded: bool,
    carried: int,
) -> None:
    household: Household = _household("H1", len(days), quotients)  # type: ignore[arg-type]
    periods = [
        PeriodFacts(
            child_id=f"H1-c{index + 1}",
            household_id="H1",
            enrollment_id=f"e{index}",
            service_id="lunch",
            booked=booked,
        )
        for index, booked in enumerate(days)
    ]
    policy = ChargingPolicy(carence_days=carence, charge_unrecorded=unrecorded)
    common = {
        "tariffs": BOOK,
        "households": {"H1": household},
        "policy": policy,
        "carried_runs": {"e0": carried},
    }
    grouped = charge_periods(periods, **common)  # type: ignore[arg-type]
    result = compute_charges([f for p in periods for f in p.day_facts()], **common)  # type: ignore[arg-type]
    assert sorted(
        (c.facts.enrollment_id, c.day, c.rule, c.quote) for c in result.charges
    ) == sorted((g.facts.enrollment_id, day, g.rule, g.quote) for g in grouped for day in g.days)
    assert all(list(g.days) == sorted(g.days) for g in grouped)
