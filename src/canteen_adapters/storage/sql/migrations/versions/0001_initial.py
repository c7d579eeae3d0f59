"""Initial schema: households, enrollments, reservations, invoices and their numbering."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import (
    create_indexes,
    document_table,
    foreign_key,
    primary_key,
    required,
    reservation_days,
)

revision = "0001"
down_revision: str | None = None


def upgrade() -> None:
    """Create the first tables."""
    document_table("households")
    op.create_table(
        "children",
        required("id", sa.String()),
        required("household_id", sa.String()),
        required("diet", sa.String()),
        required("pai", sa.Boolean()),
        primary_key("children", "id"),
        foreign_key("children", "household_id", "households.id", ondelete="CASCADE"),
    )
    create_indexes("children", "household_id")
    op.create_table(
        "household_guardians",
        required("household_id", sa.String()),
        required("guardian_id", sa.String()),
        required("role", sa.String()),
        primary_key("household_guardians", "household_id", "guardian_id"),
        foreign_key("household_guardians", "household_id", "households.id", ondelete="CASCADE"),
    )
    create_indexes("household_guardians", "guardian_id")
    keys = ("household_id", "child_id", "site_id", "service_id", "first_day", "last_day")
    document_table(
        "enrollments",
        *(required(key, sa.Date() if key.endswith("_day") else sa.String()) for key in keys),
        foreign_key("enrollments", "household_id", "households.id", ondelete="RESTRICT"),
    )
    create_indexes("enrollments", *keys)
    op.create_table(
        "reservation_states",
        required("enrollment_id", sa.String()),
        required("version", sa.Integer()),
        primary_key("reservation_states", "enrollment_id"),
        foreign_key("reservation_states", "enrollment_id", "enrollments.id", ondelete="CASCADE"),
    )
    reservation_days("reservation_days", site=True, late=False, with_rowid=True)
    op.create_index("ix_reservation_days_site_id_day", "reservation_days", ["site_id", "day"])
    document_table(
        "invoices",
        required("issuer", sa.String()),
        required("year", sa.Integer()),
        required("number", sa.String()),
        required("household_id", sa.String()),
        required("billing_key", sa.String()),
        required("issue_date", sa.Date()),
        sa.UniqueConstraint("issuer", "number", name="uq_invoices_issuer_number"),
        sa.UniqueConstraint("billing_key", name="uq_invoices_billing_key"),
    )
    create_indexes(
        "invoices", "issuer", "year", "number", "household_id", "billing_key", "issue_date"
    )
    op.create_table(
        "invoice_counters",
        required("issuer", sa.String()),
        required("year", sa.Integer()),
        required("kind", sa.String()),
        required("last", sa.Integer()),
        primary_key("invoice_counters", "issuer", "year", "kind"),
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
