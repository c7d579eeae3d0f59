"""The HTTP front end's login sessions and idempotent responses, stored (shared by every worker
process, kept across restarts): tables ``web_sessions`` and ``idempotency_keys``.

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
# The tables and their key columns as of this revision.
_TABLES = ("web_sessions", "idempotency_keys")


def upgrade() -> None:
    """Two document tables, indexed by user and by expiry (to purge)."""
    for table in _TABLES:
        op.create_table(
            table,
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("body", JSON, nullable=False),
            sa.Column("user_id", sa.String(), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
        for column in ("user_id", "expires_at"):
            op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    """Drop both tables (everyone is logged out)."""
    for table in reversed(_TABLES):
        op.drop_table(table)
