"""The account use cases over an account store: invite, activate, log in, change or reset a
password, disable and enable (:class:`Accounts`).

They hold no transaction: :class:`~canteen_core.services.accounts.service.AccountService`
runs each one in a unit of work and queues its emails, and tests run them over an
:class:`~canteen_core.domain.accounts.InMemoryAccountStore`. The rules they apply live in
:mod:`canteen_core.domain.accounts` (tokens, passwords, throttling).

Transactions: a failed login *writes* throttle counters and then raises
:class:`~canteen_core.domain.accounts.InvalidCredentialsError`; the caller must commit that
write even though it raises (the facade commits on
:class:`~canteen_core.domain.accounts.AuthenticationError`).
"""

from __future__ import annotations

import contextlib
import hmac
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import attrs

from canteen_core.domain._ids import random_id
from canteen_core.domain.accounts import (
    Account,
    AccountDisabledError,
    AccountNotActivatedError,
    AccountSettings,
    AccountStatus,
    AccountStore,
    AccountToken,
    InvalidCredentialsError,
    InvalidTokenError,
    Invitation,
    Login,
    LoginThrottledError,
    PasswordReset,
    PortalNotOpenError,
    RandomSource,
    Secret,
    SystemRandom,
    ThrottleState,
    TokenAlreadyUsedError,
    TokenExpiredError,
    TokenPurpose,
    check_password_strength,
    normalize_email,
    normalize_username,
)
from canteen_core.domain.accounts._text import require_text
from canteen_core.domain.accounts.model import require_login, roles_of
from canteen_core.domain.accounts.passwords import (
    decoy_hash,
    hash_password,
    needs_rehash,
    require_password,
    temporary_password,
    verify_password,
)
from canteen_core.domain.accounts.throttling import account_key, source_key, unknown_user_key
from canteen_core.domain.accounts.tokens import new_token, split_token
from canteen_core.domain.actors import Role
from canteen_core.domain.clock import Clock
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.events import AccountInvited
from canteen_core.services.runner import ensure_account_usable

__all__ = ["Accounts"]


def _identifier(value: object, path: str) -> str:
    return require_text(value, path, what="l'identifiant", max_length=_MAX_ID_LENGTH)


_MAX_ID_LENGTH = 200
_MAX_NAME_LENGTH = 200


def _settings_or_default(settings: AccountSettings | None) -> AccountSettings:
    return settings or AccountSettings()


def _random_or_system(random: RandomSource | None) -> RandomSource:
    return random or SystemRandom()


