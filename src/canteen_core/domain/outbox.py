"""Email delivery that loses nothing: the transactional outbox and its dispatcher.

1. A use case that must send an email adds the
:class:`~canteen_core.domain.notifications.OutgoingMessage`
   to the :class:`OutboxStore` **in the same transaction** as the business change. If the change
   rolls back, no email exists; if it commits, the email is durably queued.
2. The :class:`Dispatcher` (a scheduled job, or run right after the commit) claims due messages,
   sends them through a :class:`Mailer` and records the outcome. A failed send never rolls back
   anything: it records the attempt and the error and schedules a retry with exponential backoff
   (:class:`RetryPolicy`); after ``max_attempts`` the message is marked dead (kept, visible,
   re-queueable with :meth:`OutboxStore.requeue`).

Crash safety and duplicates (the honest trade-off)
--------------------------------------------------
The sequence is *claim -> send -> mark sent*, each step committed on its own:

* a crash before the send leaves the message claimed; the claim is a lease, and when it expires
  the message is claimed again and sent: nothing is lost;
* a crash **after** the SMTP server accepted the message but before "mark sent" is committed
  cannot be told apart from a crash before the send. Exactly-once delivery is impossible across
  an SMTP server and a database without a shared transaction, so the outbox is **at least once**:
  the message is sent again. Three things keep that from showing as a duplicate: the message id
  is stable and the mailer sets ``Message-ID: <id@domain>`` from it, so receiving systems and
  mail clients deduplicate; mailers that can remember what they sent implement
  :class:`DeduplicatingMailer` (``has_sent``), and the dispatcher then marks the message sent
  without sending it again (the ``outbox`` adapter does this durably, the SMTP adapter within
  the process); and the window is tiny, since "mark sent" is committed right after the send.

The store must make a claim atomic (two dispatchers never get the same message): in SQL, an
``UPDATE ... WHERE status = 'pending' AND next_attempt_at <= :now`` (or ``SELECT ... FOR UPDATE
SKIP LOCKED`` on PostgreSQL) committed before sending.

Leases are fenced: each claim carries a fresh ``claim`` token. Before each send the dispatcher
renews its claim (:meth:`OutboxStore.renew`), which fails once another dispatcher has
re-claimed the message (this one outlasted its lease) or the message was sent: the message is
then left alone, so a message is handed to the mailer once per claim. A failure is recorded
only by the claim that holds the message, and nothing turns a ``sent`` message back.

Secrets at rest: invitations and password resets carry a temporary password and token links.
The outbox keeps a message's bodies only while it may still be sent: marked sent, a message
keeps its envelope (recipient, subject, kind, dates) and its bodies are replaced by
:data:`SENT_BODY`. Before that, the secrets are not in the stored bodies either: they are
sealed (encrypted with the deployment's key, :mod:`canteen_core.domain.mail_secrets`) and the
dispatcher given the key opens them just before the send. A message marked dead drops them.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from canteen_core.domain.clock import Clock, ensure_aware
from canteen_core.domain.errors import CanteenError, InvalidInputError, NotFoundError
from canteen_core.domain.mail_secrets import (
    MailSecrets,
    SealedSecretsError,
    drop_sealed,
    open_message,
)
from canteen_core.domain.notifications import OutgoingMessage

__all__ = [
    "SENT_BODY",
    "DeduplicatingMailer",
    "DeliveryStatus",
    "DispatchReport",
    "Dispatcher",
    "InMemoryOutboxStore",
    "MailDeliveryError",
    "Mailer",
    "OutboxRecord",
    "OutboxStore",
    "RetryPolicy",
    "new_claim",
]

#: What a sent message's text body becomes (its HTML body is dropped): the bodies may carry a
#: temporary password or a token link, not kept readable once the message is sent.
SENT_BODY = "(Contenu effacé après l'envoi.)"


def new_claim() -> str:
    """A fresh claim token (random: two dispatchers never share one)."""
    return uuid.uuid4().hex


class MailDeliveryError(CanteenError):
    """A mailer could not hand a message over (connection refused, SMTP 4xx/5xx, TLS...).

    ``permanent`` is True for 5xx replies (the server says retrying will not help); the
    dispatcher still retries up to its limit, because a "permanent" refusal is often a
    configuration problem that gets fixed (relay denied, bad credentials).
    """

    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None) -> None:
        self.permanent = permanent
        self.code = code
        super().__init__(message)


class Mailer(Protocol):
    """Sends one message or raises (preferably :class:`MailDeliveryError`)."""

    def send(self, message: OutgoingMessage) -> None:
        """Hand ``message`` to the mail system; return only when it was accepted."""
        ...


@runtime_checkable
class DeduplicatingMailer(Protocol):
    """A mailer that remembers which message ids it has sent (see the module docstring)."""

    def send(self, message: OutgoingMessage) -> None:
        """Hand ``message`` to the mail system."""
        ...

    def has_sent(self, message_id: str) -> bool:
        """Whether the message with ``message_id`` was already handed over."""
        ...


class DeliveryStatus(enum.StrEnum):
    """Where a message is in its delivery."""

    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a dispatcher (lease until claimed_at + lease)
    SENT = "sent"
    DEAD = "dead"  # gave up after max attempts; kept for inspection and requeue


def _non_negative(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInputError(f"must be an integer >= 0, got {value!r}", path=attribute.name)


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
    attempts: int = attrs.field(default=0, validator=_non_negative)
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

    def failed(
        self, error: str, failed_at: datetime, next_attempt_at: datetime | None
    ) -> OutboxRecord:
        """A failed attempt: pending again at ``next_attempt_at``, or dead without one (its
        sealed secrets dropped)."""
        return attrs.evolve(
            self,
            message=self.message if next_attempt_at else drop_sealed(self.message),
            status=DeliveryStatus.PENDING if next_attempt_at else DeliveryStatus.DEAD,
            next_attempt_at=next_attempt_at or self.next_attempt_at,
            last_attempt_at=failed_at,
            last_error=error,
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

    def mark_failed(
        self,
        message_id: str,
        *,
        error: str,
        failed_at: datetime,
        next_attempt_at: datetime | None,
        claim: str | None = None,
    ) -> None:
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


class InMemoryOutboxStore:
    """An :class:`OutboxStore` in a dict, for tests and notebooks (no transactions)."""

    def __init__(self) -> None:
        self._records: dict[str, OutboxRecord] = {}

    def add(self, messages: Iterable[OutgoingMessage]) -> list[str]:
        batch = list(messages)
        for message in batch:
            if not isinstance(message, OutgoingMessage):
                raise InvalidInputError(
                    f"expected OutgoingMessage, got {type(message).__name__}", path="messages"
                )
        added = []
        for message in batch:
            if message.id in self._records:
                continue
            self._records[message.id] = OutboxRecord(
                message=message, next_attempt_at=message.created_at
            )
            added.append(message.id)
        return added

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

    def mark_failed(
        self,
        message_id: str,
        *,
        error: str,
        failed_at: datetime,
        next_attempt_at: datetime | None,
        claim: str | None = None,
    ) -> None:
        record = self._existing(message_id)
        if record.failure_applies(claim):
            self._records[message_id] = record.failed(error, failed_at, next_attempt_at)

    def get(self, message_id: str) -> OutboxRecord | None:
        return self._records.get(message_id)

    def records(self, status: DeliveryStatus | None = None) -> Sequence[OutboxRecord]:
        return sorted(
            (r for r in self._records.values() if status is None or r.status is status),
            key=lambda r: (r.message.created_at, r.id),
        )

    def requeue(self, message_id: str, *, now: datetime) -> None:
        self._records[message_id] = self._existing(message_id).requeued(now)


def _positive_delta(_: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInputError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


def _positive_int(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInputError(f"must be an integer >= 1, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Exponential backoff: the n-th failed attempt waits ``first_delay * factor**(n-1)``, at
    most ``max_delay``; the message is dead after ``max_attempts`` attempts.

    The defaults (8 attempts, 1 min doubling to 4 h) span about 8 hours: long enough to ride
    out a mail server's maintenance window.

    >>> [RetryPolicy().delay(n).seconds // 60 for n in (1, 2, 3)]
    [1, 2, 4]
    """

    max_attempts: int = attrs.field(default=8, validator=_positive_int)
    first_delay: timedelta = attrs.field(default=timedelta(minutes=1), validator=_positive_delta)
    factor: int = attrs.field(default=2, validator=_positive_int)
    max_delay: timedelta = attrs.field(default=timedelta(hours=4), validator=_positive_delta)

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt."""
        delay = self.first_delay
        for _ in range(max(0, attempts - 1)):  # step by step: a power would overflow timedelta
            if delay >= self.max_delay:
                break
            delay *= self.factor
        return min(delay, self.max_delay)


@attrs.frozen(kw_only=True)
class DispatchReport:
    """What one :meth:`Dispatcher.run_once` did, by message id."""

    sent: tuple[str, ...] = ()
    retrying: tuple[str, ...] = ()
    dead: tuple[str, ...] = ()
    already_sent: tuple[str, ...] = ()  # the mailer had sent them before a crash
    lost: tuple[str, ...] = ()  # re-claimed by another dispatcher (lease outlasted) or sent

    @property
    def attempted(self) -> int:
        """How many messages were handled."""
        return (
            len(self.sent)
            + len(self.retrying)
            + len(self.dead)
            + len(self.already_sent)
            + len(self.lost)
        )


_MAX_ERROR_LENGTH = 2000


class Dispatcher:
    """Sends due outbox messages through a mailer, retrying failures with backoff."""

    def __init__(
        self,
        store: OutboxStore,
        mailer: Mailer,
        *,
        clock: Clock,
        retry: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=10),
        batch_size: int = 100,
        secrets: MailSecrets | None = None,
    ) -> None:
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise InvalidInputError("lease must be a positive timedelta", path="lease")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError("batch_size must be an integer >= 1", path="batch_size")
        self.store = store
        self.mailer = mailer
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.lease = lease
        self.batch_size = batch_size
        #: Opens the sealed secrets of account emails before the send.
        self.secrets = secrets

    def run_once(self) -> DispatchReport:
        """Claim the due messages (one batch), send each and record the outcome.

        Send failures are recorded, never raised. Storage errors propagate: what was not
        recorded stays claimed and is retried when the lease expires.
        """
        now = ensure_aware(self.clock.now(), "now")
        claimed = self.store.claim_due(now, limit=self.batch_size, lease=self.lease)
        sent: list[str] = []
        retrying: list[str] = []
        dead: list[str] = []
        already: list[str] = []
        lost: list[str] = []
        for record in claimed:
            message = record.message
            claim = record.claim
            # Still ours? A batch may outlast the lease: another dispatcher then re-claimed
            # the message (and sends it), or it was sent meanwhile. Renewing starts the lease
            # again for this send.
            if not self.store.renew(message.id, claim=claim, now=self.clock.now()):
                lost.append(message.id)
                continue
            if isinstance(self.mailer, DeduplicatingMailer) and self.mailer.has_sent(message.id):
                self.store.mark_sent(message.id, sent_at=self.clock.now(), claim=claim)
                already.append(message.id)
                continue
            if record.attempts > self.retry.max_attempts:
                # Claimed again and again with no outcome recorded: a message that stops the
                # dispatcher each time it is sent. Give up rather than loop forever.
                self.store.mark_failed(
                    message.id,
                    error=(
                        f"abandoned after {record.attempts - 1} attempts without a recorded "
                        "outcome (the dispatcher stopped while sending)"
                    ),
                    failed_at=now,
                    next_attempt_at=None,
                    claim=claim,
                )
                dead.append(message.id)
                continue
            try:
                outgoing = open_message(message, self.secrets)
            except SealedSecretsError as error:
                # Retrying cannot help: another key is needed, or the secrets were dropped.
                self.store.mark_failed(
                    message.id,
                    error=f"SealedSecretsError: {error}",
                    failed_at=self.clock.now(),
                    next_attempt_at=None,
                    claim=claim,
                )
                dead.append(message.id)
                continue
            try:
                self.mailer.send(outgoing)
            except Exception as error:  # any failure must be recorded: a message is never lost
                failed_at = self.clock.now()
                text = f"{type(error).__name__}: {error}"[:_MAX_ERROR_LENGTH]
                if record.attempts >= self.retry.max_attempts:
                    self.store.mark_failed(
                        message.id,
                        error=text,
                        failed_at=failed_at,
                        next_attempt_at=None,
                        claim=claim,
                    )
                    dead.append(message.id)
                else:
                    self.store.mark_failed(
                        message.id,
                        error=text,
                        failed_at=failed_at,
                        next_attempt_at=failed_at + self.retry.delay(record.attempts),
                        claim=claim,
                    )
                    retrying.append(message.id)
            else:
                self.store.mark_sent(message.id, sent_at=self.clock.now(), claim=claim)
                sent.append(message.id)
        return DispatchReport(
            sent=tuple(sent),
            retrying=tuple(retrying),
            dead=tuple(dead),
            already_sent=tuple(already),
            lost=tuple(lost),
        )

    def run_until_idle(self, *, max_batches: int = 100) -> DispatchReport:
        """Run batches until nothing is due now (or ``max_batches``); merged report."""
        reports = []
        for _ in range(max_batches):
            report = self.run_once()
            reports.append(report)
            if report.attempted < self.batch_size:
                break
        return DispatchReport(
            sent=tuple(i for r in reports for i in r.sent),
            retrying=tuple(i for r in reports for i in r.retrying),
            dead=tuple(i for r in reports for i in r.dead),
            already_sent=tuple(i for r in reports for i in r.already_sent),
            lost=tuple(i for r in reports for i in r.lost),
        )
