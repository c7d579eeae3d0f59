"""The SQL driver layer: error translation, batching constants and the DBAPI statement runner.

Everything the repositories share to talk to the database: :func:`_translate` turns driver
errors into the library's errors, :class:`_Driver` runs prebuilt SQL text on the unit of work's
DBAPI connection (the hot paths skip SQLAlchemy's per-statement cost), :func:`_insert` writes
batches of new rows, and :func:`_remember` bounds the process-level caches.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from canteen_adapters.storage._common import json_text
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.engine import psycopg_executemany
from canteen_core.domain.errors import CanteenError, ConflictError, InvalidInputError, StorageError


class _Session(abc.ABC):
    """A unit of work as its repositories see it (:class:`SqlUnitOfWork` is one): the
    repositories depend on this, not on the module that builds them. A subclass gives the
    connection; the writable check and the streamed reads are written here, once."""

    read_only: bool
    #: The results of streams not read to their end yet: the unit of work closes them with
    #: its connection (a stream a failed use case left is collected later, maybe after it).
    open_results: set[sa.CursorResult[Any]]

    @abc.abstractmethod
    def connection(self) -> sa.Connection:
        """The connection, in a transaction."""

    @abc.abstractmethod
    def collection_type(self, name: str) -> type[Any]:
        """The class stored by the collection ``name``."""

    def writable(self) -> sa.Connection:
        """:meth:`connection`, refusing read-only units of work."""
        if self.read_only:
            raise StorageError("this unit of work is read-only")
        return self.connection()

    def stream(
        self,
        statement: sa.Executable,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        small: bool = False,
    ) -> Iterator[Any]:
        """Rows of ``statement`` (with ``params``), fetched in batches (server-side cursor on
        PostgreSQL). ``small``: the caller knows the rows are few (one household's): they are
        read at once, in one round trip (a server-side cursor costs four)."""
        connection = self.connection()
        if small:
            with _translate(what):
                rows = connection.execute(statement, params).all()
            yield from rows
            return
        with _translate(what):
            # Per statement: Connection.execution_options() would stick to the connection.
            result = connection.execute(statement, params, execution_options={"yield_per": _FETCH})
        self.open_results.add(result)
        try:
            while True:
                with _translate(what):
                    rows = result.fetchmany(_FETCH)
                if not rows:
                    return
                yield from rows
        finally:
            self.open_results.discard(result)
            with suppress(sa.exc.SQLAlchemyError):
                result.close()  # a no-op once the unit of work closed it


_FETCH = 1000  # rows per round trip when streaming
_BATCH = 5000  # rows per executemany batch
_IN_CHUNK = 500  # ids per IN (...) query
_ROWS_CHUNK = 300  # objects turned into rows at a time by a batch write (see add_many)


def _db_message(exc: sa.exc.DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _translate(what: str) -> _Translating:
    """Turn driver errors into the library's errors: ``with _translate("what failed"): ...``."""
    return _Translating(what)


class _Translating:
    """:func:`_translate`'s context manager: a class, as every statement runs in one and a
    generator-based context manager cost about four times as much to enter and leave."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise _translated(self.what, exc) from exc
        if isinstance(exc, UnicodeError):  # a driver encoding a lone surrogate
            raise InvalidInputError(
                f"{self.what}: text with a lone surrogate (not Unicode text)"
            ) from exc


def _translated(what: str, exc: sa.exc.SQLAlchemyError) -> CanteenError:
    orig = getattr(exc, "orig", None)
    if isinstance(orig, CanteenError):  # refused while binding (see json_text)
        return orig
    if isinstance(orig, UnicodeError) or "cannot contain NUL" in str(orig):
        # A lookup by a text no backend stores (see check_text): refused alike everywhere.
        return InvalidInputError(f"{what}: text with a NUL character or a lone surrogate")
    if isinstance(exc, sa.exc.IntegrityError):
        return ConflictError(f"{what}: {_db_message(exc)}")
    if isinstance(exc, sa.exc.DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        if state in ("40001", "40P01"):  # serialization failure, deadlock: retryable
            return ConflictError(f"{what}: concurrent change, try again")
        if "database is locked" in str(exc.orig):
            return StorageError(f"{what}: the database stayed busy (locked by another writer)")
        return StorageError(
            f"{what}: the database failed ({_db_message(exc)}); the change was not saved"
        )
    return StorageError(f"{what}: {exc}; the change was not saved")


def _column_value(value: Any) -> Any:
    if type(value) is str:  # most key columns: nothing to do
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str):
        return str(value)  # StrEnum members become plain strings
    return getattr(value, "value", value)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _rows_in(connection: sa.Connection, statement: sa.Executable, ids: list[Any]) -> Iterator[Any]:
    """The rows of ``statement`` (an expanding ``ids`` parameter) for ``ids``, one query per
    chunk of :data:`_IN_CHUNK`."""
    for chunk in _chunks(ids, _IN_CHUNK):
        yield from connection.execute(statement, {"ids": chunk})


def _dialect_insert(connection: sa.Connection, table: sa.Table) -> Any:
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def _sqlite_driver(connection: sa.Connection) -> _Driver | None:
    """The driver :func:`_insert` writes through: SQLite's (``None`` on PostgreSQL)."""
    return None if connection.dialect.name == "postgresql" else _Driver(connection)


def _insert(
    connection: sa.Connection,
    driver: _Driver | None,
    statement: sa.Insert,
    rows: list[dict[str, Any]],
) -> None:
    """Insert new rows (all with the same columns, in the same order) with ``statement``
    (``sa.insert`` of their table). On SQLite through the driver when every value is one it
    stores as given (the rentrée writes tens of thousands of rows: no SQLAlchemy per-row
    parameter processing), else through SQLAlchemy."""
    if not rows:
        return
    if driver is not None:
        columns = list(rows[0])
        values = [_sqlite_values(row, columns) for row in rows]
        if all(row is not None for row in values):
            marks = ", ".join("?" * len(columns))
            table = statement.table.name
            text = driver.sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})")
            for batch in _chunks(values, _BATCH):
                driver.run_many(text, batch)
            return
    for batch in _chunks(rows, _BATCH):
        connection.execute(statement, batch)


