"""SQL enrollment reads build an enrollment whose stored body, ids aside, was seen before from
a process-wide template with its own ids (``_TEMPLATES``, ids set without the checks again).
The result is the plain path's: the whole stored body, its calendar put back, structured; a
malformed row raises the same error however warm the templates are."""

from __future__ import annotations

import json
import threading
from datetime import date, time
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from _calendars import CALENDAR, LAST_DAY, PREVIOUS_DAY_11, RENTREE, SERVICE, SITE, THURSDAY_10
from canteen_adapters.storage.sql import enrollments as sql_storage
from canteen_adapters.storage.sql import tables as t
from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.calendar import Period
from canteen_core.domain.catalog import Service
from canteen_core.domain.deadlines import FixedDelay
from canteen_core.domain.enrollments import Enrollment, LateChangeMode, enroll
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Household
from canteen_core.ports.storage import Range, Storage

from .conftest import sql_engine
from .samples import OTHER_SITE, household

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
STRIKE = Period(name="Grève", first_day=date(2023, 10, 5), last_day=date(2023, 10, 5))
CENTRE = Service(id="alsh", name="Accueil de loisirs", open_weekdays="wed", starts_at=time(9))


@pytest.fixture(autouse=True)
def _fresh_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test starts cold (templates are shared by the whole process otherwise).
    monkeypatch.setattr(sql_storage, "_TEMPLATES", {})


def _variants(home: Household) -> list[Enrollment]:
    """Enrollments of the household's children differing in each field but the ids."""
    closed = CALENDAR.with_closures(STRIKE)
    wednesdays = attrs.evolve(CALENDAR, open_weekdays=frozenset({2}))
    kinds: list[dict[str, Any]] = [
        {},
        {"site": OTHER_SITE},
        {"calendar": closed},
        {"booking_policy": PREVIOUS_DAY_11},
        {"cancellation_policy": FixedDelay(amount=2, unit="days", at=time(8))},
        {"late_change": LateChangeMode.PENDING},
        {"late_change": LateChangeMode.SURCHARGE, "tariff_category": "pai"},
        {"start": date(2024, 1, 8)},
        {"service": CENTRE, "calendar": wednesdays},
    ]
    made = []
    for n, child in enumerate(home.children):
        fields: dict[str, Any] = {
            "id": f"e-{child.id}",
            "service": SERVICE,
            "site": SITE,
            "calendar": CALENDAR,
            "start": RENTREE,
            "end": LAST_DAY,
            "booking_policy": THURSDAY_10,
        }
        fields.update(kinds[n % len(kinds)])
        made.append(enroll(home, child.id, **fields))
    return made


def _store(storage: Storage, homes: list[Household]) -> list[Enrollment]:
    enrollments = [item for home in homes for item in _variants(home)]
    with storage.unit_of_work() as uow:
        uow.households.add_many(homes)
        uow.enrollments.add_many(enrollments)
        uow.commit()
    return sorted(enrollments, key=lambda item: item.id)


def _plain(storage: Storage) -> dict[str, Any]:
    """Each stored enrollment structured from its whole body and calendar row (or the error
    that raises)."""
    table = t.document_tables["enrollments"]
    with sql_engine(storage).connect() as connection:
        calendar_rows = connection.execute(
            sa.select(t.service_calendars.c.key, t.service_calendars.c.body)
        )
        calendars = {row.key: row.body for row in calendar_rows}
        rows = connection.execute(sa.select(table.c.id, table.c.body, table.c.calendar_key))
        found: dict[str, Any] = {}
        for enrollment_id, body, key in rows:
            if isinstance(body, dict) and key in calendars:
                body["calendar"] = calendars[key]
            try:
                found[enrollment_id] = structure(body, Enrollment)
            except InvalidInputError as exc:
                found[enrollment_id] = exc
        return found


