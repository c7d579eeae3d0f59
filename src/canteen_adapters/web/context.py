"""What every route handler reaches: the canteen, the settings, sessions, the logged-in actor."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import attrs
from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.serialization import encode_json

from canteen_adapters.web.problems import Problem
from canteen_adapters.web.security import is_local
from canteen_adapters.web.sessions import COOKIE, Session, SessionStore
from canteen_adapters.web.settings import WebSettings
from canteen_core.domain.accounts import Login
from canteen_core.domain.actors import Actor
from canteen_core.domain.web_state import IdempotentResponse, idempotency_key
from canteen_core.ports.storage import Range, Storage
from canteen_core.services import Canteen

__all__ = ["AnyRequest", "IdempotencyStore", "Web", "WebContext", "not_logged_in"]


#: The request a route handler receives (``request: AnyRequest``): any user, auth and state.
AnyRequest: TypeAlias = Request[Any, Any, Any]

#: Where a request keeps its session once read (its ASGI scope's state).
_SESSION = "canteen_session"


def not_logged_in() -> Problem:
    """The 401 of a route that needs a session."""
    return Problem(401, "not-authenticated", "Connexion requise", "Veuillez vous connecter.")


class IdempotencyStore:
    """Responses of unsafe requests sent with an ``Idempotency-Key``, kept ``ttl`` in
    ``storage`` (collection ``idempotency_keys``, shared by the server's workers), per user:
    the same key and body replay the first response; the same key with another body is
    refused (422). Expired ones are purged when a new one is stored."""

    def __init__(self, storage: Storage, ttl: timedelta, now: Callable[[], datetime]) -> None:
        self._storage = storage
        self._ttl = ttl
        self._now = now
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], threading.Lock] = {}

    @staticmethod
    def fingerprint(*parts: str) -> str:
        """A digest of what the request asked."""
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def lock(self, user_id: str, key: str) -> threading.Lock:
        """A lock per (user, key): two concurrent requests with one key in this process run
        one after the other, so the second replays the first."""
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys = {k: v for k, v in self._keys.items() if v.locked()}
            return self._keys.setdefault((user_id, key), threading.Lock())

    def get(self, user_id: str, key: str, fingerprint: str) -> tuple[int, Any] | None:
        """The stored (status, body) of ``key``, ``None`` if new; 422 for another request."""
        with self._storage.unit_of_work(read_only=True) as uow:
            found = uow.idempotency_keys.find(idempotency_key(user_id, key))
        if found is None or found.expires_at <= self._now():
            return None
        if found.fingerprint != fingerprint:
            raise Problem(
                422,
                "idempotency-key-reused",
                "Clé d'idempotence déjà utilisée",
                "Cette clé Idempotency-Key a déjà servi pour une autre demande.",
                field="Idempotency-Key",
            )
        return found.status, json.loads(found.body)

    def put(self, user_id: str, key: str, fingerprint: str, status: int, body: Any) -> None:
        """Remember the response of ``key``."""
        now = self._now()
        record = IdempotentResponse(
            id=idempotency_key(user_id, key),
            user_id=user_id,
            fingerprint=fingerprint,
            status=status,
            body=encode_json(body).decode(),
            expires_at=now + self._ttl,
        )
        with self._storage.unit_of_work() as uow:
            for expired in list(uow.idempotency_keys.list(expires_at=Range(high=now))):
                uow.idempotency_keys.remove(expired.id)
            uow.idempotency_keys.save(record)
            uow.commit()


@attrs.define
class WebContext:
    """The app's state: one per :func:`~canteen_adapters.web.create_app`."""

    canteen: Canteen
    settings: WebSettings
    sessions: SessionStore
    idempotency: IdempotencyStore

    def session(self, request: AnyRequest) -> Session | None:
        """The request's live session, if any (read once per request)."""
        state = request.scope.setdefault("state", {})
        if _SESSION in state:
            found: Session | None = state[_SESSION]
            return found
        found = self.sessions.get(request.cookies.get(COOKIE))
        state[_SESSION] = found
        return found

    def session_known(self, request: AnyRequest) -> bool:
        """Whether :meth:`session` answers without reading the storage (read already, no
        cookie, or cached: see :meth:`SessionStore.known`)."""
        state = request.scope.setdefault("state", {})
        return _SESSION in state or self.sessions.known(request.cookies.get(COOKIE))

    def open_session(self, request: AnyRequest, login: Login) -> Session:
        """The session of a successful ``login`` (API or login page alike): the one the
        request's cookie names is dropped, a new one (a new id) is created."""
        self.sessions.drop(request.cookies.get(COOKIE))
        account = login.account
        return self.sessions.create(
            login.actor,
            must_change_password=login.must_change_password,
            display_name=account.display_name,
            logged_in_at=account.last_login_at or self.canteen.context.clock.now(),
            previous_login_at=account.previous_login_at,
        )

    def actor(self, request: AnyRequest) -> Actor:
        """The acting user: the session's, or an API key's; 401 without either."""
        key = request.headers.get("x-api-key")
        if key is not None:
            found = self.settings.api_keys.get(key)
            if found is None:
                raise Problem(
                    401, "invalid-api-key", "Clé refusée", "Cette clé d'API n'est pas valide."
                )
            user_id, roles = found
            return Actor(user_id=user_id, roles=roles)
        session = self.session(request)
        if session is None:
            raise not_logged_in()
        return session.actor

    def staff_actor(self, request: AnyRequest) -> Actor:
        """The acting user, who must be staff: :meth:`actor`, and 403 for a family."""
        actor = self.actor(request)
        if actor.is_family:
            raise Problem(
                403,
                "staff-only",
                "Accès refusé",
                "Cette page est réservée au service restauration.",
            )
        return actor

    def secure(self, request: AnyRequest) -> bool:
        """Whether cookies get ``Secure`` for this request."""
        if self.settings.secure_cookies is not None:
            return self.settings.secure_cookies
        return not is_local(request)

    def session_cookie(self, request: AnyRequest, value: str | None) -> Cookie:
        """The session cookie to set (``None``: delete it)."""
        return Cookie(
            key=COOKIE,
            value=value or "",
            path="/",
            httponly=True,
            secure=self.secure(request),
            samesite="lax",
            max_age=None if value else 0,
        )

    def public_url(self, request: AnyRequest) -> str:
        """The base URL families reach the API at."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")


#: How a route handler asks for the :class:`WebContext` (``web: Web``).
Web: TypeAlias = NamedDependency[WebContext]
