"""Late-booking marker on reservation days; change requests, attendance, tariffs, payments,
accounts, outbox and payment-notification audit collections.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# (table, [(column, type, nullable)], unique constraints) frozen as of this revision.
_DOCUMENTS: list[
    tuple[str, list[tuple[str, sa.types.TypeEngine[Any], bool]], list[tuple[str, ...]]]
] = [
    (
        "change_requests",
        [
            ("household_id", sa.String(), False),
            ("enrollment_id", sa.String(), False),
            ("day", sa.Date(), False),
            ("status", sa.String(), False),
        ],
        [],
    ),
    (
        "attendance",
        [
            ("enrollment_id", sa.String(), False),
            ("day", sa.Date(), False),
            ("status", sa.String(), False),
        ],
        [("enrollment_id", "day")],
    ),
    (
        "tariffs",
        [("service_id", sa.String(), False), ("valid_from", sa.Date(), False)],
        [],
    ),
    (
        "payments",
        [("household_id", sa.String(), False), ("external_ref", sa.String(), True)],
        [("external_ref",)],
    ),
    (
        "accounts",
        [
            ("username", sa.String(), False),
            ("email", sa.String(), True),
            ("household_id", sa.String(), True),
        ],
        [("username",)],
    ),
    (
        "outbox",
        [
            ("status", sa.String(), False),
            ("created_at", sa.DateTime(timezone=True), False),
            ("next_attempt_at", sa.DateTime(timezone=True), True),
        ],
        [],
    ),
    (
        "notifications_audit",
        [
            ("provider", sa.String(), False),
            ("external_ref", sa.String(), True),
            ("received_at", sa.DateTime(timezone=True), False),
        ],
        [],
    ),
]


def upgrade() -> None:
    """Add the late marker (existing days were booked in time) and the new collections."""
    with op.batch_alter_table("reservation_days") as batch:
        batch.add_column(sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()))
    for table, columns, uniques in _DOCUMENTS:
        op.create_table(
            table,
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("body", JSON, nullable=False),
            *(sa.Column(name, type_, nullable=nullable) for name, type_, nullable in columns),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            *(
                sa.UniqueConstraint(*unique, name=f"uq_{table}_{'_'.join(unique)}")
                for unique in uniques
            ),
        )
        for name, _, _ in columns:
            op.create_index(f"ix_{table}_{name}", table, [name])


def downgrade() -> None:
    """Drop the collections and the late marker."""
    for table, _, _ in reversed(_DOCUMENTS):
        op.drop_table(table)
    with op.batch_alter_table("reservation_days") as batch:
        batch.drop_column("late")
