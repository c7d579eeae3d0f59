"""Cookie sessions and CSRF protection.

A login creates a server-side session: the browser only holds a random id in an ``HttpOnly``,
``SameSite=Lax`` cookie (``Secure`` outside localhost). Each session has its own CSRF token,
returned by the login and by ``GET /api/v1/session``; every unsafe request (POST, PUT, PATCH,
DELETE) of a session must repeat it in the ``X-CSRF-Token`` header. Requests without a session
(login, activation, password reset) must be sent as ``application/json``: a page of another site
cannot send that content type without a CORS preflight, which this API never grants.

Sessions live in the process (:class:`SessionStore`): restarting the server logs everyone out,
and several worker processes need sticky sessions.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime

import attrs

from canteen_core.domain.actors import Actor

__all__ = ["COOKIE", "CSRF_HEADER", "Session", "SessionStore"]

COOKIE = "canteen_session"
CSRF_HEADER = "x-csrf-token"


@attrs.frozen(kw_only=True)
class Session:
    """One logged-in user: the actor the facade gets, and the session's CSRF token."""

    id: str = attrs.field(repr=False)
    actor: Actor
    csrf_token: str = attrs.field(repr=False)
    must_change_password: bool
    display_name: str
    logged_in_at: datetime
    #: The account's login before this one ("Dernière connexion le ..."); ``None`` the first
    #: time.
    previous_login_at: datetime | None
    created: float
    last_seen: float


class SessionStore:
    """Sessions of this process, expiring after ``idle`` seconds unused or ``maximum`` in all."""

    def __init__(
        self, *, idle: float, maximum: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._idle = idle
        self._max = maximum
        self._now = monotonic
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(
        self,
        actor: Actor,
        *,
        must_change_password: bool,
        display_name: str,
        logged_in_at: datetime,
        previous_login_at: datetime | None = None,
    ) -> Session:
        """A new session (a new id each login: no session fixation)."""
        now = self._now()
        session = Session(
            id=secrets.token_urlsafe(32),
            actor=actor,
            csrf_token=secrets.token_urlsafe(32),
            must_change_password=must_change_password,
            display_name=display_name,
            logged_in_at=logged_in_at,
            previous_login_at=previous_login_at,
            created=now,
            last_seen=now,
        )
        with self._lock:
            self._purge(now)
            self._items[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session ``session_id`` (touched), or ``None``."""
        if not session_id:
            return None
        now = self._now()
        with self._lock:
            session = self._items.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self._idle or now - session.created > self._max:
                del self._items[session_id]
                return None
            session = attrs.evolve(session, last_seen=now)
            self._items[session_id] = session
            return session

    def update(self, session: Session, **changes: object) -> Session:
        """Store a changed copy of ``session``."""
        changed = attrs.evolve(session, **changes)  # type: ignore[arg-type]
        with self._lock:
            if session.id in self._items:
                self._items[session.id] = changed
        return changed

    def drop(self, session_id: str | None) -> None:
        """End a session (logout)."""
        if session_id:
            with self._lock:
                self._items.pop(session_id, None)

    def drop_user(self, user_id: str, *, keep: str | None = None) -> None:
        """End every session of ``user_id`` but ``keep`` (after a password change or reset)."""
        with self._lock:
            for key in [k for k, s in self._items.items() if s.actor.user_id == user_id]:
                if key != keep:
                    del self._items[key]

    def __len__(self) -> int:
        return len(self._items)

    def _purge(self, now: float) -> None:
        if len(self._items) % 256:
            return
        for key in [
            k
            for k, s in self._items.items()
            if now - s.last_seen > self._idle or now - s.created > self._max
        ]:
            del self._items[key]


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a CSRF token."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
