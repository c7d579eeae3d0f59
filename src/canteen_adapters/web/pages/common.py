"""What every page handler shares: the renderer, the session a page needs, the checked form,
errors shown as pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote, urlencode

import attrs
from litestar import Response
from litestar.concurrency import sync_to_thread
from litestar.datastructures import FormMultiDict
from litestar.exceptions import HTTPException

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.render import (
    LoginRequired,
    PageRenderer,
    PasswordChangeRequired,
    check_form,
    context_of,
    redirect,
)
from canteen_adapters.web.problems import Problem, canteen_error_to_problem
from canteen_adapters.web.routes._dates import parse_day as iso_day
from canteen_adapters.web.sessions import Session
from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import CanteenError

__all__ = [
    "NEXT",
    "Refusal",
    "error_text",
    "form_of",
    "home_of",
    "household_page",
    "page",
    "page_errors",
    "parse_day",
    "review_of",
    "run",
    "session_of",
    "sites_of",
    "staff_of",
    "target_of",
    "with_target",
]

#: The query parameter (and the login and password forms' hidden field) that carries the page a
#: user asked for without a session, to open it after login: ``/connexion?suivant=/factures``.
NEXT = "suivant"
#: Longer "targets" are refused (a real page's path and query are far shorter).
_MAX_TARGET = 2000

P = ParamSpec("P")
T = TypeVar("T")


def renderer(request: AnyRequest) -> PageRenderer:
    """The app's page renderer (made once, on first use)."""
    state = request.app.state
    found = state.get("canteen_pages")
    if found is None:
        found = PageRenderer(context_of(request).canteen.deployment.portal.template_dir)
        state["canteen_pages"] = found
    assert isinstance(found, PageRenderer)
    return found


@attrs.frozen
class Refusal:
    """Why a form was refused, for its page shown again: the HTTP status, the French reason
    and the field at fault."""

    status: int
    reason: str
    field: str | None = None

    @classmethod
    def of(cls, request: AnyRequest, error: Exception) -> Refusal:
        """The refusal ``error`` says (its French detail, as the API would answer it)."""
        status, _, detail = error_text(request, error)
        return cls(status, detail, getattr(error, "path", None))


def page(
    request: AnyRequest, name: str, *, refusal: Refusal | None = None, **values: Any
) -> Response[str]:
    """Render ``pages/<name>`` (see :meth:`PageRenderer.page`). Every page gets ``error`` and
    ``field``: with a ``refusal``, the form is shown again with its reason, the field at fault
    and its status; else both ``None``."""
    if refusal is None:
        return renderer(request).page(request, name, error=None, field=None, **values)
    return renderer(request).page(
        request,
        name,
        status=refusal.status,
        error=refusal.reason,
        field=refusal.field,
        **values,
    )


async def household_page(
    request: AnyRequest, household_id: str, name: str, **values: Any
) -> Response[str]:
    """A family page: the ``household`` (guardians, children) and the page's own ``values``."""
    actor = session_of(request).actor
    household = await run(context_of(request).canteen.families.get, actor, household_id)
    return page(request, name, household=household, **values)


