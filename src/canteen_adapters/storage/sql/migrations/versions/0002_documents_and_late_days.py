"""Late changes on reservations; attendance, tariffs, credit notes, payments, mandates,
accounts, outbox and payment-notification audit.

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
_S, _D, _T = sa.String, sa.Date, sa.DateTime

# Document collections as of this revision: (table, [(column, type, nullable)], uniques).
_DOCUMENTS: list[tuple[str, list[tuple[str, Any, bool]], list[tuple[str, ...]]]] = [
    (
        "change_requests",
        [
            ("household_id", _S(), False),
            ("enrollment_id", _S(), False),
            ("child_id", _S(), False),
            ("day", _D(), False),
            ("status", _S(), False),
        ],
        [],
    ),
    (
        "attendance",
        [
            ("enrollment_id", _S(), False),
            ("household_id", _S(), False),
            ("site_id", _S(), False),
            ("day", _D(), False),
            ("presence", _S(), False),
        ],
        [("enrollment_id", "day")],
    ),
    (
        "absences",
        [
            ("enrollment_id", _S(), False),
            ("child_id", _S(), False),
            ("first_day", _D(), False),
            ("last_day", _D(), False),
        ],
        [],
    ),
    ("tariffs", [("service_id", _S(), False), ("valid_from", _D(), False)], []),
    (
        "credit_notes",
        [
            ("issuer", _S(), False),
            ("year", sa.Integer(), False),
            ("number", _S(), False),
            ("household_id", _S(), False),
            ("invoice_id", _S(), False),
            ("issue_date", _D(), False),
        ],
        [("issuer", "number")],
    ),
    (
        "payments",
        [
            ("household_id", _S(), False),
            ("method", _S(), False),
            ("received_on", _D(), False),
            ("reference", _S(), True),
        ],
        [],
    ),
    ("refunds", [("household_id", _S(), False), ("refunded_on", _D(), False)], []),
    ("mandates", [("household_id", _S(), False), ("status", _S(), False)], []),
    (
        "notifications_audit",
        [
            ("provider", _S(), False),
            ("transaction_id", _S(), True),
            ("received_at", _T(timezone=True), False),
        ],
        [],
    ),
]


def upgrade() -> None:
    """Existing reservations were made in time: no late marker, nothing late-cancelled."""
    # Plain ADD COLUMN with a constant default (SQLite supports it). Never a batch "move and
    # copy" here: dropping reservation_states would cascade-delete every reservation day.
    op.add_column(
        "reservation_states",
        sa.Column("late_cancelled", JSON, nullable=False, server_default="[]"),
    )
    op.add_column(
        "reservation_days",
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
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
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("username", name="uq_accounts_username"),
    )
    op.create_index("ix_accounts_email", "accounts", ["email"])
    op.create_table(
        "account_tokens",
        sa.Column("selector", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("selector", name="pk_account_tokens"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_tokens_account_id_accounts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_account_tokens_account_id", "account_tokens", ["account_id"])
    op.create_table(
        "throttles",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_throttles"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    """Drop what this revision added."""
    for table in ("outbox", "throttles", "account_tokens", "accounts"):
        op.drop_table(table)
    for table, _, _ in reversed(_DOCUMENTS):
        op.drop_table(table)
    # Not batch mode on SQLite: it rebuilds reservation_states by dropping the old table,
    # and with foreign keys on the drop cascades to every booked day. SQLite drops a plain
    # column in place (ALTER TABLE ... DROP COLUMN, SQLite 3.35+).
    op.drop_column("reservation_days", "late")
    op.drop_column("reservation_states", "late_cancelled")
