"""Portal accounts: invitation, activation, login, password change and reset.

The commune creates the family's space (:meth:`Accounts.invite`): the guardian receives an email
with a username, a temporary password and an activation link. After activation the first login
must change the password; until then :meth:`Accounts.require_usable` refuses every other use case.
Family logins may be held until the portal's opening date ("à partir du 21 août").

Security choices
----------------
* Passwords are hashed with argon2id (:class:`argon2.PasswordHasher`); a hash made with older
  parameters is upgraded at the next successful login (``check_needs_rehash``). Clear passwords
  are never stored; values that must travel to the email (temporary password, tokens) are wrapped
  in :class:`Secret`, whose ``repr`` and ``str`` hide them so they do not end up in logs.
* Tokens (activation, password reset) are split tokens ``<selector>.<verifier>``: the selector
  finds the account, only a SHA-256 digest of the 256-bit verifier is stored, compared with
  :func:`hmac.compare_digest`. They expire and are single-use; issuing a new token of a kind
  revokes the previous ones of that kind.
* Failed logins are throttled per account and per source (IP address) with an exponential
  lockout (:class:`ThrottlePolicy`); an unknown username costs the same hashing time as a known
  one, so timing does not reveal which usernames exist.

Transactions: a failed login *writes* throttle counters and then raises
:class:`InvalidCredentialsError`; the caller must commit that write even though it raises (use a
separate transaction for the counters, or commit on :class:`AuthenticationError`).

This module does no I/O: storage is the :class:`AccountStore` port, emails are rendered by
:mod:`canteen_core.domain.notifications` from the :class:`Invitation` and :class:`PasswordReset`
records
returned here. Authorization (who may invite) is checked by the caller with
:mod:`canteen_core.domain.policy`.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol, runtime_checkable

import argon2
import attrs
from argon2.exceptions import InvalidHashError, VerificationError

from canteen_core.domain._french import format_date_fr, format_datetime_fr
from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import PARIS, Clock
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
)
from canteen_core.domain.events import AccountInvited

__all__ = [
    "Account",
    "AccountDisabledError",
    "AccountNotActivatedError",
    "AccountSettings",
    "AccountStatus",
    "AccountStore",
    "AccountToken",
    "Accounts",
    "AuthenticationError",
    "InMemoryAccountStore",
    "InvalidCredentialsError",
    "InvalidTokenError",
    "Invitation",
    "Login",
    "LoginThrottledError",
    "PasswordChangeRequiredError",
    "PasswordReset",
    "PortalNotOpenError",
    "RandomSource",
    "Secret",
    "SystemRandom",
    "ThrottlePolicy",
    "ThrottleState",
    "TokenAlreadyUsedError",
    "TokenExpiredError",
    "TokenPurpose",
    "check_password_strength",
    "normalize_username",
]

# --------------------------------------------------------------------------------------------
# Secrets and randomness


class Secret:
    """A secret string (password, token) that does not show itself in ``repr`` or ``str``.

    >>> Secret("hunter2")
    Secret('********')
    >>> Secret("hunter2").reveal()
    'hunter2'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise InvalidInputError("a secret must be a string", path="secret")
        self._value = value

    def reveal(self) -> str:
        """The clear value: call it only where it must be used (hashing, the email body)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # secrets are not dictionary keys


@runtime_checkable
class RandomSource(Protocol):
    """Where randomness comes from (injectable so tests can be deterministic)."""

    def token_bytes(self, nbytes: int) -> bytes:
        """``nbytes`` random bytes."""
        ...

    def randbelow(self, exclusive_upper_bound: int) -> int:
        """A random int in ``[0, exclusive_upper_bound)``."""
        ...


class SystemRandom:
    """The operating system's CSPRNG through :mod:`secrets` (the default)."""

    def token_bytes(self, nbytes: int) -> bytes:
        return secrets.token_bytes(nbytes)

    def randbelow(self, exclusive_upper_bound: int) -> int:
        return secrets.randbelow(exclusive_upper_bound)


# No 0/O, 1/l/I: the temporary password is read from an email and typed by hand.
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
_SELECTOR_BYTES = 12
_VERIFIER_BYTES = 32
_TOKEN_RE = re.compile(r"^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$")


