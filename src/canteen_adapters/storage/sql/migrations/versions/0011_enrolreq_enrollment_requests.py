"""Enrollment requests: a family asks to enroll a child, staff accept or refuse."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import create_indexes, document_table, required

revision = "0011"
down_revision: str | None = "0010"

_TABLE = "enrollment_requests"
# The key columns as of this revision (canteen_core.ports.storage.COLLECTIONS may change later).
_COLUMNS = ("household_id", "child_id", "service_id", "status")


def upgrade() -> None:
    """The document table, one index per key column."""
    document_table(_TABLE, *(required(name, sa.String()) for name in _COLUMNS))
    create_indexes(_TABLE, *_COLUMNS)


def downgrade() -> None:
    """Drop the table (and its indexes)."""
    op.drop_table(_TABLE)
