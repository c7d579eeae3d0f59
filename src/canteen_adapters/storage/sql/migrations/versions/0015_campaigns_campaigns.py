"""Yearly campaigns (family-quotient update, re-enrollment) and each household's answers.

On PostgreSQL both tables are keyed by commune like every other (revision 0013): a
``tenant_id`` leading the primary key, row-level security on.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import (
    JSON,
    create_indexes,
    required,
    tenant_columns,
    tenant_keyed,
    tenant_policy,
)

revision = "0015"
down_revision: str | None = "0014"
branch_labels = None
depends_on = None

# The key columns as of this revision (canteen_core.ports.storage.COLLECTIONS may change
# later): (name, nullable).
_TABLES: dict[str, tuple[tuple[str, bool], ...]] = {
    "campaigns": (("kind", False), ("status", False)),
    "campaign_answers": (
        ("campaign_id", False),
        ("household_id", False),
        ("state", False),
        ("child_id", True),
    ),
}


def upgrade() -> None:
    """The two document tables, one index per key column, each commune's rows its own."""
    for table, columns in _TABLES.items():
        op.create_table(
            table,
            *tenant_columns(),
            required("id", sa.String()),
            required("body", JSON),
            *(sa.Column(name, sa.String(), nullable=nullable) for name, nullable in columns),
            sa.PrimaryKeyConstraint(*tenant_keyed("id"), name=f"pk_{table}"),
        )
        create_indexes(table, *(name for name, _ in columns))
        tenant_policy(table)


def downgrade() -> None:
    """Drop the tables (their indexes and policies go with them)."""
    for table in reversed(_TABLES):
        op.drop_table(table)
