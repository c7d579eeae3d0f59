"""Failed-login throttling as pure rules: the lockout policy and the per-key state.

Failed logins are counted per account and per source (the client address the portal passes)
with an exponential lockout (:class:`ThrottlePolicy`). The counters live in the store under
keys built here (:func:`account_key`, :func:`source_key`); this module does no I/O.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import attrs

from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "ThrottlePolicy",
    "ThrottleState",
    "account_key",
    "retry_text",
    "source_key",
    "unknown_user_key",
]


def positive_delta(_: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    """attrs validator: a strictly positive :class:`~datetime.timedelta`."""
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
    typed = username.strip().lower().encode("utf-8", "surrogatepass")
    return f"username:{hashlib.sha256(typed).hexdigest()}"


def source_key(source: str | None) -> str | None:
    """The throttle key of a login ``source`` (``None`` when there is none)."""
    return f"source:{source}" if source else None
