"""Portal accounts, as pure rules and values: invitation, activation, login, passwords.

The commune creates the family's space: the guardian receives an email with a username, a
temporary password and an activation link. After activation the first login must change the
password; until then every other use case is refused. Family logins may be held until the
portal's opening date ("à partir du 21 août"). The use cases themselves (invite, activate,
log in, change or reset a password) are :class:`canteen_core.services.accounts.Accounts`.

The rooms of this package:

* :mod:`~canteen_core.domain.accounts.model`: :class:`Account`, its status, usernames and
  email addresses, the results of the use cases (:class:`Invitation`, :class:`Login`...);
* :mod:`~canteen_core.domain.accounts.settings`: :class:`AccountSettings`;
* :mod:`~canteen_core.domain.accounts.tokens`: :class:`Secret`, randomness and the split
  tokens of activation and reset links (only a digest of the verifier is stored);
* :mod:`~canteen_core.domain.accounts.passwords`: the strength rule, temporary passwords,
  argon2id hashing;
* :mod:`~canteen_core.domain.accounts.throttling`: the failed-login lockout rules;
* :mod:`~canteen_core.domain.accounts.errors`: the authentication errors (French messages);
* :mod:`~canteen_core.domain.accounts.store`: the :class:`AccountStore` port.

Every name below is importable from ``canteen_core.domain.accounts`` itself. Authorization
(who may invite) is checked by the caller with :mod:`canteen_core.domain.policy`.
"""

from canteen_core.domain.accounts.errors import (
    AccountDisabledError,
    AccountNotActivatedError,
    AuthenticationError,
    InvalidCredentialsError,
    InvalidTokenError,
    LoginThrottledError,
    PasswordChangeRequiredError,
    PortalNotOpenError,
    TokenAlreadyUsedError,
    TokenExpiredError,
)
from canteen_core.domain.accounts.model import (
    Account,
    AccountStatus,
    AccountView,
    Invitation,
    Login,
    PasswordReset,
    normalize_email,
    normalize_username,
)
from canteen_core.domain.accounts.passwords import check_password_strength
from canteen_core.domain.accounts.settings import AccountSettings
from canteen_core.domain.accounts.store import AccountStore, InMemoryAccountStore
from canteen_core.domain.accounts.throttling import ThrottlePolicy, ThrottleState, normalize_source
from canteen_core.domain.accounts.tokens import (
    AccountToken,
    RandomSource,
    Secret,
    SystemRandom,
    TokenPurpose,
)

__all__ = [
    "Account",
    "AccountDisabledError",
    "AccountNotActivatedError",
    "AccountSettings",
    "AccountStatus",
    "AccountStore",
    "AccountToken",
    "AccountView",
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
    "normalize_email",
    "normalize_source",
    "normalize_username",
]