# No slots: embedding code and tests may replace a method or collaborator on one instance.
@attrs.define(eq=False, repr=False, slots=False)
class Accounts:
    """Account use cases over an :class:`~canteen_core.domain.accounts.AccountStore`.

    Built as ``Accounts(store, clock=..., settings=..., random=..., new_id=...)``: the
    default settings, the system's random source and random ids unless given.

    Every method validates its input before touching the store, so a rejected call changes
    nothing (failed logins excepted: they record the failure, on purpose).
    """

    store: AccountStore
    clock: Clock = attrs.field(kw_only=True)
    settings: AccountSettings = attrs.field(
        default=None, converter=_settings_or_default, kw_only=True
    )
    random: RandomSource = attrs.field(default=None, converter=_random_or_system, kw_only=True)
    _new_id: Callable[[], str] = attrs.field(default=random_id, kw_only=True)

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock.now()

    def _hash(self, password: str) -> str:
        return hash_password(self.settings.hasher, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        return verify_password(self.settings.hasher, password_hash, password)

    def _burn_time(self, password: str) -> None:
        # One verification against the process-wide decoy, as for a real account: the time of
        # a failed login does not tell whether the username exists.
        self._verify(decoy_hash(self.settings.hasher, self.random), password)

    def _issue_token(
        self, account: Account, purpose: TokenPurpose, ttl: timedelta
    ) -> tuple[Account, Secret, datetime]:
        stored, token = new_token(self.random, purpose, self._now(), ttl)
        return account.with_token(stored), token, stored.expires_at

    def _use_token(self, token: object, purpose: TokenPurpose) -> tuple[Account, AccountToken]:
        parts = split_token(token)
        if parts is None:
            raise InvalidTokenError()
        selector, verifier = parts
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

    def _get(self, account_id: object) -> Account:
        account_id = _identifier(account_id, "account_id")
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
        raise ConflictError(f"aucun nom d'utilisateur libre à partir de « {wanted} »")

    def _invitation(self, account: Account, password: str, now: datetime) -> Invitation:
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
        email = normalize_email(email)
        name = require_text(
            display_name, "display_name", what="le nom affiché", max_length=_MAX_NAME_LENGTH
        ).strip()
        if not name:
            raise InvalidInputError("le nom affiché est obligatoire", path="display_name")
        role_set = roles_of(roles)
        if not role_set:
            raise InvalidInputError("un compte a au moins un rôle", path="roles")
        households = frozenset(_identifier(h, "household_ids") for h in household_ids)
        if account_id is not None and self.store.get(_identifier(account_id, "account_id")):
            raise ConflictError(f"le compte {account_id} existe déjà")
        if username is None:
            local = re.sub(r"[^a-z0-9._-]", "", email.split("@")[0].lower()).strip("._-")
            # Pad very short local parts to the 3-character minimum; keep room for a suffix.
            base = (local + "000")[: max(3, min(len(local), 60))]
            username = self._unique_username(normalize_username(base))
        else:
            username = normalize_username(username)
            if self.store.find_by_username(username) is not None:
                raise ConflictError(f"le nom d'utilisateur « {username} » est déjà pris")
        now = self._now()
        password = temporary_password(self.random, self.settings.temporary_password_length)
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
        return self._invitation(account, password, now)

    def reissue_invitation(self, account_id: str) -> Invitation:
        """New temporary password and activation link for an account not yet activated
        (the first link expired or the email was lost). The old link stops working."""
        account = self._get(account_id)
        if account.status is not AccountStatus.INVITED:
            raise ConflictError("ce compte est déjà activé : utilisez la réinitialisation")
        now = self._now()
        password = temporary_password(self.random, self.settings.temporary_password_length)
        account = attrs.evolve(account, password_hash=self._hash(password))
        return self._invitation(account, password, now)

    def activate(self, token: str | Secret) -> Account:
        """Follow the activation link: the account becomes active (the temporary password must
        still be changed at first login). Expired, reused or unknown tokens raise."""
        account, stored = self._use_token(token, TokenPurpose.ACTIVATION)
        now = self._now()
        account = attrs.evolve(
            account.with_token_used(stored.selector, now),
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

        ``source`` may be client-controlled: it is cleaned and bounded by
        :func:`~canteen_core.domain.accounts.normalize_source`, so any text is counted. A
        username or password that is not text, too long, or holds NUL or a lone surrogate
        raises :class:`~canteen_core.domain.errors.InvalidInputError` before anything is read.
        """
        if isinstance(password, Secret):
            password = password.reveal()
        password = require_password(password)
        username = require_login(username)
        try:
            key = normalize_username(username)
        except InvalidInputError:
            key = None
        now = self._now()
        # Each counter is read once, before the password is checked, and written from that
        # reading: a storage that locks the row on read makes the count exact under concurrency.
        by_source = source_key(source)
        source_state = self.store.throttle(by_source) if by_source is not None else None
        if source_state is not None:
            wait = source_state.retry_after(now)
            if wait is not None:
                raise LoginThrottledError(wait)
        account = self.store.find_by_username(key) if key is not None else None
        # An unknown username is counted and locked like an account (same policy, same
        # refusals): the lockout must not tell which usernames exist.
        by_account = account_key(account.id) if account is not None else unknown_user_key(username)
        account_state = self.store.throttle(by_account)
        wait = account_state.retry_after(now)
        if wait is not None:
            raise LoginThrottledError(wait)
        if account is None:
            self._burn_time(password)
            ok = False
        else:
            ok = self._verify(account.password_hash, password)
        if not ok:
            if by_source is not None and source_state is not None:
                self.store.save_throttle(
                    by_source, source_state.after_failure(now, self.settings.source_throttle)
                )
            self.store.save_throttle(
                by_account, account_state.after_failure(now, self.settings.account_throttle)
            )
            raise InvalidCredentialsError()
        assert account is not None
        if account_state.failures:
            self.store.save_throttle(by_account, ThrottleState())
        if account.status is AccountStatus.DISABLED:
            raise AccountDisabledError()
        opens_at = self.settings.portal_opens_at
        if opens_at is not None and now < opens_at and account.is_family:
            raise PortalNotOpenError(opens_at)
        if account.status is AccountStatus.INVITED:
            raise AccountNotActivatedError()
        password_hash = account.password_hash
        if needs_rehash(self.settings.hasher, password_hash):
            # Parameters were raised since this hash was made: upgrade it while we know the
            # password.
            password_hash = self._hash(password)
        # The login being made becomes the last one; the one before is kept for "Dernière
        # connexion le ..." (the portal shows the previous visit, not the current one).
        account = attrs.evolve(
            account,
            previous_login_at=account.last_login_at,
            last_login_at=now,
            password_hash=password_hash,
        )
        self.store.save(account)
        return Login(
            account=account.view(),
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
        ensure_account_usable(account)
        return account

    def change_password(
        self, account_id: str, current_password: str | Secret, new_password: str | Secret
    ) -> Account:
        """Replace the password after checking the current one (the temporary one at first
        login). The new password must pass :func:`check_password_strength` and differ from
        the current one. A wrong current password counts as a failed login."""
        account = self._get(account_id)
        current = require_password(
            current_password.reveal() if isinstance(current_password, Secret) else current_password,
            "current_password",
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
        key = account_key(account.id)
        state = self.store.throttle(key)
        wait = state.retry_after(now)
        if wait is not None:
            raise LoginThrottledError(wait)
        if not self._verify(account.password_hash, current):
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
        ).without_tokens(TokenPurpose.PASSWORD_RESET)
        self.store.save(account)
        return account

    def request_password_reset(self, login: str) -> list[PasswordReset]:
        """Issue reset tokens for the account(s) matching ``login`` (username or email).

        Returns an empty list when nothing matches: the portal must answer the same either way
        ("si un compte existe, un courriel a été envoyé") so it reveals no account. Disabled
        accounts get nothing.
        """
        login = require_login(login, "login").strip()
        if not login:
            raise InvalidInputError("indiquez un identifiant ou une adresse", path="login")
        candidates: list[Account] = []
        if "@" in login:
            with contextlib.suppress(InvalidInputError):
                candidates.extend(self.store.find_by_email(normalize_email(login)))
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
        account = account.with_token_used(stored.selector, now)
        if account.status is AccountStatus.INVITED:
            # The activation link is no longer needed.
            account = attrs.evolve(
                account, status=AccountStatus.ACTIVE, activated_at=now
            ).without_tokens(TokenPurpose.ACTIVATION)
        account = attrs.evolve(
            account,
            password_hash=self._hash(new),
            must_change_password=False,
            password_changed_at=now,
        )
        self.store.save(account)
        self.store.save_throttle(account_key(account.id), ThrottleState())
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
