"""The account model: :class:`Account`, its public :class:`AccountView`, its status, usernames
and email addresses, and the results the account use cases return (:class:`Invitation`,
:class:`PasswordReset`, :class:`Login`).

:class:`Account` is the stored record and holds secrets (the password hash, the token digests);
it never leaves the account use cases. What the facade returns is an :class:`AccountView`,
which has no field for them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.accounts._text import require_text
from canteen_core.domain.accounts.tokens import AccountToken, Secret, TokenPurpose
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.events import AccountInvited

__all__ = [
    "MAX_LOGIN_LENGTH",
    "Account",
    "AccountStatus",
    "AccountView",
    "Invitation",
    "Login",
    "PasswordReset",
    "normalize_email",
    "normalize_username",
    "require_login",
    "roles_of",
]


class AccountStatus(enum.StrEnum):
    """Lifecycle of an account."""

    INVITED = "invited"  # created, activation link not yet followed
    ACTIVE = "active"
    DISABLED = "disabled"


#: The longest username or email address accepted as typed (the longest valid email).
MAX_LOGIN_LENGTH = 320


def require_login(value: object, path: str = "username") -> str:
    """A username or email as typed at login: text without NUL or lone surrogates, at most
    :data:`MAX_LOGIN_LENGTH` characters (else :class:`InvalidInputError`)."""
    return require_text(value, path, what="l'identifiant", max_length=MAX_LOGIN_LENGTH)


_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{2,63}$")


def normalize_username(value: object) -> str:
    """Usernames are compared case-insensitively: ``' Marie.Dupont '`` -> ``'marie.dupont'``."""
    if not isinstance(value, str):
        raise InvalidInputError("le nom d'utilisateur doit être un texte", path="username")
    username = value.strip().lower()
    if not _USERNAME_RE.match(username):
        raise InvalidInputError(
            "nom d'utilisateur invalide : 3 à 64 caractères parmi lettres sans accent, chiffres "
            "et . _ @ + -",
            path="username",
        )
    return username


def _check_username(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if normalize_username(value) != value:
        raise InvalidInputError(f"username must be normalized, got {value!r}", path="username")


def normalize_email(value: object, path: str = "email") -> str:
    """An email address with surrounding spaces removed and its domain lower-cased
    (:class:`InvalidInputError` when it is not one)."""
    email = require_text(
        value, path, what="l'adresse électronique", max_length=MAX_LOGIN_LENGTH
    ).strip()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in local
        or len(email.split()) != 1  # a space inside (str.split cuts where isspace says)
        or "." not in domain.strip(".")
    ):
        raise InvalidInputError(f"adresse électronique invalide : {value!r}", path=path)
    return f"{local}@{domain.lower()}"


def _check_email(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    normalize_email(value, attribute.name)


def roles_of(items: Iterable[Role | str]) -> frozenset[Role]:
    """``items`` as roles (:class:`InvalidInputError` for an unknown one)."""
    try:
        return frozenset(Role(item) for item in items)
    except ValueError as error:
        raise InvalidInputError(str(error), path="roles") from None


def _ids(items: Iterable[str]) -> frozenset[str]:
    return frozenset(items)


def _tokens(items: Iterable[AccountToken]) -> tuple[AccountToken, ...]:
    return tuple(items)


class _ActsAsActor:
    """What an account and its view share: who it acts as."""

    __slots__ = ()
    id: str
    roles: frozenset[Role]
    household_ids: frozenset[str]

    @property
    def is_family(self) -> bool:
        """A guardian or co-representative account (subject to the portal opening date)."""
        return self.actor().is_family

    def actor(self) -> Actor:
        """The :class:`Actor` to pass to the policy and the use cases."""
        return Actor(user_id=self.id, roles=self.roles, household_ids=self.household_ids)


@attrs.frozen(kw_only=True)
class AccountView(_ActsAsActor):
    """A portal account as the facade returns it: everything but the secrets.

    No password hash and no token (not even digests): what a portal shows, logs or caches
    in a session cannot help anyone log in.
    """

    id: str
    username: str
    email: str
    display_name: str
    roles: frozenset[Role]
    household_ids: frozenset[str]
    status: AccountStatus
    must_change_password: bool
    created_at: datetime
    activated_at: datetime | None = None
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None
    #: The login before the last one: what "Dernière connexion le ..." shows once logged in.
    previous_login_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Account(_ActsAsActor):
    """A portal account. Immutable: changes go through the account use cases
    (:class:`canteen_core.services.accounts.Accounts`), which save new versions.
    ``password_hash`` and ``tokens`` are hidden from ``repr``."""

    id: str = attrs.field(validator=non_empty_str)
    username: str = attrs.field(validator=_check_username)
    email: str = attrs.field(validator=_check_email)
    display_name: str = attrs.field(validator=non_empty_str)
    roles: frozenset[Role] = attrs.field(converter=roles_of)
    household_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_ids)
    status: AccountStatus = attrs.field(default=AccountStatus.INVITED, converter=AccountStatus)
    password_hash: str = attrs.field(repr=False, validator=non_empty_str)
    must_change_password: bool = True
    tokens: tuple[AccountToken, ...] = attrs.field(default=(), converter=_tokens, repr=False)
    created_at: datetime = attrs.field(validator=aware_datetime)
    activated_at: datetime | None = None
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None
    #: The login before the last one: what "Dernière connexion le ..." shows once logged in.
    previous_login_at: datetime | None = None

    def view(self) -> AccountView:
        """This account without its secrets (what the facade returns)."""
        # Every field of the view is a field of the account: it copies all but the secrets.
        fields: dict[str, Any] = {
            field.name: getattr(self, field.name) for field in attrs.fields(AccountView)
        }
        return AccountView(**fields)

    def token(self, selector: str) -> AccountToken | None:
        """The stored token with ``selector``, if any."""
        return next((t for t in self.tokens if t.selector == selector), None)

    def with_token(self, token: AccountToken) -> Account:
        """This account holding ``token``; the previous tokens of its purpose are revoked
        (only the last email's link works)."""
        kept = tuple(t for t in self.tokens if t.purpose is not token.purpose)
        return attrs.evolve(self, tokens=(*kept, token))

    def without_tokens(self, purpose: TokenPurpose) -> Account:
        """This account without its tokens of ``purpose``."""
        return attrs.evolve(self, tokens=tuple(t for t in self.tokens if t.purpose is not purpose))

    def with_token_used(self, selector: str, now: datetime) -> Account:
        """This account with the token ``selector`` marked used at ``now``."""
        tokens = tuple(
            attrs.evolve(t, used_at=now) if t.selector == selector else t for t in self.tokens
        )
        return attrs.evolve(self, tokens=tokens)


@attrs.frozen(kw_only=True)
class Invitation:
    """What an invitation produced: the account, the secrets for the welcome email (hidden
    from ``repr``) and the :class:`~canteen_core.domain.events.AccountInvited` event."""

    account: Account
    temporary_password: Secret
    activation_token: Secret
    expires_at: datetime
    event: AccountInvited


@attrs.frozen(kw_only=True)
class PasswordReset:
    """A reset link was issued for ``account``; email ``token`` to it."""

    account: Account
    token: Secret
    expires_at: datetime


@attrs.frozen(kw_only=True)
class Login:
    """A successful login. When ``must_change_password`` the portal must send the user to the
    password-change page; every other use case is refused until then. ``account`` carries no
    secret."""

    account: AccountView
    actor: Actor
    must_change_password: bool
