"""Sessions and accounts: login, logout, activation, password change and reset."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, delete, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from canteen_adapters.web.context import AnyRequest, Web, not_logged_in
from canteen_adapters.web.convert import body
from canteen_adapters.web.routes._actions import action
from canteen_adapters.web.schemas import (
    LoginBody,
    Message,
    PasswordChangeBody,
    ResetBody,
    ResetRequestBody,
    SessionOut,
    TokenBody,
)
from canteen_adapters.web.security import client_address
from canteen_adapters.web.sessions import Session

__all__ = ["HANDLERS"]

TAGS = ["Compte"]


def _out(session: Session) -> SessionOut:
    actor = session.actor
    return body(
        SessionOut,
        session,
        actor,
        roles=sorted(role.value for role in actor.roles),
        household_ids=sorted(actor.household_ids),
    )


@action("/api/v1/account/activation", tags=TAGS)
def activate(web: Web, data: JSONBody[TokenBody]) -> Message:
    """Activate the account from the e-mailed link's ``token`` (single use, expiring)."""
    web.canteen.accounts.activate(data.token)
    return Message(
        message="Votre compte est activé : connectez-vous avec le mot de passe provisoire reçu "
        "par courriel."
    )


@action("/api/v1/account/password", tags=TAGS)
def change_password(
    request: AnyRequest, web: Web, data: JSONBody[PasswordChangeBody]
) -> SessionOut:
    """Change one's password (the temporary one at first login); the user's other sessions
    end."""
    session = web.session(request)
    if session is None:
        raise not_logged_in()
    web.canteen.accounts.change_password(session.actor, data.current_password, data.new_password)
    web.sessions.drop_user(session.actor.user_id, keep=session.id)
    return _out(web.sessions.update(session, must_change_password=False))


@post(
    "/api/v1/account/password-reset", tags=TAGS, status_code=HTTP_202_ACCEPTED, sync_to_thread=True
)
def request_reset(web: Web, data: JSONBody[ResetRequestBody]) -> Message:
    """Send a reset link to the account with this username or e-mail (the answer is the same
    whether one exists or not)."""
    web.canteen.accounts.request_password_reset(data.login)
    return Message(
        message="Si un compte correspond, un courriel avec un lien de réinitialisation a été "
        "envoyé."
    )


@action("/api/v1/account/password-reset/confirm", tags=TAGS)
def reset_password(web: Web, data: JSONBody[ResetBody]) -> Message:
    """Set a new password from the reset link's ``token``; every session of the user ends."""
    account = web.canteen.accounts.reset_password(data.token, data.new_password)
    web.sessions.drop_user(account.id)
    return Message(message="Votre mot de passe est modifié : vous pouvez vous connecter.")


class SessionController(Controller):
    """The session: log in (POST), who is logged in (GET), log out (DELETE)."""

    path = "/api/v1/session"
    tags = TAGS

    @action()
    def login(
        self, request: AnyRequest, web: Web, data: JSONBody[LoginBody]
    ) -> Response[SessionOut]:
        """Log in with the username and password (throttled per account and address).

        Refused before the portal's opening date (the date is in the message), for an account not
        yet activated, and while locked after failed attempts (429 with ``Retry-After``). The
        answer carries the CSRF token to send in ``X-CSRF-Token``; ``must_change_password`` says
        the temporary password must be changed first (every other route answers 403 until then).
        """
        source = client_address(request, trust_forwarded=web.settings.trust_forwarded)
        done = web.canteen.accounts.login(data.username, data.password, source=source)
        session = web.open_session(request, done)
        return Response(_out(session), cookies=[web.session_cookie(request, session.id)])

    @get(sync_to_thread=False)
    def current_session(self, request: AnyRequest, web: Web) -> SessionOut:
        """The logged-in user and the session's CSRF token (401 without a session)."""
        session = web.session(request)
        if session is None:
            raise not_logged_in()
        return _out(session)

    @delete(status_code=HTTP_200_OK, sync_to_thread=False)
    def logout(self, request: AnyRequest, web: Web) -> Response[Message]:
        """Log out: the session ends (audited) and its cookie is removed."""
        session = web.session(request)
        if session is not None:
            web.canteen.accounts.logout(session.actor)
        web.sessions.drop(request.cookies.get("canteen_session"))
        return Response(
            Message(message="Vous êtes déconnecté."), cookies=[web.session_cookie(request, None)]
        )


HANDLERS: list[Any] = [
    SessionController,
    activate,
    change_password,
    request_reset,
    reset_password,
]
