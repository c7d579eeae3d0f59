"""Cookie sessions and CSRF protection.

A login creates a server-side session: the browser only holds a random id in an ``HttpOnly``,
``SameSite=Lax`` cookie (``Secure`` outside localhost). Each session has its own CSRF token,
returned by the login and by ``GET /api/v1/session``; every unsafe request (POST, PUT, PATCH,
DELETE) of a session must repeat it in the ``X-CSRF-Token`` header. Requests without a session
(login, activation, password reset) must be sent as ``application/json``: a page of another site
cannot send that content type without a CORS preflight, which this API never grants.

Sessions are stored in canteen's storage (:class:`SessionStore`, collection ``web_sessions``,
the cookie's value hashed): they survive a restart and every worker process of a server shares
them. Expired ones are purged at each login. A process keeps the sessions it read for
:data:`CACHE_FOR` (a storage read per request would cost about as much as the framework
itself): a logout or a password change ends the sessions at once in the process that made it,
and within that delay in the server's other worker processes.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.web_state import PortalSession, session_key
from canteen_core.ports.storage import Range, Storage

__all__ = ["COOKIE", "CSRF_HEADER", "Session", "SessionStore"]

COOKIE = "canteen_session"
CSRF_HEADER = "x-csrf-token"
#: A session's last use is written at most this often (each request would otherwise write):
#: the idle timeout is counted from a last use up to this much older.
TOUCH_EVERY = timedelta(seconds=60)
#: How long a process trusts a session it read from the storage (seconds).
CACHE_FOR = 2.0


@attrs.frozen(kw_only=True)
class Session:
    """One logged-in user: the actor the facade gets, and the session's CSRF token. ``id`` is
    the cookie's value (only its hash is stored)."""

    id: str = attrs.field(repr=False)
    actor: Actor
    csrf_token: str = attrs.field(repr=False)
    must_change_password: bool
    display_name: str
    logged_in_at: datetime
    #: The account's login before this one ("Dernière connexion le ..."); ``None`` the first
    #: time.
    previous_login_at: datetime | None
    created_at: datetime
    last_seen_at: datetime


def _session(cookie: str, stored: PortalSession) -> Session:
    # Every field but the id is the stored one's: the stored id is the cookie's hash.
    kept = {f.name: getattr(stored, f.name) for f in attrs.fields(Session) if f.name != "id"}
    return Session(id=cookie, **kept)


