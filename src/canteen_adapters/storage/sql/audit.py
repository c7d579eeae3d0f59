"""The SQL audit log: the audit chains in ``audit_log`` and ``audit_households``.

:meth:`SqlAuditLog.head` (and :meth:`~SqlAuditLog.last`) locks the commune's chain for the
transaction: on PostgreSQL with a transaction-scoped advisory lock on the commune (a concurrent
writer waits for the commit, then reads the new head); SQLite has one writer at a time already
(``BEGIN IMMEDIATE``). The lock is taken as the use case ends, just before its commit, so it is
held for the commit only. The head is read by the table's primary key (``commune, sequence``;
``tenant_id`` first on PostgreSQL): one index entry, two columns, never the entry's details.

On PostgreSQL an entry costs two round trips (every writable use case writes one):

* :meth:`~SqlAuditLog.head` sends the lock and the head's read as **two statements of one
  simple query**. Each statement of a simple query takes its own snapshot (``READ
  COMMITTED``), so the read, run once the lock is granted, sees the head a concurrent writer
  committed while this one waited. One statement (``SELECT pg_advisory_xact_lock(..), (SELECT
  ... head ...)``) would not: its one snapshot is taken before the lock is waited for, and it
  reads the old head (two writers would then link to one entry). The commune goes into the
  text as a literal quoted by psycopg (a simple query has no parameters), the text kept per
  commune.
* :meth:`~SqlAuditLog.append` writes the entry and its households' rows in one statement: the
  households' ``INSERT`` reads the entry's ``RETURNING`` in a ``WITH`` clause (a taken
  sequence or id inserts neither).

SQLite runs the same steps as separate statements (no round trips there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Unpack

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from canteen_adapters.storage._common import check_text
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.driver import (
    _column_value,
    _Cursor,
    _Driver,
    _remember,
    _Session,
    _translate,
)
from canteen_core.domain.audit import AuditEntry, AuditHead
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.ports.audit import AuditFilters

__all__ = ["SqlAuditLog"]

_LOG = t.audit_log
_HOUSEHOLDS = t.audit_households
_COLUMNS = ("commune", "sequence", "id", "recorded_at", "actor_id", "action", "kind")

#: The chain's head: the last entry's sequence and hash, by the primary key.
_HEAD = (
    sa.select(_LOG.c.sequence, _LOG.c.hash)
    .where(_LOG.c.commune == sa.bindparam("commune"))
    .order_by(_LOG.c.sequence.desc())
    .limit(1)
)
_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
#: The advisory lock's key of a commune's chain (a deployment of another version takes the
#: same lock: keep it).
_LOCK_KEY = "canteen-audit:{commune}"
#: PostgreSQL: the lock, then the head, in one simple query (see the module docstring);
#: ``{key}`` and ``{commune}`` are quoted literals.
_LOCKED_HEAD = (
    "SELECT pg_advisory_xact_lock(hashtextextended({key}, 0)); "
    "SELECT sequence, hash FROM audit_log WHERE commune = {commune} "
    "ORDER BY sequence DESC LIMIT 1"
)
#: :data:`_LOCKED_HEAD` per commune (a deployment writes one commune's chain).
_LOCKED_HEADS: dict[str, str] = {}
#: PostgreSQL: the entry and its households' rows in one statement (see the module docstring).
_APPEND = (
    "WITH entry AS (INSERT INTO audit_log ({columns}) VALUES ({marks}) "
    "ON CONFLICT DO NOTHING RETURNING commune, sequence), "
    "households AS (INSERT INTO audit_households (commune, sequence, household_id) "
    "SELECT entry.commune, entry.sequence, ids.id FROM entry CROSS JOIN unnest(%s::text[]) "
    "AS ids(id) ON CONFLICT DO NOTHING) "
    "SELECT sequence FROM entry"
)
_APPEND_COLUMNS = (*_COLUMNS, "previous_hash", "hash", "details")
_APPEND_SQL = _APPEND.format(
    columns=", ".join(_APPEND_COLUMNS), marks=", ".join(["%s"] * len(_APPEND_COLUMNS))
)


def _locked_head_sql(raw: Any, commune: str) -> str:
    """:data:`_LOCKED_HEAD` for ``commune``, its literals quoted by psycopg on ``raw`` (its
    DBAPI connection)."""
    text = _LOCKED_HEADS.get(commune)
    if text is None:
        from psycopg import sql

        def literal(value: str) -> str:
            return sql.Literal(value).as_string(raw)

        text = _LOCKED_HEAD.format(
            key=literal(_LOCK_KEY.format(commune=commune)), commune=literal(commune)
        )
        _remember(_LOCKED_HEADS, 64, commune, text)
    return text


def _sqlite_inserts() -> tuple[Any, Any]:
    """SQLite's statements for the entry's row and its households' rows, each in one
    statement and with no savepoint (PostgreSQL writes both in one: :data:`_APPEND_SQL`).

    Both are ``INSERT ... ON CONFLICT DO NOTHING``: an entry whose sequence or id is taken
    inserts nothing (and returns no row: a ``ConflictError``, the transaction untouched),
    and a households row already stored is the very row (its key is all its columns). The
    households' ids go as one parameter, a JSON array read by ``json_each`` (the ``WHERE``
    keeps SQLite from reading the upsert's ``ON`` as a join's)."""
    entry = sqlite.insert(_LOG).on_conflict_do_nothing().returning(_LOG.c.sequence)
    commune = sa.bindparam("commune", type_=sa.String())
    sequence = sa.bindparam("sequence", type_=sa.Integer())
    each = sa.func.json_each(sa.bindparam("households", type_=sa.String())).table_valued("value")
    rows = sa.select(commune, sequence, each.c.value).where(sa.true())
    households = (
        sqlite.insert(_HOUSEHOLDS)
        .from_select(("commune", "sequence", "household_id"), rows)
        .on_conflict_do_nothing()
    )
    return entry, households


_SQLITE_INSERTS = _sqlite_inserts()


def _storable(details: str) -> bool:
    """Whether JSON written with ``ensure_ascii=False`` holds no NUL (written ``\\u0000``)
    and no lone surrogate (written as is): then none of its texts needs a look (see
    :func:`~canteen_adapters.storage._common.check_text`)."""
    if "\\u0000" in details:
        return False
    if details.isascii():
        return True
    try:
        details.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _taken(entry: AuditEntry) -> ConflictError:
    return ConflictError(
        f"audit entry {entry.commune} #{entry.sequence} or id {entry.id!r} already stored"
    )


def _entry(row: Any) -> AuditEntry:
    mapping = row._mapping
    return AuditEntry.from_columns(mapping, json.loads(mapping["details"]))


class SqlAuditLog:
    """:class:`~canteen_core.ports.audit.AuditLogRepository` over SQLAlchemy Core."""

    def __init__(self, uow: _Session) -> None:
        self._uow = uow

    def _one(self, commune: str, *, newest: bool) -> AuditEntry | None:
        order = _LOG.c.sequence.desc() if newest else _LOG.c.sequence.asc()
        statement = sa.select(_LOG).where(_LOG.c.commune == commune).order_by(order).limit(1)
        with _translate("cannot read the audit log"):
            row = self._uow.connection().execute(statement).first()
        return None if row is None else _entry(row)

    def _lock(self, commune: str) -> None:
        """Lock the commune's chain for a writable unit of work's transaction."""
        check_text(commune, "commune")
        if not self._uow.read_only:
            connection = self._uow.writable()
            if connection.dialect.name == "postgresql":
                with _translate("cannot lock the audit log"):
                    connection.execute(_LOCK, {"key": _LOCK_KEY.format(commune=commune)})

    def head(self, commune: str) -> AuditHead | None:
        check_text(commune, "commune")
        connection = self._uow.connection()
        if not self._uow.read_only and connection.dialect.name == "postgresql":
            # The lock and the read in one round trip (see the module docstring).
            driver = _Driver(connection)
            text = _locked_head_sql(driver.raw, commune)
            with _translate("cannot read the audit log"), _Cursor(driver, text) as cursor:
                cursor.execute(text)
                cursor.nextset()  # the lock's row, then the head's
                row = cursor.fetchone()
        else:
            self._lock(commune)
            with _translate("cannot read the audit log"):
                row = connection.execute(_HEAD, {"commune": commune}).first()
        return None if row is None else AuditHead(commune=commune, sequence=row[0], hash=row[1])

    def last(self, commune: str) -> AuditEntry | None:
        self._lock(commune)
        return self._one(commune, newest=True)

    def first(self, commune: str) -> AuditEntry | None:
        check_text(commune, "commune")
        return self._one(commune, newest=False)

    def append(self, entry: AuditEntry) -> None:
        if not isinstance(entry, AuditEntry):
            raise InvalidInputError("expected an AuditEntry", path="entry")
        row = {name: _column_value(getattr(entry, name)) for name in _COLUMNS}
        check_text(row, "entry")
        document = entry.details()
        details = json.dumps(document, ensure_ascii=False, sort_keys=True)
        if not _storable(details):  # only then walked, to name the bad text
            check_text(document, "details")
        row.update(previous_hash=entry.previous_hash, hash=entry.hash, details=details)
        connection = self._uow.writable()
        if connection.dialect.name == "postgresql":
            # One statement for the entry and its households (see the module docstring).
            driver = _Driver(connection)
            params = [row[name] for name in _APPEND_COLUMNS]
            params.append(list(entry.household_ids))
            with _translate("cannot append to the audit log"):
                stored = driver.fetch(_APPEND_SQL, params)
            if not stored:
                raise _taken(entry)
            return
        insert_entry, insert_households = _SQLITE_INSERTS
        with _translate("cannot append to the audit log"):
            if connection.execute(insert_entry, row).first() is None:
                raise _taken(entry)
            if entry.household_ids:
                connection.execute(
                    insert_households,
                    {
                        "commune": entry.commune,
                        "sequence": entry.sequence,
                        "households": json.dumps(list(entry.household_ids)),
                    },
                )

    def entries(self, commune: str, **filters: Unpack[AuditFilters]) -> Iterator[AuditEntry]:
        check_text(commune, "commune")
        clauses: list[sa.ColumnElement[bool]] = [
            _LOG.c.commune == commune,
            _LOG.c.sequence > filters.get("after_sequence", 0),
        ]
        household_id = filters.get("household_id")
        actor_id, action = filters.get("actor_id"), filters.get("action")
        since, until = filters.get("since"), filters.get("until")
        if household_id is not None:
            check_text(household_id, "household_id")
            clauses.append(
                sa.exists().where(
                    _HOUSEHOLDS.c.commune == _LOG.c.commune,
                    _HOUSEHOLDS.c.sequence == _LOG.c.sequence,
                    _HOUSEHOLDS.c.household_id == household_id,
                )
            )
        if actor_id is not None:
            check_text(actor_id, "actor_id")
            clauses.append(_LOG.c.actor_id == actor_id)
        if action is not None:
            check_text(action, "action")
            clauses.append(_LOG.c.action == action)
        if since is not None:
            clauses.append(_LOG.c.recorded_at >= _column_value(since))
        if until is not None:
            clauses.append(_LOG.c.recorded_at <= _column_value(until))
        statement = sa.select(_LOG).where(*clauses).order_by(_LOG.c.sequence)
        for row in self._uow.stream(statement, "cannot read the audit log"):
            yield _entry(row)

    def cut_before(self, commune: str, sequence: int) -> int:
        check_text(commune, "commune")
        connection = self._uow.writable()
        where = (_LOG.c.commune == commune, _LOG.c.sequence < sequence)
        with _translate("cannot cut the audit log"), connection.begin_nested():
            # The households rows go with their entries (ON DELETE CASCADE), deleted first
            # all the same: SQLite enforces the cascade only with its foreign keys on.
            connection.execute(
                sa.delete(_HOUSEHOLDS).where(
                    _HOUSEHOLDS.c.commune == commune, _HOUSEHOLDS.c.sequence < sequence
                )
            )
            result = connection.execute(sa.delete(_LOG).where(*where))
        return int(result.rowcount or 0)
