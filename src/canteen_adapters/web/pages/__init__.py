"""The portal's server-rendered pages (family portal and staff back office), in French.

They call the same :class:`~canteen_core.services.Canteen` facade as the JSON API, share its
cookie sessions, and check each form's CSRF token (see :mod:`.render`). Every page works
without JavaScript. :func:`pages_router` is mounted by :func:`~canteen_adapters.web.create_app`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Response, Router, get
from litestar.exceptions import HTTPException
from litestar.router import Router as _Router
from litestar.static_files import create_static_files_router

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages import (
    account,
    campaigns,
    documents,
    enrollment_requests,
    family,
    menus,
    money_office,
    papers,
    reservations,
    staff,
)
from canteen_adapters.web.pages.common import page_errors
from canteen_adapters.web.pages.render import path_of

__all__ = ["FAVICON", "STATIC", "pages_router", "route_errors", "static_router"]

STATIC = Path(__file__).resolve().parent.parent / "static"
#: The portal's icon, linked from every page (``/static/favicon.svg``) and also answered at
#: ``/favicon.ico``, where browsers and crawlers look without a link.
FAVICON = STATIC / "favicon.svg"


def _no_api_csrf(request: AnyRequest) -> None:
    """The pages check their forms' ``csrf_token`` field themselves (this hook replaces the
    API's header check, which a plain HTML form cannot satisfy)."""


@get("/favicon.ico", sync_to_thread=False, include_in_schema=False, name="favicon")
def favicon() -> Response[bytes]:
    """The portal's icon (SVG, which browsers take at this address too), cached for a day."""
    return Response(
        FAVICON.read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def pages_router() -> Router:
    """Every page, with errors rendered as French pages."""
    return Router(
        path="/",
        route_handlers=[
            *account.HANDLERS,
            *family.HANDLERS,
            *reservations.HANDLERS,
            *staff.HANDLERS,
            *enrollment_requests.HANDLERS,
            *documents.HANDLERS,
            *money_office.HANDLERS,
            *papers.HANDLERS,
            *menus.HANDLERS,
            *campaigns.HANDLERS,
            favicon,
        ],
        before_request=_no_api_csrf,
        exception_handlers=page_errors(),  # type: ignore[arg-type]
        include_in_schema=False,
    )


def route_errors(
    fallback: Callable[[AnyRequest, HTTPException], Response[Any]],
) -> Callable[[AnyRequest, HTTPException], Response[Any]]:
    """The app's handler of Litestar's errors, wrapped: an address no route serves, asked by a
    browser (``Accept: text/html``) outside the API, gets the pages' French "Introuvable" page
    (a mistyped or stale link of a parent); anything else gets ``fallback`` (the API's
    problem+json)."""
    show = page_errors()[HTTPException]

    def handle(request: AnyRequest, error: HTTPException) -> Response[Any]:
        path = path_of(request)
        if (
            error.status_code == 404
            and "text/html" in request.headers.get("accept", "")
            and not path.startswith(("/api/", "/schema"))
        ):
            return show(request, error)
        return fallback(request, error)

    return handle


def static_router() -> _Router:
    """The pages' stylesheet and script, under ``/static``."""
    return create_static_files_router(
        path="/static", directories=[STATIC], include_in_schema=False, name="static"
    )
