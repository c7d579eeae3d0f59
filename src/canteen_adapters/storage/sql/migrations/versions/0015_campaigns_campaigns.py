"""Yearly campaigns (family-quotient update, re-enrollment) and each household's answers.

On PostgreSQL both tables are keyed by commune like every other (revision 0013): a
``tenant_id`` leading the primary key, row-level security on."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import tenant_document_table

revision = "0015"
down_revision: str | None = "0014"

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
        tenant_document_table(
            table,
            *(sa.Column(name, sa.String(), nullable=nullable) for name, nullable in columns),
            tenant_first=True,
        )


def downgrade() -> None:
    """Drop the tables (their indexes and policies go with them)."""
    for table in reversed(_TABLES):
        op.drop_table(table)
