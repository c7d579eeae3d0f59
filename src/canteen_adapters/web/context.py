"""What every route handler reaches: the canteen, the settings, sessions, the logged-in actor."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, TypeAlias

import attrs
from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency

from canteen_adapters.web.problems import Problem
from canteen_adapters.web.security import is_local
from canteen_adapters.web.sessions import COOKIE, Session, SessionStore
from canteen_adapters.web.settings import WebSettings
from canteen_core.domain.actors import Actor
from canteen_core.services import Canteen

__all__ = ["AnyRequest", "IdempotencyStore", "Web", "WebContext", "not_logged_in"]


def not_logged_in() -> Problem:
    """The 401 of a route that needs a session."""
    return Problem(401, "not-authenticated", "Connexion requise", "Veuillez vous connecter.")


class IdempotencyStore:
    """Responses of unsafe requests sent with an ``Idempotency-Key``, kept ``ttl`` seconds,
    per user: the same key and body replay the first response; the same key with another body
    is refused (422)."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._items: dict[tuple[str, str], tuple[float, str, int, Any]] = {}
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], threading.Lock] = {}

    @staticmethod
    def fingerprint(*parts: str) -> str:
        """A digest of what the request asked."""
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def lock(self, user_id: str, key: str) -> threading.Lock:
        """A lock per (user, key): two concurrent requests with one key run one after the
        other, so the second replays the first."""
        with self._lock:
            return self._keys.setdefault((user_id, key), threading.Lock())

    def get(self, user_id: str, key: str, fingerprint: str) -> tuple[int, Any] | None:
        """The stored (status, body) of ``key``, ``None`` if new; 422 for another request."""
        now = time.monotonic()
        with self._lock:
            for stale in [k for k, v in self._items.items() if now - v[0] > self._ttl]:
                del self._items[stale]
                self._keys.pop(stale, None)
            found = self._items.get((user_id, key))
        if found is None:
            return None
        if found[1] != fingerprint:
            raise Problem(
                422,
                "idempotency-key-reused",
                "Clé d'idempotence déjà utilisée",
                "Cette clé Idempotency-Key a déjà servi pour une autre demande.",
                field="Idempotency-Key",
            )
        return found[2], found[3]

    def put(self, user_id: str, key: str, fingerprint: str, status: int, body: Any) -> None:
        """Remember the response of ``key``."""
        with self._lock:
            self._items[(user_id, key)] = (time.monotonic(), fingerprint, status, body)


@attrs.define
class WebContext:
    """The app's state: one per :func:`~canteen_adapters.web.create_app`."""

    canteen: Canteen
    settings: WebSettings
    sessions: SessionStore
    idempotency: IdempotencyStore

    def session(self, request: Request[Any, Any, Any]) -> Session | None:
        """The request's live session, if any."""
        return self.sessions.get(request.cookies.get(COOKIE))

    def actor(self, request: Request[Any, Any, Any]) -> Actor:
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

    def staff_actor(self, request: Request[Any, Any, Any]) -> Actor:
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

    def secure(self, request: Request[Any, Any, Any]) -> bool:
        """Whether cookies get ``Secure`` for this request."""
        if self.settings.secure_cookies is not None:
            return self.settings.secure_cookies
        return not is_local(request)

    def session_cookie(self, request: Request[Any, Any, Any], value: str | None) -> Cookie:
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

    def public_url(self, request: Request[Any, Any, Any]) -> str:
        """The base URL families reach the API at."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")


#: How a route handler asks for the :class:`WebContext` (``web: Web``).
Web: TypeAlias = NamedDependency[WebContext]
#: The request a route handler receives (``request: AnyRequest``): any user, auth and state.
AnyRequest: TypeAlias = Request[Any, Any, Any]
