"""Activities beyond lunch: the unit a service is billed by, and how many units a day makes.

A service (:class:`~canteen_core.domain.catalog.Service`) is billed by its :class:`Unit`: the
day (lunch, a holiday-centre day), the half-day (a Wednesday afternoon), the slot (a morning
care), the hour or the half-hour (evening care, from the child's arrival and departure), or the
week (a holiday-centre week). Its tariff grid prices **one unit**.

Time units count from arrival to departure with the commune's :class:`TimeRounding`: every
started step is due once the child stayed more than ``tolerance`` minutes into it (``step=30,
tolerance=5``: 16:30 to 18:04 is 3 half-hours, 16:30 to 18:06 is 4). A day booked but not
recorded (or an unjustified absence) is counted over the service's opening hours.

A week is billed once, in the month of its Monday, however many of its days were charged: the
days of that week falling in the next month are part of it and are not billed again
(:func:`week_units`). The rules are in ``docs/rules/activities.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import attrs

from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "TimeRounding",
    "Unit",
    "duration_fr",
    "minutes_between",
    "time_units",
    "week_of",
    "week_units",
]


class Unit(LabelledEnum):
    """What one priced unit of a service is; ``label`` (or ``label_fr``) is how the unit is
    billed, in French: ``"à la demi-heure"``, ``"à la semaine"``."""

    DAY = "day", "à la journée"
    HALF_DAY = "half_day", "à la demi-journée"
    SLOT = "slot", "au créneau"
    HOUR = "hour", "à l'heure"
    HALF_HOUR = "half_hour", "à la demi-heure"
    WEEK = "week", "à la semaine"

    @property
    def timed(self) -> bool:
        """Whether the quantity comes from arrival and departure times (hour, half-hour)."""
        return self in (Unit.HOUR, Unit.HALF_HOUR)

    @property
    def minutes(self) -> int:
        """The length of one unit in minutes, for timed units (0 otherwise)."""
        return {Unit.HOUR: 60, Unit.HALF_HOUR: 30}.get(self, 0)

    @property
    def noun_fr(self) -> str:
        """One unit in French: ``"demi-heure"``, ``"semaine"``."""
        return _UNIT_NAMES_FR[self][0]

    def quantity_fr(self, quantity: int) -> str:
        """``"6 h 30"`` for 13 half-hours, ``"2 demi-journées"``, ``"1 semaine"``."""
        if self.timed:
            return duration_fr(quantity * self.minutes)
        singular, plural = _UNIT_NAMES_FR[self]
        return f"{quantity} {singular if quantity == 1 else plural}"


_UNIT_NAMES_FR = {
    Unit.DAY: ("jour", "jours"),
    Unit.HALF_DAY: ("demi-journée", "demi-journées"),
    Unit.SLOT: ("créneau", "créneaux"),
    Unit.HOUR: ("heure", "heures"),
    Unit.HALF_HOUR: ("demi-heure", "demi-heures"),
    Unit.WEEK: ("semaine", "semaines"),
}


def duration_fr(minutes: int) -> str:
    """``"6 h 30"``, ``"2 h"``, ``"0 h 45"``: a duration as French invoices write it."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def _non_negative_minutes(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 240:
        raise InvalidInputError(
            f"{attribute.name} : un nombre de minutes entre 0 et 240 est attendu, reçu {value!r}",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class TimeRounding:
    """The commune's rule for timed units: a started unit is due once the child stayed more
    than ``tolerance`` minutes into it; ``late_grace`` minutes after closing are tolerated
    before the late pick-up fee."""

    tolerance: int = attrs.field(default=0, validator=_non_negative_minutes)
    late_grace: int = attrs.field(default=0, validator=_non_negative_minutes)


def minutes_between(arrival: time, departure: time) -> int:
    """Minutes from ``arrival`` to ``departure`` (same day; refused when departure is first)."""
    for name, value in (("arrival", arrival), ("departure", departure)):
        if not isinstance(value, time) or value.tzinfo is not None:
            raise InvalidInputError(f"heure attendue, reçu {value!r}", path=name)
    if departure < arrival:
        raise InvalidInputError(
            f"départ à {departure:%H:%M} avant l'arrivée à {arrival:%H:%M}", path="departure"
        )
    day = date(2000, 1, 1)
    delta = datetime.combine(day, departure) - datetime.combine(day, arrival)
    return int(delta.total_seconds() // 60)


def time_units(unit: Unit, minutes: int, rounding: TimeRounding) -> int:
    """Units due for a stay of ``minutes`` (at least one: a child who came is charged)."""
    if not unit.timed:
        return 1
    full, rest = divmod(max(0, minutes), unit.minutes)
    return max(1, full + (1 if rest > rounding.tolerance else 0))


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def week_units(days: Iterable[date], start: date) -> tuple[date, ...]:
    """The weeks billed for the charged ``days`` of a period starting on ``start``: the Monday
    of each week with a charged day, except weeks whose Monday falls before ``start`` (they
    belong to the previous period). A week is so billed by one period only."""
    return tuple(sorted({monday for monday in map(week_of, days) if monday >= start}))
