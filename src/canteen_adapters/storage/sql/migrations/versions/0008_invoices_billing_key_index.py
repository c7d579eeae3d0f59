"""Drop ``ix_invoices_billing_key``: the unique constraint on ``billing_key`` has its own index,
so every stored invoice updated two identical B-trees."""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision: str | None = "0007"


def upgrade() -> None:
    """Drop the index the unique constraint already provides."""
    op.drop_index("ix_invoices_billing_key", table_name="invoices")


def downgrade() -> None:
    """Bring the separate index back."""
    op.create_index("ix_invoices_billing_key", "invoices", ["billing_key"])
