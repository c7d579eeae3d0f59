"""Enrollment requests: a family asks to enroll a child, staff accept or refuse.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TABLE = "enrollment_requests"
# The key columns as of this revision (canteen_core.ports.storage.COLLECTIONS may change later).
_COLUMNS = ("household_id", "child_id", "service_id", "status")


def upgrade() -> None:
    """The document table, one index per key column."""
    op.create_table(
        _TABLE,
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        *(sa.Column(name, sa.String(), nullable=False) for name in _COLUMNS),
        sa.PrimaryKeyConstraint("id", name=f"pk_{_TABLE}"),
    )
    for name in _COLUMNS:
        op.create_index(f"ix_{_TABLE}_{name}", _TABLE, [name])


def downgrade() -> None:
    """Drop the table (and its indexes)."""
    op.drop_table(_TABLE)
