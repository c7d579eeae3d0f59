"""Mail sent once and no secret kept: fenced leases and scrubbed bodies, on every backend.

Two dispatchers share the outbox through :func:`outbox_store` (each step commits on its
own, as in production); the first one outlasts its lease while sending a slow batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from canteen_adapters.storage.sql import SqlStorage
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import SENT_BODY, DeliveryStatus, Dispatcher
from canteen_core.ports.storage import Storage, outbox_store

from .conftest import OpenStorage

NOW = datetime(2023, 9, 1, 6, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
PASSWORD = "Kx7-provisoire-Tq2"
TOKEN = "sel123.verif456secret"


def _message(n: int) -> OutgoingMessage:
    return OutgoingMessage(
        id=f"invitation.m{n}",
        kind="invitation",
        to_address=f"parent{n}@example.fr",
        subject="Votre compte du portail famille",
        text_body=(
            f"Bonjour,\nMot de passe provisoire : {PASSWORD}\n"
            f"Activez votre compte : https://portail.example.fr/activation?token={TOKEN}\n"
        ),
        html_body=f"<p>Mot de passe provisoire : {PASSWORD}</p><a href='?token={TOKEN}'>x</a>",
        created_at=NOW,
    )


class SlowMailer:
    """Each send takes ``minutes`` on the shared clock; ``after`` runs once a given send is
    done, before the dispatcher records it. Remembers what went out (``delivered``, shared by
    the dispatchers' mailers, as the ``outbox`` mailer's folder is)."""

    def __init__(self, clock: FixedClock, delivered: list[str], minutes: int = 0) -> None:
        self.clock = clock
        self.delivered = delivered
        self.minutes = minutes
        self.after: dict[int, Callable[[], object]] = {}
        self.calls = 0

    def has_sent(self, message_id: str) -> bool:
        return message_id in self.delivered

    def send(self, message: OutgoingMessage) -> None:
        self.calls += 1
        self.clock.advance(minutes=self.minutes)
        self.delivered.append(message.id)
        action = self.after.get(self.calls)
        if action is not None:
            action()


def _queued(storage: Storage, count: int) -> None:
    with storage.unit_of_work() as uow:
        uow.outbox.add([_message(n) for n in range(count)])
        uow.commit()


def test_a_batch_longer_than_its_lease_keeps_its_messages(open_storage: OpenStorage) -> None:
    """The first dispatcher sends 6 messages at 3 minutes each (18 minutes, a 10-minute
    lease): it renews the claims of the messages still to send once half the lease has gone,
    so a second dispatcher running during its 4th send finds nothing to take."""
    first_storage, second_storage = open_storage(), open_storage()
    _queued(first_storage, 6)
    clock = FixedClock(NOW)
    delivered: list[str] = []
    slow = SlowMailer(clock, delivered, minutes=3)
    second = Dispatcher(outbox_store(second_storage), SlowMailer(clock, delivered), clock=clock)
    reports = []
    slow.after[4] = lambda: reports.append(second.run_once())
    report = Dispatcher(outbox_store(first_storage), slow, clock=clock, lease=LEASE).run_once()
    assert reports[0].attempted == 0
    assert len(report.sent) == 6
    assert Counter(delivered) == {f"invitation.m{n}": 1 for n in range(6)}
    store = outbox_store(first_storage)
    assert [record.status for record in store.records()] == [DeliveryStatus.SENT] * 6


def test_a_late_dispatcher_does_not_send_what_another_reclaimed(
    open_storage: OpenStorage,
) -> None:
    """The first dispatcher sends 6 messages at 3 minutes each (a 10-minute lease, renewed at
    6 minutes) and stalls for a whole lease after its 4th send, before recording its 3rd and
    4th; the second runs then and re-claims the last 4. Its mailer says the 3rd and 4th went
    out (recorded as such), it sends the last 2; the first, back, renews its claims before
    going on, finds them lost and sends nothing. Each message reaches the mail system once."""
    first_storage, second_storage = open_storage(), open_storage()
    _queued(first_storage, 6)
    clock = FixedClock(NOW)
    delivered: list[str] = []
    slow = SlowMailer(clock, delivered, minutes=3)
    second = Dispatcher(outbox_store(second_storage), SlowMailer(clock, delivered), clock=clock)
    reports = []

    def stall_then_second() -> None:
        clock.advance(minutes=10)
        reports.append(second.run_once())

    slow.after[4] = stall_then_second
    # Sends recorded in batches, as for a mailer that remembers them across processes.
    first = Dispatcher(outbox_store(first_storage), slow, clock=clock, lease=LEASE, mark_every=20)
    report = first.run_once()
    (second_report,) = reports
    assert Counter(delivered) == {f"invitation.m{n}": 1 for n in range(6)}
    assert set(second_report.already_sent) == {"invitation.m2", "invitation.m3"}
    assert set(second_report.sent) == {"invitation.m4", "invitation.m5"}
    assert set(report.lost) == {"invitation.m4", "invitation.m5"}
    assert len(report.sent) == 4
    store = outbox_store(first_storage)
    assert [record.status for record in store.records()] == [DeliveryStatus.SENT] * 6


def test_a_late_failure_never_unsends_nor_steals_a_claim(storage: Storage) -> None:
    store = outbox_store(storage)
    store.add([_message(1), _message(2)])
    (late,) = store.claim_due(NOW, limit=1, lease=LEASE)
    later = NOW + LEASE
    (current,) = [r for r in store.claim_due(later, limit=2, lease=LEASE) if r.id == late.id]
    assert current.claim != late.claim
    assert not store.renew(late.id, claim=late.claim, now=later)  # the late one lost it
    # The late dispatcher's failure does not touch the message another dispatcher holds.
    store.mark_failed(
        late.id, error="421", failed_at=later, next_attempt_at=later, claim=late.claim
    )
    held = store.get(late.id)
    assert held is not None
    assert (held.status, held.claim) == (DeliveryStatus.SENDING, current.claim)
    assert store.renew(late.id, claim=current.claim, now=later)
    store.mark_sent(late.id, sent_at=later, claim=current.claim)
    # A failure recorded after the send, with or without a claim, leaves it sent.
    store.mark_failed(late.id, error="421", failed_at=later, next_attempt_at=later)
    store.mark_failed(
        late.id, error="421", failed_at=later, next_attempt_at=None, claim=current.claim
    )
    sent = store.get(late.id)
    assert sent is not None
    assert (sent.status, sent.sent_at, sent.last_error) == (DeliveryStatus.SENT, later, None)
    assert store.claim_due(later + 2 * LEASE, limit=5, lease=LEASE)[0].id == "invitation.m2"
    assert not store.renew(late.id, claim=current.claim, now=later)  # sent: nothing to renew


def _stored_text(storage: Storage) -> str:
    """Every stored outbox row as text (SQL: read below the ports)."""
    if isinstance(storage, SqlStorage):
        with storage.engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT * FROM outbox")).all()
        return "\n".join(repr(tuple(row)) for row in rows)
    return "\n".join(repr(record) for record in outbox_store(storage).records())


def test_sent_messages_keep_no_secret(storage: Storage) -> None:
    store = outbox_store(storage)
    store.add([_message(1), _message(2)])
    assert PASSWORD in _stored_text(storage)  # needed until sent
    delivered: list[str] = []
    clock = FixedClock(NOW)
    report = Dispatcher(store, SlowMailer(clock, delivered), clock=clock).run_once()
    assert sorted(report.sent) == ["invitation.m1", "invitation.m2"]
    text = _stored_text(storage)
    assert PASSWORD not in text
    assert TOKEN not in text
    for record in store.records():
        assert record.message.text_body == SENT_BODY
        assert record.message.html_body is None
        assert record.message.subject == "Votre compte du portail famille"  # envelope kept
