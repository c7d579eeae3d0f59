"""Fixtures for the application services: a :class:`Canteen` on memory, SQLite and PostgreSQL.

``canteen`` is built through the public constructors (``Canteen.in_memory`` and
``Canteen.from_deployment`` with a real SQLite file or a fresh PostgreSQL schema), with a fixed
clock, cheap password hashing and a plugin recording every event dispatched after commit.
``world`` adds the seed's families: the CONCERTO household (payer, co-representative, two
children) and another household, enrolled at the Ronde school restaurant for 2023-2024.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import argon2
import pytest

from canteen_core.config.deployment import (
    CalendarSettings,
    Deployment,
    DocumentStoreSettings,
    IssuerSettings,
    PortalSettings,
    StorageSettings,
)
from canteen_core.config.hookspecs import hookimpl
from canteen_core.domain.accounts import AccountSettings
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.events import Event
from canteen_core.services import Canteen
from canteen_core.testing import POSTGRES_ENV

from ._world import World, build_world

BACKENDS = ["memory", "sqlite"]
ALL_BACKENDS = [*BACKENDS, pytest.param("postgres", marks=pytest.mark.postgres)]
ISSUER = IssuerSettings(name="Régie de restauration scolaire de Ronde", code="RONDE")
#: Friday 1 September 2023, 10:00 in Paris: before the rentrée of Monday 4 September.
START = datetime(2023, 9, 1, 8, 0, tzinfo=UTC)


class EventRecorder:
    """A plugin keeping every event the plugins receive (after commit only)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    @hookimpl
    def canteen_event_committed(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Event]) -> list[Any]:
        """The recorded events of one type."""
        return [event for event in self.events if isinstance(event, kind)]


def cheap_accounts(**changes: Any) -> AccountSettings:
    """Account settings with fast hashing (tests only)."""
    hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return AccountSettings(hasher=hasher, **changes)


@pytest.fixture
def clock() -> FixedClock:
    """The tests' clock, at :data:`START`."""
    return FixedClock(START)


@pytest.fixture
def recorder() -> EventRecorder:
    """Events dispatched to plugins."""
    return EventRecorder()


def _drop_schema(dsn: str, schema: str) -> None:
    from canteen_adapters.storage.sql import create_engine_for_url

    engine = create_engine_for_url(dsn)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _services_pg_schema() -> Iterator[tuple[str, str] | None]:
    """One migrated PostgreSQL schema for the session, emptied before each test."""
    dsn = os.environ.get(POSTGRES_ENV, "").strip()
    if not dsn:
        yield None
        return
    from canteen_adapters.storage.sql import upgrade

    schema = f"svc_{uuid.uuid4().hex[:12]}"
    upgrade(dsn, schema=schema)
    yield dsn, schema
    _drop_schema(dsn, schema)


def _pg_storage(postgres_dsn: str, session: tuple[str, str] | None) -> StorageSettings:
    from canteen_adapters.storage.sql import create_engine_for_url
    from canteen_adapters.storage.sql.tables import metadata

    assert session is not None
    dsn, schema = session
    engine = create_engine_for_url(dsn, schema=schema)
    try:
        with engine.begin() as connection:
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            connection.exec_driver_sql(f"TRUNCATE {names} CASCADE")
    finally:
        engine.dispose()
    return StorageSettings(url=dsn, schema=schema, migrate=False)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend the canteen runs on (memory, SQLite file)."""
    return str(request.param)


@pytest.fixture(params=ALL_BACKENDS)
def any_backend(request: pytest.FixtureRequest) -> str:
    """Memory, SQLite and PostgreSQL: for the representative subset."""
    return str(request.param)


def make_canteen(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
    **options: Any,
) -> Canteen:
    """A canteen on ``backend`` built through the public constructors."""
    options.setdefault("account_settings", cheap_accounts())
    portal = options.pop("portal", PortalSettings(url="https://famille.ronde.fr"))
    if backend == "memory":
        return Canteen.in_memory(
            issuer=ISSUER, zone="C", clock=clock, plugins=[recorder], portal=portal, **options
        )
    if backend == "sqlite":
        storage = StorageSettings(url=f"sqlite:///{tmp_path / 'x.db'}")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        storage = _pg_storage(dsn, request.getfixturevalue("_services_pg_schema"))
    deployment = Deployment(
        issuer=ISSUER,
        storage=storage,
        calendar=CalendarSettings(department="75"),
        portal=portal,
        documents=DocumentStoreSettings(folder=str(tmp_path / "documents")),
    )
    return Canteen.from_deployment(deployment, clock=clock, plugins=[recorder], **options)


@pytest.fixture
def canteen(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> Iterator[Canteen]:
    """A canteen on memory and on a SQLite file."""
    with make_canteen(backend, request, tmp_path, clock, recorder) as built:
        yield built


@pytest.fixture
def any_canteen(
    any_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> Iterator[Canteen]:
    """A canteen on memory, a SQLite file and PostgreSQL."""
    with make_canteen(any_backend, request, tmp_path, clock, recorder) as built:
        yield built


@pytest.fixture
def memory_canteen(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> Iterator[Canteen]:
    """A canteen in memory only (authorization matrix, validation)."""
    with make_canteen("memory", request, tmp_path, clock, recorder) as built:
        yield built


@pytest.fixture
def world(canteen: Canteen) -> World:
    """:func:`build_world` on each backend."""
    return build_world(canteen)


@pytest.fixture
def memory_world(memory_canteen: Canteen) -> World:
    """:func:`build_world` in memory."""
    return build_world(memory_canteen)


@pytest.fixture
def any_world(any_canteen: Canteen) -> World:
    """:func:`build_world` on memory, SQLite and PostgreSQL."""
    return build_world(any_canteen)
