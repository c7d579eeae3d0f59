"""The capacity rules, with Hypothesis: the pure admission rule, and any sequence of bookings
and cancellations through the facade (memory) keeps the day within capacity, serves the
waiting list first come first served and never leaves a place free while a child waits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from canteen_core.domain.capacity import (
    CapacityRule,
    CapacitySettings,
    PromotionMode,
    WaitingEntry,
    WaitingStatus,
    admit,
    next_waiting,
    rank_of,
)
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError
from canteen_core.services import Canteen

from ._world import ADMIN, SERVICE, SITE, STAFF, build_world

DAY = date(2023, 10, 2)
NOW = datetime(2023, 9, 1, 8, 0, tzinfo=UTC)

counts = st.integers(min_value=0, max_value=50)


@given(places=counts, taken=counts, queued=counts, wanted=counts)
def test_admit_never_goes_beyond_the_places_nor_passes_the_queue(
    places: int, taken: int, queued: int, wanted: int
) -> None:
    admitted = admit(places, taken, queued, wanted)
    assert 0 <= admitted <= wanted
    assert taken + admitted <= max(places, taken)
    if queued:
        assert admitted == 0
    else:
        assert admitted == max(0, min(wanted, places - taken))


def test_admit_refuses_negative_counts() -> None:
    try:
        admit(1, -1, 0, 1)
    except InvalidInputError:
        return
    raise AssertionError("a negative count was accepted")


@given(st.lists(st.sampled_from(list(WaitingStatus)), min_size=1, max_size=12), st.integers(0, 5))
def test_the_next_ones_served_are_the_first_waiting(
    statuses: list[WaitingStatus], free: int
) -> None:
    entries = [
        WaitingEntry(
            id=f"w{n}",
            site_id="s",
            service_id="rs",
            day=DAY,
            enrollment_id=f"e{n}",
            household_id="h",
            child_id=f"c{n}",
            position=n + 1,
            requested_at=NOW,
            status=status,
        )
        for n, status in enumerate(statuses)
    ]
    served = next_waiting(list(reversed(entries)), free)
    waiting = [entry for entry in entries if entry.status is WaitingStatus.WAITING]
    assert served == waiting[:free]
    assert [rank_of(entry, entries) for entry in waiting] == list(range(1, len(waiting) + 1))


def test_a_rule_reads_a_date_before_its_weekday() -> None:
    rule = CapacityRule(site_id="s", service_id="rs", places=20, weekdays={0: 10}, days={DAY: 3})
    assert [
        rule.places_on(DAY),
        rule.places_on(date(2023, 10, 9)),
        rule.places_on(date(2023, 10, 10)),
    ] == [3, 10, 20]


operations = st.lists(
    st.tuples(
        st.sampled_from(["e-alban", "e-zoe", "e-lea"]),
        st.sampled_from(["book", "cancel", "accept"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(
    places=st.integers(min_value=0, max_value=3),
    steps=operations,
    mode=st.sampled_from(list(PromotionMode)),
)
def test_any_bookings_and_cancellations_keep_the_day_within_capacity(
    places: int, steps: list[tuple[str, str]], mode: PromotionMode
) -> None:
    with Canteen.in_memory(zone="C", clock=FixedClock(NOW)) as canteen:
        canteen.context.deployment = attrs.evolve(
            canteen.context.deployment, capacity=CapacitySettings(promotion=mode)
        )
        build_world(canteen)
        canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, places)
        arrivals: list[str] = []  # who joined the queue, in order
        for enrollment_id, action in steps:
            entries = canteen.capacity.waiting_list(STAFF, SITE.id, SERVICE.id, DAY)
            if action == "book":
                queued = any(e.enrollment_id == enrollment_id and e.is_open for e in entries)
                result = canteen.reservations.book(ADMIN, enrollment_id, DAY)
                if result.skipped and not queued:  # joins at the back of the queue
                    arrivals = [e for e in arrivals if e != enrollment_id] + [enrollment_id]
            elif action == "cancel":
                canteen.reservations.cancel(ADMIN, enrollment_id, DAY)
            else:
                for entry in entries:
                    if (
                        entry.enrollment_id == enrollment_id
                        and entry.status is WaitingStatus.OFFERED
                    ):
                        canteen.capacity.accept(ADMIN, entry.id)
            booked = {
                e
                for e in ("e-alban", "e-zoe", "e-lea")
                if canteen.reservations.booked_days(ADMIN, e, DAY, DAY)
            }
            entries = canteen.capacity.waiting_list(STAFF, SITE.id, SERVICE.id, DAY)
            offered = {e.enrollment_id for e in entries if e.status is WaitingStatus.OFFERED}
            waiting = [e.enrollment_id for e in entries if e.status is WaitingStatus.WAITING]
            assert len(booked) + len(offered) <= places
            assert canteen.kitchen.headcount(STAFF, SITE.id, DAY).total == len(booked)
            assert not (set(waiting) | offered) & booked
            if waiting:  # a place is never left free while a child waits
                assert len(booked) + len(offered) == places
            # first come, first served: the queue keeps the order of arrival
            assert waiting == [e for e in arrivals if e in waiting]
