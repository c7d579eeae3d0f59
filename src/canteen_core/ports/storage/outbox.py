"""The outbox of a storage for a dispatcher, each call its own transaction
(:func:`outbox_store`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Unpack

from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import DeliveryStatus, FailedAttempt, OutboxRecord, OutboxStore
from canteen_core.ports.storage.repositories import Storage


class _CommittingOutbox:
    """An :class:`~canteen_core.domain.outbox.OutboxStore` where every call is its own
    transaction.
    """

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def add(self, messages: Iterable[OutgoingMessage]) -> list[str]:
        with self._storage.unit_of_work() as uow:
            added = uow.outbox.add(messages)
            uow.commit()
            return added

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxRecord]:
        with self._storage.unit_of_work() as uow:
            claimed = uow.outbox.claim_due(now, limit=limit, lease=lease)
            uow.commit()
            return claimed

    def renew(self, message_id: str, *, claim: str | None, now: datetime) -> bool:
        with self._storage.unit_of_work() as uow:
            renewed = uow.outbox.renew(message_id, claim=claim, now=now)
            uow.commit()
            return renewed

    def mark_sent(self, message_id: str, *, sent_at: datetime, claim: str | None = None) -> None:
        with self._storage.unit_of_work() as uow:
            uow.outbox.mark_sent(message_id, sent_at=sent_at, claim=claim)
            uow.commit()

    def renew_many(self, claims: Mapping[str, str | None], *, now: datetime) -> set[str]:
        with self._storage.unit_of_work() as uow:
            renewed = uow.outbox.renew_many(claims, now=now)
            uow.commit()
            return renewed

    def mark_sent_many(self, sent: Mapping[str, datetime]) -> None:
        with self._storage.unit_of_work() as uow:
            uow.outbox.mark_sent_many(sent)
            uow.commit()

    def mark_failed(self, message_id: str, **failure: Unpack[FailedAttempt]) -> None:
        with self._storage.unit_of_work() as uow:
            uow.outbox.mark_failed(message_id, **failure)
            uow.commit()

    def get(self, message_id: str) -> OutboxRecord | None:
        with self._storage.unit_of_work(read_only=True) as uow:
            return uow.outbox.get(message_id)

    def records(self, status: DeliveryStatus | None = None) -> Sequence[OutboxRecord]:
        with self._storage.unit_of_work(read_only=True) as uow:
            return list(uow.outbox.records(status))

    def requeue(self, message_id: str, *, now: datetime) -> None:
        with self._storage.unit_of_work() as uow:
            uow.outbox.requeue(message_id, now=now)
            uow.commit()

    def remove_household(self, household_id: str, *, account_ids: Iterable[str] = ()) -> int:
        with self._storage.unit_of_work() as uow:
            gone = uow.outbox.remove_household(household_id, account_ids=account_ids)
            uow.commit()
            return gone


def outbox_store(storage: Storage) -> OutboxStore:
    """The storage's outbox for a dispatcher: each call commits on its own.

    >>> dispatcher = Dispatcher(store=outbox_store(storage), mailer=mailer)  # doctest: +SKIP
    """
    return _CommittingOutbox(storage)
