"""Deployment choices for accounts (:class:`AccountSettings`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import argon2
import attrs

from canteen_core.domain.accounts.throttling import ThrottlePolicy, positive_delta
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import InvalidInputError

__all__ = ["AccountSettings"]

_ACCOUNT_THROTTLE = ThrottlePolicy()
# A source (IP address) may be a school or a shared network: allow more before locking.
_SOURCE_THROTTLE = ThrottlePolicy(
    free_failures=20, base_lockout=timedelta(seconds=10), max_lockout=timedelta(minutes=15)
)


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
    activation_ttl: timedelta = attrs.field(default=timedelta(days=14), validator=positive_delta)
    reset_ttl: timedelta = attrs.field(default=timedelta(hours=1), validator=positive_delta)
    portal_opens_at: datetime | None = attrs.field(default=None, converter=_opening)
    temporary_password_length: int = attrs.field(default=14, validator=_min_length)
    min_password_length: int = attrs.field(default=12, validator=_min_length)
    account_throttle: ThrottlePolicy = attrs.field(default=_ACCOUNT_THROTTLE)
    source_throttle: ThrottlePolicy = attrs.field(default=_SOURCE_THROTTLE)
