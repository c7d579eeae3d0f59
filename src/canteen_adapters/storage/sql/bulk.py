"""Bulk loads on the unit of work's DBAPI connection: multi-row ``INSERT`` statements on
PostgreSQL, one ``executemany`` of the driver on SQLite.

A billing run stores thousands of invoices. Through SQLAlchemy's ``executemany`` each row goes
through its parameter processing, and PostgreSQL runs one ``INSERT`` per row; here PostgreSQL
gets one ``INSERT ... VALUES (...), (...)`` per :data:`PG_ROWS` rows (``COPY FROM`` would be
faster still, but PostgreSQL refuses it on a table under row-level security, which every
table is on a shared database: see ``docs/tenancy.md``; the tenant column takes its default),
and SQLite's own ``executemany`` steps one prepared statement over the rows. Values are
converted as SQLAlchemy would store them (on SQLite the columns' bind processors, on
PostgreSQL a cast to each column's type), so rows read back the same whichever way they were
written.

On PostgreSQL the statement goes through psycopg's raw cursor, with PostgreSQL's own ``$n``
placeholders: psycopg parses a query's ``%s`` placeholders with a cache only for short
queries of at most 50 parameters, and parsed each batch's statement (thousands of
placeholders) again, a fifth of a billing run's CPU on PostgreSQL. The values are dumped
alike either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from canteen_core.domain.errors import ConflictError, StorageError

__all__ = ["PG_ROWS", "bulk_insert"]

_Processor = Callable[[Any], Any] | None
#: Rows per PostgreSQL statement (a parameter per value: PostgreSQL takes at most 65,535).
PG_ROWS = 1000
#: The SQL text and bind processors of a (dialect, table, columns) load, built once.
_PLANS: dict[tuple[str, str, tuple[str, ...]], tuple[str, tuple[_Processor, ...]]] = {}


def _plan(
    connection: sa.Connection, table: sa.Table, columns: tuple[str, ...]
) -> tuple[str, tuple[_Processor, ...]]:
    dialect = connection.dialect
    key = (dialect.name, table.name, columns)
    found = _PLANS.get(key)
    if found is not None:
        return found
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(column) for column in columns)
    if dialect.name == "postgresql":
        # One row's placeholders, each cast to its column's type (JSON text to jsonb...):
        # ``{}`` is the parameter's number (see _pg_statement).
        casts = ", ".join(f"${{}}::{table.c[c].type.compile(dialect=dialect)}" for c in columns)
        plan: tuple[str, tuple[_Processor, ...]] = (
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({casts})",
            tuple(None for _ in columns),
        )
    else:
        marks = ", ".join("?" for _ in columns)
        processors = tuple(
            None  # JSON columns take the JSON text (see ``_text_body_rows``) as it is
            if isinstance(table.c[column].type, sa.JSON)
            else table.c[column].type.bind_processor(dialect)
            for column in columns
        )
        plan = (f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", processors)
    _PLANS[key] = plan
    return plan


#: PostgreSQL statements by (plan's SQL, rows): a run's batches have a few sizes.
_PG_STATEMENTS: dict[tuple[str, int], str] = {}
_PG_STATEMENTS_KEPT = 64


def _pg_statement(sql: str, count: int, width: int) -> str:
    """The plan's ``sql`` for ``count`` rows of ``width`` values, parameters numbered."""
    found = _PG_STATEMENTS.get((sql, count))
    if found is None:
        head, _, row = sql.partition(" VALUES ")
        rows = ", ".join(
            row.format(*range(start + 1, start + width + 1))
            for start in range(0, count * width, width)
        )
        found = f"{head} VALUES {rows}"
        if len(_PG_STATEMENTS) >= _PG_STATEMENTS_KEPT:
            _PG_STATEMENTS.clear()
        _PG_STATEMENTS[(sql, count)] = found
    return found


def _values(
    rows: Sequence[dict[str, Any]], columns: tuple[str, ...], processors: tuple[_Processor, ...]
) -> list[tuple[Any, ...]]:
    if not any(processors):
        return [tuple(row[column] for column in columns) for row in rows]
    return [
        tuple(
            value if processor is None or value is None else processor(value)
            for value, processor in zip((row[c] for c in columns), processors, strict=True)
        )
        for row in rows
    ]


def bulk_insert(
    connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], what: str
) -> None:
    """Insert ``rows`` (dicts with the same keys: column names to values as SQLAlchemy takes
    them, JSON columns as JSON text) into ``table`` in one savepoint of the unit of work's
    transaction: all or none.

    :class:`ConflictError` when a row breaks a unique constraint (nothing is written),
    :class:`StorageError` for another database failure; ``what`` names the operation.
    """
    if not rows:
        return
    columns = tuple(rows[0])
    sql, processors = _plan(connection, table, columns)
    values = _values(rows, columns, processors)
    dbapi: Any = connection.connection.dbapi_connection
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        import psycopg  # the PostgreSQL driver, present whenever this dialect is

        integrity: tuple[type[Exception], ...] = (psycopg.IntegrityError,)
        failure: tuple[type[Exception], ...] = (psycopg.Error,)
    else:
        integrity, failure = (sqlite3.IntegrityError,), (sqlite3.Error,)
    with connection.begin_nested():  # a refused load is undone whole
        try:
            if postgres:
                with psycopg.RawCursor(dbapi) as cursor:
                    for start in range(0, len(values), PG_ROWS):
                        batch = values[start : start + PG_ROWS]
                        cursor.execute(
                            _pg_statement(sql, len(batch), len(columns)),
                            [value for row in batch for value in row],
                        )
            else:
                dbapi.executemany(sql, values)
        except integrity as error:
            raise ConflictError(f"{what}: a row conflicts with stored data ({error})") from None
        except failure as error:
            raise StorageError(
                f"{what}: the database failed ({error}); nothing was saved"
            ) from None