def _sqlite_values(row: dict[str, Any], columns: list[str]) -> tuple[Any, ...] | None:
    """A row as SQLite stores it through SQLAlchemy (ISO text dates, JSON text body, 0/1
    booleans), or ``None`` when a value is of a type left to SQLAlchemy (datetimes...)."""
    values: list[Any] = []
    for column in columns:
        value = row[column]
        if column == "body":
            value = json_text(value)
        elif type(value) is date:
            value = value.isoformat()
        elif type(value) is bool:
            value = int(value)
        elif value is not None and type(value) is not str and type(value) is not int:
            return None
        values.append(value)
    return tuple(values)


#: Structured service calendars by key (``tables.service_calendars``). A key names one content


_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(cache: dict[_K, _V], kept: int, key: _K, value: _V) -> _V:
    """Put ``value`` in a process-level ``cache`` of at most ``kept`` entries (first in,
    first out: the entries are content-addressed, never stale, only too many)."""
    if len(cache) >= kept:
        with suppress(StopIteration, RuntimeError):  # another thread may be at it
            cache.pop(next(iter(cache)), None)
    cache[key] = value
    return value


@lru_cache(maxsize=8)
def _text_body_insert(name: str, postgres: bool) -> sa.Insert:
    """``INSERT`` into the document table ``name`` taking the body as JSON text
    (``json.dumps`` of the unstructured document, what the JSON column type would send)."""
    body: Any = sa.bindparam("body", type_=sa.Text())
    if postgres:
        body = sa.cast(body, postgresql.JSONB())
    return sa.insert(t.document_tables[name]).values(body=body)


def _text_body_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose body is encoded as it is made: a billing run's thousands of documents
    (nested dicts and lists) are then garbage at once instead of living until the insert,
    long enough to be promoted to the oldest garbage-collector generation."""
    encoded = []
    for row in rows:
        row["body"] = json_text(row["body"])
        encoded.append(row)
    return encoded


class _IsoText(dict[date, str]):
    """``day -> ISO text``, computed once per distinct day (a year has a few hundred)."""

    def __missing__(self, day: date) -> str:
        text = self[day] = day.isoformat()
        return text


_SAVEPOINT = "canteen_reservations"
#: SQL text by (dialect, template, IN list length), built once.
_SQL_TEXTS: dict[tuple[str, str, int], str] = {}


class _Cursor:
    """A DBAPI cursor of a :class:`_Driver` for one statement: closed after it, its driver
    errors raised as SQLAlchemy's. A class, as :class:`_Translating` (hot path)."""

    __slots__ = ("cursor", "driver", "statement")

    def __init__(self, driver: _Driver, statement: str) -> None:
        self.driver = driver
        self.statement = statement

    def __enter__(self) -> Any:
        self.cursor = self.driver.raw.cursor()
        return self.cursor

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        self.cursor.close()
        if isinstance(exc, self.driver.dbapi.Error):
            raise self.driver._error(exc, self.statement) from exc


