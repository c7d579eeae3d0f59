"""Service calendars stored once: ``service_calendars (key, body)`` and
``enrollments.calendar_key``.

Every enrollment body carried its whole service calendar (about 1.5 KB) although thousands of
enrollments share a handful. Each distinct calendar is now one row keyed by the SHA-256 (hex)
of its canonical JSON (keys sorted, compact), the key the storage computes when it writes; an
enrollment's body leaves its calendar out and names it in ``calendar_key`` (not null, a
foreign key). The upgrade moves each body's calendar into the table (the keys are computed
here: neither database hashes Python's canonical JSON), the downgrade puts it back.

SQLite can neither add a NOT NULL foreign-key column to a table with rows nor drop one, and
rebuilding ``enrollments`` alone would cascade-delete the reservations referencing it (foreign
keys are on, and cannot be turned off inside the migration's transaction): the chain
enrollments <- reservation_states <- reservation_months is copied into new tables that
reference each other, the old ones are dropped (children first) and the new ones renamed
(SQLite carries the references along)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import (
    JSON,
    REBUILT,
    create_indexes,
    document_table,
    foreign_key,
    primary_key,
    required,
    reservation_months,
    swap_rebuilt,
)

revision = "0006"
down_revision: str | None = "0005"
_BATCH = 1000
_KEY_COLUMNS = ("household_id", "child_id", "site_id", "service_id", "first_day", "last_day")
_CALENDARS = sa.table("service_calendars", sa.column("key", sa.String()), sa.column("body", JSON))


def calendar_key(data: Any) -> str:
    """A calendar's key, as the storage computes it when it writes (the same calendar then
    keeps one row; another key would only store it twice)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _move_calendars_out(connection: sa.Connection, *, sqlite: bool) -> None:
    """Store each body's calendar once, name it in ``calendar_key``, drop it from the body."""
    # JSON text of the calendar (``null`` when a body has none: it is kept as such).
    text = (
        "json_quote(json_extract(body, '$.calendar'))" if sqlite else "(body -> 'calendar')::text"
    )
    keys: dict[str | None, str] = {}  # calendar text -> key: each distinct text parsed once
    calendars: dict[str, Any] = {}  # key -> data (equal data may come in another key order)
    named: list[dict[str, str]] = []
    rows = connection.exec_driver_sql(
        f"SELECT id, {text} FROM enrollments", execution_options={"yield_per": _BATCH}
    )
    for enrollment_id, calendar in rows:
        key = keys.get(calendar)
        if key is None:
            data = None if calendar is None else json.loads(calendar)
            key = keys[calendar] = calendar_key(data)
            calendars[key] = data
        named.append({"id": enrollment_id, "key": key})
    stored = [{"key": key, "body": data} for key, data in calendars.items()]
    for start in range(0, len(stored), _BATCH):
        connection.execute(sa.insert(_CALENDARS), stored[start : start + _BATCH])
    update = sa.text("UPDATE enrollments SET calendar_key = :key WHERE id = :id")
    for start in range(0, len(named), _BATCH):
        connection.execute(update, named[start : start + _BATCH])
    strip = "json_remove(body, '$.calendar')" if sqlite else "body - 'calendar'"
    connection.exec_driver_sql(f"UPDATE enrollments SET body = {strip}")


def _put_calendars_back(connection: sa.Connection, *, sqlite: bool) -> None:
    if sqlite:
        connection.exec_driver_sql(
            "UPDATE enrollments SET body = json_set(body, '$.calendar', json(("
            "SELECT c.body FROM service_calendars AS c WHERE c.key = enrollments.calendar_key)))"
        )
    else:
        connection.exec_driver_sql(
            "UPDATE enrollments SET body = jsonb_set(enrollments.body, '{calendar}', c.body) "
            "FROM service_calendars AS c WHERE c.key = enrollments.calendar_key"
        )


def _rebuild_on_sqlite(*, calendar: bool) -> None:
    """Copy enrollments (with or without ``calendar_key``) and the reservation tables that
    reference them into new tables, then swap them in."""
    enrollments = f"enrollments{REBUILT}"
    # Made first: SQLAlchemy writes the foreign keys in the order they were made.
    key = (
        [
            required("calendar_key", sa.String()),
            foreign_key(enrollments, "calendar_key", "service_calendars.key"),
        ]
        if calendar
        else []
    )
    document_table(
        enrollments,
        *(
            required(column, sa.Date() if column.endswith("_day") else sa.String())
            for column in _KEY_COLUMNS
        ),
        *key,
        foreign_key(enrollments, "household_id", "households.id", ondelete="RESTRICT"),
    )
    states = f"reservation_states{REBUILT}"
    op.create_table(
        states,
        required("enrollment_id", sa.String()),
        required("version", sa.Integer()),
        required("late_cancelled", JSON, server_default="[]"),
        primary_key(states, "enrollment_id"),
        foreign_key(states, "enrollment_id", f"{enrollments}.id", ondelete="CASCADE"),
    )
    reservation_months(f"reservation_months{REBUILT}", states)
    columns = {
        "enrollments": ", ".join(("id", "body", *_KEY_COLUMNS, *(["calendar_key"] * calendar))),
        "reservation_states": "enrollment_id, version, late_cancelled",
        "reservation_months": "enrollment_id, month, days, late",
    }
    for table, names in columns.items():  # parents first: the new references are checked
        op.execute(f"INSERT INTO {table}{REBUILT} ({names}) SELECT {names} FROM {table}")
    swap_rebuilt(*columns)
    create_indexes("enrollments", *_KEY_COLUMNS)


def upgrade() -> None:
    """Create ``service_calendars`` and move the enrollments' calendars into it."""
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    document_table("service_calendars", key="key")
    op.add_column("enrollments", sa.Column("calendar_key", sa.String(), nullable=True))
    _move_calendars_out(connection, sqlite=sqlite)
    if sqlite:
        _rebuild_on_sqlite(calendar=True)
        return
    op.alter_column("enrollments", "calendar_key", nullable=False)
    op.create_foreign_key(
        "fk_enrollments_calendar_key_service_calendars",
        "enrollments",
        "service_calendars",
        ["calendar_key"],
        ["key"],
    )


def downgrade() -> None:
    """Put each enrollment's calendar back into its body; drop ``service_calendars``."""
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    _put_calendars_back(connection, sqlite=sqlite)
    if sqlite:
        _rebuild_on_sqlite(calendar=False)
    else:
        op.drop_constraint(
            "fk_enrollments_calendar_key_service_calendars", "enrollments", type_="foreignkey"
        )
        op.drop_column("enrollments", "calendar_key")
    op.drop_table("service_calendars")
