"""Service calendars in SQL storage: each distinct calendar is one ``service_calendars`` row,
named by the SHA-256 of its canonical JSON; enrollment rows name theirs in ``calendar_key``
and their bodies leave it out. Reads put the calendar back (one shared instance per key);
malformed stored data still raises the library's own error."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from canteen_adapters.storage.sql import tables as t
from canteen_core.config.serialization import unstructure
from canteen_core.domain.calendar import Period
from canteen_core.domain.errors import InvalidInputError
from canteen_core.ports.storage import Storage

from .conftest import sql_engine
from .samples import enrollment, household

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
STRIKE = Period(name="Grève", first_day=date(2023, 10, 5), last_day=date(2023, 10, 5))


def _key(calendar: Any) -> str:
    text = json.dumps(
        unstructure(calendar), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _calendar_rows(storage: Storage) -> dict[str, Any]:
    with sql_engine(storage).connect() as connection:
        rows = connection.execute(sa.select(t.service_calendars.c.key, t.service_calendars.c.body))
        return {row.key: row.body for row in rows}


def _enrollment_rows(storage: Storage) -> dict[str, tuple[Any, str]]:
    table = t.document_tables["enrollments"]
    with sql_engine(storage).connect() as connection:
        rows = connection.execute(sa.select(table.c.id, table.c.body, table.c.calendar_key))
        return {row.id: (row.body, row.calendar_key) for row in rows}


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_enrollments_of_one_calendar_share_one_row(storage: Storage) -> None:
    home = household("h1", children=3)
    first, second, third = (enrollment(home, n) for n in range(3))
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.enrollments.add_many([first, second])
        uow.enrollments.add(third)
        uow.enrollments.save(first)
        uow.commit()
    key = _key(first.calendar)
    assert _calendar_rows(storage) == {key: unstructure(first.calendar)}
    for body, calendar_key in _enrollment_rows(storage).values():
        assert calendar_key == key
        assert "calendar" not in body
    with storage.unit_of_work(read_only=True) as uow:
        found = uow.enrollments.find_many([first.id, second.id, third.id])
        assert found == {item.id: item for item in (first, second, third)}
        # One calendar instance for all of them (the storage keeps it by key).
        assert found[first.id].calendar is found[third.id].calendar
        assert next(iter(uow.enrollments.list())).calendar is found[second.id].calendar


def test_a_changed_calendar_gets_its_own_row(storage: Storage) -> None:
    # Every backend reads back each enrollment's own calendar; SQL ones store two rows.
    home = household("h1", children=2)
    plain = enrollment(home, 0)
    closed = attrs.evolve(enrollment(home, 1), calendar=plain.calendar.with_closures(STRIKE))
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.enrollments.add_many([plain, closed])
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.enrollments.get(plain.id) == plain
        assert uow.enrollments.get(closed.id) == closed
        assert uow.enrollments.get(closed.id).calendar.closure(date(2023, 10, 5)) is not None
        assert uow.enrollments.get(plain.id).calendar.closure(date(2023, 10, 5)) is None
        assert list(uow.enrollments.list()) == [plain, closed]
        moved = attrs.evolve(plain, calendar=closed.calendar)  # the closure reaches it too
        uow.enrollments.save(moved)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.enrollments.find_many([plain.id, closed.id]) == {
            plain.id: moved,
            closed.id: closed,
        }
    if storage.name == "sql":
        # A row never changes: the first calendar stays (nothing names it any more).
        assert set(_calendar_rows(storage)) == {_key(plain.calendar), _key(closed.calendar)}
        assert {key for _, key in _enrollment_rows(storage).values()} == {_key(closed.calendar)}


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_malformed_stored_data_raises_the_library_error(storage: Storage) -> None:
    home = household("h1", children=2)
    bad_calendar, bad_body = enrollment(home, 0), enrollment(home, 1)
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.enrollments.add_many([bad_calendar, bad_body])
        uow.commit()
    calendar = unstructure(bad_calendar.calendar)
    calendar["school_year"]["first_day"] = "nope"
    table = t.document_tables["enrollments"]
    body = unstructure(bad_body)
    del body["calendar"]
    body["start"] = "nope"
    with sql_engine(storage).begin() as connection:
        # A row of its own (keys name their content for good: a cached one stays right).
        connection.execute(sa.insert(t.service_calendars), {"key": "bad", "body": calendar})
        connection.execute(
            sa.update(table).where(table.c.id == bad_calendar.id).values(calendar_key="bad")
        )
        connection.execute(sa.update(table).where(table.c.id == bad_body.id).values(body=body))
    with storage.unit_of_work(read_only=True) as uow:
        for read in (
            lambda: uow.enrollments.get(bad_calendar.id),
            lambda: uow.enrollments.find_many([bad_calendar.id]),
            lambda: list(uow.enrollments.list(child_id=bad_calendar.child_id)),
        ):
            with pytest.raises(
                InvalidInputError, match="Enrollment invalide : une date au format ISO 8601"
            ) as info:
                read()
            assert info.value.path == "calendar.school_year.first_day"
        for read in (
            lambda: uow.enrollments.get(bad_body.id),
            lambda: list(uow.enrollments.list(child_id=bad_body.child_id)),
        ):
            with pytest.raises(
                InvalidInputError, match="Enrollment invalide : une date au format ISO 8601"
            ) as info:
                read()
            assert info.value.path == "start"
