"""What is offered where: services (prestations) and sites (écoles, restaurants).

A :class:`Service` is an activity families book, such as ``"Restauration scolaire"``; it runs on
some weekdays (Monday, Tuesday, Thursday, Friday for most school restaurants) and its meal starts
at ``starts_at`` (Europe/Paris wall clock): once a service has started on a day, families can no
longer change that day. A :class:`Site` is the school or restaurant where it is served; its
``zone`` gives the school-holiday calendar and ``department`` the local rules.
"""

from __future__ import annotations

import re
from datetime import time

import attrs

from canteen_core.domain._validators import non_empty_str
from canteen_core.domain.calendar import (
    SCHOOL_RESTAURANT_WEEKDAYS,
    WEEKDAY_NAMES_FR,
    Zone,
    parse_weekdays,
)
from canteen_core.domain.errors import InvalidInputError

__all__ = ["Service", "Site"]

# Metropolitan departments 01-95 (with 2A/2B for Corsica) and overseas 971-976.
_DEPARTMENT = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])$")


def _zone(value: Zone | str) -> Zone:
    return value if isinstance(value, Zone) else Zone.parse(value)


def _department(value: str | int) -> str:
    text = f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    text = text.strip().upper()
    if not _DEPARTMENT.match(text):
        raise InvalidInputError(
            f"unknown French department {value!r}; expected e.g. '75', '2A' or '974'",
            path="department",
        )
    return text


def _starts_at(_: object, attribute: attrs.Attribute[time], value: object) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidInputError(
            f"must be a naive wall-clock time (Europe/Paris), got {value!r}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class Service:
    """A bookable activity (prestation): ``Service(id="rs", name="Restauration scolaire")``.

    ``open_weekdays`` accepts ``"mon,tue,thu,fri"``, French names or numbers (Monday = 0).
    """

    id: str = attrs.field(validator=non_empty_str)
    name: str = attrs.field(validator=non_empty_str)
    open_weekdays: frozenset[int] = attrs.field(
        default=SCHOOL_RESTAURANT_WEEKDAYS, converter=parse_weekdays
    )
    starts_at: time = attrs.field(default=time(11, 30), validator=_starts_at)

    @property
    def weekdays(self) -> tuple[int, ...]:
        """Open weekdays in week order (the columns of a reservation grid)."""
        return tuple(sorted(self.open_weekdays))

    @property
    def column_labels(self) -> tuple[str, ...]:
        """``("LUNDI", "MARDI", "JEUDI", "VENDREDI")`` for a school restaurant."""
        return tuple(WEEKDAY_NAMES_FR[day].upper() for day in self.weekdays)


@attrs.frozen(kw_only=True)
class Site:
    """A school or restaurant where a service is served.

    ``Site(id="ronde", name="École élémentaire Ronde", zone="C", department="75")``
    """

    id: str = attrs.field(validator=non_empty_str)
    name: str = attrs.field(validator=non_empty_str)
    zone: Zone = attrs.field(converter=_zone)
    department: str = attrs.field(converter=_department)
