"""Capacity rules, waiting lists and weekly menus: three document tables of their own.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision: str | None = "0012"
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
    """The document tables, one index per key column."""
    for table, columns in _TABLES.items():
        op.create_table(
            table,
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("body", JSON, nullable=False),
            *(sa.Column(name, kind, nullable=False) for name, kind in columns),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
        for name, _ in columns:
            op.create_index(f"ix_{table}_{name}", table, [name])


def downgrade() -> None:
    """Drop the tables (and their indexes): the rules, waiting lists and menus are lost."""
    for table in reversed(_TABLES):
        op.drop_table(table)
