"""Rendering the portal's pages: Jinja2 templates, sessions, the forms' CSRF tokens.

Templates come from ``canteen_adapters/web/templates/`` and, searched first, from the
deployment's ``[portal] template_dir``: a commune overrides any page (the footer's legal notice,
terms of use, contact and help pages are meant for that) by a file of the same name.

Forms carry their CSRF token in a hidden ``csrf_token`` field: the session's token once logged
in; before login (login, activation, forgotten password), a random token also set in the
``canteen_form`` cookie (``HttpOnly``, ``SameSite=Strict``), which the field must repeat.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2
import markupsafe
from litestar import Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException

from canteen_adapters.web.context import AnyRequest, WebContext
from canteen_adapters.web.security import csrf_refused
from canteen_adapters.web.sessions import Session, same_token
from canteen_core.domain._french import format_time_fr
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.families import Diet
from canteen_core.domain.money import Money

__all__ = [
    "DIETS_FR",
    "FORM_COOKIE",
    "LoginRequired",
    "PageRenderer",
    "check_form",
    "context_of",
    "diet_fr",
    "euros",
    "fr_date",
    "fr_datetime",
    "fr_deadline",
    "path_of",
    "redirect",
    "root_of",
    "text",
    "url_of",
]

FORM_COOKIE = "canteen_form"
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'{extra}; frame-ancestors 'none'; base-uri 'none'"
)
#: The diets as the pages name them: each :class:`Diet`'s ``label`` (the kitchen's words, as
#: ``canteen headcount`` prints them).
DIETS_FR: Mapping[str, str] = MappingProxyType({diet.value: diet.label for diet in Diet})
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class LoginRequired(HTTPException):
    """A page that needs a session was asked without one: redirected to the login page."""

    status_code = 303


class PasswordChangeRequired(HTTPException):
    """The temporary password must be changed before any other page."""

    status_code = 303


def fr_date(value: date | datetime | None) -> str:
    """``09/06/2023`` (a datetime in Europe/Paris)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS)
    return f"{value:%d/%m/%Y}"


def fr_datetime(value: datetime | None) -> str:
    """``09/08/2023 à 17:58`` (Europe/Paris), as the seed's dashboard writes the last login
    (a deadline on the grid: :func:`fr_deadline`)."""
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return f"{local:%d/%m/%Y} à {local:%H:%M}"


def fr_deadline(value: datetime | None) -> str:
    """``12/10/2023 à 10 h 00`` (Europe/Paris): a deadline on the reservation grid, its time
    written as the domain's deadline texts shown beside it write theirs ("Délai dépassé depuis
    le jeudi 12 octobre 2023 à 10 h 00")."""
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return f"{local:%d/%m/%Y} à {format_time_fr(local)}"


def fr_weekday(value: date) -> str:
    """``lundi 04/09/2023``."""
    return f"{_WEEKDAYS[value.weekday()]} {value:%d/%m/%Y}"


def diet_fr(value: Diet | str) -> str:
    """``sans porc``: a diet in French, its :attr:`Diet.label` (an unknown value as it is)."""
    return DIETS_FR.get(value, str(value))


def euros(value: Money | None) -> str:
    """``1 234,50 €``."""
    if value is None:
        return ""
    text = f"{value.rounded().amount:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text} €"


def text(value: object) -> markupsafe.Markup:
    """An element's text, escaped where it must be (``&``, ``<``, ``>``): an apostrophe in a
    French text a macro is given stays as written."""
    if isinstance(value, markupsafe.Markup):
        return value
    return markupsafe.Markup(html.escape(str(value), quote=False))


def context_of(request: AnyRequest) -> WebContext:
    """The app's :class:`WebContext`."""
    found = request.app.state["canteen_web"]
    assert isinstance(found, WebContext)
    return found


def root_of(request: AnyRequest) -> str:
    """The prefix the app is mounted under (the ASGI ``root_path``: ``/cantine`` behind
    ``uvicorn --root-path /cantine`` or a Starlette ``Mount``), without its last ``/``; ``""``
    when the app is served at the root."""
    scope = request.scope
    return str(scope.get("app_root_path") or scope.get("root_path") or "").rstrip("/")


