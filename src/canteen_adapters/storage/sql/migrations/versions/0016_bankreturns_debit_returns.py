"""The direct debits the bank returned (``debit_returns``), read from its pain.002 and
camt.054 files: one row per returned debit, with its reason code and the file's digest.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from canteen_adapters.storage.sql.migrations._ops import (
    tenant_columns,
    tenant_keyed,
    tenant_policy,
)

revision = "0016"
down_revision: str | None = "0015"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# The key columns as of this revision (canteen_core.ports.storage.COLLECTIONS may change later).
_KEYS = ("household_id", "payment_id", "file_digest")


def upgrade() -> None:
    """Create ``debit_returns``, one index per key column; on PostgreSQL keyed by commune
    (``tenant_id``) under row-level security, like every table since 0013."""
    op.create_table(
        "debit_returns",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        *(sa.Column(name, sa.String(), nullable=False) for name in _KEYS),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        *tenant_columns(),
        sa.PrimaryKeyConstraint(*tenant_keyed("id"), name="pk_debit_returns"),
    )
    tenant_policy("debit_returns")
    for name in (*_KEYS, "loaded_at"):
        op.create_index(f"ix_debit_returns_{name}", "debit_returns", [name])


def downgrade() -> None:
    """Drop ``debit_returns`` (and its indexes): the returns' reasons are lost; the returned
    payments stay marked rejected."""
    op.drop_table("debit_returns")
