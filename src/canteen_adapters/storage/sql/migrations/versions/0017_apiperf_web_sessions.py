"""The HTTP front end's login sessions and idempotent responses, stored (shared by every worker
process, kept across restarts): tables ``web_sessions`` and ``idempotency_keys``, keyed by
commune on PostgreSQL like every table since 0013."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import required, tenant_document_table

revision = "0017"
down_revision: str | None = "0016"

# The tables and their key columns as of this revision.
_TABLES = ("web_sessions", "idempotency_keys")


def upgrade() -> None:
    """Two document tables, indexed by user and by expiry (to purge)."""
    for table in _TABLES:
        tenant_document_table(
            table,
            required("user_id", sa.String()),
            required("expires_at", sa.DateTime(timezone=True)),
        )


def downgrade() -> None:
    """Drop both tables (everyone is logged out)."""
    for table in reversed(_TABLES):
        op.drop_table(table)
