"""Yearly campaigns (family-quotient update, re-enrollment) and each household's answers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
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
    """The two document tables, one index per key column."""
    for table, columns in _TABLES.items():
        op.create_table(
            table,
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("body", JSON, nullable=False),
            *(sa.Column(name, sa.String(), nullable=nullable) for name, nullable in columns),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
        for name, _ in columns:
            op.create_index(f"ix_{table}_{name}", table, [name])


def downgrade() -> None:
    """Drop the tables (and their indexes)."""
    for table in reversed(_TABLES):
        op.drop_table(table)
