"""The direct debits the bank returned (``debit_returns``), read from its pain.002 and
camt.054 files: one row per returned debit, with its reason code and the file's digest.

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
_KEYS = ("household_id", "payment_id", "file_digest", "loaded_at")


def upgrade() -> None:
    """Create ``debit_returns`` and its key indexes."""
    op.create_table(
        "debit_returns",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("household_id", sa.String(), nullable=False),
        sa.Column("payment_id", sa.String(), nullable=False),
        sa.Column("file_digest", sa.String(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_debit_returns"),
    )
    for column in _KEYS:
        op.create_index(f"ix_debit_returns_{column}", "debit_returns", [column])


def downgrade() -> None:
    """Drop ``debit_returns``."""
    for column in _KEYS:
        op.drop_index(f"ix_debit_returns_{column}", table_name="debit_returns")
    op.drop_table("debit_returns")