class SessionStore:
    """Sessions in ``storage``, ending after ``idle`` unused or ``maximum`` in all (instants
    of ``now``); each read kept ``cache_for`` seconds in this process."""

    def __init__(
        self,
        storage: Storage,
        *,
        idle: timedelta,
        maximum: timedelta,
        now: Callable[[], datetime],
        cache_for: float = CACHE_FOR,
    ) -> None:
        self._storage = storage
        self._idle = idle
        self._max = maximum
        self._now = now
        self._cache_for = cache_for
        self._cache: dict[str, tuple[float, PortalSession]] = {}
        self._lock = threading.Lock()

    def _expiry(self, created_at: datetime, last_seen_at: datetime) -> datetime:
        return min(last_seen_at + self._idle, created_at + self._max)

    def create(
        self,
        actor: Actor,
        *,
        must_change_password: bool,
        display_name: str,
        logged_in_at: datetime,
        previous_login_at: datetime | None = None,
    ) -> Session:
        """A new session (a new id each login: no session fixation); expired sessions are
        purged on the way."""
        now = self._now()
        cookie = secrets.token_urlsafe(32)
        stored = PortalSession(
            id=session_key(cookie),
            actor=actor,
            csrf_token=secrets.token_urlsafe(32),
            must_change_password=must_change_password,
            display_name=display_name,
            logged_in_at=logged_in_at,
            previous_login_at=previous_login_at,
            created_at=now,
            last_seen_at=now,
            expires_at=self._expiry(now, now),
        )
        with self._storage.unit_of_work() as uow:
            for expired in list(uow.web_sessions.list(expires_at=Range(high=now))):
                uow.web_sessions.remove(expired.id)
            uow.web_sessions.add(stored)
            uow.commit()
        return _session(cookie, stored)

    def known(self, session_id: str | None) -> bool:
        """Whether :meth:`get` would answer for ``session_id`` without the storage (no cookie,
        or a session read within :data:`CACHE_FOR` whose last use needs no recording): an
        event loop may then call it without blocking."""
        if not session_id:
            return True
        stored = self._cached(session_key(session_id))
        if stored is None:
            return False
        now = self._now()
        return stored.expires_at <= now or now - stored.last_seen_at < TOUCH_EVERY

    def get(self, session_id: str | None) -> Session | None:
        """The live session whose cookie holds ``session_id``, or ``None`` (its last use is
        recorded, at most every :data:`TOUCH_EVERY`)."""
        if not session_id:
            return None
        key = session_key(session_id)
        now = self._now()
        stored = self._cached(key)
        if stored is None:
            with self._storage.unit_of_work(read_only=True) as uow:
                stored = uow.web_sessions.find(key)
            if stored is None:
                return None
            self._remember(stored)
        if stored.expires_at <= now:
            self._forget(key)
            return None
        if now - stored.last_seen_at >= TOUCH_EVERY:
            stored = attrs.evolve(
                stored, last_seen_at=now, expires_at=self._expiry(stored.created_at, now)
            )
            with self._storage.unit_of_work() as uow:
                if uow.web_sessions.find(key) is None:  # ended meanwhile (another worker)
                    self._forget(key)
                    return None
                uow.web_sessions.save(stored)
                uow.commit()
            self._remember(stored)
        return _session(session_id, stored)

    def _cached(self, key: str) -> PortalSession | None:
        with self._lock:
            found = self._cache.get(key)
        if found is None or time.monotonic() - found[0] >= self._cache_for:
            return None
        return found[1]

    def _remember(self, stored: PortalSession) -> None:
        if self._cache_for <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._cache) >= 10_000:
                self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self._cache_for}
            self._cache[stored.id] = (now, stored)

    def _forget(self, *keys: str, user_id: str | None = None) -> None:
        with self._lock:
            for key in keys:
                self._cache.pop(key, None)
            if user_id is not None:
                for key in [k for k, v in self._cache.items() if v[1].user_id == user_id]:
                    del self._cache[key]

    def update(self, session: Session, **changes: object) -> Session:
        """Store a changed copy of ``session`` (``must_change_password``, ``display_name``)."""
        changed = attrs.evolve(session, **changes)  # type: ignore[arg-type]
        key = session_key(session.id)
        with self._storage.unit_of_work() as uow:
            stored = uow.web_sessions.find(key)
            if stored is not None:
                uow.web_sessions.save(
                    attrs.evolve(
                        stored,
                        must_change_password=changed.must_change_password,
                        display_name=changed.display_name,
                    )
                )
                uow.commit()
        self._forget(key)
        return changed

    def drop(self, session_id: str | None) -> None:
        """End a session (logout)."""
        if not session_id:
            return
        key = session_key(session_id)
        self._forget(key)
        with self._storage.unit_of_work() as uow:
            if uow.web_sessions.find(key) is not None:
                uow.web_sessions.remove(key)
                uow.commit()

    def drop_user(self, user_id: str, *, keep: str | None = None) -> None:
        """End every session of ``user_id`` but ``keep`` (after a password change or reset)."""
        kept = session_key(keep) if keep else None
        self._forget(user_id=user_id)
        with self._storage.unit_of_work() as uow:
            for stored in list(uow.web_sessions.list(user_id=user_id)):
                if stored.id != kept:
                    uow.web_sessions.remove(stored.id)
            uow.commit()

    def purge(self) -> int:
        """Remove the expired sessions; how many."""
        with self._storage.unit_of_work() as uow:
            expired = list(uow.web_sessions.list(expires_at=Range(high=self._now())))
            for stored in expired:
                uow.web_sessions.remove(stored.id)
            uow.commit()
        return len(expired)

    def __len__(self) -> int:
        """How many sessions are stored (live or not purged yet)."""
        with self._storage.unit_of_work(read_only=True) as uow:
            return uow.web_sessions.count()


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a CSRF token."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
