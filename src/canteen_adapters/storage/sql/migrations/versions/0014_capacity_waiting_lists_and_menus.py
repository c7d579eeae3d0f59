"""Capacity rules, waiting lists and weekly menus: three document tables of their own."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import required, tenant_document_table

revision = "0014"
down_revision: str | None = "0013"

# The key columns as of this revision (canteen_core.ports.storage.COLLECTIONS may change later).
_TABLES: dict[str, tuple[tuple[str, sa.types.TypeEngine[Any]], ...]] = {
    "capacities": (("site_id", sa.String()), ("service_id", sa.String())),
    "waiting_list": (
        ("site_id", sa.String()),
        ("service_id", sa.String()),
        ("day", sa.Date()),
        ("enrollment_id", sa.String()),
        ("household_id", sa.String()),
        ("status", sa.String()),
    ),
    "menus": (("site_id", sa.String()), ("week", sa.Date())),
}


def upgrade() -> None:
    """The document tables, one index per key column; on PostgreSQL keyed by commune
    (``tenant_id``) under row-level security, like every table since 0013."""
    for table, columns in _TABLES.items():
        tenant_document_table(table, *(required(name, kind) for name, kind in columns))


def downgrade() -> None:
    """Drop the tables (and their indexes): the rules, waiting lists and menus are lost."""
    for table in reversed(_TABLES):
        op.drop_table(table)
