"""The HTTP front end's login sessions and idempotent responses, stored (shared by every worker
process, kept across restarts): tables ``web_sessions`` and ``idempotency_keys``, keyed by
commune on PostgreSQL like every table since 0013.

Revision ID: 0017
Revises: 0016
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

revision = "0017"
down_revision: str | None = "0016"
branch_labels = None
depends_on = None

# The tables and their key columns as of this revision.
_TABLES = ("web_sessions", "idempotency_keys")


def upgrade() -> None:
    """Two document tables, indexed by user and by expiry (to purge)."""
    for table in _TABLES:
        op.create_table(
            table,
            required("id", sa.String()),
            required("body", JSON),
            required("user_id", sa.String()),
            required("expires_at", sa.DateTime(timezone=True)),
            *tenant_columns(),
            sa.PrimaryKeyConstraint(*tenant_keyed("id"), name=f"pk_{table}"),
        )
        create_indexes(table, "user_id", "expires_at")
        tenant_policy(table)


def downgrade() -> None:
    """Drop both tables (everyone is logged out)."""
    for table in reversed(_TABLES):
        op.drop_table(table)
