"""The :class:`Dispatcher`: claims due messages, sends them through a :class:`Mailer` and records
the outcome, retrying with :class:`RetryPolicy`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from canteen_core.domain._validators import positive_int
from canteen_core.domain.clock import Clock, ensure_aware
from canteen_core.domain.errors import CanteenError, InvalidInputError
from canteen_core.domain.mail_secrets import (
    MailSecrets,
    SealedSecretsError,
    open_message,
)
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.notifications.deferred import is_deferred
from canteen_core.domain.outbox.store import OutboxRecord, OutboxStore


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
    """A mailer that remembers which message ids it has sent (see
    :mod:`canteen_core.domain.outbox`)."""

    def send(self, message: OutgoingMessage) -> None:
        """Hand ``message`` to the mail system."""
        ...

    def has_sent(self, message_id: str) -> bool:
        """Whether the message with ``message_id`` was already handed over."""
        ...


#: How many sends a dispatcher records per transaction when its mailer remembers its sends
#: across processes (see :func:`remembers_across_processes`); otherwise each send on its own.
DURABLE_MARK_EVERY = 20


def remembers_across_processes(mailer: object) -> bool:
    """Whether ``mailer`` remembers what it sent after its process dies: a
    :class:`DeduplicatingMailer` saying so with a ``remembers_across_processes`` attribute
    that is ``True`` (the ``outbox`` adapter writing files). Only then may sends be recorded
    in batches without a crash sending any message twice."""
    return getattr(mailer, "remembers_across_processes", False) is True


def _positive_delta(_: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInputError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Exponential backoff: the n-th failed attempt waits ``first_delay * factor**(n-1)``, at
    most ``max_delay``; the message is dead after ``max_attempts`` attempts.

    The defaults (8 attempts, 1 min doubling to 4 h) span about 8 hours: long enough to ride
    out a mail server's maintenance window.

    >>> [RetryPolicy().delay(n).seconds // 60 for n in (1, 2, 3)]
    [1, 2, 4]
    """

    max_attempts: int = attrs.field(default=8, validator=positive_int)
    first_delay: timedelta = attrs.field(default=timedelta(minutes=1), validator=_positive_delta)
    factor: int = attrs.field(default=2, validator=positive_int)
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


