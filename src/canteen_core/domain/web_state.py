"""What an HTTP front end keeps between requests: login sessions and idempotent responses.

Both are stored in canteen's storage (collections ``web_sessions`` and ``idempotency_keys``),
so that they survive a restart and are shared by every worker process of a server. Each
record carries the instant it expires (``expires_at``, indexed) so that expired ones are
found and purged with one range query.

A session's ``id`` is the SHA-256 of the random value the browser holds in its cookie
(:func:`session_key`): reading the table does not give a usable cookie.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.actors import Actor

__all__ = ["IdempotentResponse", "PortalSession", "idempotency_key", "session_key"]


def session_key(cookie_value: str) -> str:
    """The stored id of the session whose cookie holds ``cookie_value``."""
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def idempotency_key(user_id: str, key: str) -> str:
    """The stored id of ``user_id``'s ``Idempotency-Key`` ``key``."""
    return hashlib.sha256(f"{user_id}\x1f{key}".encode()).hexdigest()


def _actor(_: object, attribute: attrs.Attribute[Actor], value: object) -> None:
    if not isinstance(value, Actor):
        raise TypeError(f"{attribute.name} must be an Actor")


@attrs.frozen(kw_only=True)
class PortalSession:
    """A logged-in user's session: the actor the facade gets, the session's CSRF token, what
    the dashboard shows of the login, and when the session was created, last used and ends
    (``expires_at``: the earlier of last use plus the idle timeout and creation plus the
    longest session)."""

    id: str = attrs.field(validator=non_empty_str)
    actor: Actor = attrs.field(validator=_actor)
    csrf_token: str = attrs.field(validator=non_empty_str, repr=False)
    must_change_password: bool
    display_name: str
    logged_in_at: datetime = attrs.field(validator=aware_datetime)
    #: The account's login before this one ("Dernière connexion le ..."); ``None`` the first
    #: time.
    previous_login_at: datetime | None = None
    created_at: datetime = attrs.field(validator=aware_datetime)
    last_seen_at: datetime = attrs.field(validator=aware_datetime)
    expires_at: datetime = attrs.field(validator=aware_datetime)

    @property
    def user_id(self) -> str:
        """The logged-in account's id."""
        return self.actor.user_id


@attrs.frozen(kw_only=True)
class IdempotentResponse:
    """The first response to an unsafe request sent with an ``Idempotency-Key``: the same key
    and request replay it; ``fingerprint`` is a digest of the request, ``body`` the response
    body as JSON text."""

    id: str = attrs.field(validator=non_empty_str)
    user_id: str = attrs.field(validator=non_empty_str)
    fingerprint: str = attrs.field(validator=non_empty_str)
    status: int
    body: str
    expires_at: datetime = attrs.field(validator=aware_datetime)
