"""Storage fixtures: the same tests run against memory, a SQLite file and PostgreSQL.

PostgreSQL tests each get a fresh schema (``search_path``), dropped afterwards, so they never
see each other's rows; they are skipped without ``CANTEEN_TEST_POSTGRES_DSN`` (and fail under
``CI=true``, see :mod:`canteen_core.testing`).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from canteen_adapters.storage.memory import MemoryStorage
from canteen_adapters.storage.sql import SqlStorage, create_engine_for_url, upgrade
from canteen_adapters.storage.sql.tables import metadata
from canteen_core.ports.storage import Storage
from canteen_core.testing import require_postgres_dsn

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def app_schema(prefix: str) -> Iterator[tuple[sa.Engine, str, str]]:
    """A fresh migrated schema and a role of canteen's own for it (``NOSUPERUSER
    NOBYPASSRLS``, the rows' DML only), as ``docs/tenancy.md`` asks of every deployment:
    ``(owner engine, the role's URL, schema)``; both dropped afterwards."""
    dsn = require_postgres_dsn()
    suffix = uuid.uuid4().hex[:10]
    schema, role = f"{prefix}_{suffix}", f"canteen_{prefix}_{suffix}"
    upgrade(dsn, schema=schema)
    owner = create_engine_for_url(dsn, schema=schema)
    try:
        with owner.begin() as connection:
            connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
            connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            connection.exec_driver_sql(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"
            )
        app_url = sa.make_url(dsn).set(username=role, password=None)
        yield owner, app_url.render_as_string(hide_password=False), schema
    finally:
        with owner.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        owner.dispose()


@pytest.fixture
def pg_schema(postgres_dsn: str) -> Iterator[str]:
    """A fresh PostgreSQL schema name, dropped (with its tables) after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    _drop_schema(postgres_dsn, schema)


def _drop_schema(dsn: str, schema: str) -> None:
    engine = create_engine_for_url(dsn)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _pg_session_schema() -> Iterator[tuple[str, str]]:
    """One migrated schema for the session (tests empty it instead of migrating again)."""
    dsn = require_postgres_dsn()  # skips (or fails under CI=true) when unusable
    schema = f"s_{uuid.uuid4().hex[:12]}"
    upgrade(dsn, schema=schema)
    yield dsn, schema
    _drop_schema(dsn, schema)


@pytest.fixture
def pg_clean_schema(postgres_dsn: str, _pg_session_schema: tuple[str, str]) -> str:
    """The session's migrated schema, emptied: every table truncated before the test."""
    dsn, schema = _pg_session_schema
    engine = create_engine_for_url(dsn, schema=schema)
    try:
        with engine.begin() as connection:
            # DELETE beats TRUNCATE on a few rows (no file rewrites, lighter locks).
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        engine.dispose()
    return schema


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


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
        path = tmp_path / "canteen.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}", None
    dsn = request.getfixturevalue("postgres_dsn")
    schema = request.getfixturevalue("pg_clean_schema")
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
