"""Late changes on reservations; attendance, tariffs, credit notes, payments, mandates,
accounts, outbox and payment-notification audit."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import (
    JSON,
    document_table,
    foreign_key,
    primary_key,
    required,
)

revision = "0002"
down_revision: str | None = "0001"
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
    op.add_column("reservation_states", required("late_cancelled", JSON, server_default="[]"))
    op.add_column("reservation_days", required("late", sa.Boolean(), server_default=sa.false()))
    for table, columns, uniques in _DOCUMENTS:
        document_table(
            table,
            *(sa.Column(name, type_, nullable=nullable) for name, type_, nullable in columns),
            *(
                sa.UniqueConstraint(*unique, name=f"uq_{table}_{'_'.join(unique)}")
                for unique in uniques
            ),
        )
        for name, _, _ in columns:
            op.create_index(f"ix_{table}_{name}", table, [name])
    document_table(
        "accounts",
        required("username", sa.String()),
        required("email", sa.String()),
        sa.UniqueConstraint("username", name="uq_accounts_username"),
    )
    op.create_index("ix_accounts_email", "accounts", ["email"])
    op.create_table(
        "account_tokens",
        required("selector", sa.String()),
        required("account_id", sa.String()),
        primary_key("account_tokens", "selector"),
        foreign_key("account_tokens", "account_id", "accounts.id", ondelete="CASCADE"),
    )
    op.create_index("ix_account_tokens_account_id", "account_tokens", ["account_id"])
    document_table("throttles", key="key")
    document_table(
        "outbox",
        required("status", sa.String()),
        required("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        required("created_at", sa.DateTime(timezone=True)),
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
