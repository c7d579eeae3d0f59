"""Secrets, randomness and the split tokens of activation and reset links.

A token is ``<selector>.<verifier>``: the selector (96 bits) finds the account, only a SHA-256
digest of the 256-bit verifier is stored and it is compared with :func:`hmac.compare_digest`.
What the database holds (selector, digest) is therefore not enough to follow a link: the
verifier exists only in the email. Tokens expire and are single-use; issuing a new token of a
kind revokes the previous ones of that kind (see :meth:`Account.with_token
<canteen_core.domain.accounts.model.Account.with_token>`).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "AccountToken",
    "RandomSource",
    "Secret",
    "SystemRandom",
    "TokenPurpose",
    "new_token",
    "split_token",
    "token_digest",
]


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
        return hmac.compare_digest(
            self._value.encode("utf-8", "surrogatepass"),
            other._value.encode("utf-8", "surrogatepass"),
        )

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


_SELECTOR_BYTES = 12
_VERIFIER_BYTES = 32
_TOKEN_RE = re.compile(r"^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$")


def urlsafe(data: bytes) -> str:
    """``data`` as unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token_digest(verifier: str) -> str:
    """The SHA-256 hex digest stored for a token's ``verifier``.

    A fast hash is right here: the verifier has 256 bits of entropy, nothing to brute-force.
    """
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


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
        """Constant-time comparison of the digest of ``verifier`` with the stored digest."""
        return hmac.compare_digest(token_digest(verifier), self.digest)


def new_token(
    random: RandomSource, purpose: TokenPurpose, now: datetime, ttl: timedelta
) -> tuple[AccountToken, Secret]:
    """A fresh token: what to store (digest only) and the ``selector.verifier`` to email."""
    selector = urlsafe(random.token_bytes(_SELECTOR_BYTES))
    verifier = urlsafe(random.token_bytes(_VERIFIER_BYTES))
    stored = AccountToken(
        purpose=purpose,
        selector=selector,
        digest=token_digest(verifier),
        created_at=now,
        expires_at=now + ttl,
    )
    return stored, Secret(f"{selector}.{verifier}")


def split_token(token: object) -> tuple[str, str] | None:
    """``(selector, verifier)`` of a well-formed emailed token, else ``None``."""
    if isinstance(token, Secret):
        token = token.reveal()
    if not isinstance(token, str):
        return None
    match = _TOKEN_RE.match(token.strip())
    if match is None:
        return None
    selector, verifier = match.groups()
    return selector, verifier
