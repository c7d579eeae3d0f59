"""The outbox repository: queued e-mails as JSON bodies, claimed under a lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import sqlalchemy as sa

from canteen_adapters.storage._common import OutboxLogic
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.bulk import bulk_insert
from canteen_adapters.storage.sql.driver import (
    _IN_CHUNK,
    _chunks,
    _Driver,
    _rows_in,
    _Session,
    _text_body_rows,
    _translate,
)
from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import DeliveryStatus, OutboxRecord

#: The fields :func:`_outbox_body` writes, in order (the generated hook's order).
_OUTBOX_FIELDS = (
    "message",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_at",
    "last_attempt_at",
    "last_error",
    "sent_at",
    "claim",
)
_MESSAGE_FIELDS = (
    "id",
    "kind",
    "to_address",
    "to_name",
    "subject",
    "text_body",
    "html_body",
    "headers",
    "created_at",
    "household_id",
    "account_id",
    "attachments",
)
#: The ids among a list that are queued already (``{ids}``: see ``_Driver.sql``).
_EXISTING_IDS = f"SELECT id FROM {t.outbox.name} WHERE id {{ids}}"
#: A row's every column but its id, by id (``_id``): :meth:`_Outbox._update_many`.
_UPDATE_BY_ID = sa.update(t.outbox).where(t.outbox.c.id == sa.bindparam("_id"))
_FAST_OUTBOX_BODY = (
    tuple(field.name for field in attrs.fields(OutboxRecord)) == _OUTBOX_FIELDS
    and tuple(field.name for field in attrs.fields(OutgoingMessage)) == _MESSAGE_FIELDS
)


def _outbox_body(record: OutboxRecord) -> Any:
    """``unstructure(record)`` written field by field (a billing run queues thousands of
    messages): the same data in the same order, or the generated hook when the classes'
    fields changed or a datetime is naive (it raises then)."""
    message = record.message
    instants = (
        message.created_at,
        record.next_attempt_at,
        record.claimed_at,
        record.last_attempt_at,
        record.sent_at,
    )
    if not _FAST_OUTBOX_BODY or any(
        instant is not None and (type(instant) is not datetime or instant.utcoffset() is None)
        for instant in instants
    ):
        return unstructure(record)
    created, due, claimed, attempted, sent = (
        None if instant is None else instant.isoformat() for instant in instants
    )
    return {
        "message": {
            "id": message.id,
            "kind": message.kind,
            "to_address": message.to_address,
            "to_name": message.to_name,
            "subject": message.subject,
            "text_body": message.text_body,
            "html_body": message.html_body,
            "headers": list(message.headers),
            "created_at": created,
            "household_id": message.household_id,
            "account_id": message.account_id,
            "attachments": unstructure(message.attachments) if message.attachments else [],
        },
        "status": record.status.value,
        "attempts": record.attempts,
        "next_attempt_at": due,
        "claimed_at": claimed,
        "last_attempt_at": attempted,
        "last_error": record.last_error,
        "sent_at": sent,
        "claim": record.claim,
    }


def _outbox_row(record: OutboxRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "body": _outbox_body(record),
        "status": record.status.value,
        "next_attempt_at": record.next_attempt_at.astimezone(UTC),
        "claimed_at": None if record.claimed_at is None else record.claimed_at.astimezone(UTC),
        "created_at": record.message.created_at.astimezone(UTC),
    }


class _Outbox(OutboxLogic):
    def __init__(self, uow: _Session) -> None:
        self._uow = uow

    def _read(self, message_id: str, *, lock: bool = False) -> OutboxRecord | None:
        connection = self._uow.writable() if lock else self._uow.connection()
        statement = sa.select(t.outbox.c.body).where(t.outbox.c.id == message_id)
        if lock:  # PostgreSQL: a claim or renewal of this message waits (SQLite: one writer)
            statement = statement.with_for_update()
        with _translate("cannot read the outbox"):
            body = connection.execute(statement).scalar_one_or_none()
        return None if body is None else structure(body, OutboxRecord)

    def _read_many(self, ids: list[str], *, lock: bool = False) -> dict[str, OutboxRecord]:
        # A dispatcher's batch in one query per chunk (its renewal, its sends recorded),
        # locked in id order: two late dispatchers wait for each other, never deadlock.
        connection = self._uow.writable() if lock else self._uow.connection()
        box = t.outbox
        statement = (
            sa.select(box.c.id, box.c.body)
            .where(box.c.id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(box.c.id)
        )
        if lock:
            statement = statement.with_for_update()
        with _translate("cannot read the outbox"):
            rows = list(_rows_in(connection, statement, ids))
        return {row.id: structure(row.body, OutboxRecord) for row in rows}

    def _insert(self, records: list[OutboxRecord]) -> None:
        # One bulk load (multi-row INSERTs: a billing run queues thousands of messages);
        # a message id a concurrent use case queued meanwhile refuses it (ConflictError).
        connection = self._uow.writable()
        rows = _text_body_rows(_outbox_row(record) for record in records)
        with _translate("cannot queue messages"):
            bulk_insert(connection, t.outbox, rows, "cannot queue messages")

    def _update(self, record: OutboxRecord) -> None:
        connection = self._uow.writable()
        row = _outbox_row(record)
        with _translate("cannot update the outbox"):
            connection.execute(
                sa.update(t.outbox)
                .where(t.outbox.c.id == record.id)
                .values({key: value for key, value in row.items() if key != "id"})
            )

    def _update_many(self, records: list[OutboxRecord]) -> None:
        # One executemany (a claimed batch, its renewal, its sends recorded): the driver runs
        # the rows in one go (psycopg's pipeline), not a statement and a round trip each.
        if not records:
            return
        connection = self._uow.writable()
        rows = [
            {"_id" if key == "id" else key: value for key, value in _outbox_row(record).items()}
            for record in records
        ]
        with _translate("cannot update the outbox"):
            connection.execute(_UPDATE_BY_ID, rows)

    def _existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        if not ids:
            return found
        # Before each queuing (a billing batch's hundreds of messages): prebuilt SQL on the
        # driver, not an IN list SQLAlchemy compiles again at each call.
        driver = _Driver(self._uow.connection())
        with _translate("cannot read the outbox"):
            for chunk in _chunks(ids, _IN_CHUNK):
                rows = driver.fetch(driver.sql(_EXISTING_IDS, len(chunk)), driver.ids(chunk))
                found.update(message_id for (message_id,) in rows)
        return found

    def _due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxRecord]:
        connection = self._uow.writable()
        box = t.outbox
        now_utc = now.astimezone(UTC)
        statement = (
            sa.select(box.c.body)
            .where(
                sa.or_(
                    sa.and_(box.c.status == "pending", box.c.next_attempt_at <= now_utc),
                    sa.and_(box.c.status == "sending", box.c.claimed_at <= now_utc - lease),
                )
            )
            .order_by(box.c.next_attempt_at, box.c.created_at, box.c.id)
            .limit(limit)
            # Two dispatchers on PostgreSQL take different messages instead of waiting.
            .with_for_update(skip_locked=True)
        )
        with _translate("cannot claim messages"):
            bodies = connection.execute(statement).scalars().all()
        return [structure(body, OutboxRecord) for body in bodies]

    def _all(self, status: DeliveryStatus | None) -> list[OutboxRecord]:
        box = t.outbox
        statement = sa.select(box.c.body).order_by(box.c.created_at, box.c.id)
        if status is not None:
            statement = statement.where(box.c.status == status.value)
        return [
            structure(row.body, OutboxRecord)
            for row in self._uow.stream(statement, "cannot read the outbox")
        ]

    def _delete(self, ids: list[str]) -> None:
        connection = self._uow.writable()
        with _translate("cannot remove messages from the outbox"):
            for chunk in _chunks(ids, _IN_CHUNK):
                connection.execute(sa.delete(t.outbox).where(t.outbox.c.id.in_(chunk)))