def path_of(request: AnyRequest) -> str:
    """The page's path inside the app (``/foyer/X``), without the prefix it is mounted under."""
    path = str(request.scope["path"])  # once routed, Litestar has taken the prefix off
    root = root_of(request)
    if root and (path == root or path.startswith(root + "/")):  # not routed (an unknown page)
        return path[len(root) :] or "/"
    return path


def url_of(root: str, path: str) -> str:
    """The address a browser asks for a page of the app: ``path`` (``/foyer/X?fait=1``, as the
    routes name it) under the app's prefix ``root`` (see :func:`root_of`). Anything else
    (a full URL, a relative ``?date=...``) is kept as it is."""
    return root + path if path.startswith("/") and not path.startswith("//") else path


def redirect(
    request: AnyRequest, location: str, *, cookies: list[Cookie] | None = None
) -> Response[None]:
    """A 303 to the app's page ``location`` (after a form, the browser GETs it), under the
    prefix the app is mounted under (see :func:`url_of`)."""
    headers = {"Location": url_of(root_of(request), location)}
    return Response(None, status_code=303, headers=headers, cookies=cookies)


def check_form(request: AnyRequest, form: Mapping[str, Any]) -> None:
    """Refuse a form whose ``csrf_token`` is not the session's (or, without a session, the
    ``canteen_form`` cookie's)."""
    web = context_of(request)
    session = web.session(request)
    given = form.get("csrf_token")
    expected = session.csrf_token if session is not None else request.cookies.get(FORM_COOKIE)
    if not isinstance(given, str) or not expected or not same_token(given, expected):
        raise csrf_refused("csrf_token")


class PageRenderer:
    """The Jinja2 environment of the pages (package templates, deployment overrides)."""

    def __init__(self, template_dir: str | Path | None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if template_dir is not None:
            folder = Path(template_dir)
            if not folder.is_dir():
                raise ConfigurationError(
                    f"template directory {str(folder)!r} does not exist", path="template_dir"
                )
            loaders.append(jinja2.FileSystemLoader(folder))
        loaders.append(jinja2.PackageLoader("canteen_adapters.web", "templates"))
        self.environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.globals["url"] = _template_url
        self.environment.filters.update(
            fr_date=fr_date,
            fr_datetime=fr_datetime,
            fr_deadline=fr_deadline,
            euros=euros,
            fr_weekday=fr_weekday,
            text=text,
            diet=diet_fr,
        )

    def page(
        self,
        request: AnyRequest,
        name: str,
        *,
        status: int = 200,
        form_action: str | None = None,
        **values: Any,
    ) -> Response[str]:
        """Render ``pages/<name>`` with the common values: ``session``, ``csrf_token``,
        ``portal``, ``issuer``, ``path`` (the page's path inside the app), ``root_path`` (the
        prefix the app is mounted under, which templates put before every address they write:
        ``{{ root_path }}/foyer/...``, or ``url("/foyer/...")``), ``direct_debit`` (whether
        SEPA is offered: the menu links "Prélèvement" only then). ``form_action``: another
        origin forms may post to (the payment provider)."""
        web = context_of(request)
        session = web.session(request)
        cookies: list[Cookie] = []
        if session is not None:
            token = session.csrf_token
        else:
            token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
            cookies.append(
                Cookie(
                    key=FORM_COOKIE,
                    value=token,
                    path="/",
                    httponly=True,
                    secure=web.secure(request),
                    samesite="strict",
                )
            )
        deployment = web.canteen.deployment
        html = self.environment.get_template(f"pages/{name}").render(
            session=session,
            staff=session is not None and not session.actor.is_family,
            household_id=_household(session),
            csrf_token=token,
            portal=deployment.portal,
            portal_name=deployment.portal.name or "Espace Restauration",
            issuer=deployment.issuer,
            path=path_of(request),
            root_path=root_of(request),
            direct_debit=web.canteen.payments.offers_direct_debit(),
            **values,
        )
        extra = f" {form_action}" if form_action else ""
        return Response(
            html,
            status_code=status,
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": PAGE_CSP.format(extra=extra)},
            cookies=cookies,
        )


@jinja2.pass_context
def _template_url(context: jinja2.runtime.Context, path: str) -> str:
    """A template's ``url("/foyer/X")``: the page's address under the app's prefix."""
    return url_of(str(context.get("root_path") or ""), path)


def _household(session: Session | None) -> str | None:
    if session is None or not session.actor.household_ids:
        return None
    return sorted(session.actor.household_ids)[0]
