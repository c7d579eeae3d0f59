"""The family's papers ("Espace de stockage"): ``family_papers`` (what each paper is, one JSON
body with key columns) and ``document_blobs`` (the bytes, when the deployment keeps them in the
database: ``[documents] store = "database"``)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import (
    create_indexes,
    document_table,
    primary_key,
    required,
)

revision = "0009"
down_revision: str | None = "0008"

_KEYS = ("household_id", "child_id", "kind", "status", "uploaded_at")


def upgrade() -> None:
    """Create both tables and the key columns' indexes."""
    document_table(
        "family_papers",
        required("household_id", sa.String()),
        sa.Column("child_id", sa.String(), nullable=True),
        required("kind", sa.String()),
        required("status", sa.String()),
        required("uploaded_at", sa.DateTime(timezone=True)),
    )
    create_indexes("family_papers", *_KEYS)
    op.create_table(
        "document_blobs",
        required("key", sa.String()),
        required("content_type", sa.String()),
        required("size", sa.Integer()),
        required("data", sa.LargeBinary()),
        required("created_at", sa.DateTime(timezone=True)),
        primary_key("document_blobs", "key"),
    )


def downgrade() -> None:
    """Drop both tables (the papers and their bytes go with them)."""
    op.drop_table("document_blobs")
    for column in _KEYS:
        op.drop_index(f"ix_family_papers_{column}", table_name="family_papers")
    op.drop_table("family_papers")
