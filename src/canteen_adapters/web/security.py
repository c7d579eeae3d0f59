"""Security headers on every response and the CSRF check of unsafe requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.types import Message, Scope

from canteen_adapters.web.problems import Problem
from canteen_adapters.web.sessions import CSRF_HEADER, Session, same_token

__all__ = [
    "check_csrf",
    "client_address",
    "csrf_applies",
    "csrf_refused",
    "is_local",
    "security_headers",
]

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The API's pages are JSON; the rendered OpenAPI page loads its viewer from a CDN.
CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src 'self' https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://cdn.jsdelivr.net; "
    "worker-src blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cache-control", b"no-store"),
]
#: Routes used without a session (checked as such even when a session cookie is present).
ANONYMOUS = frozenset(
    {
        "/api/v1/session",
        "/api/v1/account/activation",
        "/api/v1/account/password-reset",
        "/api/v1/account/password-reset/confirm",
    }
)
LOCAL_HOSTS = frozenset(
    {"localhost", "127.0.0.1", "::1", "[::1]", "testserver", "testserver.local"}
)


def csrf_refused(field: str) -> Problem:
    """The 403 of an unsafe request whose CSRF token (in ``field``) is missing or wrong: the
    API's header and the pages' form field alike."""
    return Problem(
        403,
        "csrf",
        "Jeton CSRF manquant",
        "La demande n'a pas pu être vérifiée : rechargez la page et recommencez.",
        field=field,
    )


def security_headers(docs_path: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook adding CSP (``frame-ancestors 'none'``), ``nosniff`` and
    friends to every HTTP response, errors and unknown routes included."""

    # A coroutine: Litestar runs a sync hook in a worker thread, twice per response.
    async def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        csp = (DOCS_CSP if scope.get("path") == docs_path else CSP).encode()
        headers = list(message.get("headers", []))
        present = {bytes(name).lower() for name, _ in headers}
        extra = [(b"content-security-policy", csp), *_HEADERS]
        headers.extend((name, value) for name, value in extra if name not in present)
        message["headers"] = headers

    return add


def is_local(request: Request[Any, Any, Any]) -> bool:
    """Whether the request's host is the machine itself (cookies without ``Secure``)."""
    host = (request.url.hostname or "").lower()
    return host in LOCAL_HOSTS


def client_address(request: Request[Any, Any, Any], *, trust_forwarded: bool) -> str | None:
    """The client's address, for login throttling."""
    if trust_forwarded:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    client = request.client
    return client.host if client is not None else None


def csrf_applies(request: Request[Any, Any, Any], exempt: frozenset[str]) -> bool:
    """Whether :func:`check_csrf` checks ``request``: unsafe requests, except on the paths in
    ``exempt`` (the payment providers' callbacks, authenticated by their signature) and those
    sent with an API key (no cookie: a forged cross-site request cannot carry the key)."""
    if request.method not in UNSAFE or request.url.path in exempt:
        return False
    return not request.headers.get("x-api-key")


def check_csrf(
    request: Request[Any, Any, Any],
    session_of: Callable[[Request[Any, Any, Any]], Session | None],
    exempt: frozenset[str],
) -> None:
    """Refuse an unsafe request without its session's CSRF token (see
    :mod:`canteen_adapters.web.sessions`); the requests checked: :func:`csrf_applies`."""
    if not csrf_applies(request, exempt):
        return
    session = session_of(request)
    if session is not None and request.url.path not in ANONYMOUS:
        if not same_token(request.headers.get(CSRF_HEADER), session.csrf_token):
            raise csrf_refused(CSRF_HEADER)
        return
    if request.method == "DELETE":
        return  # logout: without a session there is nothing to forge
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Problem(
            415,
            "json-required",
            "Format refusé",
            "Les demandes sans session doivent être envoyées en JSON (application/json).",
            field="content-type",
        )
