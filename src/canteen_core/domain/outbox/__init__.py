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

The rooms of this package:

* :mod:`~canteen_core.domain.outbox.store`: the records and the :class:`OutboxStore` port
  (claims, leases, attempts);
* :mod:`~canteen_core.domain.outbox.dispatcher`: the :class:`Dispatcher`, the :class:`Mailer`
  port and the :class:`RetryPolicy`.

Every name below is importable from ``canteen_core.domain.outbox`` itself.
"""

from canteen_core.domain.outbox.dispatcher import (
    DeduplicatingMailer,
    Dispatcher,
    DispatchReport,
    MailDeliveryError,
    Mailer,
    RetryPolicy,
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
]
