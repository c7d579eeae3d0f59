"""The closed school years (``year_closings``): one row per year closed by staff, keyed by
commune on PostgreSQL like every table since 0013.

Revision ID: 0018
Revises: 0017
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

revision = "0018"
down_revision: str | None = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """One document table, indexed by the year's first calendar year."""
    op.create_table(
        "year_closings",
        required("id", sa.String()),
        required("body", JSON),
        required("school_year", sa.Integer()),
        *tenant_columns(),
        sa.PrimaryKeyConstraint(*tenant_keyed("id"), name="pk_year_closings"),
    )
    create_indexes("year_closings", "school_year")
    tenant_policy("year_closings")


def downgrade() -> None:
    """Drop the table: the closed years open again."""
    op.drop_table("year_closings")
