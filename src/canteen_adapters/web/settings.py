"""What a deployment may tune in the web adapter."""

from __future__ import annotations

from datetime import timedelta

import attrs

__all__ = ["WebSettings"]


def _positive(_: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValueError(f"{attribute.name} must be a positive duration")


def _not_negative(_: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValueError(f"{attribute.name} must be a duration, zero or more")


@attrs.frozen(kw_only=True)
class WebSettings:
    """Settings of :func:`~canteen_adapters.web.create_app`.

    ``public_url``: the address families reach the API at, used for the payment providers'
    return and notification URLs (default: the request's own scheme and host).
    ``secure_cookies``: force the cookies' ``Secure`` flag on or off; by default it is set
    unless the request's host is ``localhost``, ``127.0.0.1`` or ``::1``.
    ``session_idle``/``session_max``: a session ends after this long unused / in total.
    ``api_keys``: server-to-server keys (``X-API-Key``) mapped to the user id and roles they
    act as, e.g. ``{"k3y": ("portal:combo", ("staff",))}``.
    ``trust_forwarded``: take the client address from ``X-Forwarded-For`` (behind a proxy).
    ``idempotency_ttl``: how long a response to an ``Idempotency-Key`` is replayed.
    ``session_cache``: how long a process trusts a session it read from the storage (a logout
    or a password change reaches the server's other worker processes within it; zero: read
    the storage at every request).
    """

    public_url: str | None = None
    secure_cookies: bool | None = None
    session_idle: timedelta = attrs.field(default=timedelta(minutes=30), validator=_positive)
    session_max: timedelta = attrs.field(default=timedelta(hours=12), validator=_positive)
    api_keys: dict[str, tuple[str, tuple[str, ...]]] = attrs.field(factory=dict)
    trust_forwarded: bool = False
    idempotency_ttl: timedelta = attrs.field(default=timedelta(hours=24), validator=_positive)
    session_cache: timedelta = attrs.field(default=timedelta(seconds=2), validator=_not_negative)
