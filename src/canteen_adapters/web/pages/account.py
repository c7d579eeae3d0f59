"""Account pages: login, logout, activation from the e-mailed link, the forced password change,
the forgotten password, and the footer's information pages."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromQuery

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.common import (
    NEXT,
    Refusal,
    form_of,
    home_of,
    page,
    run,
    session_of,
    target_of,
    with_target,
)
from canteen_adapters.web.pages.render import context_of, redirect
from canteen_adapters.web.security import client_address
from canteen_adapters.web.sessions import COOKIE
from canteen_core.domain.errors import CanteenError

__all__ = ["HANDLERS", "INFO_PAGES"]

#: The footer's pages: path -> (template, title). Their texts are the deployment's (override
#: ``pages/<template>`` in ``[portal] template_dir``).
INFO_PAGES = {
    "/mentions-legales": ("mentions-legales.html", "Mentions légales"),
    "/conditions-generales": ("conditions-generales.html", "Conditions générales d'utilisation"),
    "/contact": ("contact.html", "Nous contacter"),
    "/aide": ("aide.html", "Aide"),
}


def _rules(request: AnyRequest) -> int:
    return context_of(request).canteen.context.account_settings.min_password_length


def _opening(request: AnyRequest) -> Any:
    web = context_of(request)
    opens = web.canteen.accounts.portal_opens_at
    if opens is None or opens <= web.canteen.context.clock.now():
        return None
    return opens


@get("/", sync_to_thread=False, include_in_schema=False)
def index(request: AnyRequest) -> Response[Any]:
    """The portal's entry: the user's home page, or the login page."""
    session = context_of(request).session(request)
    return redirect(request, "/connexion" if session is None else home_of(session))


def _asked_for(request: AnyRequest) -> str | None:
    """The page to open once logged in, from the query's ``suivant`` (see
    :func:`~.common.target_of`)."""
    return target_of(request.query_params.get(NEXT))


@get("/connexion", sync_to_thread=False, include_in_schema=False)
def login_page(request: AnyRequest) -> Response[Any]:
    """The login form ("le portail ouvre le ..." before the opening date); ``suivant``: the
    page to open once logged in (an e-mail's link followed without a session), opened at once
    for a user already logged in (the link followed in another tab meanwhile)."""
    asked = _asked_for(request)
    session = context_of(request).session(request)
    if asked is not None and session is not None and not session.must_change_password:
        return redirect(request, asked)
    return page(request, "connexion.html", opens=_opening(request), username="", suivant=asked)


@post("/connexion", include_in_schema=False)
async def login(request: AnyRequest) -> Response[Any]:
    """Log in: a new session, then the password change (temporary password), then the page
    the form's ``suivant`` asks for, or home."""
    form = await form_of(request)
    web = context_of(request)
    asked = target_of(form.get(NEXT))
    username = str(form.get("username", ""))
    source = client_address(request, trust_forwarded=web.settings.trust_forwarded)
    try:
        done = await run(
            web.canteen.accounts.login, username, str(form.get("password", "")), source=source
        )
    except CanteenError as error:
        refusal = Refusal.of(request, error)
        return page(
            request,
            "connexion.html",
            refusal=refusal,
            opens=_opening(request),
            username=username,
            suivant=asked,
        )
    session = web.open_session(request, done)
    if session.must_change_password:
        target = with_target("/mot-de-passe", asked)
    else:
        target = asked or home_of(session)
    return redirect(request, target, cookies=[web.session_cookie(request, session.id)])


@post("/deconnexion", include_in_schema=False)
async def logout(request: AnyRequest) -> Response[Any]:
    """Log out."""
    await form_of(request)
    web = context_of(request)
    session = web.session(request)
    if session is not None:
        web.canteen.accounts.logout(session.actor)
    web.sessions.drop(request.cookies.get(COOKIE))
    return redirect(request, "/connexion?au-revoir=1", cookies=[web.session_cookie(request, None)])


@get("/activation", sync_to_thread=False, include_in_schema=False)
def activation_page(request: AnyRequest, token: FromQuery[str] = "") -> Response[str]:
    """The e-mailed link's page: one button activates the account (a GET changes nothing);
    a ``suivant`` is kept for the login that follows."""
    return page(request, "activation.html", token=token, done=False, suivant=_asked_for(request))


@post("/activation", include_in_schema=False)
async def activate(request: AnyRequest) -> Response[Any]:
    """Activate the account from the link's token."""
    form = await form_of(request)
    web = context_of(request)
    token = str(form.get("token", ""))
    asked = target_of(form.get(NEXT))
    try:
        await run(web.canteen.accounts.activate, token)
    except CanteenError as error:
        refusal = Refusal.of(request, error)
        return page(
            request, "activation.html", refusal=refusal, token="", done=False, suivant=asked
        )
    return page(request, "activation.html", token="", done=True, suivant=asked)


@get("/mot-de-passe", sync_to_thread=False, include_in_schema=False)
def password_page(request: AnyRequest) -> Response[str]:
    """Change one's password (forced at first login), with the rules shown; ``suivant``: the
    page to open once it is changed."""
    session = session_of(request, password_page=True)
    return page(
        request,
        "mot-de-passe.html",
        forced=session.must_change_password,
        min_length=_rules(request),
        done=False,
        suivant=_asked_for(request),
    )


async def _set_password(
    request: AnyRequest,
    form: FormMultiDict,
    set_password: Callable[[str], Awaitable[None]],
) -> Refusal | None:
    """Check that the two entries of the new password match, then ``set_password(new)``: why
    the page refused it (``None``: done)."""
    new = str(form.get("new_password", ""))
    if new != form.get("confirmation"):
        return Refusal(422, "Les deux saisies du nouveau mot de passe sont différentes.")
    try:
        await set_password(new)
    except CanteenError as error:
        return Refusal.of(request, error)
    return None


@post("/mot-de-passe", include_in_schema=False)
async def change_password(request: AnyRequest) -> Response[Any]:
    """Change the password; the user's other sessions end. Then the page the form's
    ``suivant`` asks for, or home."""
    session = session_of(request, password_page=True)
    form = await form_of(request)
    web = context_of(request)
    asked = target_of(form.get(NEXT))
    current = str(form.get("current_password", ""))

    async def change(new: str) -> None:
        await run(web.canteen.accounts.change_password, session.actor, current, new)

    refusal = await _set_password(request, form, change)
    if refusal is not None:
        return page(
            request,
            "mot-de-passe.html",
            refusal=refusal,
            forced=session.must_change_password,
            min_length=_rules(request),
            done=False,
            suivant=asked,
        )
    web.sessions.drop_user(session.actor.user_id, keep=session.id)
    session = web.sessions.update(session, must_change_password=False)
    home = home_of(session)
    if asked is None or asked == home:
        return redirect(request, home + "?mot-de-passe=1")  # the dashboard says it is changed
    return redirect(request, asked)


@get("/mot-de-passe/oubli", sync_to_thread=False, include_in_schema=False)
def forgotten_page(request: AnyRequest) -> Response[str]:
    """Ask for a reset link."""
    return page(request, "oubli.html", sent=False)


@post("/mot-de-passe/oubli", include_in_schema=False)
async def forgotten(request: AnyRequest) -> Response[Any]:
    """Send a reset link (the answer is the same whether the account exists or not)."""
    form = await form_of(request)
    login = str(form.get("login", "")).strip()
    if login:
        # The same answer whatever happens: nothing tells whether the account exists.
        with contextlib.suppress(CanteenError):
            await run(context_of(request).canteen.accounts.request_password_reset, login)
    return page(request, "oubli.html", sent=True)


@get("/mot-de-passe/nouveau", sync_to_thread=False, include_in_schema=False)
def reset_page(request: AnyRequest, token: FromQuery[str] = "") -> Response[str]:
    """The reset link's page: choose a new password."""
    return page(request, "nouveau.html", token=token, min_length=_rules(request), done=False)


@post("/mot-de-passe/nouveau", include_in_schema=False)
async def reset(request: AnyRequest) -> Response[Any]:
    """Set the new password from the link's token; every session of the user ends."""
    form = await form_of(request)
    web = context_of(request)
    token = str(form.get("token", ""))

    async def reset_with_token(new: str) -> None:
        account = await run(web.canteen.accounts.reset_password, token, new)
        web.sessions.drop_user(account.id)

    refusal = await _set_password(request, form, reset_with_token)
    return page(
        request,
        "nouveau.html",
        refusal=refusal,
        token=token,
        min_length=_rules(request),
        done=refusal is None,
    )


def _info(path: str, template: str, title: str) -> Any:
    @get(path, sync_to_thread=False, include_in_schema=False, name=f"info:{template}")
    def show(request: AnyRequest) -> Response[str]:
        return page(request, "information.html", body=template, title=title)

    return show


@get("/factures", sync_to_thread=False, include_in_schema=False)
def invoices_link(request: AnyRequest) -> Response[None]:
    """The e-mails' invoices link: the family's "Mes factures"."""
    return redirect(request, home_of(session_of(request)) + "/factures")


@get("/reservations", sync_to_thread=False, include_in_schema=False)
def reservations_link(request: AnyRequest) -> Response[None]:
    """The e-mails' reservations link: the dashboard, where each enrollment leads to its grid."""
    return redirect(request, home_of(session_of(request)))


HANDLERS = [
    index,
    login_page,
    login,
    logout,
    activation_page,
    activate,
    password_page,
    change_password,
    forgotten_page,
    forgotten,
    reset_page,
    reset,
    invoices_link,
    reservations_link,
    *(_info(path, template, title) for path, (template, title) in INFO_PAGES.items()),
]
