"""The closed school years (``year_closings``): one row per year closed by staff, keyed by
commune on PostgreSQL like every table since 0013."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import required, tenant_document_table

revision = "0018"
down_revision: str | None = "0017"


def upgrade() -> None:
    """One document table, indexed by the year's first calendar year."""
    tenant_document_table("year_closings", required("school_year", sa.Integer()))


def downgrade() -> None:
    """Drop the table: the closed years open again."""
    op.drop_table("year_closings")