def _urlsafe(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _digest(verifier: str) -> str:
    # A fast hash is right here: the verifier has 256 bits of entropy, nothing to brute-force.
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def _temporary_password(random: RandomSource, length: int) -> str:
    alphabet = _PASSWORD_ALPHABET
    while True:  # rejection sampling keeps the draw uniform among valid passwords
        chars = [alphabet[random.randbelow(len(alphabet))] for _ in range(length)]
        if (
            any(c.islower() for c in chars)
            and any(c.isupper() for c in chars)
            and any(c.isdigit() for c in chars)
        ):
            return "".join(chars)


# --------------------------------------------------------------------------------------------
# Throttling


def _positive_delta(_: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInputError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


def _non_negative_int(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInputError(f"must be an integer >= 0, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class ThrottlePolicy:
    """Exponential lockout: after ``free_failures`` failures, each new failure locks for
    ``base_lockout * 2**k`` (k = 0, 1, 2...), at most ``max_lockout``. Failures older than
    ``forget_after`` are forgotten.

    >>> policy = ThrottlePolicy(free_failures=3, base_lockout=timedelta(seconds=30))
    >>> [policy.lockout_after(n).seconds for n in (3, 4, 5, 6)]
    [0, 30, 60, 120]
    """

    free_failures: int = attrs.field(default=5, validator=_non_negative_int)
    base_lockout: timedelta = attrs.field(default=timedelta(seconds=30), validator=_positive_delta)
    max_lockout: timedelta = attrs.field(default=timedelta(hours=1), validator=_positive_delta)
    forget_after: timedelta = attrs.field(default=timedelta(hours=24), validator=_positive_delta)

    def lockout_after(self, failures: int) -> timedelta:
        """How long to lock after the ``failures``-th consecutive failure."""
        excess = failures - self.free_failures
        if excess <= 0:
            return timedelta(0)
        lock = self.base_lockout
        for _ in range(excess - 1):  # double step by step: a power would overflow timedelta
            if lock >= self.max_lockout:
                break
            lock *= 2
        return min(lock, self.max_lockout)


@attrs.frozen(kw_only=True)
class ThrottleState:
    """Consecutive failed logins for one key (an account or a source) and the current lock."""

    failures: int = attrs.field(default=0, validator=_non_negative_int)
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None

    def retry_after(self, now: datetime) -> timedelta | None:
        """Time left before the next attempt is allowed, or ``None`` when not locked."""
        if self.locked_until is None or now >= self.locked_until:
            return None
        return self.locked_until - now

    def after_failure(self, now: datetime, policy: ThrottlePolicy) -> ThrottleState:
        """The state after one more failure at ``now``."""
        recent = self.last_failure_at is not None and now - self.last_failure_at < (
            policy.forget_after
        )
        failures = (self.failures if recent else 0) + 1
        lock = policy.lockout_after(failures)
        return ThrottleState(
            failures=failures, last_failure_at=now, locked_until=now + lock if lock else None
        )


def _retry_text(delay: timedelta) -> str:
    seconds = max(1, int(-(-delay.total_seconds() // 1)))
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


# --------------------------------------------------------------------------------------------
# Errors (messages are shown to families, hence French)


class AuthenticationError(NotAuthorizedError):
    """A login, token or account-state check failed. ``code`` is stable for portals to map."""

    code = "authentication_failed"


class InvalidCredentialsError(AuthenticationError):
    """Unknown username or wrong password (deliberately indistinguishable)."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Identifiant ou mot de passe incorrect.")


class LoginThrottledError(AuthenticationError):
    """Too many failed logins: wait ``retry_after``."""

    code = "login_throttled"

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = retry_after
        super().__init__(
            "Trop de tentatives de connexion infructueuses. "
            f"Réessayez dans {_retry_text(retry_after)}."
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

    def __init__(self) -> None:
        super().__init__(
            "Votre compte n'est pas encore activé : cliquez sur le lien d'activation reçu par "
            "courriel (pensez à vérifier vos courriers indésirables)."
        )


class AccountDisabledError(AuthenticationError):
    """The account was disabled by the commune."""

    code = "account_disabled"

    def __init__(self) -> None:
        super().__init__("Ce compte est désactivé. Contactez le service restauration.")


class PasswordChangeRequiredError(AuthenticationError):
    """The temporary password must be changed before anything else."""

    code = "password_change_required"

    def __init__(self) -> None:
        super().__init__("Vous devez changer votre mot de passe provisoire avant de continuer.")


class InvalidTokenError(AuthenticationError):
    """The link's token is malformed, unknown or revoked."""

    code = "invalid_token"

    def __init__(self, message: str = "Ce lien n'est pas valide.") -> None:
        super().__init__(message)


class TokenExpiredError(InvalidTokenError):
    """The link's token has expired."""

    code = "token_expired"

    def __init__(self) -> None:
        super().__init__("Ce lien a expiré. Demandez l'envoi d'un nouveau lien.")


class TokenAlreadyUsedError(InvalidTokenError):
    """The link's token was already used (tokens are single-use)."""

    code = "token_already_used"

    def __init__(self) -> None:
        super().__init__("Ce lien a déjà été utilisé.")


# --------------------------------------------------------------------------------------------
# Model


class AccountStatus(enum.StrEnum):
    """Lifecycle of an account."""

    INVITED = "invited"  # created, activation link not yet followed
    ACTIVE = "active"
    DISABLED = "disabled"


class TokenPurpose(enum.StrEnum):
    """What a token is good for."""

    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"


@attrs.frozen(kw_only=True)
class AccountToken:
    """A stored token: the selector in clear, only a digest of the verifier."""

    purpose: TokenPurpose = attrs.field(converter=TokenPurpose)
    selector: str = attrs.field(validator=non_empty_str)
    digest: str = attrs.field(validator=non_empty_str, repr=False)
    created_at: datetime = attrs.field(validator=aware_datetime)
    expires_at: datetime = attrs.field(validator=aware_datetime)
    used_at: datetime | None = None

    def matches(self, verifier: str) -> bool:
        """Constant-time comparison of ``verifier`` with the stored digest."""
        return hmac.compare_digest(_digest(verifier), self.digest)


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


def _normalize_email(value: object, path: str = "email") -> str:
    if not isinstance(value, str):
        raise InvalidInputError("l'adresse électronique doit être un texte", path=path)
    email = value.strip()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in local
        or any(ch.isspace() for ch in email)
        or "." not in domain.strip(".")
    ):
        raise InvalidInputError(f"adresse électronique invalide : {value!r}", path=path)
    return f"{local}@{domain.lower()}"


def _check_email(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    _normalize_email(value, attribute.name)


def _roles(items: Iterable[Role | str]) -> frozenset[Role]:
    try:
        return frozenset(Role(item) for item in items)
    except ValueError as error:
        raise InvalidInputError(str(error), path="roles") from None


def _ids(items: Iterable[str]) -> frozenset[str]:
    return frozenset(items)


def _tokens(items: Iterable[AccountToken]) -> tuple[AccountToken, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class Account:
    """A portal account. Immutable: changes go through :class:`Accounts`, which saves new
    versions. ``password_hash`` and ``tokens`` are hidden from ``repr``."""

    id: str = attrs.field(validator=non_empty_str)
    username: str = attrs.field(validator=_check_username)
    email: str = attrs.field(validator=_check_email)
    display_name: str = attrs.field(validator=non_empty_str)
    roles: frozenset[Role] = attrs.field(converter=_roles)
    household_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_ids)
    status: AccountStatus = attrs.field(default=AccountStatus.INVITED, converter=AccountStatus)
    password_hash: str = attrs.field(repr=False, validator=non_empty_str)
    must_change_password: bool = True
    tokens: tuple[AccountToken, ...] = attrs.field(default=(), converter=_tokens, repr=False)
    created_at: datetime = attrs.field(validator=aware_datetime)
    activated_at: datetime | None = None
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None

    @property
    def is_family(self) -> bool:
        """A guardian or co-representative account (subject to the portal opening date)."""
        return self.actor().is_family

    def actor(self) -> Actor:
        """The :class:`Actor` to pass to the policy and the use cases."""
        return Actor(user_id=self.id, roles=self.roles, household_ids=self.household_ids)

    def token(self, selector: str) -> AccountToken | None:
        """The stored token with ``selector``, if any."""
        return next((t for t in self.tokens if t.selector == selector), None)


# --------------------------------------------------------------------------------------------
# Results


@attrs.frozen(kw_only=True)
class Invitation:
    """What :meth:`Accounts.invite` produced: the account, the secrets for the welcome email
    (hidden from ``repr``) and the :class:`~canteen_core.domain.events.AccountInvited` event."""

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
    password-change page; every other use case is refused until then."""

    account: Account
    actor: Actor
    must_change_password: bool


# --------------------------------------------------------------------------------------------
# Settings and store port


def _opening(value: date | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise InvalidInputError(
                "naive datetimes are not accepted; give a timezone", path="portal_opens_at"
            )
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=PARIS)  # midnight, Paris wall clock
    raise InvalidInputError(
        f"expected a date or datetime, got {type(value).__name__}", path="portal_opens_at"
    )


def _min_length(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 8 <= value <= 128:
        raise InvalidInputError(f"must be an integer in 8..128, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class AccountSettings:
    """Deployment choices for accounts.

    ``hasher`` defaults to argon2-cffi's recommended argon2id parameters; tests pass cheap ones.
    ``portal_opens_at`` (a date means midnight in Paris) holds family logins until it comes;
    staff may log in before.
    """

    hasher: argon2.PasswordHasher = attrs.field(factory=argon2.PasswordHasher)
    activation_ttl: timedelta = attrs.field(default=timedelta(days=14), validator=_positive_delta)
    reset_ttl: timedelta = attrs.field(default=timedelta(hours=1), validator=_positive_delta)
    portal_opens_at: datetime | None = attrs.field(default=None, converter=_opening)
    temporary_password_length: int = attrs.field(default=14, validator=_min_length)
    min_password_length: int = attrs.field(default=12, validator=_min_length)
    account_throttle: ThrottlePolicy = ThrottlePolicy()
    # A source (IP address) may be a school or a shared network: allow more before locking.
    source_throttle: ThrottlePolicy = ThrottlePolicy(
        free_failures=20, base_lockout=timedelta(seconds=10), max_lockout=timedelta(minutes=15)
    )


class AccountStore(Protocol):
    """Where accounts and throttle counters live (the storage adapter implements it).

    Lookups by username are exact on the normalized username; by email, case-insensitive on
    the domain as stored. ``find_by_token`` looks up the account holding a token ``selector``
    (index it). Throttle keys look like ``"account:<id>"`` and ``"source:<ip>"``.
    """

    def get(self, account_id: str) -> Account | None:
        """The account with ``account_id``, or ``None``."""
        ...

    def find_by_username(self, username: str) -> Account | None:
        """The account with the normalized ``username``, or ``None``."""
        ...

    def find_by_email(self, email: str) -> Sequence[Account]:
        """Accounts with ``email`` (several guardians may share one address)."""
        ...

    def find_by_token(self, selector: str) -> Account | None:
        """The account holding a token with ``selector``, or ``None``."""
        ...

    def save(self, account: Account) -> None:
        """Insert or replace ``account`` (by id). Usernames are unique."""
        ...

    def throttle(self, key: str) -> ThrottleState:
        """The throttle state for ``key`` (a fresh state when unknown)."""
        ...

    def save_throttle(self, key: str, state: ThrottleState) -> None:
        """Store the throttle state for ``key``."""
        ...


class InMemoryAccountStore:
    """An :class:`AccountStore` in a dict, for tests and notebooks."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.throttles: dict[str, ThrottleState] = {}

    def get(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def find_by_username(self, username: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.username == username), None)

    def find_by_email(self, email: str) -> Sequence[Account]:
        wanted = email.lower()
        return [a for a in self.accounts.values() if a.email.lower() == wanted]

    def find_by_token(self, selector: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.token(selector)), None)

    def save(self, account: Account) -> None:
        other = self.find_by_username(account.username)
        if other is not None and other.id != account.id:
            raise ConflictError(f"username {account.username!r} is already taken")
        self.accounts[account.id] = account

    def throttle(self, key: str) -> ThrottleState:
        return self.throttles.get(key, ThrottleState())

    def save_throttle(self, key: str, state: ThrottleState) -> None:
        self.throttles[key] = state


# --------------------------------------------------------------------------------------------
# Password rules


def check_password_strength(
    password: object, *, min_length: int = 12, username: str | None = None
) -> str:
    """Return ``password`` if acceptable, else raise :class:`InvalidInputError` (French).

    The rule follows the CNIL's recommendation: at least ``min_length`` characters mixing at
    least three kinds (lower case, upper case, digits, other), or a long passphrase
    (``min_length + 4`` characters or more) of any kind; never the username.
    """
    path = "new_password"
    if not isinstance(password, str):
        raise InvalidInputError("le mot de passe doit être un texte", path=path)
    if len(password) < min_length:
        raise InvalidInputError(
            f"le mot de passe doit contenir au moins {min_length} caractères", path=path
        )
    if len(password) > 256:
        raise InvalidInputError("le mot de passe ne doit pas dépasser 256 caractères", path=path)
    if password.strip() != password:
        raise InvalidInputError(
            "le mot de passe ne doit pas commencer ni finir par une espace", path=path
        )
    kinds = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 3 and len(password) < min_length + 4:
        raise InvalidInputError(
            "le mot de passe doit mélanger au moins trois types de caractères (minuscules, "
            f"majuscules, chiffres, caractères spéciaux) ou compter au moins {min_length + 4} "
            "caractères",
            path=path,
        )
    if username is not None and username.lower() in password.lower():
        raise InvalidInputError(
            "le mot de passe ne doit pas contenir le nom d'utilisateur", path=path
        )
    return password


def _require_str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"expected a string, got {type(value).__name__}", path=path)
    return value


# --------------------------------------------------------------------------------------------
# The service


def _new_id() -> str:
    return uuid.uuid4().hex


class Accounts:
    """Account use cases over an :class:`AccountStore`.

    Every method validates its input before touching the store, so a rejected call changes
    nothing (failed logins excepted: they record the failure, on purpose).
    """

    def __init__(
        self,
        store: AccountStore,
        *,
        clock: Clock,
        settings: AccountSettings | None = None,
        random: RandomSource | None = None,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings or AccountSettings()
        self.random: RandomSource = random or SystemRandom()
        self._new_id = new_id
        self._dummy_hash: str | None = None

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock.now()

    def _hash(self, password: str) -> str:
        return self.settings.hasher.hash(password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.settings.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _burn_time(self, password: str) -> None:
        # Spend the same hashing time as for a real account so timing reveals nothing.
        if self._dummy_hash is None:
            self._dummy_hash = self._hash(_urlsafe(self.random.token_bytes(16)))
        self._verify(self._dummy_hash, password)

    def _issue_token(
        self, account: Account, purpose: TokenPurpose, ttl: timedelta
    ) -> tuple[Account, Secret, datetime]:
        now = self._now()
        selector = _urlsafe(self.random.token_bytes(_SELECTOR_BYTES))
        verifier = _urlsafe(self.random.token_bytes(_VERIFIER_BYTES))
        expires_at = now + ttl
        token = AccountToken(
            purpose=purpose,
            selector=selector,
            digest=_digest(verifier),
            created_at=now,
            expires_at=expires_at,
        )
        # A new token revokes the previous ones of its kind (only the last email's link works).
        kept = tuple(t for t in account.tokens if t.purpose is not purpose)
        return (
            attrs.evolve(account, tokens=(*kept, token)),
            Secret(f"{selector}.{verifier}"),
            expires_at,
        )

    def _use_token(self, token: object, purpose: TokenPurpose) -> tuple[Account, AccountToken]:
        if isinstance(token, Secret):
            token = token.reveal()
        if not isinstance(token, str):
            raise InvalidTokenError()
        match = _TOKEN_RE.match(token.strip())
        if match is None:
            raise InvalidTokenError()
        selector, verifier = match.groups()
        account = self.store.find_by_token(selector)
        stored = account.token(selector) if account is not None else None
        if account is None or stored is None or stored.purpose is not purpose:
            raise InvalidTokenError()
        if not stored.matches(verifier):
            raise InvalidTokenError()
        if stored.used_at is not None:
            raise TokenAlreadyUsedError()
        if self._now() >= stored.expires_at:
            raise TokenExpiredError()
        if account.status is AccountStatus.DISABLED:
            raise AccountDisabledError()
        return account, stored

    @staticmethod
    def _mark_used(account: Account, token: AccountToken, now: datetime) -> Account:
        tokens = tuple(
            attrs.evolve(t, used_at=now) if t.selector == token.selector else t
            for t in account.tokens
        )
        return attrs.evolve(account, tokens=tokens)

    def _get(self, account_id: object) -> Account:
        account_id = _require_str(account_id, "account_id")
        account = self.store.get(account_id)
        if account is None:
            raise NotFoundError(f"no account {account_id!r}")
        return account

    def _unique_username(self, wanted: str) -> str:
        if self.store.find_by_username(wanted) is None:
            return wanted
        for n in range(2, 1000):
            candidate = f"{wanted[:60]}{n}"
            if self.store.find_by_username(candidate) is None:
                return candidate
        raise ConflictError(f"no free username derived from {wanted!r}")

    # -- use cases -------------------------------------------------------------------------

    def invite(
        self,
        *,
        email: str,
        display_name: str,
        username: str | None = None,
        roles: Iterable[Role | str] = (Role.GUARDIAN,),
        household_ids: Iterable[str] = (),
        account_id: str | None = None,
    ) -> Invitation:
        """Create an account with a temporary password and an activation token.

        ``username`` defaults to the email's local part (made unique with a number); an explicit
        username already taken raises :class:`ConflictError`. Send the welcome email with
        :meth:`canteen_core.domain.notifications.Notifier.invitation`.
        """
        email = _normalize_email(email)
        name = _require_str(display_name, "display_name").strip()
        if not name:
            raise InvalidInputError("le nom affiché est obligatoire", path="display_name")
        role_set = _roles(roles)
        if not role_set:
            raise InvalidInputError("an account needs at least one role", path="roles")
        households = frozenset(_require_str(h, "household_ids") for h in household_ids)
        if account_id is not None and self.store.get(_require_str(account_id, "account_id")):
            raise ConflictError(f"account {account_id!r} already exists")
        if username is None:
            local = re.sub(r"[^a-z0-9._-]", "", email.split("@")[0].lower()).strip("._-")
            # Pad very short local parts to the 3-character minimum; keep room for a suffix.
            base = (local + "000")[: max(3, min(len(local), 60))]
            username = self._unique_username(normalize_username(base))
        else:
            username = normalize_username(username)
            if self.store.find_by_username(username) is not None:
                raise ConflictError(f"le nom d'utilisateur {username!r} est déjà pris")
        now = self._now()
        password = _temporary_password(self.random, self.settings.temporary_password_length)
        account = Account(
            id=account_id or self._new_id(),
            username=username,
            email=email,
            display_name=name,
            roles=role_set,
            household_ids=households,
            status=AccountStatus.INVITED,
            password_hash=self._hash(password),
            must_change_password=True,
            created_at=now,
        )
        account, token, expires_at = self._issue_token(
            account, TokenPurpose.ACTIVATION, self.settings.activation_ttl
        )
        self.store.save(account)
        event = AccountInvited(
            occurred_at=now,
            account_id=account.id,
            username=account.username,
            email=account.email,
            household_id=min(households) if households else None,
        )
        return Invitation(
            account=account,
            temporary_password=Secret(password),
            activation_token=token,
            expires_at=expires_at,
            event=event,
        )

    def reissue_invitation(self, account_id: str) -> Invitation:
        """New temporary password and activation link for an account not yet activated
        (the first link expired or the email was lost). The old link stops working."""
        account = self._get(account_id)
        if account.status is not AccountStatus.INVITED:
            raise ConflictError("ce compte est déjà activé : utilisez la réinitialisation")
        now = self._now()
        password = _temporary_password(self.random, self.settings.temporary_password_length)
        account = attrs.evolve(account, password_hash=self._hash(password))
        account, token, expires_at = self._issue_token(
            account, TokenPurpose.ACTIVATION, self.settings.activation_ttl
        )
        self.store.save(account)
        event = AccountInvited(
            occurred_at=now,
            account_id=account.id,
            username=account.username,
            email=account.email,
            household_id=min(account.household_ids) if account.household_ids else None,
        )
        return Invitation(
            account=account,
            temporary_password=Secret(password),
            activation_token=token,
            expires_at=expires_at,
            event=event,
        )

    def activate(self, token: str | Secret) -> Account:
        """Follow the activation link: the account becomes active (the temporary password must
        still be changed at first login). Expired, reused or unknown tokens raise."""
        account, stored = self._use_token(token, TokenPurpose.ACTIVATION)
        now = self._now()
        account = attrs.evolve(
            self._mark_used(account, stored, now),
            status=AccountStatus.ACTIVE,
            activated_at=now,
        )
        self.store.save(account)
        return account

    def login(self, username: str, password: str | Secret, *, source: str | None = None) -> Login:
        """Check credentials and return a :class:`Login`.

        Raises :class:`LoginThrottledError` while the account or the ``source`` (IP address) is
        locked, :class:`InvalidCredentialsError` for a wrong pair (recording the failure),
        :class:`AccountNotActivatedError`, :class:`AccountDisabledError`, and
        :class:`PortalNotOpenError` for a family account before the opening date.
        """
        if isinstance(password, Secret):
            password = password.reveal()
        password = _require_str(password, "password")
        username = _require_str(username, "username")
        if source is not None:
            source = _require_str(source, "source")
        try:
            key = normalize_username(username)
        except InvalidInputError:
            key = None
        now = self._now()
        source_key = f"source:{source}" if source else None
        if source_key is not None:
            wait = self.store.throttle(source_key).retry_after(now)
            if wait is not None:
                raise LoginThrottledError(wait)
        account = self.store.find_by_username(key) if key is not None else None
        account_key = f"account:{account.id}" if account is not None else None
        if account_key is not None:
            wait = self.store.throttle(account_key).retry_after(now)
            if wait is not None:
                raise LoginThrottledError(wait)
        if account is None:
            self._burn_time(password)
            ok = False
        else:
            ok = self._verify(account.password_hash, password)
        if not ok:
            if source_key is not None:
                state = self.store.throttle(source_key)
                self.store.save_throttle(
                    source_key, state.after_failure(now, self.settings.source_throttle)
                )
            if account_key is not None:
                state = self.store.throttle(account_key)
                self.store.save_throttle(
                    account_key, state.after_failure(now, self.settings.account_throttle)
                )
            raise InvalidCredentialsError()
        assert account is not None
        assert account_key is not None
        if self.store.throttle(account_key).failures:
            self.store.save_throttle(account_key, ThrottleState())
        if account.status is AccountStatus.DISABLED:
            raise AccountDisabledError()
        opens_at = self.settings.portal_opens_at
        if opens_at is not None and now < opens_at and account.is_family:
            raise PortalNotOpenError(opens_at)
        if account.status is AccountStatus.INVITED:
            raise AccountNotActivatedError()
        password_hash = account.password_hash
        if self.settings.hasher.check_needs_rehash(password_hash):
            # Parameters were raised since this hash was made: upgrade it while we know the
            # password.
            password_hash = self._hash(password)
        account = attrs.evolve(account, last_login_at=now, password_hash=password_hash)
        self.store.save(account)
        return Login(
            account=account,
            actor=account.actor(),
            must_change_password=account.must_change_password,
        )

    def require_usable(self, account_id: str) -> Account:
        """The check the facade runs before every use case of a logged-in user.

        Raises :class:`PasswordChangeRequiredError` while the temporary password has not been
        changed, :class:`AccountDisabledError` or :class:`AccountNotActivatedError`; returns the
        account otherwise. Changing the password is the one use case that skips this check.
        """
        account = self._get(account_id)
        if account.status is AccountStatus.DISABLED:
            raise AccountDisabledError()
        if account.status is AccountStatus.INVITED:
            raise AccountNotActivatedError()
        if account.must_change_password:
            raise PasswordChangeRequiredError()
        return account

    def change_password(
        self, account_id: str, current_password: str | Secret, new_password: str | Secret
    ) -> Account:
        """Replace the password after checking the current one (the temporary one at first
        login). The new password must pass :func:`check_password_strength` and differ from
        the current one. A wrong current password counts as a failed login."""
        account = self._get(account_id)
        current = (
            current_password.reveal()
            if isinstance(current_password, Secret)
            else _require_str(current_password, "current_password")
        )
        new = new_password.reveal() if isinstance(new_password, Secret) else new_password
        new = check_password_strength(
            new, min_length=self.settings.min_password_length, username=account.username
        )
        if account.status is AccountStatus.DISABLED:
            raise AccountDisabledError()
        if account.status is AccountStatus.INVITED:
            raise AccountNotActivatedError()
        now = self._now()
        key = f"account:{account.id}"
        wait = self.store.throttle(key).retry_after(now)
        if wait is not None:
            raise LoginThrottledError(wait)
        if not self._verify(account.password_hash, current):
            state = self.store.throttle(key)
            self.store.save_throttle(key, state.after_failure(now, self.settings.account_throttle))
            raise InvalidCredentialsError()
        if hmac.compare_digest(current.encode(), new.encode()):
            raise InvalidInputError(
                "le nouveau mot de passe doit être différent de l'ancien", path="new_password"
            )
        account = attrs.evolve(
            account,
            password_hash=self._hash(new),
            must_change_password=False,
            password_changed_at=now,
            # A reset link requested before the change must not undo it.
            tokens=tuple(t for t in account.tokens if t.purpose is not TokenPurpose.PASSWORD_RESET),
        )
        self.store.save(account)
        return account

    def request_password_reset(self, login: str) -> list[PasswordReset]:
        """Issue reset tokens for the account(s) matching ``login`` (username or email).

        Returns an empty list when nothing matches: the portal must answer the same either way
        ("si un compte existe, un courriel a été envoyé") so it reveals no account. Disabled
        accounts get nothing.
        """
        login = _require_str(login, "login").strip()
        if not login:
            raise InvalidInputError("indiquez un identifiant ou une adresse", path="login")
        candidates: list[Account] = []
        if "@" in login:
            with contextlib.suppress(InvalidInputError):
                candidates.extend(self.store.find_by_email(_normalize_email(login)))
        if not candidates:
            try:
                found = self.store.find_by_username(normalize_username(login))
            except InvalidInputError:
                found = None
            if found is not None:
                candidates.append(found)
        resets = []
        for account in candidates:
            if account.status is AccountStatus.DISABLED:
                continue
            updated, token, expires_at = self._issue_token(
                account, TokenPurpose.PASSWORD_RESET, self.settings.reset_ttl
            )
            self.store.save(updated)
            resets.append(PasswordReset(account=updated, token=token, expires_at=expires_at))
        return resets

    def reset_password(self, token: str | Secret, new_password: str | Secret) -> Account:
        """Set a new password from an emailed reset token (single use, expiring).

        Following the link proves the address, so an account still waiting for activation is
        activated too. Lockouts of the account are lifted.
        """
        new = new_password.reveal() if isinstance(new_password, Secret) else new_password
        if not isinstance(new, str):
            raise InvalidInputError("le mot de passe doit être un texte", path="new_password")
        account, stored = self._use_token(token, TokenPurpose.PASSWORD_RESET)
        new = check_password_strength(
            new, min_length=self.settings.min_password_length, username=account.username
        )
        now = self._now()
        account = self._mark_used(account, stored, now)
        if account.status is AccountStatus.INVITED:
            # The activation link is no longer needed.
            account = attrs.evolve(
                account,
                status=AccountStatus.ACTIVE,
                activated_at=now,
                tokens=tuple(t for t in account.tokens if t.purpose is not TokenPurpose.ACTIVATION),
            )
        account = attrs.evolve(
            account,
            password_hash=self._hash(new),
            must_change_password=False,
            password_changed_at=now,
        )
        self.store.save(account)
        self.store.save_throttle(f"account:{account.id}", ThrottleState())
        return account

    def disable(self, account_id: str) -> Account:
        """Disable an account: no login, no token use, until :meth:`enable`."""
        account = attrs.evolve(self._get(account_id), status=AccountStatus.DISABLED)
        self.store.save(account)
        return account

    def enable(self, account_id: str) -> Account:
        """Re-enable a disabled account (active if it was ever activated, else invited)."""
        account = self._get(account_id)
        if account.status is not AccountStatus.DISABLED:
            return account
        status = AccountStatus.ACTIVE if account.activated_at else AccountStatus.INVITED
        account = attrs.evolve(account, status=status)
        self.store.save(account)
        return account