async def run(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call the (blocking) facade in the thread pool."""
    return await sync_to_thread(function, *args, **kwargs)


def session_of(request: AnyRequest, *, password_page: bool = False) -> Session:
    """The page's session; to the login page without one, to the password change while the
    temporary password is still in use."""
    session = context_of(request).session(request)
    if session is None:
        raise LoginRequired()
    if session.must_change_password and not password_page:
        raise PasswordChangeRequired()
    return session


def staff_of(request: AnyRequest) -> Actor:
    """The acting user of a back-office page; "Accès refusé" for a family account."""
    actor = session_of(request).actor
    if actor.is_family:
        raise Problem(
            403, "staff-only", "Accès refusé", "Cette page est réservée au service restauration."
        )
    return actor


def sites_of(request: AnyRequest, actor: Actor, wanted: str | None) -> tuple[dict[str, str], str]:
    """The site picker's choices, site id to name of every site with an enrollment the actor
    may read, and the site shown: ``wanted``, else the first (blocking)."""
    canteen = context_of(request).canteen
    sites = {e.site.id: e.site.name for e in canteen.enrollments.list_enrollments(actor)}
    return sites, wanted or next(iter(sorted(sites)), "")


def home_of(session: Session) -> str:
    """Where a user lands after login: the family's dashboard, staff's back office."""
    if session.actor.is_family and session.actor.household_ids:
        return f"/foyer/{sorted(session.actor.household_ids)[0]}"
    return "/gestion"


def target_of(value: object) -> str | None:
    """``value`` if it is a page of this site to open after login, else ``None``.

    Only a relative path is accepted: it starts with a single ``/`` (not ``//``, which a
    browser reads as another host), holds no backslash (read as ``/`` by browsers), and only
    printable ASCII (no space, no control character: a browser drops a tab or a newline, so
    a tab between two slashes would make ``//evil.example``). Anything else (a full URL, another
    host) is refused, so a crafted link cannot send the user to another site after login."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    if len(value) > _MAX_TARGET or "\\" in value:
        return None
    if any(not "\x21" <= char <= "\x7e" for char in value):
        return None
    return value


def with_target(path: str, target: str | None) -> str:
    """``path`` carrying ``target`` (see :func:`target_of`) in its ``suivant`` parameter."""
    return f"{path}?{urlencode({NEXT: target})}" if target else path


def _asked(request: AnyRequest) -> str | None:
    """The page a GET asked for (path and query, percent-encoded), when it may be opened
    after login."""
    if request.method not in ("GET", "HEAD"):
        return None  # a form posted without a session is not posted again after login
    path = quote(request.scope["path"], safe="/:@!$&'()*+,;=-._~")
    query = request.scope.get("query_string", b"").decode("latin-1")
    return target_of(f"{path}?{query}" if query else path)


async def form_of(request: AnyRequest) -> FormMultiDict:
    """The posted form, once its CSRF token is checked."""
    form = await request.form()
    check_form(request, form)
    return form


def review_of(form: FormMultiDict) -> tuple[bool, str]:
    """A staff decision posted by ``review_form`` (``pages/_review.html``): whether it accepts
    (``decision`` = ``accepter``; else it refuses) and the reason typed, stripped."""
    return form.get("decision") == "accepter", str(form.get("reason", "")).strip()


def error_text(request: AnyRequest, error: Exception) -> tuple[int, str, str]:
    """(status, French title, French detail) of an error, as the API would answer it."""
    if isinstance(error, CanteenError):
        response = canteen_error_to_problem(request, error)
        body = response.content
        return int(body["status"]), str(body["title"]), str(body["detail"])
    if isinstance(error, Problem):
        return error.status_code, error.title, str(error.detail)
    if isinstance(error, HTTPException) and error.status_code == 404:
        return 404, "Introuvable", "Cette page n'existe pas."
    return 500, "Erreur", "Une erreur est survenue : réessayez plus tard."


def _error_page(request: AnyRequest, error: Exception) -> Response[Any]:
    if isinstance(error, LoginRequired):
        return redirect(request, with_target("/connexion", _asked(request)))
    if isinstance(error, PasswordChangeRequired):
        return redirect(request, with_target("/mot-de-passe", _asked(request)))
    status, title, detail = error_text(request, error)
    if status == 401:
        return redirect(request, with_target("/connexion", _asked(request)))
    return page(request, "erreur.html", status=status, title=title, detail=detail)


def page_errors() -> dict[type[Exception], Callable[[AnyRequest, Any], Response[Any]]]:
    """Exception handlers of the pages: errors become French pages, not problem+json."""
    return {CanteenError: _error_page, HTTPException: _error_page}


def parse_day(text: str | None, default: date, *, path: str) -> date:
    """A day a form or query gives as ``AAAA-MM-JJ`` (``default`` when empty); one French line
    naming the field ``path`` otherwise."""
    return iso_day(text, path) if text else default
