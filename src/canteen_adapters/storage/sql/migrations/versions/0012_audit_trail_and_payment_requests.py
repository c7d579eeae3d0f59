"""The audit trail (``audit_log``, one hash-chained entry per row, and ``audit_households``),
and the started online payments in their own ``payment_requests`` table.

Started payments were ``payment_started`` entries of ``notifications_audit`` (the request's
fields as name/value pairs); they move to ``payment_requests`` as
:class:`~canteen_core.domain.payment_requests.StartedPayment` bodies (written here by hand, as
the converter writes them at this revision), and leave the notifications audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import (
    JSON,
    create_indexes,
    document_table,
    primary_key,
    required,
)

revision = "0012"
down_revision: str | None = "0011"

_KEYS = ("provider", "transaction_id", "household_id", "invoice_id", "requested_at")


def _started_body(row: Any) -> dict[str, Any]:
    """A ``payment_started`` notification-audit body as a ``StartedPayment`` body."""
    body = row.body
    fields = dict(body.get("fields", []))
    reason = str(body.get("reason", ""))
    started_by = reason.rsplit(" par ", 1)[-1] if " par " in reason else "inconnu"
    return {
        "id": body["id"],
        "provider": body["provider"],
        "transaction_id": body["transaction_id"],
        "started_by": started_by or "inconnu",
        "request": {
            "reference": fields["reference"],
            "invoice_id": fields["invoice_id"],
            "invoice_number": fields["invoice_number"],
            "amount": {"amount": fields["amount"], "currency": fields["currency"]},
            "payer_email": fields["payer_email"],
            "return_url": fields["return_url"],
            "notification_url": fields["notification_url"],
            "requested_at": fields["requested_at"],
            "daily_sequence": int(fields["daily_sequence"]),
            "household_id": fields.get("household_id") or None,
            "description": fields.get("description") or None,
        },
    }


def _move_started_payments() -> None:
    audit = sa.table("notifications_audit", sa.column("id", sa.String()), sa.column("body", JSON))
    requests = sa.table(
        "payment_requests",
        sa.column("id", sa.String()),
        sa.column("body", JSON),
        sa.column("provider", sa.String()),
        sa.column("transaction_id", sa.String()),
        sa.column("household_id", sa.String()),
        sa.column("invoice_id", sa.String()),
        sa.column("requested_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    moved: list[str] = []
    for row in connection.execute(sa.select(audit.c.id, audit.c.body)):
        if row.body.get("decision") != "payment_started":
            continue
        body = _started_body(row)
        request = body["request"]
        connection.execute(
            sa.insert(requests),
            [
                {
                    "id": body["id"],
                    "body": body,
                    "provider": body["provider"],
                    "transaction_id": body["transaction_id"],
                    "household_id": request["household_id"],
                    "invoice_id": request["invoice_id"],
                    "requested_at": datetime.fromisoformat(request["requested_at"]),
                }
            ],
        )
        moved.append(row.id)
    if moved:
        connection.execute(sa.delete(audit).where(audit.c.id.in_(moved)))


def upgrade() -> None:
    """Create the audit tables and ``payment_requests``; move the started payments there."""
    document_table(
        "payment_requests",
        required("provider", sa.String()),
        required("transaction_id", sa.String()),
        sa.Column("household_id", sa.String(), nullable=True),
        required("invoice_id", sa.String()),
        required("requested_at", sa.DateTime(timezone=True)),
    )
    create_indexes("payment_requests", *_KEYS)
    _move_started_payments()
    op.create_table(
        "audit_log",
        required("commune", sa.String()),
        required("sequence", sa.Integer()),
        required("id", sa.String()),
        required("recorded_at", sa.DateTime(timezone=True)),
        required("actor_id", sa.String()),
        required("action", sa.String()),
        required("kind", sa.String()),
        required("previous_hash", sa.String()),
        required("hash", sa.String()),
        required("details", sa.Text()),
        primary_key("audit_log", "commune", "sequence"),
        sa.UniqueConstraint("id", name="uq_audit_log_id"),
    )
    create_indexes("audit_log", "recorded_at", "actor_id", "action")
    op.create_table(
        "audit_households",
        required("commune", sa.String()),
        required("sequence", sa.Integer()),
        required("household_id", sa.String()),
        primary_key("audit_households", "commune", "sequence", "household_id"),
        sa.ForeignKeyConstraint(
            ["commune", "sequence"],
            ["audit_log.commune", "audit_log.sequence"],
            name="fk_audit_households_commune_audit_log",
            ondelete="CASCADE",
        ),
    )
    create_indexes("audit_households", "household_id")


def downgrade() -> None:
    """Drop the audit tables (the trail is lost) and ``payment_requests`` (started payments
    not yet notified are then no longer recognised)."""
    op.drop_table("audit_households")
    op.drop_table("audit_log")
    op.drop_table("payment_requests")
