"""The database schema, as SQLAlchemy Core tables (no ORM: domain objects stay attrs values).

Aggregates are stored as JSON documents (written by :mod:`canteen_core.config.serialization`) next
to
indexed key columns taken from :data:`canteen_core.ports.storage.COLLECTIONS`; relations that
queries
need at scale are real rows: children (for headcounts by diet), guardians (households of a
guardian), booked days as one row per ``(enrollment_id, month)`` holding the month's days as
bit masks (one B-tree, reached from enrollments), and service calendars stored once and named
by their content (thousands of enrollments share a handful).

The migrations in ``migrations/versions`` create exactly this schema;
``tests/storage/test_migrations.py`` compares the two so they cannot drift apart. On PostgreSQL
every table also has a ``tenant_id`` leading its keys, which these tables leave out (see
:mod:`canteen_adapters.storage.sql.tenancy`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from canteen_core.ports.storage import COLLECTIONS, Collection, KeyType

__all__ = [
    "JSON_TYPE",
    "NAMING_CONVENTION",
    "account_tokens",
    "accounts",
    "audit_households",
    "audit_log",
    "catalog_services",
    "catalog_sites",
    "children",
    "document_blobs",
    "document_tables",
    "household_guardians",
    "households",
    "invoice_counters",
    "metadata",
    "outbox",
    "reservation_months",
    "reservation_states",
    "service_calendars",
    "throttles",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON documents: ``jsonb`` on PostgreSQL (indexable, compact), JSON text on SQLite.
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_COLUMN_TYPES: dict[KeyType, sa.types.TypeEngine[Any]] = {
    "str": sa.String(),
    "date": sa.Date(),
    "datetime": sa.DateTime(timezone=True),
    "int": sa.Integer(),
    "bool": sa.Boolean(),
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _json_table(name: str, *items: Any, key: str = "id") -> sa.Table:
    """A table of JSON documents: a ``key`` string primary key, a ``body``, then ``items``
    (more columns, indexes, constraints)."""
    return sa.Table(
        name,
        metadata,
        sa.Column(key, sa.String(), primary_key=True),
        _required("body", JSON_TYPE),
        *items,
    )


def _required(name: str, type_: Any, **options: Any) -> sa.Column[Any]:
    """A NOT NULL column."""
    return sa.Column(name, type_, nullable=False, **options)


def _belongs_to(name: str, owner: str, **options: Any) -> sa.Column[Any]:
    """A string column naming the row of ``owner`` (``table.column``) its row goes with, and
    goes away with (``ON DELETE CASCADE``)."""
    return sa.Column(name, sa.String(), sa.ForeignKey(owner, ondelete="CASCADE"), **options)


households = _json_table("households")

children = sa.Table(
    "children",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),  # a child belongs to one household
    _belongs_to("household_id", "households.id", nullable=False, index=True),
    _required("diet", sa.String()),
    _required("pai", sa.Boolean()),
)

household_guardians = sa.Table(
    "household_guardians",
    metadata,
    _belongs_to("household_id", "households.id", primary_key=True),
    sa.Column("guardian_id", sa.String(), primary_key=True, index=True),
    _required("role", sa.String()),
)


#: Each distinct :class:`~canteen_core.domain.calendar.ServiceCalendar` once (migration 0006),
#: keyed by
#: the SHA-256 (hex) of its canonical JSON: equal calendars share a row, and a row never
#: changes, so readers may cache it across transactions and processes.
service_calendars = _json_table("service_calendars", key="key")


def _catalog_table(name: str) -> sa.Table:
    """A catalog table: one versioned entry (a site with its closures, or a service) per id."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.String(), primary_key=True),
        _required("version", sa.Integer()),
        _required("body", JSON_TYPE),
    )


#: The catalog (migration 0010): sites with their own closures, and services; each entry is
#: saved over only from the version it was read at.
catalog_sites = _catalog_table("catalog_sites")
catalog_services = _catalog_table("catalog_services")

#: Indexes on two key columns (migration 0007). Batch reads filter many households by a day
#: range or a status (billing reads a month of attendance 200 households at a time; a family's
#: portal call reads its pending requests): with one index per column SQLite's planner took
#: the day (or status) index and read the whole month (or every pending request) for each
#: batch, which made billing a city quadratic. Each index also serves its first column alone,
#: which therefore gets no index of its own.
COMPOSITE_INDEXES: dict[str, tuple[tuple[str, str], ...]] = {
    "attendance": (("household_id", "day"),),
    "change_requests": (("household_id", "status"),),
}


def _composite_index_name(table: str, columns: tuple[str, ...]) -> str:
    """``ix_<table>_<column>_<column>``, as SQLAlchemy names a one-column index."""
    return f"ix_{table}_{'_'.join(columns)}"


