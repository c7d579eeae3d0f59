"""The outbox loses nothing, retries with backoff and sends each message once."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, NotFoundError, StorageError
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import (
    DURABLE_MARK_EVERY,
    DeduplicatingMailer,
    DeliveryStatus,
    Dispatcher,
    InMemoryOutboxStore,
    MailDeliveryError,
    OutboxRecord,
    RetryPolicy,
    remembers_across_processes,
)

START = datetime(2023, 9, 1, 6, 0, tzinfo=UTC)


def message(n: int, at: datetime = START) -> OutgoingMessage:
    return OutgoingMessage(
        id=f"msg-{n}",
        kind="test",
        to_address=f"parent{n}@example.fr",
        to_name="Hélène Dupré",
        subject=f"Message {n}",
        text_body="Bonjour",
        created_at=at,
    )


class FlakyMailer:
    """Records what it delivered; fails while ``failures`` says so."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or MailDeliveryError("451 try again later", code=451)
        self.delivered: list[str] = []
        self.calls = 0

    def send(self, message: OutgoingMessage) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise self.error
        self.delivered.append(message.id)


class RememberingMailer(FlakyMailer):
    """A mailer that can tell what it already sent (like the ``outbox`` adapter)."""

    def has_sent(self, message_id: str) -> bool:
        return message_id in self.delivered


class Crash(BaseException):
    """The process dies (not an Exception: nothing may swallow it)."""


