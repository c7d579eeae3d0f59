"""Injectable clocks.

Rules that depend on "now" (deadlines, token expiry, due dates) take a :class:`Clock` so tests and
simulations can pin time. Clocks always return timezone-aware UTC instants.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from canteen_core.domain.errors import InvalidInputError

__all__ = ["PARIS", "Clock", "FixedClock", "SystemClock", "ensure_aware", "paris_today"]

#: The wall-clock zone every French deadline is expressed in.
PARIS = ZoneInfo("Europe/Paris")


@runtime_checkable
class Clock(Protocol):
    """Something that tells the current instant."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stays where it is put; ``advance`` moves it forward.

    >>> clock = FixedClock(datetime(2023, 9, 4, 8, 0, tzinfo=UTC))
    >>> clock.advance(hours=2).now().hour
    10
    """

    def __init__(self, instant: datetime) -> None:
        self._instant = ensure_aware(instant, "instant").astimezone(UTC)

    def now(self) -> datetime:
        return self._instant

    def set(self, instant: datetime) -> FixedClock:
        """Move the clock to ``instant`` (aware) and return it."""
        self._instant = ensure_aware(instant, "instant").astimezone(UTC)
        return self

    def advance(self, **delta: float) -> FixedClock:
        """Move the clock forward by a :class:`~datetime.timedelta` given as keywords."""
        self._instant += timedelta(**delta)
        return self


def ensure_aware(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` if it is timezone-aware, else raise :class:`InvalidInputError`."""
    if not isinstance(value, datetime):
        raise InvalidInputError(f"expected a datetime, got {type(value).__name__}", path=name)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError("naive datetimes are not accepted; give a timezone", path=name)
    return value


def paris_date(instant: datetime) -> date:
    """The calendar date in Europe/Paris at ``instant`` (aware)."""
    return instant.astimezone(PARIS).date()


def paris_today(clock: Clock) -> date:
    """The current calendar date in Europe/Paris."""
    return paris_date(clock.now())
