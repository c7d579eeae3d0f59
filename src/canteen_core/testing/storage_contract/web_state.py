"""The storage contract for the HTTP front end's sessions and idempotent responses.

Both are documents found by user and by expiry: a session round-trips with its actor and aware
datetimes, the expired ones are found with one range query and removed, and a second record of
one id is refused (two workers reserving one ``Idempotency-Key``).
"""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import ConflictError
from canteen_core.domain.web_state import (
    IdempotentResponse,
    PortalSession,
    idempotency_key,
    session_key,
)
from canteen_core.ports.storage import Range, Storage
from canteen_core.testing.samples import NOW

__all__ = [
    "portal_session",
    "test_idempotent_responses_are_unique_per_user_and_key",
    "test_web_sessions_round_trip_and_expired_ones_are_found",
]


def portal_session(cookie: str, *, user_id: str = "parent", ends: timedelta) -> PortalSession:
    """A session of ``user_id`` (guardian of ``h1``) ending ``ends`` after :data:`NOW`."""
    return PortalSession(
        id=session_key(cookie),
        actor=Actor.guardian(user_id, "h1"),
        csrf_token=f"csrf-{cookie}",
        must_change_password=False,
        display_name="Madame CONCERTO",
        logged_in_at=NOW,
        previous_login_at=NOW - timedelta(days=3),
        created_at=NOW,
        last_seen_at=NOW,
        expires_at=NOW + ends,
    )


def test_web_sessions_round_trip_and_expired_ones_are_found(storage: Storage) -> None:
    live = portal_session("a", ends=timedelta(minutes=30))
    old = portal_session("b", ends=-timedelta(minutes=1))
    other = portal_session("c", user_id="agent", ends=timedelta(hours=1))
    with storage.unit_of_work() as uow:
        uow.web_sessions.add_many([live, old, other])
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.web_sessions.get(session_key("a")) == live
        assert uow.web_sessions.get(session_key("a")).actor.household_ids == {"h1"}
        assert {s.id for s in uow.web_sessions.list(user_id="parent")} == {live.id, old.id}
        expired = list(uow.web_sessions.list(expires_at=Range(high=NOW)))
        assert expired == [old]
    with storage.unit_of_work() as uow:
        uow.web_sessions.remove(old.id)
        uow.web_sessions.save(_used_later(live))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.web_sessions.find(old.id) is None
        assert uow.web_sessions.get(live.id).last_seen_at == NOW + timedelta(minutes=5)
        assert uow.web_sessions.count() == 2


def _used_later(session: PortalSession) -> PortalSession:
    """``session`` used five minutes after :data:`NOW`."""
    moved = NOW + timedelta(minutes=5)
    return attrs.evolve(session, last_seen_at=moved, expires_at=moved + timedelta(minutes=30))


def test_idempotent_responses_are_unique_per_user_and_key(storage: Storage) -> None:
    first = IdempotentResponse(
        id=idempotency_key("parent", "k1"),
        user_id="parent",
        fingerprint="f1",
        status=201,
        body='{"form": {"vads_amount": "1250"}}',
        expires_at=NOW + timedelta(hours=24),
    )
    with storage.unit_of_work() as uow:
        uow.idempotency_keys.add(first)
        uow.commit()
    with storage.unit_of_work() as uow, pytest.raises(ConflictError):
        uow.idempotency_keys.add(first)
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.idempotency_keys.get(first.id) == first
        assert idempotency_key("agent", "k1") != first.id
        assert list(uow.idempotency_keys.list(expires_at=Range(high=NOW))) == []
