"""Security headers on every response and the CSRF check of unsafe requests."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from canteen_adapters.web.problems import Problem
from canteen_adapters.web.sessions import COOKIE, CSRF_HEADER, SessionStore, same_token

__all__ = ["SecurityHeaders", "check_csrf", "client_address", "is_local"]

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
LOCAL_HOSTS = frozenset(
    {"localhost", "127.0.0.1", "::1", "[::1]", "testserver", "testserver.local"}
)


class SecurityHeaders:
    """ASGI middleware adding CSP (``frame-ancestors 'none'``), ``nosniff`` and friends to
    every HTTP response, errors included."""

    def __init__(self, app: ASGIApp, docs_path: str = "/docs") -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        csp = (DOCS_CSP if scope["path"] == self.docs_path else CSP).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [(b"content-security-policy", csp), *_HEADERS]
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


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


def check_csrf(
    request: Request[Any, Any, Any], store: SessionStore, exempt: frozenset[str]
) -> None:
    """Refuse an unsafe request without its session's CSRF token (see
    :mod:`canteen_adapters.web.sessions`). Paths in ``exempt`` (the payment providers'
    callbacks, authenticated by their signature) and API-key requests are not checked."""
    if request.method not in UNSAFE or request.url.path in exempt:
        return
    if request.headers.get("x-api-key"):
        return  # no cookie: a forged cross-site request cannot carry the key
    session = store.get(request.cookies.get(COOKIE))
    if session is not None:
        if not same_token(request.headers.get(CSRF_HEADER), session.csrf_token):
            raise Problem(
                403,
                "csrf",
                "Jeton CSRF manquant",
                "La demande n'a pas pu être vérifiée : rechargez la page et recommencez.",
                field=CSRF_HEADER,
            )
        return
    if request.method == "DELETE":
        return  # without a session there is nothing to delete (logout answers anyway)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Problem(
            415,
            "json-required",
            "Format refusé",
            "Les demandes sans session doivent être envoyées en JSON (application/json).",
            field="content-type",
        )
