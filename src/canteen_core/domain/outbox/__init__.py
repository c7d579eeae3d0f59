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
The sequence is *claim a batch -> send each -> record the sends*, each step committed on its
own. A batch (``batch_size`` messages, 100) is claimed in one transaction; the sends are
recorded ``mark_every`` at a time (by default 20, one transaction per 20 messages and one
when the batch ends or stops on an error, if the mailer remembers its sends across processes,
as the ``outbox`` adapter writing files does; otherwise 1, each send on its own); failures
are recorded one by one, as they happen.

* a crash before a send leaves the message claimed; the claim is a lease, and when it expires
  the message is claimed again and sent: nothing is lost;
* a crash **after** the mail system accepted messages but before their "sent" step committed
  cannot be told apart from a crash before the send: those messages, at most ``mark_every``
  (the sends of the unrecorded tail), are claimed again once the lease expires. Exactly-once
  delivery is impossible across a mail server and a database without a shared transaction,
  so the outbox is **at least once** for them. What keeps that from showing as a duplicate:
  the message id is stable and the mailer sets ``Message-ID: <id@domain>`` from it, so
  receiving systems and mail clients can deduplicate; and mailers that remember what they
  sent implement :class:`DeduplicatingMailer` (``has_sent``): the dispatcher then records the
  message as sent without sending it again. The ``outbox`` adapter remembers durably (its
  ``<id>.eml`` files: with a folder, a message id is written at most once, whatever the
  crashes); the SMTP adapter only within its process, so its dispatcher records each send
  on its own, and after a ``SIGKILL`` an SMTP relay may receive one message a second time,
  with the same ``Message-ID``. A :class:`Dispatcher` built with ``mark_every=20`` over SMTP
  trades that window (up to 20 messages) for one transaction per 20 sends.

The store must make a claim atomic (two dispatchers never get the same message): in SQL, an
``UPDATE ... WHERE status = 'pending' AND next_attempt_at <= :now`` (or ``SELECT ... FOR UPDATE
SKIP LOCKED`` on PostgreSQL) committed before sending.

Leases are fenced: each claim carries a fresh ``claim`` token. The claim's lease covers the
batch while it is young: before each send, once half the lease has gone since the claim (or
the last renewal), the dispatcher records the sends made so far and renews the claims of the
messages still to send in one step (:meth:`OutboxStore.renew_many`). So each send starts with
at least half a lease (5 minutes by default) before another dispatcher may take the message,
and a renewal fails for a message another dispatcher has re-claimed (this one outlasted its
lease: stalled, or a send longer than half a lease) or that was sent: the message is then left
alone, so a message is handed to the mailer once per claim. A failure is recorded only by the
claim that holds the message, and nothing turns a ``sent`` message back. Two limits, the same
as with a renewal before each send: a single send longer than the half lease left, or a
process stalled for a whole lease between a send and its record, lets another dispatcher
re-claim the message (and send it again unless the mailer remembers it); a household erased
(:meth:`OutboxStore.remove_household`) while its message's batch is being sent may still have
that message sent, within the half lease (an erased message is never recorded afterwards).

Secrets at rest: invitations and password resets carry a temporary password and token links.
The outbox keeps a message's bodies only while it may still be sent: marked sent, a message
keeps its envelope (recipient, subject, kind, dates) and its bodies are replaced by
:data:`SENT_BODY`. Before that, the secrets are not in the stored bodies either: they are
sealed (encrypted with the deployment's key, :mod:`canteen_core.domain.mail_secrets`) and the
dispatcher given the key opens them just before the send. A message marked dead drops them.

The rooms of this package:

* :mod:`~canteen_core.domain.outbox.store`: the records and the :class:`OutboxStore` port
  (claims, leases, attempts);
* :mod:`~canteen_core.domain.outbox.dispatcher`: the :class:`Dispatcher`, the :class:`Mailer`
  port and the :class:`RetryPolicy`.

Every name below is importable from ``canteen_core.domain.outbox`` itself.
"""

from canteen_core.domain.outbox.dispatcher import (
    DURABLE_MARK_EVERY,
    DeduplicatingMailer,
    Dispatcher,
    DispatchReport,
    MailDeliveryError,
    Mailer,
    RetryPolicy,
    remembers_across_processes,
)
from canteen_core.domain.outbox.store import (
    SENT_BODY,
    DeliveryStatus,
    FailedAttempt,
    InMemoryOutboxStore,
    OutboxRecord,
    OutboxStore,
    erasure_accounts,
    new_claim,
    new_records,
)

__all__ = [
    "DURABLE_MARK_EVERY",
    "SENT_BODY",
    "DeduplicatingMailer",
    "DeliveryStatus",
    "DispatchReport",
    "Dispatcher",
    "FailedAttempt",
    "InMemoryOutboxStore",
    "MailDeliveryError",
    "Mailer",
    "OutboxRecord",
    "OutboxStore",
    "RetryPolicy",
    "erasure_accounts",
    "new_claim",
    "new_records",
    "remembers_across_processes",
]
