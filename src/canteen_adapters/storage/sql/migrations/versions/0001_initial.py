"""Initial schema: households, enrollments, reservations, invoices and their numbering.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    """Create the first tables."""
    op.create_table(
        "households",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_households"),
    )
    op.create_table(
        "children",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("household_id", sa.String(), nullable=False),
        sa.Column("diet", sa.String(), nullable=False),
        sa.Column("pai", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_children"),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name="fk_children_household_id_households",
            ondelete="CASCADE",
        ),
    )
    _indexes("children", "household_id")
    op.create_table(
        "household_guardians",
        sa.Column("household_id", sa.String(), nullable=False),
        sa.Column("guardian_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", "guardian_id", name="pk_household_guardians"),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name="fk_household_guardians_household_id_households",
            ondelete="CASCADE",
        ),
    )
    _indexes("household_guardians", "guardian_id")
    op.create_table(
        "enrollments",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("household_id", sa.String(), nullable=False),
        sa.Column("child_id", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("service_id", sa.String(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enrollments"),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name="fk_enrollments_household_id_households",
            ondelete="RESTRICT",
        ),
    )
    _indexes(
        "enrollments", "household_id", "child_id", "site_id", "service_id", "first_day", "last_day"
    )
    op.create_table(
        "reservation_states",
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("enrollment_id", name="pk_reservation_states"),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name="fk_reservation_states_enrollment_id_enrollments",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "reservation_days",
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("enrollment_id", "day", name="pk_reservation_days"),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["reservation_states.enrollment_id"],
            name="fk_reservation_days_enrollment_id_reservation_states",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_reservation_days_site_id_day", "reservation_days", ["site_id", "day"])
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("household_id", sa.String(), nullable=False),
        sa.Column("billing_key", sa.String(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("issuer", "number", name="uq_invoices_issuer_number"),
        sa.UniqueConstraint("billing_key", name="uq_invoices_billing_key"),
    )
    _indexes("invoices", "issuer", "year", "number", "household_id", "billing_key", "issue_date")
    op.create_table(
        "invoice_counters",
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "year", "kind", name="pk_invoice_counters"),
    )


def downgrade() -> None:
    """Drop everything this revision created."""
    for table in (
        "invoice_counters",
        "invoices",
        "reservation_days",
        "reservation_states",
        "enrollments",
        "household_guardians",
        "children",
        "households",
    ):
        op.drop_table(table)
