"""What is offered where: services (prestations) and sites (écoles, restaurants).

A :class:`Service` is an activity families book, such as ``"Restauration scolaire"``; it runs on
some weekdays (Monday, Tuesday, Thursday, Friday for most school restaurants) and its meal starts
at ``starts_at`` (Europe/Paris wall clock): once a service has started on a day, families can no
longer change that day. A :class:`Site` is the school or restaurant where it is served; its
``zone`` gives the school-holiday calendar and ``department`` the local rules.

The catalog stores each of them on its own, versioned: a :class:`SiteEntry` adds the site's
own closures (a strike, works) to its :class:`Site`, a :class:`ServiceEntry` wraps a
:class:`Service`. Enrollments refer to them by id; a closure of the catalog site reaches every
enrollment at the site, those made later included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time

import attrs

from canteen_core.domain._validators import (
    enum_member,
    instance_of,
    items_of,
    non_empty_str,
    positive_int,
)
from canteen_core.domain.activities import TimeRounding, Unit
from canteen_core.domain.calendar import (
    WEEKDAY_NAMES_FR,
    CalendarKind,
    Period,
    Zone,
    parse_weekdays,
    weekdays_fr,
)
from canteen_core.domain.calendar_kinds import check_weekdays
from canteen_core.domain.errors import InvalidInputError

__all__ = ["Service", "ServiceEntry", "Site", "SiteEntry"]

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


def _optional_time(_: object, attribute: attrs.Attribute[time | None], value: object) -> None:
    if value is not None:
        _starts_at(_, attribute, value)  # type: ignore[arg-type]


def _unit(value: Unit | str) -> Unit:
    return enum_member(Unit, value, path="unit", what="l'unité")


def _calendar(value: CalendarKind | str) -> CalendarKind:
    return enum_member(CalendarKind, value, path="calendar", what="le calendrier")


def _optional_id(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidInputError(
            f"{attribute.name} : identifiant attendu, reçu {value!r}", path=attribute.name
        )


def _clock_fr(moment: time) -> str:
    return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"


@attrs.frozen(kw_only=True)
class Service:
    """A bookable activity (prestation): ``Service(id="rs", name="Restauration scolaire")``.

    ``open_weekdays`` accepts ``"mon,tue,thu,fri"``, French names or numbers (Monday = 0);
    it defaults to the weekdays of the service's ``calendar`` (:class:`CalendarKind`: class
    days, term Wednesdays, school holidays or term Saturdays). ``unit`` (:class:`Unit`) is
    what its tariff grid prices and its invoice lines count; ``starts_at`` and ``ends_at``
    are its opening hours (a timed unit without recorded times counts them, a departure
    after ``ends_at`` plus ``rounding.late_grace`` is a late pick-up). ``meal``: the activity
    includes a meal (the kitchen counts it); ``meal_service_id`` names the service whose
    grid prices that meal on a line of its own (a Wednesday half-day with meal = half-day +
    meal), ``None`` when the unit's price includes it. The defaults are lunch's: a day with
    a meal on class days.
    """

    id: str = attrs.field(validator=non_empty_str)
    name: str = attrs.field(validator=non_empty_str)
    calendar: CalendarKind = attrs.field(default=CalendarKind.SCHOOL_DAYS, converter=_calendar)
    open_weekdays: frozenset[int] = attrs.field(
        default=attrs.Factory(lambda self: self.calendar.default_weekdays, takes_self=True),
        converter=parse_weekdays,
    )
    starts_at: time = attrs.field(default=time(11, 30), validator=_starts_at)
    unit: Unit = attrs.field(default=Unit.DAY, converter=_unit)
    ends_at: time | None = attrs.field(default=None, validator=_optional_time)
    meal: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    meal_service_id: str | None = attrs.field(default=None, validator=_optional_id)
    rounding: TimeRounding = attrs.field(
        factory=TimeRounding, validator=attrs.validators.instance_of(TimeRounding)
    )

    def __attrs_post_init__(self) -> None:
        if self.calendar is not CalendarKind.SCHOOL_DAYS:
            check_weekdays(self.calendar, self.open_weekdays)
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise InvalidInputError(
                f"le service ferme à {self.ends_at:%H:%M}, avant d'ouvrir à {self.starts_at:%H:%M}",
                path="ends_at",
            )
        if self.unit.timed and self.ends_at is None:
            raise InvalidInputError(
                "un service facturé à l'heure ou à la demi-heure a une heure de fermeture",
                path="ends_at",
            )
        if self.meal_service_id is not None and (not self.meal or self.meal_service_id == self.id):
            raise InvalidInputError(
                "le repas facturé à part est celui d'un autre service, "
                "pour une activité avec repas",
                path="meal_service_id",
            )

    @property
    def weekdays(self) -> tuple[int, ...]:
        """Open weekdays in week order (the columns of a reservation grid)."""
        return tuple(sorted(self.open_weekdays))

    def check_runs_on(
        self,
        weekdays: Iterable[int],
        *,
        open_weekdays: frozenset[int] | None = None,
        path: str = "weekdays",
    ) -> frozenset[int]:
        """``weekdays`` (Monday = 0) if the service runs on each of them, else an
        :class:`InvalidInputError` at ``path`` naming in French the ones it never runs on and
        those to choose from: ``"Restauration scolaire n'a pas lieu le mercredi : choisissez
        parmi lundi, mardi, jeudi et vendredi"``.

        What a family asks for by weekday (an enrollment request's meal days, a periodicity)
        goes through this: a weekday without service would otherwise be silently dropped.
        ``open_weekdays`` narrows the service's own (an enrollment's calendar)."""
        days = frozenset(weekdays)
        served = self.open_weekdays if open_weekdays is None else open_weekdays
        closed = days - served
        if closed:
            raise InvalidInputError(
                f"{self.name} n'a pas lieu {weekdays_fr(closed, each='le ', last=' ni ')} : "
                f"choisissez parmi {weekdays_fr(served)}",
                path=path,
            )
        return days

    @property
    def activity_fr(self) -> str:
        """The service as grids and pages name it: its name, and for an activity its unit and
        hours (``"Accueil du soir, à la demi-heure, de 16 h 30 à 18 h 30"``)."""
        if self.unit is Unit.DAY and self.calendar is CalendarKind.SCHOOL_DAYS:
            return self.name
        text = f"{self.name}, {self.unit.label_fr}"
        if self.ends_at is not None:
            text += f", de {_clock_fr(self.starts_at)} à {_clock_fr(self.ends_at)}"
        return text + (", repas compris" if self.meal and self.meal_service_id is None else "")

    @property
    def priced_unit_fr(self) -> str:
        """What one price of the service's grid buys, in French: ``"repas"`` for a day with
        its meal (lunch), else the unit (``"demi-heure"``, ``"demi-journée"``, ``"semaine"``)."""
        if self.unit is Unit.DAY and self.meal:
            return "repas"
        return self.unit.noun_fr

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


def _closures(value: object) -> tuple[Period, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise InvalidInputError("les fermetures forment une liste de périodes", path="closures")
    return items_of(Period, value, "closures")


@attrs.frozen(kw_only=True)
class SiteEntry:
    """A site as the catalog stores it: the :class:`Site`, its own closures, its version.

    ``version`` starts at 1 and grows by one with each change (:meth:`with_closure`); storage
    refuses to save over a version that moved meanwhile.
    """

    site: Site = attrs.field(validator=instance_of(Site))
    closures: tuple[Period, ...] = attrs.field(default=(), converter=_closures)
    version: int = attrs.field(default=1, validator=positive_int)

    @property
    def id(self) -> str:
        """The site's id."""
        return self.site.id

    def with_closure(self, period: Period) -> SiteEntry:
        """The next version, closed over ``period`` too."""
        if not isinstance(period, Period):
            raise InvalidInputError("fermeture attendue (Period)", path="period")
        return attrs.evolve(self, closures=(*self.closures, period), version=self.version + 1)


@attrs.frozen(kw_only=True)
class ServiceEntry:
    """A service as the catalog stores it: the :class:`Service` and its version."""

    service: Service = attrs.field(validator=instance_of(Service))
    version: int = attrs.field(default=1, validator=positive_int)

    @property
    def id(self) -> str:
        """The service's id."""
        return self.service.id
