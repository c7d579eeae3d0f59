"""The outbox's records and the :class:`OutboxStore` port that keeps them (with
:class:`InMemoryOutboxStore` for tests and notebooks): claims, leases, attempts and what is kept
once a message is sent.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import NotRequired, Protocol, TypedDict, Unpack

import attrs

from canteen_core.domain._ids import random_id
from canteen_core.domain._validators import items_of, non_negative_int
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.mail_secrets import drop_sealed
from canteen_core.domain.notifications import OutgoingMessage

#: What a sent message's text body becomes (its HTML body is dropped): the bodies may carry a
#: temporary password or a token link, not kept readable once the message is sent.
SENT_BODY = "(Contenu effacé après l'envoi.)"


def new_claim() -> str:
    """A fresh claim token (random: two dispatchers never share one)."""
    return random_id()


class FailedAttempt(TypedDict):
    """What :meth:`OutboxStore.mark_failed` takes after the message id."""

    error: str
    failed_at: datetime
    #: ``None``: no more attempts, the message is dead.
    next_attempt_at: datetime | None
    #: The claim the attempt was made under; a failure under a lost claim is ignored.
    claim: NotRequired[str | None]


class DeliveryStatus(enum.StrEnum):
    """Where a message is in its delivery."""

    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a dispatcher (lease until claimed_at + lease)
    SENT = "sent"
    DEAD = "dead"  # gave up after max attempts; kept for inspection and requeue


@attrs.frozen(kw_only=True)
class OutboxRecord:
    """A message in the outbox and its delivery state (what the storage persists).

    ``attempts`` counts claims (so a message that crashes the dispatcher still reaches its
    limit); ``next_attempt_at`` is when it is due; ``claimed_at`` starts the claim's lease
    (renewed before each send); ``claim`` is the token of the claim that holds it (``None``
    unless ``sending``).
    """

    message: OutgoingMessage
    status: DeliveryStatus = attrs.field(default=DeliveryStatus.PENDING, converter=DeliveryStatus)
    attempts: int = attrs.field(default=0, validator=non_negative_int)
    next_attempt_at: datetime
    claimed_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    claim: str | None = None

    @property
    def id(self) -> str:
        """The message id."""
        return self.message.id

    def concerns(self, household_id: str, account_ids: frozenset[str] = frozenset()) -> bool:
        """Whether the message is about ``household_id`` or addressed to one of
        ``account_ids`` (what a household's erasure removes)."""
        message = self.message
        return message.household_id == household_id or message.account_id in account_ids

    # The delivery state machine, shared by every OutboxStore implementation.

    def is_due(self, now: datetime, lease: timedelta) -> bool:
        """Whether a dispatcher may claim it at ``now``: pending and due, or a lapsed claim."""
        if self.status is DeliveryStatus.PENDING:
            return self.next_attempt_at <= now
        if self.status is DeliveryStatus.SENDING:
            return self.claimed_at is not None and self.claimed_at + lease <= now
        return False

    def claimed(self, now: datetime, claim: str | None = None) -> OutboxRecord:
        """Claimed by a dispatcher at ``now`` with the token ``claim`` (a fresh one when not
        given): sending, one more attempt."""
        return attrs.evolve(
            self,
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            attempts=self.attempts + 1,
            claim=claim or new_claim(),
        )

    def holds(self, claim: str | None) -> bool:
        """Whether the claim ``claim`` still holds the message (sending, not re-claimed)."""
        return self.status is DeliveryStatus.SENDING and claim is not None and self.claim == claim

    def renewed(self, now: datetime) -> OutboxRecord:
        """The claim's lease started again at ``now``."""
        return attrs.evolve(self, claimed_at=now)

    def sent(self, sent_at: datetime) -> OutboxRecord:
        """Delivered at ``sent_at``, its bodies dropped (:data:`SENT_BODY`); a message already
        sent stays as it was."""
        if self.status is DeliveryStatus.SENT:
            return self
        return attrs.evolve(
            self,
            message=attrs.evolve(
                drop_sealed(self.message), text_body=SENT_BODY, html_body=None, attachments=()
            ),
            status=DeliveryStatus.SENT,
            sent_at=sent_at,
            last_attempt_at=sent_at,
            claimed_at=None,
            claim=None,
        )

    def failure_applies(self, claim: str | None) -> bool:
        """Whether a failure reported by ``claim`` (``None``: by no claim in particular) is
        recorded: never on a sent message, and only by the claim holding the message."""
        if self.status is DeliveryStatus.SENT:
            return False
        return claim is None or self.holds(claim)

    def failed(self, **failure: Unpack[FailedAttempt]) -> OutboxRecord:
        """After a failed attempt: pending again at ``next_attempt_at``, or dead without one
        (its sealed secrets dropped). Left as it is (``self``) when the failure does not
        apply (:meth:`failure_applies`)."""
        if not self.failure_applies(failure.get("claim")):
            return self
        next_attempt_at = failure["next_attempt_at"]
        return attrs.evolve(
            self,
            message=self.message if next_attempt_at else drop_sealed(self.message),
            status=DeliveryStatus.PENDING if next_attempt_at else DeliveryStatus.DEAD,
            next_attempt_at=next_attempt_at or self.next_attempt_at,
            last_attempt_at=failure["failed_at"],
            last_error=failure["error"],
            claimed_at=None,
            claim=None,
        )

    def requeued(self, now: datetime) -> OutboxRecord:
        """A dead message made pending again, due ``now``, attempts reset."""
        if self.status is not DeliveryStatus.DEAD:
            raise InvalidInputError(
                f"only dead messages are requeued; {self.id!r} is {self.status.value}"
            )
        return attrs.evolve(self, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now)


def new_records(
    messages: Iterable[OutgoingMessage], queued: Callable[[list[str]], Container[str]]
) -> list[OutboxRecord]:
    """What :meth:`OutboxStore.add` inserts for ``messages`` (each checked to be an
    :class:`OutgoingMessage`): a record due at its ``created_at`` per id, except the ids
    ``queued(ids)`` finds already in the outbox."""
    batch = items_of(OutgoingMessage, messages, "messages")
    queued_ids = queued([message.id for message in batch])
    fresh: dict[str, OutboxRecord] = {}
    for message in batch:
        if message.id not in queued_ids and message.id not in fresh:
            fresh[message.id] = OutboxRecord(message=message, next_attempt_at=message.created_at)
    return list(fresh.values())


def erasure_accounts(household_id: object, account_ids: Iterable[object]) -> frozenset[str]:
    """``account_ids`` as a set, once ``household_id`` and they are checked to be non-empty
    strings (:meth:`OutboxStore.remove_household`'s arguments)."""
    accounts = frozenset(account_ids)
    for value in (household_id, *accounts):
        if not isinstance(value, str) or not value:
            raise InvalidInputError(f"expected a non-empty id, got {value!r}")
    return accounts  # type: ignore[return-value]


class OutboxStore(Protocol):
    """Persistence of the outbox (the storage adapter implements it in SQL).

    Every method is one atomic step; :meth:`add` joins the caller's transaction.
    """

    def add(self, messages: Iterable[OutgoingMessage]) -> list[str]:
        """Queue ``messages`` (due at their ``created_at``); ids already present are ignored,
        which makes re-rendering an event harmless. Returns the ids actually added."""
        ...

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxRecord]:
        """Atomically claim up to ``limit`` messages that are pending and due, or claimed
        longer than ``lease`` ago (their dispatcher died or is late): set status ``sending``,
        ``claimed_at = now``, ``attempts += 1`` and a fresh ``claim`` token; return them
        oldest due first."""
        ...

    def renew(self, message_id: str, *, claim: str | None, now: datetime) -> bool:
        """Start the lease of ``claim`` again at ``now`` if that claim still holds the
        message; ``False`` (nothing changed) when it was re-claimed, sent or is unknown."""
        ...

    def mark_sent(self, message_id: str, *, sent_at: datetime, claim: str | None = None) -> None:
        """Record the successful send (status ``sent``, bodies dropped). A message already
        sent is left as it is; a send reported by a claim since lost is still recorded (the
        message went out: recording it stops the new claim from sending it again)."""
        ...

    def renew_many(self, claims: Mapping[str, str | None], *, now: datetime) -> set[str]:
        """:meth:`renew` for several messages (message id -> claim token) in one step: the
        ids whose lease started again at ``now``; the others (re-claimed, sent or unknown)
        are left as they are. Port addition (issue 20): a dispatcher renews its whole batch
        at once, only when its lease runs low."""
        ...

    def mark_sent_many(self, sent: Mapping[str, datetime]) -> None:
        """:meth:`mark_sent` for several messages (message id -> when it was sent) in one
        step; ids no longer in the outbox (a household erased meanwhile) are skipped. Port
        addition (issue 20): a dispatcher records its sends a few at a time."""
        ...

    def mark_failed(self, message_id: str, **failure: Unpack[FailedAttempt]) -> None:
        """Record a failed attempt: back to ``pending`` due at ``next_attempt_at``, or
        ``dead`` when it is ``None``. Ignored on a sent message, and when ``claim`` no
        longer holds the message (another dispatcher has it now)."""
        ...

    def get(self, message_id: str) -> OutboxRecord | None:
        """The record for ``message_id``."""
        ...

    def records(self, status: DeliveryStatus | None = None) -> Sequence[OutboxRecord]:
        """All records (with ``status``), oldest first: for administration screens."""
        ...

    def requeue(self, message_id: str, *, now: datetime) -> None:
        """Make a dead message pending again, due now, with its attempts reset."""
        ...

    def remove_household(self, household_id: str, *, account_ids: Iterable[str] = ()) -> int:
        """Remove every message about ``household_id`` or addressed to one of
        ``account_ids``, whatever its status (a household's RGPD erasure); returns how many
        went. Joins the caller's transaction."""
        ...


