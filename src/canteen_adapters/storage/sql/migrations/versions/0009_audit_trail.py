"""The audit trail: ``audit_log`` (one hash-chained entry per row) and ``audit_households``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the audit tables."""
    op.create_table(
        "audit_log",
        sa.Column("commune", sa.String(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("previous_hash", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("commune", "sequence", name="pk_audit_log"),
        sa.UniqueConstraint("id", name="uq_audit_log_id"),
    )
    for column in ("recorded_at", "actor_id", "action"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column])
    op.create_table(
        "audit_households",
        sa.Column("commune", sa.String(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("commune", "sequence", "household_id", name="pk_audit_households"),
        sa.ForeignKeyConstraint(
            ["commune", "sequence"],
            ["audit_log.commune", "audit_log.sequence"],
            name="fk_audit_households_commune_audit_log",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_audit_households_household_id", "audit_households", ["household_id"])


def downgrade() -> None:
    """Drop the audit tables (the trail is lost)."""
    op.drop_table("audit_households")
    op.drop_table("audit_log")