class CrashingStore(InMemoryOutboxStore):
    """A store whose recording of sends dies once: the crash between send and record (the
    sends of that step stay unrecorded, as an uncommitted transaction's)."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_next_mark_sent = False
        self.steps: list[list[str]] = []  # the sends recorded, step by step

    def mark_sent_many(self, sent: Mapping[str, datetime]) -> None:
        if self.crash_next_mark_sent:
            self.crash_next_mark_sent = False
            raise Crash
        self.steps.append(list(sent))
        super().mark_sent_many(sent)


def test_sends_due_messages_once() -> None:
    store, clock, mailer = InMemoryOutboxStore(), FixedClock(START), FlakyMailer()
    assert store.add([message(1), message(2)]) == ["msg-1", "msg-2"]
    assert store.add([message(1)]) == []  # re-rendering the same event adds nothing
    dispatcher = Dispatcher(store, mailer, clock=clock)
    report = dispatcher.run_once()
    assert report.sent == ("msg-1", "msg-2")
    assert mailer.delivered == ["msg-1", "msg-2"]
    record = store.get("msg-1")
    assert record is not None
    assert record.status is DeliveryStatus.SENT
    assert record.sent_at == START
    assert record.attempts == 1
    assert dispatcher.run_once().attempted == 0
    assert mailer.delivered == ["msg-1", "msg-2"]


def test_messages_are_not_sent_before_they_are_due() -> None:
    store, clock, mailer = InMemoryOutboxStore(), FixedClock(START), FlakyMailer()
    store.add([message(1, at=START + timedelta(minutes=5))])
    dispatcher = Dispatcher(store, mailer, clock=clock)
    assert dispatcher.run_once().attempted == 0
    clock.advance(minutes=5)
    assert dispatcher.run_once().sent == ("msg-1",)


def test_failures_are_retried_with_exponential_backoff() -> None:
    store, clock = InMemoryOutboxStore(), FixedClock(START)
    mailer = FlakyMailer(failures=3)
    store.add([message(1)])
    dispatcher = Dispatcher(store, mailer, clock=clock, retry=RetryPolicy(max_attempts=5))
    waits = []
    for _ in range(3):
        report = dispatcher.run_once()
        assert report.retrying == ("msg-1",)
        record = store.get("msg-1")
        assert record is not None
        assert record.status is DeliveryStatus.PENDING
        assert record.last_error == "MailDeliveryError: 451 try again later"
        waits.append(record.next_attempt_at - clock.now())
        # Not due before its time...
        clock.advance(seconds=waits[-1].total_seconds() - 1)
        assert dispatcher.run_once().attempted == 0
        clock.advance(seconds=1)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert dispatcher.run_once().sent == ("msg-1",)
    record = store.get("msg-1")
    assert record is not None
    assert record.attempts == 4
    assert mailer.delivered == ["msg-1"]


def test_gives_up_after_max_attempts_and_keeps_the_message() -> None:
    store, clock = InMemoryOutboxStore(), FixedClock(START)
    mailer = FlakyMailer(failures=10, error=ConnectionRefusedError("connection refused"))
    store.add([message(1)])
    dispatcher = Dispatcher(store, mailer, clock=clock, retry=RetryPolicy(max_attempts=3))
    outcomes = []
    for _ in range(3):
        report = dispatcher.run_once()
        outcomes.append((report.retrying, report.dead))
        clock.advance(hours=1)
    assert outcomes == [(("msg-1",), ()), (("msg-1",), ()), ((), ("msg-1",))]
    record = store.get("msg-1")
    assert record is not None
    assert record.status is DeliveryStatus.DEAD
    assert record.last_error == "ConnectionRefusedError: connection refused"
    assert store.records(DeliveryStatus.DEAD) == [record]
    clock.advance(days=10)
    assert dispatcher.run_once().attempted == 0  # dead stays dead...
    store.requeue("msg-1", now=clock.now())  # ...until someone requeues it
    mailer.failures = 0
    assert dispatcher.run_once().sent == ("msg-1",)
    with pytest.raises(InvalidInputError, match="only dead"):
        store.requeue("msg-1", now=clock.now())
    with pytest.raises(NotFoundError):
        store.requeue("nope", now=clock.now())


def test_one_failure_does_not_block_the_others() -> None:
    store, clock = InMemoryOutboxStore(), FixedClock(START)

    class PickyMailer(FlakyMailer):
        def send(self, message: OutgoingMessage) -> None:
            if message.id == "msg-2":
                raise MailDeliveryError("550 mailbox unavailable", permanent=True, code=550)
            super().send(message)

    mailer = PickyMailer()
    store.add([message(1), message(2), message(3)])
    report = Dispatcher(store, mailer, clock=clock).run_once()
    assert report.sent == ("msg-1", "msg-3")
    assert report.retrying == ("msg-2",)


def test_crash_before_marking_sent_with_a_deduplicating_mailer_sends_once() -> None:
    store, clock = CrashingStore(), FixedClock(START)
    mailer = RememberingMailer()
    assert isinstance(mailer, DeduplicatingMailer)
    store.add([message(1)])
    store.crash_next_mark_sent = True
    with pytest.raises(Crash):
        Dispatcher(store, mailer, clock=clock).run_once()
    record = store.get("msg-1")
    assert record is not None
    assert record.status is DeliveryStatus.SENDING  # claimed, send not recorded
    # A restarted dispatcher waits for the lease, then sees the mailer already sent it.
    restarted = Dispatcher(store, mailer, clock=clock, lease=timedelta(minutes=10))
    assert restarted.run_once().attempted == 0
    clock.advance(minutes=10)
    report = restarted.run_once()
    assert report.already_sent == ("msg-1",)
    assert mailer.delivered == ["msg-1"]
    assert store.get("msg-1").status is DeliveryStatus.SENT  # type: ignore[union-attr]


def test_crash_before_marking_sent_with_a_plain_mailer_is_at_least_once() -> None:
    # Documented trade-off: without a way to ask the mailer, the message is sent again, with
    # the same id (hence the same Message-ID header, which receivers deduplicate).
    store, clock = CrashingStore(), FixedClock(START)
    mailer = FlakyMailer()
    assert not isinstance(mailer, DeduplicatingMailer)
    store.add([message(1)])
    store.crash_next_mark_sent = True
    with pytest.raises(Crash):
        Dispatcher(store, mailer, clock=clock).run_once()
    clock.advance(minutes=10)
    assert Dispatcher(store, mailer, clock=clock).run_once().sent == ("msg-1",)
    assert mailer.delivered == ["msg-1", "msg-1"]
    assert store.get("msg-1").attempts == 2  # type: ignore[union-attr]


def test_sends_are_recorded_a_few_at_a_time() -> None:
    # One step per `mark_every` sends, the last one when the batch ends, instead of a
    # transaction per message: what a month-end's thousands of e-mails cost.
    store, clock, mailer = CrashingStore(), FixedClock(START), FlakyMailer()
    store.add([message(n) for n in range(7)])
    report = Dispatcher(store, mailer, clock=clock, mark_every=3).run_once()
    assert len(report.sent) == 7
    assert [len(step) for step in store.steps] == [3, 3, 1]
    assert all(r.status is DeliveryStatus.SENT for r in store.records())


def test_by_default_sends_are_batched_only_for_a_mailer_that_remembers_across_processes(
    tmp_path: Path,
) -> None:
    """A mailer whose memory dies with its process (SMTP, a plain mailer) has each send
    recorded on its own: a crash sends at most one message twice. The outbox adapter writing
    files remembers every send, so its sends are recorded 20 at a time."""
    from canteen_adapters.mail.outbox import OutboxMailer, OutboxMailerSettings
    from canteen_adapters.mail.smtp import SmtpMailer, SmtpSettings

    clock = FixedClock(START)
    files = OutboxMailer(OutboxMailerSettings(folder=tmp_path))
    in_memory = OutboxMailer()
    smtp = SmtpMailer(SmtpSettings(host="127.0.0.1", sender="cantine@example.fr"))
    assert Dispatcher(InMemoryOutboxStore(), files, clock=clock).mark_every == DURABLE_MARK_EVERY
    for forgetful in (in_memory, smtp, FlakyMailer()):
        assert not remembers_across_processes(forgetful)
        assert Dispatcher(InMemoryOutboxStore(), forgetful, clock=clock).mark_every == 1
    assert Dispatcher(InMemoryOutboxStore(), smtp, clock=clock, mark_every=20).mark_every == 20

    store = CrashingStore()
    store.add([message(n) for n in range(3)])
    Dispatcher(store, FlakyMailer(), clock=clock).run_once()
    assert [len(step) for step in store.steps] == [1, 1, 1]


def test_a_crash_resends_at_most_the_unrecorded_sends_with_a_plain_mailer() -> None:
    """What a dispatcher killed mid-batch can do (documented in the outbox's docs): the
    sends it had not recorded yet, at most ``mark_every``, are sent again once the lease
    expires, with the same ids. Nothing is lost; the others are sent once."""
    store, clock, mailer = CrashingStore(), FixedClock(START), FlakyMailer()
    store.add([message(n) for n in range(7)])

    class DiesAtTheSecondStep(FlakyMailer):
        def send(self, outgoing: OutgoingMessage) -> None:
            mailer.send(outgoing)
            store.crash_next_mark_sent = len(mailer.delivered) == 6

    with pytest.raises(Crash):
        Dispatcher(store, DiesAtTheSecondStep(), clock=clock, mark_every=3).run_once()
    assert [r.status for r in store.records()] == [DeliveryStatus.SENT] * 3 + [
        DeliveryStatus.SENDING
    ] * 4
    clock.advance(minutes=10)
    assert Dispatcher(store, mailer, clock=clock, mark_every=3).run_once().sent == tuple(
        f"msg-{n}" for n in range(3, 7)
    )
    sends = Counter(mailer.delivered)
    assert sends == {f"msg-{n}": 2 if n in (3, 4, 5) else 1 for n in range(7)}
    assert all(r.status is DeliveryStatus.SENT for r in store.records())


def test_sends_made_before_a_failing_step_are_recorded() -> None:
    # A storage error (here recording a failure) stops the batch: the sends made before it
    # are recorded on the way out, not left to be sent again.
    class BrokenFailures(CrashingStore):
        def mark_failed(self, message_id: str, **failure: Any) -> None:
            raise StorageError("base de données indisponible")

    store, clock = BrokenFailures(), FixedClock(START)

    class Picky(FlakyMailer):
        def send(self, outgoing: OutgoingMessage) -> None:
            if outgoing.id == "msg-2":
                raise MailDeliveryError("451 try again later", code=451)
            super().send(outgoing)

    store.add([message(n) for n in range(4)])
    with pytest.raises(StorageError):
        Dispatcher(store, Picky(), clock=clock).run_once()
    statuses = {r.id: r.status for r in store.records()}
    assert statuses == {
        "msg-0": DeliveryStatus.SENT,
        "msg-1": DeliveryStatus.SENT,
        "msg-2": DeliveryStatus.SENDING,  # retried once the lease expires
        "msg-3": DeliveryStatus.SENDING,
    }


def test_crash_before_sending_loses_nothing() -> None:
    store, clock = InMemoryOutboxStore(), FixedClock(START)

    class DyingMailer(FlakyMailer):
        def send(self, message: OutgoingMessage) -> None:
            raise Crash

    store.add([message(1)])
    with pytest.raises(Crash):
        Dispatcher(store, DyingMailer(), clock=clock).run_once()
    clock.advance(minutes=10)
    mailer = FlakyMailer()
    assert Dispatcher(store, mailer, clock=clock).run_once().sent == ("msg-1",)


def test_a_message_that_kills_the_dispatcher_ends_dead() -> None:
    store, clock = InMemoryOutboxStore(), FixedClock(START)

    class DyingMailer(FlakyMailer):
        def send(self, message: OutgoingMessage) -> None:
            raise Crash

    store.add([message(1)])
    retry = RetryPolicy(max_attempts=3)
    for _ in range(3):
        with pytest.raises(Crash):
            Dispatcher(store, DyingMailer(), clock=clock, retry=retry).run_once()
        clock.advance(minutes=10)
    report = Dispatcher(store, DyingMailer(), clock=clock, retry=retry).run_once()
    assert report.dead == ("msg-1",)
    record = store.get("msg-1")
    assert record is not None
    assert record.status is DeliveryStatus.DEAD
    assert "abandoned after 3 attempts" in (record.last_error or "")


def test_two_dispatchers_never_claim_the_same_message() -> None:
    store, clock = InMemoryOutboxStore(), FixedClock(START)
    store.add([message(n) for n in range(10)])
    first = store.claim_due(clock.now(), limit=6, lease=timedelta(minutes=10))
    second = store.claim_due(clock.now(), limit=6, lease=timedelta(minutes=10))
    assert len(first) == 6
    assert len(second) == 4
    assert not {r.id for r in first} & {r.id for r in second}


def test_run_until_idle_drains_every_batch() -> None:
    store, clock, mailer = InMemoryOutboxStore(), FixedClock(START), FlakyMailer()
    store.add([message(n) for n in range(25)])
    report = Dispatcher(store, mailer, clock=clock, batch_size=10).run_until_idle()
    assert len(report.sent) == 25
    assert len(set(mailer.delivered)) == 25


def test_bad_input_is_rejected() -> None:
    store = InMemoryOutboxStore()
    with pytest.raises(InvalidInputError):
        store.add([message(1), "not a message"])  # type: ignore[list-item]
    assert store.records() == []  # nothing added from a bad batch
    with pytest.raises(InvalidInputError):
        Dispatcher(store, FlakyMailer(), clock=FixedClock(START), lease=timedelta(0))
    with pytest.raises(InvalidInputError):
        Dispatcher(store, FlakyMailer(), clock=FixedClock(START), mark_every=0)
    with pytest.raises(InvalidInputError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(NotFoundError):
        store.mark_sent("nope", sent_at=START)


@given(st.integers(1, 60))
def test_backoff_grows_and_is_capped(attempts: int) -> None:
    policy = RetryPolicy()
    assert policy.delay(attempts) <= policy.delay(attempts + 1) <= timedelta(hours=4)


@settings(max_examples=60)
@given(
    failures=st.lists(st.booleans(), max_size=40),
    crashes=st.lists(st.booleans(), max_size=40),
    count=st.integers(1, 6),
)
def test_nothing_is_lost_and_nothing_sent_twice(
    failures: list[bool], crashes: list[bool], count: int
) -> None:
    """Whatever the pattern of send failures and crashes after sending, with a deduplicating
    mailer every message ends sent exactly once, or dead without having been sent."""
    store, clock = CrashingStore(), FixedClock(START)
    plan = iter(failures)
    crash_plan = iter(crashes)

    class Mailer(RememberingMailer):
        def send(self, message: OutgoingMessage) -> None:
            if next(plan, False):
                raise MailDeliveryError("421 service not available", code=421)
            self.delivered.append(message.id)
            store.crash_next_mark_sent = next(crash_plan, False)

    mailer = Mailer()
    store.add([message(n) for n in range(count)])
    retry = RetryPolicy(max_attempts=6)
    for _ in range(200):
        with contextlib.suppress(Crash):
            Dispatcher(store, mailer, clock=clock, retry=retry).run_once()
        clock.advance(hours=5)
        if all(r.status in (DeliveryStatus.SENT, DeliveryStatus.DEAD) for r in store.records()):
            break
    records: list[OutboxRecord] = list(store.records())
    assert len(records) == count
    sends = Counter(mailer.delivered)
    for record in records:
        assert record.status in (DeliveryStatus.SENT, DeliveryStatus.DEAD)
        assert sends[record.id] == (1 if record.status is DeliveryStatus.SENT else 0)
        assert record.attempts <= retry.max_attempts + 1
