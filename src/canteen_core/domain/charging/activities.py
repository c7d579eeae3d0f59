"""The billing facts of an activity (:func:`activity_facts`): a lunch's facts, counted in the
activity's unit, with the activity's meal on facts of its own.

See ``docs/rules/activities.md``: a service billed by the hour or half-hour counts each day's
units from the child's arrival and departure (the opening hours when none were recorded); a
week is billed in the period of its Monday; an activity with meal priced apart
(``Service.meal_service_id``) adds the same days priced by the meal's grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time

import attrs

from canteen_core.domain.activities import Unit, minutes_between, time_units, week_of
from canteen_core.domain.calendar import CalendarKind
from canteen_core.domain.catalog import Service
from canteen_core.domain.charging.facts import PeriodFacts

__all__ = ["activity_facts", "is_lunch", "late_pickups"]

_DAY_SETS = ("booked", "closed", "present", "absent", "justified", "late_booked", "late_cancelled")


def is_lunch(service: Service) -> bool:
    """Whether ``service`` is billed as lunch always was: by the day, on class days, its meal
    included in its price."""
    return (
        service.unit is Unit.DAY
        and service.calendar is CalendarKind.SCHOOL_DAYS
        and service.meal_service_id is None
    )


def _day_units(service: Service, stay: tuple[time, time] | None) -> int:
    if stay is None:
        assert service.ends_at is not None  # a timed service has its closing time
        stay = (service.starts_at, service.ends_at)
    return time_units(service.unit, minutes_between(*stay), service.rounding)


def late_pickups(service: Service, stays: Mapping[date, tuple[time, time]]) -> frozenset[date]:
    """The days the child left after closing time plus the commune's grace minutes."""
    if service.ends_at is None:
        return frozenset()
    closing = service.ends_at
    grace = service.rounding.late_grace
    return frozenset(
        day
        for day, (_, departure) in stays.items()
        if departure > closing and minutes_between(closing, departure) > grace
    )


def activity_facts(
    facts: PeriodFacts,
    service: Service,
    start: date,
    stays: Mapping[date, tuple[time, time]] | None = None,
) -> tuple[PeriodFacts, ...]:
    """The facts billing charges for ``facts`` of ``service`` over a period from ``start``.

    A lunch's facts are given back as they are. An activity's carry its unit; for a timed
    unit, each day's units (from ``stays``, the arrival and departure recorded, or the
    opening hours); for a week unit, the days of weeks whose Monday is before ``start`` are
    left out (billed with the previous period); present days the child left after closing
    time plus the grace minutes are late pick-ups. An activity whose meal is priced apart adds
    the same facts priced by ``service.meal_service_id``.
    """
    if is_lunch(service):
        return (facts,)
    own = attrs.evolve(facts, unit=service.unit)
    if service.unit is Unit.WEEK:
        kept = {
            name: frozenset(day for day in getattr(facts, name) if week_of(day) >= start)
            for name in _DAY_SETS
        }
        own = attrs.evolve(own, **kept)  # type: ignore[arg-type]
    if service.unit.timed:
        given = stays or {}
        counted = facts.booked | facts.present | facts.late_cancelled
        own = attrs.evolve(
            own,
            quantities=tuple((day, _day_units(service, given.get(day))) for day in sorted(counted)),
        )
    late = late_pickups(service, stays or {}) & own.present
    if late:
        own = attrs.evolve(own, late_pickups=late)
    if service.meal_service_id is None:
        return (own,)
    meal = attrs.evolve(
        own, quantities=(), tariff_service_id=service.meal_service_id, late_pickups=frozenset()
    )
    return (own, meal)
