"""Migration 0012 moves the started online payments out of the notifications audit into
``payment_requests`` (SQLite and PostgreSQL), readable through the storage afterwards."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from canteen_adapters.storage.sql import SqlStorage, create_engine_for_url, upgrade
from canteen_adapters.storage.sql import tables as t
from canteen_core.config.serialization import unstructure
from canteen_core.domain.money import Money
from canteen_core.domain.online_payment import PaymentRequest
from canteen_core.ports.storage import AuditedNotification

REQUEST = PaymentRequest(
    reference="PAYZ20231003000000",
    invoice_id="invoice:RONDE:2023-000001",
    invoice_number="2023-000001",
    amount=Money.of("13.40"),
    payer_email="maman@concerto.fr",
    return_url="https://famille.ronde.fr/retour",
    notification_url="https://famille.ronde.fr/ipn",
    requested_at=datetime(2023, 10, 3, 18, 15, tzinfo=UTC),
    daily_sequence=0,
    household_id="CONCERTO",
    description="Facture 2023-000001",
)
#: What ``start_online_payment`` stored before migration 0012.
STARTED = AuditedNotification(
    id="start-1",
    provider="payzen",
    received_at=REQUEST.requested_at,
    decision="payment_started",
    reason="paiement de la facture 2023-000001 demandé par concerto-maman",
    transaction_id="20231003000000",
    fields=(
        ("reference", REQUEST.reference),
        ("invoice_id", REQUEST.invoice_id),
        ("invoice_number", REQUEST.invoice_number),
        ("amount", "13.40"),
        ("currency", "EUR"),
        ("payer_email", REQUEST.payer_email),
        ("return_url", REQUEST.return_url),
        ("notification_url", REQUEST.notification_url),
        ("requested_at", REQUEST.requested_at.isoformat()),
        ("daily_sequence", "0"),
        ("household_id", "CONCERTO"),
        ("description", "Facture 2023-000001"),
    ),
)
NOTIFIED = AuditedNotification(
    id="ntf-1",
    provider="payzen",
    received_at=datetime(2023, 10, 3, 18, 16, tzinfo=UTC),
    decision="credit",
    transaction_id="20231003000000",
    fields=(("vads_trans_status", "AUTHORISED"),),
)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_started_payments_move_to_their_own_table(
    backend: str, tmp_path: object, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url, schema = f"sqlite:///{tmp_path}/old.db", None
    else:
        url, schema = request.getfixturevalue("postgres_dsn"), f"t_{uuid.uuid4().hex[:12]}"
    assert upgrade(url, "0011", schema=schema) == "0011"
    engine = create_engine_for_url(url, schema=schema)
    try:
        table = t.document_tables["notifications_audit"]
        with engine.begin() as connection:
            for item in (STARTED, NOTIFIED):
                connection.execute(
                    sa.insert(table),
                    [
                        {
                            "id": item.id,
                            "body": unstructure(item),
                            "provider": item.provider,
                            "transaction_id": item.transaction_id,
                            "received_at": item.received_at,
                        }
                    ],
                )
    finally:
        engine.dispose()
    upgrade(url, schema=schema)
    storage = SqlStorage.from_url(url, schema=schema)
    try:
        with storage.unit_of_work(read_only=True) as uow:
            (moved,) = uow.payment_requests.list(provider="payzen", transaction_id="20231003000000")
            assert moved.request == REQUEST
            assert moved.started_by == "concerto-maman"
            assert moved.id == "start-1"
            assert [n.id for n in uow.notifications_audit.list()] == ["ntf-1"]
            assert uow.payment_requests.count(household_id="CONCERTO") == 1
    finally:
        storage.close()
        if schema is not None:
            cleanup = create_engine_for_url(url)
            with cleanup.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            cleanup.dispose()