class _SendRecorder:
    """The sends of a batch not yet recorded, written ``every`` at a time in one step."""

    def __init__(self, store: OutboxStore, every: int) -> None:
        self._store = store
        self._every = every
        self._pending: dict[str, datetime] = {}

    def add(self, message_id: str, sent_at: datetime) -> None:
        """Note the send of ``message_id``; record the pending sends once there are
        ``every``."""
        self._pending[message_id] = sent_at
        if len(self._pending) >= self._every:
            self.flush()

    def flush(self) -> None:
        """Record the pending sends (none pending afterwards, even when it fails: what a
        failed step did not record is sent again once the lease expires)."""
        if self._pending:
            pending, self._pending = self._pending, {}
            self._store.mark_sent_many(pending)


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
        mark_every: int | None = None,
        secrets: MailSecrets | None = None,
        renderer: Callable[[OutgoingMessage], OutgoingMessage] | None = None,
    ) -> None:
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise InvalidInputError("lease must be a positive timedelta", path="lease")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError("batch_size must be an integer >= 1", path="batch_size")
        if mark_every is None:
            mark_every = DURABLE_MARK_EVERY if remembers_across_processes(mailer) else 1
        if isinstance(mark_every, bool) or not isinstance(mark_every, int) or mark_every < 1:
            raise InvalidInputError("mark_every must be an integer >= 1", path="mark_every")
        self.store = store
        self.mailer = mailer
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.lease = lease
        self.batch_size = batch_size
        #: How many sends are recorded per transaction. A dispatcher killed before recording
        #: them leaves up to this many messages handed to the mailer and still claimed: they
        #: are offered again once the lease expires, and sent again unless the mailer
        #: remembers them (:class:`DeduplicatingMailer`). By default
        #: :data:`DURABLE_MARK_EVERY` for a mailer that remembers its sends across processes,
        #: otherwise ``1`` (each send recorded on its own: at most one message sent twice).
        self.mark_every = mark_every
        #: Opens the sealed secrets of account emails before the send.
        self.secrets = secrets
        #: Renders the messages queued unrendered (invoice e-mails of a billing run:
        #: :mod:`canteen_core.domain.notifications.deferred`), usually the deployment's
        #: ``Notifier.render_deferred``.
        self.renderer = renderer

    def _fail(
        self, record: OutboxRecord, error: str, failed_at: datetime, *, retry_at: datetime | None
    ) -> None:
        """Record a failed attempt of ``record`` under its claim: pending again at
        ``retry_at``, or dead when it is ``None``."""
        self.store.mark_failed(
            record.message.id,
            error=error,
            failed_at=failed_at,
            next_attempt_at=retry_at,
            claim=record.claim,
        )

    def _rendered(self, message: OutgoingMessage) -> OutgoingMessage:
        """``message`` rendered when it was queued unrendered. A template that fails (a
        deployment's broken override) is a failed attempt, retried: it may get fixed."""
        if not is_deferred(message):
            return message
        if self.renderer is None:
            raise MailDeliveryError("message to render at the send, and no renderer given")
        return self.renderer(message)

    def _send(self, record: OutboxRecord, claimed_at: datetime, recorder: _SendRecorder) -> str:
        """Send one claimed message and note or record the outcome; which of
        :class:`DispatchReport`'s lists it goes to."""
        message = record.message
        if isinstance(self.mailer, DeduplicatingMailer) and self.mailer.has_sent(message.id):
            recorder.add(message.id, self.clock.now())
            return "already_sent"
        if record.attempts > self.retry.max_attempts:
            # Claimed again and again with no outcome recorded: a message that stops the
            # dispatcher each time it is sent. Give up rather than loop forever.
            abandoned = (
                f"abandoned after {record.attempts - 1} attempts without a recorded "
                "outcome (the dispatcher stopped while sending)"
            )
            self._fail(record, abandoned, claimed_at, retry_at=None)
            return "dead"
        try:
            outgoing = open_message(message, self.secrets)
        except SealedSecretsError as error:
            # Retrying cannot help: another key is needed, or the secrets were dropped.
            self._fail(record, f"SealedSecretsError: {error}", self.clock.now(), retry_at=None)
            return "dead"
        try:
            outgoing = self._rendered(outgoing)
            self.mailer.send(outgoing)
        except Exception as error:  # any failure must be recorded: a message is never lost
            failed_at = self.clock.now()
            text = f"{type(error).__name__}: {error}"[:_MAX_ERROR_LENGTH]
            give_up = record.attempts >= self.retry.max_attempts
            retry_at = None if give_up else failed_at + self.retry.delay(record.attempts)
            self._fail(record, text, failed_at, retry_at=retry_at)
            return "dead" if give_up else "retrying"
        recorder.add(message.id, self.clock.now())
        return "sent"

    def run_once(self) -> DispatchReport:
        """Claim the due messages (one batch), send each and record the outcome.

        Send failures are recorded, never raised. Storage errors propagate: what was not
        recorded stays claimed and is retried when the lease expires.

        The claim's lease covers the batch: it is renewed, for the messages still to send and
        in one step, only once half of it has gone, so each send starts with at least half a
        lease before another dispatcher may re-claim the message. Sends are recorded
        ``mark_every`` at a time (and when the batch ends or stops on an error).
        """
        now = ensure_aware(self.clock.now(), "now")
        claimed = self.store.claim_due(now, limit=self.batch_size, lease=self.lease)
        outcomes: dict[str, list[str]] = {
            "sent": [],
            "retrying": [],
            "dead": [],
            "already_sent": [],
            "lost": [],
        }
        recorder = _SendRecorder(self.store, self.mark_every)
        held = {record.id for record in claimed}
        leased_at = now
        try:
            for index, record in enumerate(claimed):
                started = self.clock.now()
                if started - leased_at >= self.lease / 2:
                    # A batch may outlast the lease: another dispatcher would then re-claim
                    # (and send) its last messages. Record what was sent, then start the
                    # lease again for the messages still held; those re-claimed or sent
                    # meanwhile are left alone.
                    recorder.flush()
                    rest = {r.id: r.claim for r in claimed[index:] if r.id in held}
                    held = self.store.renew_many(rest, now=started)
                    leased_at = started
                outcome = self._send(record, now, recorder) if record.id in held else "lost"
                outcomes[outcome].append(record.id)
        finally:
            # Also when the batch stops on an error: what went out is recorded if it can be.
            recorder.flush()
        return DispatchReport(**{name: tuple(ids) for name, ids in outcomes.items()})

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
