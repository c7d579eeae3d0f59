"""The storage contract of the account and outbox repositories."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from canteen_core.domain.accounts import Account, AccountToken, ThrottleState, TokenPurpose
from canteen_core.domain.actors import Role
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import DeliveryStatus
from canteen_core.ports.storage import Storage, outbox_store
from canteen_core.testing.samples import (
    NOW,
)


def _account(account_id: str, username: str, email: str, *tokens: AccountToken) -> Account:
    return Account(
        id=account_id,
        username=username,
        email=email,
        display_name="Maman Concerto",
        roles={Role.GUARDIAN},
        household_ids={"h1"},
        password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
        created_at=NOW,
        tokens=tokens,
    )


def test_accounts_store(storage: Storage) -> None:
    token = AccountToken(
        purpose=TokenPurpose.ACTIVATION,
        selector="sel-1",
        digest="digest",
        created_at=NOW,
        expires_at=NOW + timedelta(days=3),
    )
    maman = _account("a1", "maman.concerto", "Maman@Example.fr", token)
    papa = _account("a2", "papa.concerto", "maman@example.fr")
    with storage.unit_of_work() as uow:
        uow.accounts.save(maman)
        uow.accounts.save(papa)
        with pytest.raises(ConflictError, match="already taken"):
            uow.accounts.save(_account("a3", "maman.concerto", "x@example.fr"))
        uow.accounts.save_throttle("account:a1", ThrottleState(failures=2, last_failure_at=NOW))
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.accounts.get("a1") == maman
        assert uow.accounts.get("a3") is None
        assert uow.accounts.find_by_username("papa.concerto") == papa
        assert [a.id for a in uow.accounts.find_by_email("MAMAN@example.fr")] == ["a1", "a2"]
        assert uow.accounts.find_by_token("sel-1") == maman
        assert uow.accounts.throttle("account:a1").failures == 2
        assert uow.accounts.throttle("source:10.0.0.1") == ThrottleState()
        renamed = attrs.evolve(maman, username="maman", tokens=())
        uow.accounts.save(renamed)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.accounts.find_by_token("sel-1") is None
        assert uow.accounts.find_by_username("maman.concerto") is None
        assert [a.username for a in uow.accounts.list()] == ["maman", "papa.concerto"]


def _message(
    message_id: str,
    minutes: int = 0,
    *,
    household_id: str | None = None,
    account_id: str | None = None,
) -> OutgoingMessage:
    return OutgoingMessage(
        id=message_id,
        kind="invoice_issued",
        to_address="maman@example.fr",
        subject="Votre facture de septembre est disponible",
        text_body="Bonjour,\nvotre facture est disponible.",
        created_at=NOW + timedelta(minutes=minutes),
        household_id=household_id,
        account_id=account_id,
    )


def test_outbox_joins_the_transaction_and_delivers_once(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        assert uow.outbox.add([_message("m1")]) == ["m1"]
        # the business change failed: the message goes with it
    with storage.unit_of_work() as uow:
        assert uow.outbox.get("m1") is None
        assert uow.outbox.add([_message("m1"), _message("m2", 5), _message("m1")]) == ["m1", "m2"]
        assert uow.outbox.add([_message("m2", 5)]) == []
        uow.commit()
    store = outbox_store(storage)
    lease = timedelta(minutes=10)
    assert store.claim_due(NOW, limit=10, lease=lease)[0].id == "m1"  # m2 not due yet
    assert store.claim_due(NOW, limit=10, lease=lease) == []  # m1 is claimed
    store.mark_failed(
        "m1", error="421 try later", failed_at=NOW, next_attempt_at=NOW + timedelta(minutes=1)
    )
    later = NOW + timedelta(minutes=6)
    claimed = store.claim_due(later, limit=10, lease=lease)
    assert [(r.id, r.attempts) for r in claimed] == [("m1", 2), ("m2", 1)]
    store.mark_sent("m1", sent_at=later)
    store.mark_failed("m2", error="550 no such user", failed_at=later, next_attempt_at=None)
    assert [r.id for r in store.records(DeliveryStatus.DEAD)] == ["m2"]
    sent = store.get("m1")
    assert sent is not None
    assert (sent.status, sent.sent_at) == (DeliveryStatus.SENT, later)
    store.requeue("m2", now=later)
    with pytest.raises(InvalidInputError):
        store.requeue("m1", now=later)
    with pytest.raises(NotFoundError):
        store.mark_sent("m9", sent_at=later)
    # a dispatcher that died keeps its claim only for the lease
    assert [r.id for r in store.claim_due(later, limit=1, lease=lease)] == ["m2"]
    crashed_until = later + lease
    assert [r.id for r in store.claim_due(crashed_until, limit=5, lease=lease)] == ["m2"]
    assert [r.id for r in store.records()] == ["m1", "m2"]


def test_outbox_renews_and_records_a_batch_in_one_step(storage: Storage) -> None:
    """``renew_many`` and ``mark_sent_many`` (port additions of issue 20) do to each message
    what ``renew`` and ``mark_sent`` do, and skip the messages they no longer apply to."""
    with storage.unit_of_work() as uow:
        uow.outbox.add([_message(f"b{n}", n) for n in range(4)])
        uow.commit()
    store = outbox_store(storage)
    lease = timedelta(minutes=10)
    at = NOW + timedelta(minutes=5)
    claimed = {r.id: r.claim for r in store.claim_due(at, limit=4, lease=lease)}
    assert sorted(claimed) == ["b0", "b1", "b2", "b3"]
    later = at + timedelta(minutes=6)
    store.mark_sent("b1", sent_at=later)
    store.mark_failed("b2", error="421", failed_at=later, next_attempt_at=later)
    renewed = store.renew_many({**claimed, "b0": "not-this-claim", "nope": "x"}, now=later)
    assert renewed == {"b3"}  # b0: another claim; b1 sent; b2 pending again; nope: unknown
    b3 = store.get("b3")
    assert b3 is not None
    assert (b3.status, b3.claimed_at, b3.claim) == (DeliveryStatus.SENDING, later, claimed["b3"])
    # b3 renewed at `later` has not lapsed 9 minutes after it; b0 (not renewed) has.
    taken = store.claim_due(later + timedelta(minutes=9), limit=4, lease=lease)
    assert [r.id for r in taken] == ["b0", "b2"]
    assert store.renew_many({}, now=later) == set()
    sent_at = {"b0": later, "b1": later + timedelta(minutes=1), "b3": later + timedelta(1)}
    store.mark_sent_many({**sent_at, "gone": later})  # an unknown id is skipped
    store.mark_sent_many({})
    records = {r.id: r for r in store.records()}
    assert sorted(records) == ["b0", "b1", "b2", "b3"]
    assert [records[i].status for i in ("b0", "b1", "b3")] == [DeliveryStatus.SENT] * 3
    assert records["b1"].sent_at == later  # already sent: left as it was
    assert (records["b0"].sent_at, records["b3"].sent_at) == (later, sent_at["b3"])
    assert records["b3"].message.html_body is None  # bodies dropped, as by mark_sent
    assert records["b3"].claim is None
    assert records["b2"].status is DeliveryStatus.SENDING  # not in the batch: untouched


def test_outbox_removes_a_households_messages(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.outbox.add(
            [
                _message("h1", household_id="CONCERTO"),
                _message("h2", 1, household_id="CONCERTO"),
                _message("a1", 2, account_id="acc-concerto"),
                _message("o1", 3, household_id="SONATE"),
                _message("o2", 4, account_id="acc-sonate"),
            ]
        )
        uow.commit()
    store = outbox_store(storage)
    store.mark_sent("h1", sent_at=NOW)  # sent or pending: both go
    with pytest.raises(InvalidInputError):
        store.remove_household("")
    with pytest.raises(InvalidInputError):
        store.remove_household("CONCERTO", account_ids=[""])
    with storage.unit_of_work() as uow:
        assert uow.outbox.remove_household("CONCERTO", account_ids=["acc-concerto"]) == 3
        # not committed: nothing went
    assert [r.id for r in store.records()] == ["h1", "h2", "a1", "o1", "o2"]
    assert store.remove_household("CONCERTO", account_ids=["acc-concerto"]) == 3
    assert [r.id for r in store.records()] == ["o1", "o2"]
    assert store.remove_household("CONCERTO") == 0


__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
