"""The direct debits the bank returned (``debit_returns``), read from its pain.002 and
camt.054 files: one row per returned debit, with its reason code and the file's digest."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import required, tenant_document_table

revision = "0016"
down_revision: str | None = "0015"

# The key columns as of this revision (canteen_core.ports.storage.COLLECTIONS may change later).
_KEYS = ("household_id", "payment_id", "file_digest")


def upgrade() -> None:
    """Create ``debit_returns``, one index per key column; on PostgreSQL keyed by commune
    (``tenant_id``) under row-level security, like every table since 0013."""
    tenant_document_table(
        "debit_returns",
        *(required(name, sa.String()) for name in _KEYS),
        required("loaded_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    """Drop ``debit_returns`` (and its indexes): the returns' reasons are lost; the returned
    payments stay marked rejected."""
    op.drop_table("debit_returns")