class InMemoryOutboxStore:
    """An :class:`OutboxStore` in a dict, for tests and notebooks (no transactions)."""

    def __init__(self) -> None:
        self._records: dict[str, OutboxRecord] = {}

    def add(self, messages: Iterable[OutgoingMessage]) -> list[str]:
        fresh = new_records(messages, lambda ids: self._records)
        self._records.update((record.id, record) for record in fresh)
        return [record.id for record in fresh]

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxRecord]:
        candidates = sorted(
            (r for r in self._records.values() if r.is_due(now, lease)),
            key=lambda r: (r.next_attempt_at, r.message.created_at, r.id),
        )[:limit]
        claimed = [record.claimed(now) for record in candidates]
        self._records.update((record.id, record) for record in claimed)
        return claimed

    def renew(self, message_id: str, *, claim: str | None, now: datetime) -> bool:
        record = self._records.get(message_id)
        if record is None or not record.holds(claim):
            return False
        self._records[message_id] = record.renewed(now)
        return True

    def _existing(self, message_id: str) -> OutboxRecord:
        record = self._records.get(message_id)
        if record is None:
            raise NotFoundError(f"no outbox message {message_id!r}")
        return record

    def mark_sent(self, message_id: str, *, sent_at: datetime, claim: str | None = None) -> None:
        self._records[message_id] = self._existing(message_id).sent(sent_at)

    def renew_many(self, claims: Mapping[str, str | None], *, now: datetime) -> set[str]:
        return {
            message_id
            for message_id, claim in claims.items()
            if self.renew(message_id, claim=claim, now=now)
        }

    def mark_sent_many(self, sent: Mapping[str, datetime]) -> None:
        for message_id, sent_at in sent.items():
            if message_id in self._records:
                self.mark_sent(message_id, sent_at=sent_at)

    def mark_failed(self, message_id: str, **failure: Unpack[FailedAttempt]) -> None:
        self._records[message_id] = self._existing(message_id).failed(**failure)

    def get(self, message_id: str) -> OutboxRecord | None:
        return self._records.get(message_id)

    def records(self, status: DeliveryStatus | None = None) -> Sequence[OutboxRecord]:
        return sorted(
            (r for r in self._records.values() if status is None or r.status is status),
            key=lambda r: (r.message.created_at, r.id),
        )

    def requeue(self, message_id: str, *, now: datetime) -> None:
        self._records[message_id] = self._existing(message_id).requeued(now)

    def remove_household(self, household_id: str, *, account_ids: Iterable[str] = ()) -> int:
        accounts = erasure_accounts(household_id, account_ids)
        gone = [r.id for r in self._records.values() if r.concerns(household_id, accounts)]
        for message_id in gone:
            del self._records[message_id]
        return len(gone)