def _document_table(collection: Collection) -> sa.Table:
    columns: list[sa.Column[Any]] = []
    composite = COMPOSITE_INDEXES.get(collection.name, ())
    # A column leading a two-column index, or unique on its own (the constraint's index),
    # needs no index of its own: each would be one more B-tree to update on every insert.
    leading = {pair[0] for pair in composite} | {
        columns_[0] for columns_ in collection.unique if len(columns_) == 1
    }
    for key in collection.keys:
        args: list[Any] = [_COLUMN_TYPES[key.type]]
        if collection.name == "enrollments" and key.column == "household_id":
            args.append(sa.ForeignKey("households.id", ondelete="RESTRICT"))
        columns.append(
            sa.Column(key.column, *args, nullable=key.nullable, index=key.column not in leading)
        )
    if collection.name == "enrollments":
        # The body leaves its calendar out; this names it (not indexed: never deleted).
        columns.append(
            sa.Column(
                "calendar_key",
                sa.String(),
                sa.ForeignKey("service_calendars.key"),
                nullable=False,
            )
        )
    constraints: list[Any] = [sa.UniqueConstraint(*columns_) for columns_ in collection.unique]
    constraints += [
        sa.Index(_composite_index_name(collection.name, pair), *pair) for pair in composite
    ]
    return _json_table(collection.name, *columns, *constraints)


#: One table per document collection, named like the collection.
document_tables: dict[str, sa.Table] = {
    name: _document_table(collection) for name, collection in COLLECTIONS.items()
}

reservation_states = sa.Table(
    "reservation_states",
    metadata,
    _belongs_to("enrollment_id", "enrollments.id", primary_key=True),
    _required("version", sa.Integer()),
    # Days cancelled after their deadline (billing may charge them): few, kept as a list.
    _required("late_cancelled", JSON_TYPE, server_default="[]"),
)

reservation_months = sa.Table(
    "reservation_months",
    metadata,
    _belongs_to("enrollment_id", "reservation_states.enrollment_id", primary_key=True),
    # The first day of the month.
    sa.Column("month", sa.Date(), primary_key=True),
    # Bit d - 1 set: day d of the month is booked (31 bits; never 0, such months have no row).
    _required("days", sa.BigInteger()),
    # The booked days of ``days`` that were booked late (surcharge mode), same bits.
    _required("late", sa.BigInteger()),
    # One B-tree (migration 0005): a school year is about ten rows per enrollment, headcounts
    # go through the enrollments' site; on SQLite the primary key is the table (WITHOUT ROWID).
    sqlite_with_rowid=False,
)

invoice_counters = sa.Table(
    "invoice_counters",
    metadata,
    sa.Column("issuer", sa.String(), primary_key=True),
    sa.Column("year", sa.Integer(), primary_key=True),
    sa.Column("kind", sa.String(), primary_key=True),
    _required("last", sa.Integer()),
)

accounts = _json_table(
    "accounts",
    _required("username", sa.String(), unique=True),
    _required("email", sa.String(), index=True),  # lower-cased for lookups
)

account_tokens = sa.Table(
    "account_tokens",
    metadata,
    sa.Column("selector", sa.String(), primary_key=True),
    _belongs_to("account_id", "accounts.id", nullable=False, index=True),
)

throttles = _json_table("throttles", key="key")

outbox = _json_table(
    "outbox",
    _required("status", sa.String()),
    _required("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    _required("created_at", sa.DateTime(timezone=True)),
    sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

#: The bytes of the family's papers when ``[documents] store = "database"`` (migration 0009):
#: one row per blob under the random key the store made; the paper's description is in the
#: ``family_papers`` document table.
document_blobs = sa.Table(
    "document_blobs",
    metadata,
    sa.Column("key", sa.String(), primary_key=True),
    _required("content_type", sa.String()),
    _required("size", sa.Integer()),
    _required("data", sa.LargeBinary()),
    _required("created_at", sa.DateTime(timezone=True)),
)

#: The audit chains (migration 0012): one row per entry, keyed by commune and sequence. The
#: columns queries filter on are real columns; the rest is ``details`` (JSON text, kept as
#: written). Every column takes part in the entry's hash, so an edited row no longer checks.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("commune", sa.String(), primary_key=True),
    sa.Column("sequence", sa.Integer(), primary_key=True),
    _required("id", sa.String(), unique=True),
    _required("recorded_at", sa.DateTime(timezone=True), index=True),
    _required("actor_id", sa.String(), index=True),
    _required("action", sa.String(), index=True),
    _required("kind", sa.String()),
    _required("previous_hash", sa.String()),
    _required("hash", sa.String()),
    _required("details", sa.Text()),
)

#: The households each audit entry is about (a billing run touches many): "what happened to
#: this household" is one index lookup.
audit_households = sa.Table(
    "audit_households",
    metadata,
    sa.Column("commune", sa.String(), primary_key=True),
    sa.Column("sequence", sa.Integer(), primary_key=True),
    sa.Column("household_id", sa.String(), primary_key=True, index=True),
    sa.ForeignKeyConstraint(
        ["commune", "sequence"],
        ["audit_log.commune", "audit_log.sequence"],
        ondelete="CASCADE",
    ),
)
