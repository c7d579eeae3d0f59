"""The family's papers ("Espace de stockage"): ``family_papers`` (what each paper is, one JSON
body with key columns) and ``document_blobs`` (the bytes, when the deployment keeps them in the
database: ``[documents] store = "database"``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_KEYS = ("household_id", "child_id", "kind", "status", "uploaded_at")


def upgrade() -> None:
    """Create both tables and the key columns' indexes."""
    op.create_table(
        "family_papers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("household_id", sa.String(), nullable=False),
        sa.Column("child_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_family_papers"),
    )
    for column in _KEYS:
        op.create_index(f"ix_family_papers_{column}", "family_papers", [column])
    op.create_table(
        "document_blobs",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_document_blobs"),
    )


def downgrade() -> None:
    """Drop both tables (the papers and their bytes go with them)."""
    op.drop_table("document_blobs")
    for column in _KEYS:
        op.drop_index(f"ix_family_papers_{column}", table_name="family_papers")
    op.drop_table("family_papers")
