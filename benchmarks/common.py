"""What the workloads share: the city's calendar, opening storages, bare baseline tables.

PostgreSQL rows run when ``CANTEEN_TEST_POSTGRES_DSN`` is set (each run in a fresh schema,
dropped afterwards); otherwise they are skipped with a note. SQLite databases are files in a
temporary folder, with the same settings canteen uses (WAL, ``synchronous = NORMAL``) for
canteen and for the baseline alike.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import attrs

from canteen_adapters.calendars.france import FranceHolidaySource
from canteen_adapters.storage.sql import SqlStorage
from canteen_core.domain.calendar import ServiceCalendar, Zone
from canteen_core.domain.clock import PARIS
from canteen_core.synthetic import SyntheticCity, synthetic_city

__all__ = [
    "DSN_VARIABLE",
    "Backend",
    "Database",
    "app_role",
    "backends",
    "chunks",
    "city",
    "city_calendar",
    "database",
    "open_canteen",
    "paris",
    "postgres_dsn",
    "seed_city",
    "sql_storage",
]

DSN_VARIABLE = "CANTEEN_TEST_POSTGRES_DSN"
T = TypeVar("T")
Backend = str  # "sqlite" or "postgresql"


def postgres_dsn() -> str | None:
    """The PostgreSQL DSN to benchmark against, or ``None``."""
    return os.environ.get(DSN_VARIABLE) or None


def backends() -> list[Backend]:
    """The SQL backends available here (SQLite always)."""
    return ["sqlite", "postgresql"] if postgres_dsn() else ["sqlite"]


def paris(day: date, at: time = time(10, 0)) -> datetime:
    """An aware Europe/Paris instant."""
    return datetime.combine(day, at, tzinfo=PARIS)


@cache
def city_calendar() -> ServiceCalendar:
    """The school restaurant calendar of 2023-2024, zone C, from the France holiday source."""
    return ServiceCalendar(school_year=FranceHolidaySource().school_year(Zone.C, 2023))


def city(households: int, *, seed: int = 2023) -> SyntheticCity:
    """A synthetic city on :func:`city_calendar`."""
    return synthetic_city(households, calendar=city_calendar(), seed=seed)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="canteen-bench-") as folder:
        yield Path(folder)


@attrs.frozen
class Database:
    """A benchmark database: canteen's storage on it, and a bare driver connection.

    ``url``/``schema`` let another process (or a :class:`Canteen`) open the same database;
    the baseline connection reaches the same engine (SQLite: another file in the same folder;
    PostgreSQL: the same schema).
    """

    backend: Backend
    url: str
    schema: str | None
    storage: SqlStorage
    bare: Any


@contextmanager
def sql_storage(backend: Backend) -> Iterator[Database]:
    """A fresh migrated canteen database (dropped afterwards) with a bare connection."""
    if backend == "sqlite":
        with _workdir() as folder:
            url = f"sqlite:///{folder / 'canteen.db'}"
            storage = SqlStorage.from_url(url)
            bare: Any = sqlite3.connect(folder / "baseline.db", isolation_level=None)
            bare.execute("PRAGMA journal_mode = WAL")
            bare.execute("PRAGMA synchronous = NORMAL")
            try:
                yield Database(backend, url, None, storage, bare)
            finally:
                bare.close()
                storage.close()
        return
    import psycopg

    dsn = postgres_dsn()
    assert dsn is not None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(dsn, autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        SqlStorage.from_url(dsn, schema=schema).close()  # migrated by the schema's owner
        with app_role(dsn, [schema]) as url:
            storage = SqlStorage.from_url(url, schema=schema, migrate=False)
            bare = psycopg.connect(dsn, options=f"-c search_path={schema}")
            try:
                yield Database(backend, url, schema, storage, bare)
            finally:
                bare.close()
                storage.close()
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@contextmanager
def app_role(dsn: str, schemas: Sequence[str]) -> Iterator[str]:
    """The URL canteen connects with on PostgreSQL: a role of its own (``NOSUPERUSER
    NOBYPASSRLS``, the rows' DML only on ``schemas``, dropped afterwards), as
    ``docs/tenancy.md`` asks of every deployment. A superuser bypasses row-level security,
    whose tenant condition is what lets a lookup by id use the tenant-led keys: measured as
    the superuser, each batch's lookups scan their tables, a cost no deployment pays."""
    import psycopg
    import sqlalchemy as sa

    role = f"canteen_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
        for schema in schemas:
            admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            admin.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"
            )
            admin.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    try:
        yield (
            sa.make_url(dsn).set(username=role, password=None).render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def placeholders(backend: Backend, count: int) -> str:
    """``?, ?`` for sqlite3, ``%s, %s`` for psycopg."""
    mark = "?" if backend == "sqlite" else "%s"
    return ", ".join([mark] * count)


def bare_insert(backend: Backend, bare: Any, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """``executemany`` the rows into ``table`` in one transaction, the plain driver way."""
    rows = list(rows)
    if not rows:
        return
    sql = f"INSERT INTO {table} VALUES ({placeholders(backend, len(rows[0]))})"
    if backend == "sqlite":
        bare.execute("BEGIN")
        bare.executemany(sql, rows)
        bare.execute("COMMIT")
    else:
        with bare.cursor() as cursor:
            cursor.executemany(sql, rows)
        bare.commit()


def settle(db: Database) -> None:
    """Gather planner statistics after seeding, as a running database would have them.

    A deployment's tables are analysed by PostgreSQL's autovacuum a minute after a bulk load
    (SQLite has no such daemon: ``ANALYZE`` is what ``canteen db`` maintenance would run).
    Without statistics, PostgreSQL plans the headcount join as a scan of every reservation
    day: measuring that would measure a database nobody runs.
    """
    if db.backend == "postgresql":  # by the tables' owner: canteen's role may not analyse them
        db.bare.execute("ANALYZE")
        db.bare.commit()
        return
    # Outside a transaction: SQLite's ANALYZE needs none.
    with db.storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as bare:
        bare.exec_driver_sql("ANALYZE")


def bare_execute(backend: Backend, bare: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run one statement (``?`` placeholders) and return its rows, committed."""
    if backend == "postgresql":
        sql = sql.replace("?", "%s")
    cursor = bare.cursor()
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()
    if backend == "postgresql":
        bare.commit()
    return list(rows)


def seed_city(storage: SqlStorage, town: SyntheticCity, *, batch: int = 2_000) -> None:
    """Store the city's households and enrollments (setup, not timed)."""
    for part in chunks(town.households, batch):
        with storage.unit_of_work() as uow:
            for household in part:
                uow.households.add(household)
            uow.commit()
    for enrollments in chunks(town.enrollments, batch):
        with storage.unit_of_work() as uow:
            uow.enrollments.add_many(enrollments)
            uow.commit()


def open_canteen(db: Database, *, now: datetime, clock: Any = None) -> Any:
    """The :class:`~canteen_core.services.Canteen` facade on the benchmark database.

    Its clock stays at ``now`` (or is ``clock``, which the caller may move).
    """
    from canteen_core.config.deployment import Deployment, IssuerSettings, StorageSettings
    from canteen_core.domain.clock import FixedClock
    from canteen_core.services import Canteen

    deployment = Deployment(
        issuer=IssuerSettings(name="Ville de Banc-d'Essai", code="BENCH"),
        storage=StorageSettings(url=db.url, schema=db.schema, migrate=False),
    )
    return Canteen.from_deployment(deployment, clock=clock or FixedClock(now))


def database(backend: Backend, url: str, schema: str | None) -> Database:
    """A :class:`Database` reopened in another process (no bare connection)."""
    return Database(
        backend, url, schema, SqlStorage.from_url(url, schema=schema, migrate=False), None
    )
