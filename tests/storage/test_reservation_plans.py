"""On PostgreSQL, as canteen's own role, a batch of books reads its states by their key, and a
site's headcount its children by theirs.

Under row-level security every key leads with the tenant, and the planner prices a scan of a
commune's table below one index probe per row wanted: with a plain join, each batch of a
billing run or of a save's version check read every state of the commune (a run over the city
grew with its square), and a site's headcount every child of the commune. The statements read
those rows by their primary key (a lateral subquery); these tests pin that plan on a city
large enough for the planner to choose the scan, and that the rows are those of the plain join
(what SQLite runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from canteen_adapters.storage.sql import SqlStorage
from canteen_adapters.storage.sql import reservations as sql_reservations
from canteen_adapters.storage.sql.driver import _Driver
from canteen_core.domain.headcount import KitchenCount
from canteen_core.domain.reservations import ReservationBook
from canteen_core.synthetic import synthetic_city
from canteen_core.testing.samples import calendar_2023_c

from .conftest import app_schema

pytestmark = pytest.mark.postgres

#: (statement, the plain join it stands for): the same rows, each state read by its key.
STATEMENTS = {
    "load_many": (sql_reservations._LOAD_STATES_PG, sql_reservations._LOAD_STATES),
    "save_many": (sql_reservations._SAVE_STATES_PG, sql_reservations._SAVE_STATES),
}


@attrs.frozen
class City:
    """A stored city (canteen's role's storage on it) and its enrollment ids."""

    storage: SqlStorage
    ids: list[str]
    sites: list[str]


@pytest.fixture(scope="module")
def city() -> Iterator[City]:
    """About 1,000 enrollments, three in four with a saved book, analysed as a running
    database is (autovacuum), read through a ``NOSUPERUSER NOBYPASSRLS`` role."""
    with app_schema("plans") as (owner, app_url, schema):
        storage = SqlStorage.from_url(app_url, schema=schema, migrate=False)
        try:
            town = synthetic_city(500, calendar=calendar_2023_c(), seed=7, sites=5)
            with storage.unit_of_work() as uow:
                for home in town.households:
                    uow.households.add(home)
                uow.enrollments.add_many(town.enrollments)
                uow.reservations.save_many(
                    (
                        ReservationBook.from_days(
                            e.id, e.start, town.booked_days(e)[:3], version=1
                        ),
                        0,
                    )
                    for index, e in enumerate(town.enrollments)
                    if index % 4  # one in four never saved: no state row
                )
                uow.commit()
            with owner.connect() as connection:  # the owner's: canteen's role may not analyse
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE"
                )
            yield City(storage, [e.id for e in town.enrollments], [site.id for site in town.sites])
        finally:
            storage.close()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _batch(city: City) -> list[str]:
    # A batch as save_many and load_many send one (up to _IN_CHUNK ids), with an unknown id.
    return [*city.ids[1::3][:300], "nope"]


@pytest.mark.parametrize("use", sorted(STATEMENTS))
def test_a_batch_reads_each_state_by_its_primary_key(city: City, use: str) -> None:
    statement, _ = STATEMENTS[use]
    batch = _batch(city)
    with city.storage.unit_of_work(read_only=True) as uow:
        driver = _Driver(uow.connection())
        ((explained,),) = driver.fetch(
            "EXPLAIN (FORMAT JSON) " + driver.sql(statement, len(batch)), driver.ids(batch)
        )
    states = [
        node
        for node in _nodes(explained[0]["Plan"])
        if node.get("Relation Name") == "reservation_states"
    ]
    assert states, explained
    for node in states:
        assert node["Node Type"] in ("Index Scan", "Index Only Scan"), node
        assert node["Index Name"] == "pk_reservation_states", node


@pytest.mark.parametrize("use", sorted(STATEMENTS))
def test_a_batch_reads_the_rows_of_the_plain_join(city: City, use: str) -> None:
    statement, plain = STATEMENTS[use]
    batch = _batch(city)
    with city.storage.unit_of_work(read_only=True) as uow:
        driver = _Driver(uow.connection())
        rows = driver.fetch(driver.sql(statement, len(batch)), driver.ids(batch))
        expected = driver.fetch(driver.sql(plain, len(batch)), driver.ids(batch))
    assert sorted(rows) == sorted(expected)
    assert len(rows) == len(batch) - 1  # every known enrollment once, the unknown id none
    assert any(None in tuple(row) for row in rows)  # never-saved books: no state row


SEPTEMBER = (date(2023, 9, 1), date(2023, 9, 30))


def _headcount_plan(city: City, site_ids: list[str]) -> tuple[Any, tuple[KitchenCount, ...]]:
    """The plan of the statement a headcount of ``site_ids`` runs, and its counts."""
    ran: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        ran.append((args[2], args[3]))  # (statement, parameters)

    sa.event.listen(city.storage.engine, "before_cursor_execute", record)
    try:
        with city.storage.unit_of_work(read_only=True) as uow:
            counts = uow.reservations.headcount(site_ids, *SEPTEMBER)
            statement, parameters = next(run for run in ran if "reservation_months" in run[0])
            explained = uow.connection().exec_driver_sql(
                "EXPLAIN (FORMAT JSON) " + statement, parameters
            )
            plan = explained.scalar_one()[0]["Plan"]
    finally:
        sa.event.remove(city.storage.engine, "before_cursor_execute", record)
    return plan, counts


def test_a_sites_headcount_reads_each_child_by_its_primary_key(city: City) -> None:
    plan, _ = _headcount_plan(city, city.sites[:1])
    read = [node for node in _nodes(plan) if node.get("Relation Name") == "children"]
    assert read, plan
    for node in read:
        assert node["Node Type"] in ("Index Scan", "Index Only Scan"), node
        assert node["Index Name"] == "pk_children", node


def test_a_sites_headcount_counts_as_the_join_of_several_sites(city: City) -> None:
    _, alone = _headcount_plan(city, city.sites[:1])
    _, together = _headcount_plan(city, city.sites)  # several sites: the plain join
    assert alone == tuple(count for count in together if count.site_id == city.sites[0])
    assert sum(count.total for count in alone) > 0
