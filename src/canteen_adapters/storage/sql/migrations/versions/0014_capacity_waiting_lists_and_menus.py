"""Capacity rules, waiting lists and weekly menus: three document tables of their own.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from canteen_adapters.storage.sql.migrations._ops import (
    tenant_columns,
    tenant_keyed,
    tenant_policy,
)

revision = "0014"
down_revision: str | None = "0013"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
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
        op.create_table(
            table,
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("body", JSON, nullable=False),
            *(sa.Column(name, kind, nullable=False) for name, kind in columns),
            *tenant_columns(),
            sa.PrimaryKeyConstraint(*tenant_keyed("id"), name=f"pk_{table}"),
        )
        tenant_policy(table)
        for name, _ in columns:
            op.create_index(f"ix_{table}_{name}", table, [name])


def downgrade() -> None:
    """Drop the tables (and their indexes): the rules, waiting lists and menus are lost."""
    for table in reversed(_TABLES):
        op.drop_table(table)
