"""Capacity is never exceeded under concurrent bookings (threads, real databases).

Eight families book the same day at the same instant from eight threads, each in its own
transaction on its own connection: the capacity rule's row lock (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's single writer) makes them take turns, so exactly ``places`` of them get
the day and the others join the waiting list, each at its own position.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canteen_core.domain.capacity import WaitingStatus
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.families import Child, Guardian, Household
from canteen_core.domain.reservations import SkipReason
from canteen_core.services import Canteen

from ._world import ADMIN, SERVICE, SITE, STAFF, WEEKLY
from .conftest import EventRecorder, make_canteen

WORKERS = 8
#: Open days of Ronde's restaurant between the Toussaint and Christmas holidays (zone C).
DAYS = [
    day
    for day in (date(2023, 11, 6) + timedelta(days=n) for n in range(46))
    if day.weekday() in (0, 1, 3, 4) and day != date(2023, 11, 10)
][:30]


def _family(n: int) -> Household:
    return Household(
        id=f"h{n}",
        payer=Guardian(id=f"g{n}", first_name="Parent", last_name=f"Famille{n}"),
        children=(
            Child(
                id=f"c{n}",
                first_name="Enfant",
                last_name=f"Famille{n}",
                birth_date=date(2016, 1, 1),
            ),
        ),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crowded(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> Iterator[tuple[Canteen, list[str]]]:
    """A canteen on SQLite or PostgreSQL with :data:`WORKERS` children at Ronde."""
    with make_canteen(str(request.param), request, tmp_path, clock, recorder) as canteen:
        ids = []
        for n in range(WORKERS):
            canteen.families.create_household(ADMIN, _family(n))
            enrollment = canteen.enrollments.enroll(
                ADMIN,
                f"h{n}",
                f"c{n}",
                service=SERVICE,
                site=SITE,
                booking_policy=WEEKLY,
                school_year=2023,
                enrollment_id=f"e{n}",
            )
            ids.append(enrollment.id)
        yield canteen, ids


def _book_together(canteen: Canteen, ids: list[str], day: date) -> None:
    start = threading.Barrier(len(ids))

    def book(enrollment_id: str) -> None:
        start.wait()
        canteen.reservations.book(ADMIN, enrollment_id, day)

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        list(pool.map(book, ids))


def _check(canteen: Canteen, ids: list[str], day: date, places: int) -> None:
    booked = [i for i in ids if canteen.reservations.booked_days(ADMIN, i, day, day)]
    assert len(booked) == min(places, len(ids))
    assert canteen.kitchen.headcount(STAFF, SITE.id, day).total == len(booked)
    entries = canteen.capacity.waiting_list(STAFF, SITE.id, SERVICE.id, day)
    assert all(entry.status is WaitingStatus.WAITING for entry in entries)
    assert sorted(entry.position for entry in entries) == list(range(1, len(entries) + 1))
    assert {entry.enrollment_id for entry in entries} == set(ids) - set(booked)


def test_concurrent_bookings_never_exceed_capacity(crowded: tuple[Canteen, list[str]]) -> None:
    canteen, ids = crowded
    day = DAYS[0]
    canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, 3)
    _book_together(canteen, ids, day)
    _check(canteen, ids, day, 3)
    # Two cancellations at once: each freed place goes to the next child waiting, in order.
    first = canteen.capacity.waiting_list(STAFF, SITE.id, SERVICE.id, day)[:2]
    leaving = [i for i in ids if canteen.reservations.booked_days(ADMIN, i, day, day)][:2]
    start = threading.Barrier(2)

    def cancel(enrollment_id: str) -> None:
        start.wait()
        canteen.reservations.cancel(ADMIN, enrollment_id, day)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(cancel, leaving))
    for entry in first:
        assert canteen.reservations.booked_days(ADMIN, entry.enrollment_id, day, day) == (day,)
    assert canteen.kitchen.headcount(STAFF, SITE.id, day).total == 3


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(places=st.integers(min_value=0, max_value=WORKERS + 1), workers=st.integers(2, WORKERS))
def test_any_capacity_holds_under_concurrent_bookings(
    crowded: tuple[Canteen, list[str]], places: int, workers: int
) -> None:
    canteen, ids = crowded
    used = _used_days.setdefault(id(canteen), itertools.count(1))
    day = DAYS[next(used)]
    rule = canteen.capacity.get(STAFF, SITE.id, SERVICE.id)
    overrides = dict(rule.days) if rule is not None else {}
    canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, 0, days={**overrides, day: places})
    _book_together(canteen, ids[:workers], day)
    _check(canteen, ids[:workers], day, places)
    late = canteen.reservations.book(ADMIN, ids[-1], day) if workers < WORKERS else None
    if late is not None and places <= workers:
        assert late.skipped_for(SkipReason.FULL)


_used_days: dict[int, itertools.count[int]] = {}
