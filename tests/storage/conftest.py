"""Storage fixtures: the same tests run against memory, a SQLite file and PostgreSQL.

PostgreSQL tests each get a fresh schema (``search_path``), dropped afterwards, so they never
see each other's rows; they are skipped without ``CANTEEN_TEST_POSTGRES_DSN`` (and fail under
``CI=true``, see :mod:`canteen_core.testing`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from canteen_adapters.storage.memory import MemoryStorage
from canteen_adapters.storage.sql import SqlStorage, create_engine_for_url
from canteen_core.ports import Storage

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def pg_schema(postgres_dsn: str) -> Iterator[str]:
    """A fresh PostgreSQL schema name, dropped (with its tables) after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    engine = create_engine_for_url(postgres_dsn)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


OpenStorage = Callable[[], Storage]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The backend name; ``storage_url`` and ``open_storage`` follow it."""
    return str(request.param)


@pytest.fixture
def storage_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[str, str | None]:
    """(url, schema) for the backend."""
    if backend == "memory":
        return "memory://", None
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'canteen.db'}", None
    dsn = request.getfixturevalue("postgres_dsn")
    schema = request.getfixturevalue("pg_schema")
    return dsn, schema


@pytest.fixture
def open_storage(backend: str, storage_url: tuple[str, str | None]) -> Iterator[OpenStorage]:
    """Opens storages on the backend's database (several may share it, like processes)."""
    opened: list[Storage] = []
    shared_memory = MemoryStorage()
    url, schema = storage_url

    def open_() -> Storage:
        if backend == "memory":
            return shared_memory
        storage = SqlStorage.from_url(url, schema=schema)
        opened.append(storage)
        return storage

    yield open_
    for storage in opened:
        storage.close()


@pytest.fixture
def storage(open_storage: OpenStorage) -> Storage:
    """A storage on a fresh database."""
    return open_storage()


def sql_engine(storage: Storage) -> sa.Engine:
    """The engine of a SQL storage (tests reach below the ports for fault injection)."""
    assert isinstance(storage, SqlStorage)
    return storage.engine
