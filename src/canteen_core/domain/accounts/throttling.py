"""Failed-login throttling as pure rules: the lockout policy and the per-key state.

Failed logins are counted per account and per source (the client address the portal passes)
with an exponential lockout (:class:`ThrottlePolicy`). The counters live in the store under
keys built here (:func:`account_key`, :func:`unknown_user_key`, :func:`source_key`); this
module does no I/O.

Every key is short and plain whatever the caller passed: a source may be client-controlled
(an ``X-Forwarded-For`` header), and a key the database cannot store would make the counter
unwritable, so wrong guesses would go uncounted.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import attrs

from canteen_core.domain._validators import non_negative_int
from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "MAX_SOURCE_LENGTH",
    "ThrottlePolicy",
    "ThrottleState",
    "account_key",
    "normalize_source",
    "retry_text",
    "source_key",
    "unknown_user_key",
]


def positive_delta(_: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    """attrs validator: a strictly positive :class:`~datetime.timedelta`."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInputError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class ThrottlePolicy:
    """Exponential lockout: after ``free_failures`` failures, each new failure locks for
    ``base_lockout * 2**k`` (k = 0, 1, 2...), at most ``max_lockout``. Failures older than
    ``forget_after`` are forgotten.

    >>> policy = ThrottlePolicy(free_failures=3, base_lockout=timedelta(seconds=30))
    >>> [policy.lockout_after(n).seconds for n in (3, 4, 5, 6)]
    [0, 30, 60, 120]
    """

    free_failures: int = attrs.field(default=5, validator=non_negative_int)
    base_lockout: timedelta = attrs.field(default=timedelta(seconds=30), validator=positive_delta)
    max_lockout: timedelta = attrs.field(default=timedelta(hours=1), validator=positive_delta)
    forget_after: timedelta = attrs.field(default=timedelta(hours=24), validator=positive_delta)

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

    failures: int = attrs.field(default=0, validator=non_negative_int)
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


def retry_text(delay: timedelta) -> str:
    """``delay`` in French words, rounded up (``"30 secondes"``, ``"2 minutes"``)."""
    seconds = max(1, int(-(-delay.total_seconds() // 1)))
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def account_key(account_id: str) -> str:
    """The throttle key of an existing account."""
    return f"account:{account_id}"


def unknown_user_key(username: str) -> str:
    """The throttle key of a username no account has.

    Unknown usernames are counted and locked with the account policy exactly like existing
    accounts, so the number of attempts before the lockout does not reveal which usernames
    exist. The key holds a digest of the username as typed (stripped, lower-cased): bounded
    length whatever was typed.
    """
    typed = username.strip().lower().encode("utf-8", "surrogatepass")  # never raises
    return f"username:{hashlib.sha256(typed).hexdigest()}"


#: Sources longer than this (after cleaning) are keyed by their SHA-256 digest.
MAX_SOURCE_LENGTH = 64

_UNSAFE_IN_SOURCE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def normalize_source(source: object) -> str | None:
    """The login ``source`` as it is counted, by one rule for every backend.

    Control characters (NUL included) and lone surrogates are removed, then surrounding
    spaces; nothing left means no source (``None``). A cleaned source of at most
    :data:`MAX_SOURCE_LENGTH` characters is kept as is (an IPv4 or IPv6 address fits);
    a longer one (a forged ``X-Forwarded-For`` list) becomes ``sha256:<hex digest>``, so it
    is still counted, under a key of bounded length.

    >>> normalize_source(" 203.0.113.9\x00 ")
    '203.0.113.9'
    >>> len(normalize_source("203.0.113.9, " * 400))
    71
    """
    if source is None:
        return None
    if not isinstance(source, str):
        raise InvalidInputError("l'origine de la connexion doit être un texte", path="source")
    cleaned = _UNSAFE_IN_SOURCE.sub("", source).strip()
    if not cleaned:
        return None
    if len(cleaned) <= MAX_SOURCE_LENGTH:
        return cleaned
    return f"sha256:{hashlib.sha256(cleaned.encode('utf-8')).hexdigest()}"


def source_key(source: str | None) -> str | None:
    """The throttle key of a login ``source`` (``None`` when there is none), normalized by
    :func:`normalize_source`."""
    normalized = normalize_source(source)
    return f"source:{normalized}" if normalized else None
