"""Which part of the school year a service runs on (:class:`CalendarKind`): class days, term
Wednesdays, the school holidays or term Saturdays, with the weekdays each may open. Used by
:class:`~canteen_core.domain.calendar.ServiceCalendar` (see ``docs/rules/activities.md``).
"""

from __future__ import annotations

import enum

from canteen_core.domain._validators import enum_member
from canteen_core.domain.errors import InvalidInputError

__all__ = ["CalendarKind", "calendar_kind", "check_weekdays"]


class CalendarKind(enum.StrEnum):
    """Which days of the school year a service runs on (see ``docs/rules/activities.md``).

    - ``school_days``: class days (lunch, morning and evening care), the default;
    - ``wednesdays``: the Wednesdays of the school term;
    - ``school_holidays``: the days of the school holidays (the holiday centre, ALSH);
    - ``saturdays``: the Saturdays of the school term, where a commune runs them.
    """

    SCHOOL_DAYS = "school_days"
    WEDNESDAYS = "wednesdays"
    SCHOOL_HOLIDAYS = "school_holidays"
    SATURDAYS = "saturdays"

    @property
    def default_weekdays(self) -> frozenset[int]:
        """The weekdays a service of this kind opens unless told otherwise."""
        return _KIND_WEEKDAYS[self]

    @property
    def allowed_weekdays(self) -> frozenset[int]:
        """The weekdays a service of this kind may open (Sunday never; Saturday only for
        ``saturdays``)."""
        return frozenset({5}) if self is CalendarKind.SATURDAYS else frozenset(range(5))


_KIND_WEEKDAYS = {
    CalendarKind.SCHOOL_DAYS: frozenset({0, 1, 3, 4}),
    CalendarKind.WEDNESDAYS: frozenset({2}),
    CalendarKind.SCHOOL_HOLIDAYS: frozenset(range(5)),
    CalendarKind.SATURDAYS: frozenset({5}),
}


def calendar_kind(value: CalendarKind | str) -> CalendarKind:
    """Typed converter: a :class:`CalendarKind` from its value (``"school_holidays"``)."""
    if isinstance(value, CalendarKind):
        return value
    return enum_member(CalendarKind, str(value).strip().lower(), path="kind", what="le calendrier")


def check_weekdays(kind: CalendarKind, weekdays: frozenset[int]) -> None:
    """Refuse weekdays a service of ``kind`` cannot open: a school service never runs on a
    weekend, a Saturday service only on Saturdays."""
    extra = weekdays - kind.allowed_weekdays
    if extra:
        if kind is CalendarKind.SATURDAYS:
            message = "un service du samedi n'ouvre que le samedi (sat)"
        else:
            message = "un service scolaire n'ouvre ni le samedi ni le dimanche (mon à fri)"
        raise InvalidInputError(message, path="open_weekdays")
