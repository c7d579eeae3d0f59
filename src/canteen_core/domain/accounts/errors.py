"""The errors of logins, links and account states (messages shown to families, in French).

Each has a stable ``code`` a portal can map to its own pages.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from canteen_core.domain._french import format_date_fr, format_datetime_fr
from canteen_core.domain.accounts.throttling import retry_text
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import NotAuthorizedError

__all__ = [
    "AccountDisabledError",
    "AccountNotActivatedError",
    "AuthenticationError",
    "InvalidCredentialsError",
    "InvalidTokenError",
    "LoginThrottledError",
    "PasswordChangeRequiredError",
    "PortalNotOpenError",
    "TokenAlreadyUsedError",
    "TokenExpiredError",
]


class AuthenticationError(NotAuthorizedError):
    """A login, token or account-state check failed. ``code`` is stable for portals to map;
    ``default_message`` is what the family reads when the raiser says nothing more."""

    code = "authentication_failed"
    default_message = "L'authentification a échoué."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class InvalidCredentialsError(AuthenticationError):
    """Unknown username or wrong password (deliberately indistinguishable)."""

    code = "invalid_credentials"
    default_message = "Identifiant ou mot de passe incorrect."


class LoginThrottledError(AuthenticationError):
    """Too many failed logins: wait ``retry_after``."""

    code = "login_throttled"

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = retry_after
        super().__init__(
            "Trop de tentatives de connexion infructueuses. "
            f"Réessayez dans {retry_text(retry_after)}."
        )


class PortalNotOpenError(AuthenticationError):
    """The family portal opens at ``opens_at``; logins are refused until then."""

    code = "portal_not_open"

    def __init__(self, opens_at: datetime) -> None:
        self.opens_at = opens_at
        local = opens_at.astimezone(PARIS)
        when = (
            f"à partir du {format_date_fr(local.date())}"
            if local.time() == time(0)
            else f"à partir du {format_datetime_fr(local)}"
        )
        super().__init__(
            f"L'espace famille n'est pas encore ouvert : la connexion sera possible {when}."
        )


class AccountNotActivatedError(AuthenticationError):
    """The account was created but its activation link has not been followed yet."""

    code = "account_not_activated"
    default_message = (
        "Votre compte n'est pas encore activé : cliquez sur le lien d'activation reçu par "
        "courriel (pensez à vérifier vos courriers indésirables)."
    )


class AccountDisabledError(AuthenticationError):
    """The account was disabled by the commune."""

    code = "account_disabled"
    default_message = "Ce compte est désactivé. Contactez le service restauration."


class PasswordChangeRequiredError(AuthenticationError):
    """The temporary password must be changed before anything else."""

    code = "password_change_required"
    default_message = "Vous devez changer votre mot de passe provisoire avant de continuer."


class InvalidTokenError(AuthenticationError):
    """The link's token is malformed, unknown or revoked."""

    code = "invalid_token"
    default_message = "Ce lien n'est pas valide."


class TokenExpiredError(InvalidTokenError):
    """The link's token has expired."""

    code = "token_expired"
    default_message = "Ce lien a expiré. Demandez l'envoi d'un nouveau lien."


class TokenAlreadyUsedError(InvalidTokenError):
    """The link's token was already used (tokens are single-use)."""

    code = "token_already_used"
    default_message = "Ce lien a déjà été utilisé."
