"""Building blocks the revisions share: columns, keys and tables spelled once, named the way
:data:`canteen_adapters.storage.sql.tables.NAMING_CONVENTION` names them.

A revision must build the same schema for ever: a helper here may be added, never changed in
what it creates (a revision that needs another shape writes it out or takes a new helper).
Tables a revision rebuilds on SQLite are created as ``<table>_rebuilt`` and renamed by
:func:`swap_rebuilt`; their keys are named after the final table.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = [
    "JSON",
    "REBUILT",
    "create_indexes",
    "document_table",
    "foreign_key",
    "on_sqlite",
    "primary_key",
    "rebuild_reservation_days",
    "required",
    "reservation_days",
    "reservation_months",
    "swap_rebuilt",
    "tenant_columns",
    "tenant_document_table",
    "tenant_keyed",
    "tenant_policy",
]

#: JSON documents: ``jsonb`` on PostgreSQL, JSON text on SQLite.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

#: Suffix of a table being rebuilt on SQLite (see :func:`swap_rebuilt`).
REBUILT = "_rebuilt"


def _final(table: str) -> str:
    return table.removesuffix(REBUILT)


def on_sqlite() -> bool:
    """Whether the migration runs on SQLite (which rebuilds tables where PostgreSQL alters)."""
    return op.get_bind().dialect.name == "sqlite"


def required(name: str, type_: Any, **options: Any) -> sa.Column[Any]:
    """A NOT NULL column."""
    return sa.Column(name, type_, nullable=False, **options)


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """The primary key of ``table`` (``pk_<table>``)."""
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{_final(table)}")


def foreign_key(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """``table.column`` references ``target`` (``"other_table.column"``), named
    ``fk_<table>_<column>_<other_table>``."""
    target_table = _final(target.partition(".")[0])
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=f"fk_{_final(table)}_{column}_{target_table}",
        ondelete=ondelete,
    )


def create_indexes(table: str, *columns: str) -> None:
    """One index per column (``ix_<table>_<column>``)."""
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def document_table(table: str, *items: Any, key: str = "id") -> None:
    """Create a table of JSON documents: a ``key`` string primary key, a ``body`` and ``items``
    (more columns and constraints)."""
    op.create_table(
        table,
        required(key, sa.String()),
        required("body", JSON),
        *items,
        primary_key(table, key),
    )


def reservation_days(table: str, *, site: bool, late: bool, with_rowid: bool) -> None:
    """Create ``reservation_days`` as revisions 0001 to 0004 knew it: one row per booked day,
    with the day's site and late marker when asked."""
    op.create_table(
        table,
        required("enrollment_id", sa.String()),
        required("day", sa.Date()),
        *([required("site_id", sa.String())] if site else []),
        *([required("late", sa.Boolean(), server_default=sa.false())] if late else []),
        primary_key(table, "enrollment_id", "day"),
        foreign_key(table, "enrollment_id", "reservation_states.enrollment_id", ondelete="CASCADE"),
        sqlite_with_rowid=with_rowid,
    )


def reservation_months(table: str, states: str) -> None:
    """Create ``reservation_months`` as revisions 0005 and 0006 know it: one row per enrollment
    and month, the month's booked (and late) days as bit masks, in one B-tree (``WITHOUT
    ROWID`` on SQLite), going with the enrollment's row of ``states`` (``reservation_states``
    or its rebuilt copy)."""
    op.create_table(
        table,
        required("enrollment_id", sa.String()),
        required("month", sa.Date()),
        required("days", sa.BigInteger()),
        required("late", sa.BigInteger()),
        primary_key(table, "enrollment_id", "month"),
        foreign_key(table, "enrollment_id", f"{states}.enrollment_id", ondelete="CASCADE"),
        sqlite_with_rowid=False,
    )


def rebuild_reservation_days(rows: str, *, site: bool, with_rowid: bool) -> None:
    """On SQLite, replace ``reservation_days`` (with its late marker, as revisions 0003 and 0004
    rebuild it) by a copy with or without ``site_id`` and rowid, filled by the query ``rows``
    (its columns in the table's order). Nothing references the table: the swap deletes
    nothing."""
    table = f"reservation_days{REBUILT}"
    reservation_days(table, site=site, late=True, with_rowid=with_rowid)
    columns = "enrollment_id, day, site_id, late" if site else "enrollment_id, day, late"
    op.execute(f"INSERT INTO {table} ({columns}) {rows}")
    swap_rebuilt("reservation_days")


def swap_rebuilt(*tables: str) -> None:
    """Replace each of ``tables`` (parents first) by its filled ``<table>_rebuilt`` copy: the
    old ones are dropped children first (nothing left to cascade to), the copies renamed."""
    for table in reversed(tables):
        op.drop_table(table)  # its indexes go with it
    for table in tables:
        op.rename_table(f"{table}{REBUILT}", table)


# -- tenancy (revision 0013 on): on PostgreSQL every table is keyed by commune -------------

#: The tenant column's default: the transaction's ``canteen.tenant`` (NULL, refused, if unset).
TENANT_DEFAULT = "NULLIF(current_setting('canteen.tenant', true), '')"
_TENANT_MATCH = "tenant_id = current_setting('canteen.tenant', true)"


def tenant_columns() -> list[sa.Column[Any]]:
    """The ``tenant_id`` column a table created after 0013 has on PostgreSQL (none on
    SQLite, where a file is one commune): put it in ``op.create_table``'s items."""
    if on_sqlite():
        return []
    return [required("tenant_id", sa.String(), server_default=sa.text(TENANT_DEFAULT))]


def tenant_keyed(*columns: str) -> tuple[str, ...]:
    """``columns`` of a key (primary, unique, either side of a foreign key) led by
    ``tenant_id`` on PostgreSQL."""
    return columns if on_sqlite() else ("tenant_id", *columns)


def tenant_policy(table: str) -> None:
    """On PostgreSQL, turn on and force ``table``'s row-level security, with the policy
    keeping each transaction to its tenant's rows (nothing on SQLite)."""
    if on_sqlite():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY canteen_tenant_isolation ON {table} "
        f"USING ({_TENANT_MATCH}) WITH CHECK ({_TENANT_MATCH})"
    )


def tenant_document_table(table: str, *columns: sa.Column[Any], tenant_first: bool = False) -> None:
    """Create a table of JSON documents as the revisions after 0013 do: an ``id`` string key, a
    ``body`` and ``columns``, one index per column; on PostgreSQL keyed by commune under
    row-level security (:func:`tenant_columns` after the other columns, or first as revision
    0015 wrote them: ``tenant_first``; :func:`tenant_keyed`, :func:`tenant_policy`)."""
    tenant = tenant_columns()
    op.create_table(
        table,
        *(tenant if tenant_first else []),
        required("id", sa.String()),
        required("body", JSON),
        *columns,
        *([] if tenant_first else tenant),
        primary_key(table, *tenant_keyed("id")),
    )
    create_indexes(table, *(column.name for column in columns))
    tenant_policy(table)
