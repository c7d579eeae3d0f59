"""Bulk use cases: one transaction for many enrollments, and a query count that does not grow
with the number of children (no N+1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import attrs
import pytest
import sqlalchemy as sa

from canteen_adapters.storage.sql import SqlStorage
from canteen_core.domain.errors import ConflictError, NotFoundError
from canteen_core.domain.events import ReservationsChanged
from canteen_core.domain.families import Child, Guardian, Household
from canteen_core.domain.periodicity import Periodicity
from canteen_core.services import Canteen, EnrollmentRequest

from ._world import ADMIN, SERVICE, SITE, STAFF, WEEKLY
from .conftest import EventRecorder


def _populate(canteen: Canteen, size: int, prefix: str) -> list[str]:
    households = [
        Household(
            id=f"{prefix}h{i}",
            payer=Guardian(id=f"{prefix}g{i}", first_name="Parent", last_name=f"N{i}"),
            children=(
                Child(
                    id=f"{prefix}c{i}",
                    first_name="Enfant",
                    last_name=f"N{i}",
                    birth_date=date(2016, 1, 1),
                ),
            ),
        )
        for i in range(size)
    ]
    canteen.families.create_households(ADMIN, households)
    requests = [
        EnrollmentRequest(
            household_id=h.id,
            child_id=h.children[0].id,
            service=SERVICE,
            site=SITE,
            booking_policy=WEEKLY,
            school_year=2023,
            id=f"e-{h.children[0].id}",
        )
        for h in households
    ]
    return [e.id for e in canteen.enrollments.enroll_many(ADMIN, requests)]


@contextmanager
def _count_statements(canteen: Canteen) -> Iterator[list[str]]:
    storage = canteen.context.storage
    assert isinstance(storage, SqlStorage)
    seen: list[str] = []

    def listener(*args: object) -> None:
        seen.append(str(args[2]))

    sa.event.listen(storage.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(storage.engine, "before_cursor_execute", listener)


def test_bulk_month_query_count_does_not_grow_with_children(
    canteen: Canteen, backend: str, recorder: EventRecorder
) -> None:
    small = _populate(canteen, 210, "a")
    large = _populate(canteen, 420, "b")
    if backend != "sqlite":
        results = canteen.reservations.tick_month_many(ADMIN, small, 2023, 10)
        assert all(len(r.booked) == 12 for r in results.values())
        return
    with _count_statements(canteen) as first:
        canteen.reservations.tick_month_many(ADMIN, small, 2023, 10)
    with _count_statements(canteen) as second:
        canteen.reservations.tick_month_many(ADMIN, large, 2023, 10)
    assert len(second) <= len(first) + 5, (len(first), len(second))
    assert len(recorder.of(ReservationsChanged)) == 630
    assert canteen.kitchen.headcount(STAFF, "ronde", date(2023, 10, 2)).total == 630


def test_rentree_periodicity_for_many_children(memory_canteen: Canteen) -> None:
    ids = _populate(memory_canteen, 300, "r")
    pattern = Periodicity(weekdays="lun,mar,jeu,ven", start=date(2023, 9, 4), end=date(2024, 7, 5))
    results = memory_canteen.reservations.apply_periodicity_many(ADMIN, ids, pattern)
    counts = {len(result.booked) for result in results.values()}
    assert len(counts) == 1
    (days,) = counts
    assert days > 130
    assert all(not result.skipped for result in results.values())  # closed days not listed
    again = memory_canteen.reservations.apply_periodicity_many(ADMIN, ids, pattern)
    assert all(result.changed == () for result in again.values())
    count = memory_canteen.kitchen.headcount(STAFF, "ronde", date(2024, 3, 4))
    assert count.total == 300


_PATTERN = Periodicity(
    start=date(2023, 9, 4), end=date(2024, 7, 5), weekdays=frozenset({0, 1, 3, 4})
)
#: The use cases that check each enrollment's child against its household's child ids.
_CHILD_CHECKED: dict[str, Callable[[Canteen, list[str]], object]] = {
    "apply_periodicities": lambda c, ids: c.reservations.apply_periodicities(
        ADMIN, dict.fromkeys(ids, _PATTERN)
    ),
    "tick_month_many": lambda c, ids: c.reservations.tick_month_many(ADMIN, ids, 2023, 10),
    "tick_range_many": lambda c, ids: c.reservations.tick_range_many(
        ADMIN, ids, date(2023, 10, 2), date(2023, 10, 13)
    ),
    "set_days_many": lambda c, ids: c.reservations.set_days_many(
        ADMIN, {i: {date(2023, 10, 2): True, date(2023, 10, 3): True} for i in ids}
    ),
    "tick_week": lambda c, ids: c.reservations.tick_week(ADMIN, ids[1], date(2023, 10, 2)),
    "set_days": lambda c, ids: c.reservations.set_days(ADMIN, ids[1], {date(2023, 10, 2): True}),
}


@pytest.mark.parametrize("use_case", sorted(_CHILD_CHECKED))
def test_bulk_use_cases_refuse_an_enrollment_whose_child_left_its_household(
    any_canteen: Canteen, use_case: str
) -> None:
    ids = _populate(any_canteen, 3, "x")
    storage = any_canteen.context.storage
    with storage.unit_of_work() as uow:
        home = uow.households.get("xh1")
        stranger = attrs.evolve(home.children[0], id="xc9")
        uow.households.save(attrs.evolve(home, children=(stranger,)))
        uow.commit()
    with pytest.raises(NotFoundError, match=r"no child 'xc1' in household 'xh1'"):
        _CHILD_CHECKED[use_case](any_canteen, ids)
    # All or nothing: the other children were not booked either.
    assert all(not any_canteen.reservations.booked_days(ADMIN, i) for i in ids)


def _request(household_id: str, child_id: str, enrollment_id: str) -> EnrollmentRequest:
    return EnrollmentRequest(
        household_id=household_id,
        child_id=child_id,
        service=SERVICE,
        site=SITE,
        booking_policy=WEEKLY,
        school_year=2023,
        id=enrollment_id,
    )


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (_request("yh1", "yc2", "e-new"), NotFoundError, r"^no child 'yc2' in household 'yh1'$"),
        (_request("yh9", "yc9", "e-new"), NotFoundError, r"^no household 'yh9'$"),
        (_request("yh1", "yc1", "e-yc0"), ConflictError, r"."),  # an id already stored
    ],
)
def test_enroll_many_refuses_a_bad_request_and_stores_nothing(
    any_canteen: Canteen, bad: EnrollmentRequest, error: type[Exception], message: str
) -> None:
    stored = _populate(any_canteen, 3, "y")
    requests = [_request(f"yh{i}", f"yc{i}", f"e2-yc{i}") for i in range(3)]
    with pytest.raises(error, match=message):
        any_canteen.enrollments.enroll_many(ADMIN, [*requests, bad])
    assert [e.id for e in any_canteen.enrollments.list_enrollments(ADMIN)] == stored


def test_enroll_many_reports_the_first_bad_request(any_canteen: Canteen) -> None:
    _populate(any_canteen, 2, "z")
    requests = [
        _request("zh0", "zc0", "e2-zc0"),
        _request("zh0", "zc1", "e2-zc1"),  # zc1 is in zh1
        _request("zh7", "zc7", "e2-zc7"),  # unknown household
    ]
    with pytest.raises(NotFoundError, match=r"^no child 'zc1' in household 'zh0'$"):
        any_canteen.enrollments.enroll_many(ADMIN, requests)
    with pytest.raises(NotFoundError, match=r"^no household 'zh7'$"):
        any_canteen.enrollments.enroll_many(ADMIN, [requests[0], *requests[2:], requests[1]])