def _checked(item: Enrollment) -> None:
    """``item`` rebuilds equal through the checked constructor, fields of the same types."""
    rebuilt = Enrollment(
        **{field.name: getattr(item, field.name) for field in attrs.fields(Enrollment)}
    )
    assert rebuilt == item
    assert hash(rebuilt) == hash(item)
    for field in attrs.fields(Enrollment):
        assert type(getattr(rebuilt, field.name)) is type(getattr(item, field.name))


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_reads_equal_the_plain_path(storage: Storage) -> None:
    homes = [household(f"h{n}", children=9) for n in range(3)]
    stored = _store(storage, homes)
    plain = _plain(storage)
    assert plain == {item.id: item for item in stored}
    by_household = {home.id: [e for e in stored if e.household_id == home.id] for home in homes}
    for _ in range(2):  # cold, then every template known
        with storage.unit_of_work(read_only=True) as uow:
            for home in homes:
                ids = [item.id for item in reversed(by_household[home.id])]
                found = uow.enrollments.find_many([*ids, "nobody", ids[0]])
                assert list(found) == ids
                assert found == {item_id: plain[item_id] for item_id in ids}
            listed = list(uow.enrollments.list())
            assert listed == [plain[item.id] for item in stored]
            later = list(
                uow.enrollments.list(
                    household_id=("h2", "h0"),
                    first_day=Range(date(2024, 1, 1), None),
                    last_day=Range(None, LAST_DAY),
                )
            )
            assert later == [e for e in stored if e.household_id != "h1" and e.start.year == 2024]
            assert uow.enrollments.get(stored[4].id) == stored[4]
        for item in listed:
            _checked(item)
    # One template per distinct body without ids (the 9 variants), shared by the households.
    assert len(sql_storage._TEMPLATES) == 9


def _set_body(storage: Storage, enrollment_id: str, body: Any) -> None:
    table = t.document_tables["enrollments"]
    with sql_engine(storage).begin() as connection:
        connection.execute(sa.update(table).where(table.c.id == enrollment_id).values(body=body))


def _body(item: Enrollment) -> dict[str, Any]:
    body = unstructure(item)
    del body["calendar"]
    return body


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "change",
    [
        {"id": 5},
        {"id": "  "},
        {"household_id": None},
        {"child_id": ["h0-c1"]},
        {"id": {"nested": "e"}},
        {"start": "nope"},
        {"end": "2023-09-01"},  # before the start: the class's own check
        {"tariff_category": ""},
        {"colour": "blue"},  # an unknown key
    ],
)
def test_a_template_hides_no_malformed_row(storage: Storage, change: dict[str, Any]) -> None:
    good, bad = _store(storage, [household("h0"), household("h1")])  # one template
    body = _body(bad) | change
    _set_body(storage, bad.id, body)
    expected = _plain(storage)[bad.id]
    assert isinstance(expected, InvalidInputError)
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.enrollments.find_many([good.id]) == {good.id: good}  # the template is kept
        assert len(sql_storage._TEMPLATES) == 1
        for read in (
            lambda: uow.enrollments.find_many([good.id, bad.id]),
            lambda: uow.enrollments.find_many([bad.id]),
            lambda: list(uow.enrollments.list()),
            lambda: list(uow.enrollments.list(household_id=("h1", "h0"))),
        ):
            with pytest.raises(InvalidInputError) as info:
                read()
            assert str(info.value) == str(expected)
            assert info.value.path == expected.path


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_duplicate_keys_read_as_json_does(storage: Storage) -> None:
    # SQLite keeps a body's text as written: with "id" twice, json_remove drops the first
    # and Python's json keeps the last. The template of the clean body must not apply.
    good, twice = _store(storage, [household("h0"), household("h1")])
    text = '{"id": "e-other", ' + json.dumps(_body(twice))[1:]
    text = text[:-1] + f', "id": "{twice.id}"}}'
    with sql_engine(storage).begin() as connection:
        connection.exec_driver_sql("UPDATE enrollments SET body = ? WHERE id = ?", (text, twice.id))
    with storage.unit_of_work(read_only=True) as uow:
        for _ in range(2):
            assert uow.enrollments.find_many([good.id, twice.id]) == {
                good.id: good,
                twice.id: twice,
            }
            assert list(uow.enrollments.list()) == [good, twice]


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_templates_are_bounded(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_storage, "_TEMPLATES_KEPT", 4)
    stored = _store(storage, [household("h0", children=9)])
    with storage.unit_of_work(read_only=True) as uow:
        for _ in range(2):
            assert list(uow.enrollments.list()) == stored
            assert len(sql_storage._TEMPLATES) == 4
            found = uow.enrollments.find_many([item.id for item in stored])
            assert found == {item.id: item for item in stored}
            assert len(sql_storage._TEMPLATES) == 4


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_concurrent_reads(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_storage, "_TEMPLATES_KEPT", 3)  # the threads evict all along
    homes = [household(f"h{n}", children=9) for n in range(2)]
    stored = _store(storage, homes)
    expected = {item.id: item for item in stored}
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def read() -> None:
        try:
            start.wait()
            for _ in range(15):
                with storage.unit_of_work(read_only=True) as uow:
                    assert list(uow.enrollments.list()) == stored
                    assert uow.enrollments.find_many(list(expected)) == expected
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(sql_storage._TEMPLATES) <= 3