class _Driver:
    """The reservation repository's statements, run on the DBAPI connection of the unit of work.

    A family's booking call runs a handful of small statements; through SQLAlchemy each one
    cost more Python (cache key, coercions, result set-up) than the query. The SQL text is
    built once per shape (SQLite: one ``IN (?, ...)`` per list length; PostgreSQL:
    ``= ANY(%s)``), values are passed as each driver stores SQLAlchemy's types (SQLite: ISO
    text dates, 0/1 booleans, JSON text), and driver errors are raised as SQLAlchemy's, so
    :func:`_translate` turns them into the library's errors as for every other statement.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.postgres = connection.dialect.name == "postgresql"
        self.raw: Any = connection.connection.dbapi_connection
        self.dbapi: Any = connection.dialect.loaded_dbapi
        self.mark = "%s" if self.postgres else "?"

    def sql(self, template: str, count: int = 0) -> str:
        """``template`` with ``{ids}`` as an IN list of ``count`` values and ``?`` marks."""
        dialect = "postgresql" if self.postgres else "sqlite"
        key = (dialect, template, 0 if self.postgres else count)
        text = _SQL_TEXTS.get(key)
        if text is None:
            ids = "= ANY(%s)" if self.postgres else f"IN ({', '.join('?' * count)})"
            text = template.replace("{ids}", ids).replace("?", self.mark)
            _SQL_TEXTS[key] = text
        return text

    def ids(self, ids: list[str]) -> list[Any]:
        """The parameters of an ``{ids}`` list."""
        return [ids] if self.postgres else ids

    def _error(self, exc: Exception, statement: str) -> sa.exc.StatementError:
        return sa.exc.DBAPIError.instance(
            statement, None, exc, self.dbapi.Error, hide_parameters=True
        )

    def fetch(self, statement: str, params: Sequence[Any]) -> list[Any]:
        with _Cursor(self, statement) as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    def fetch_in(self, template: str, ids: list[str]) -> Iterator[Any]:
        """The rows of ``template`` (see :meth:`sql`; its one parameter is the ``{ids}`` list)
        for ``ids``, one query per chunk of :data:`_IN_CHUNK`."""
        for chunk in _chunks(ids, _IN_CHUNK):
            yield from self.fetch(self.sql(template, len(chunk)), self.ids(chunk))

    def run(self, statement: str, params: Sequence[Any] = ()) -> int:
        with _Cursor(self, statement) as cursor:
            cursor.execute(statement, params)
            return int(cursor.rowcount)

    def run_many(self, statement: str, rows: Iterable[Sequence[Any]]) -> int:
        with _Cursor(self, statement) as cursor:
            if self.postgres:  # a conflict must not leave psycopg's pipeline logging noise
                psycopg_executemany(cursor, statement, rows)
            else:
                cursor.executemany(statement, rows)
            return int(cursor.rowcount)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint around a save: a conflict undoes the whole batch, nothing else."""
        self.run(f"SAVEPOINT {_SAVEPOINT}")
        try:
            yield
        except BaseException:
            with suppress(self.dbapi.Error):
                cursor = self.raw.cursor()
                try:
                    cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                    cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
                finally:
                    cursor.close()
            raise
        self.run(f"RELEASE SAVEPOINT {_SAVEPOINT}")

    # -- values as stored -------------------------------------------------------------------

    def day_in(self, day: date) -> Any:
        return day if self.postgres else day.isoformat()

    def day_out(self, value: Any) -> date:
        return value if self.postgres else date.fromisoformat(value)

    def json_in(self, value: Any) -> str:
        return json_text(value)

    def json_out(self, value: Any) -> Any:
        # psycopg parses json(b) itself (SQLAlchemy's dialect leaves it to the driver).
        return json.loads(value) if isinstance(value, str | bytes) else value
