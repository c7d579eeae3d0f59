"""The activities of a synthetic city (:func:`city_activities`): an evening care billed by the
half-hour, a Wednesday service by the half-day with its meal and a holiday centre (ALSH) by the
week, with their enrollments, periodicities and the evening care's arrivals and departures.

Generated from the city's seed on streams of their own, so the city itself (its households,
lunch enrollments and attendance) is the same with or without them. About a quarter of the
children stay at the evening care on their lunch days, one in six comes on Wednesdays, one in
ten spends the first week of the February holidays at the ALSH. See
``docs/rules/activities.md``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, time, timedelta

import attrs

from canteen_core.domain.activities import TimeRounding
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.catalog import Service
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.periodicity import Periodicity
from canteen_core.synthetic import SyntheticCity

__all__ = ["ALSH", "EVENING_CARE", "WEDNESDAY", "CityActivities", "city_activities"]

#: Evening care (accueil du soir) on class days, 16:30 to 18:30, by the half-hour; a started
#: half-hour is due past 5 minutes, a pick-up after 18:40 is late.
EVENING_CARE = Service(
    id="soir",
    name="Accueil du soir",
    starts_at=time(16, 30),
    ends_at=time(18, 30),
    unit="half_hour",
    meal=False,
    rounding=TimeRounding(tolerance=5, late_grace=10),
)
#: The Wednesday service by the half-day (the afternoon), with lunch priced by the canteen's grid.
WEDNESDAY = Service(
    id="mercredi",
    name="Accueil du mercredi",
    calendar="wednesdays",
    starts_at=time(11, 30),
    ends_at=time(18, 0),
    unit="half_day",
    meal_service_id="rs",
)
#: The holiday centre, booked and billed by the week, its meals included.
ALSH = Service(
    id="alsh",
    name="ALSH vacances",
    calendar="school_holidays",
    starts_at=time(8, 30),
    ends_at=time(18, 0),
    unit="week",
)
_SHARES = ((EVENING_CARE, 0.25), (WEDNESDAY, 1 / 6), (ALSH, 0.10))


@attrs.frozen(kw_only=True, eq=False)
class CityActivities:
    """The activities of a :class:`~canteen_core.synthetic.SyntheticCity`: their services,
    enrollments (ids ``<child>-soir``, ``<child>-mercredi``, ``<child>-alsh``) and
    periodicities (the ALSH's: its first holiday week of February)."""

    seed: int
    services: tuple[Service, ...]
    enrollments: tuple[Enrollment, ...]
    periodicities: dict[str, Periodicity]

    def stays(self, start: date, end: date) -> Iterator[tuple[date, str, time, time]]:
        """Arrival and departure of the evening care's booked days from ``start`` to ``end``:
        ``(day, enrollment id, arrival, departure)``; a few children are picked up late."""
        for enrollment in self.enrollments:
            if enrollment.service.id != EVENING_CARE.id:
                continue
            booked = frozenset(self.periodicities[enrollment.id].days())
            rng = random.Random(f"{self.seed}:stays:{enrollment.id}:{start.isoformat()}")
            for day in enrollment.open_days(max(start, enrollment.start), min(end, enrollment.end)):
                if day not in booked:
                    continue
                arrival = time(16, 30 + rng.choice((0, 0, 5, 10)))
                minutes = rng.randint(30, 135)
                leaves = 16 * 60 + 30 + minutes
                yield day, enrollment.id, arrival, time(leaves // 60, leaves % 60)


def _february_week(calendar: ServiceCalendar) -> tuple[date, date]:
    """The first week of the February holidays (Monday to Friday)."""
    year = calendar.school_year.start_year + 1
    days = calendar.open_days(date(year, 2, 1), date(year, 3, 31))
    monday = days[0] - timedelta(days=days[0].weekday())
    return monday, monday + timedelta(days=4)


def city_activities(city: SyntheticCity) -> CityActivities:
    """The evening care, Wednesday service and ALSH of ``city`` (see the module docstring)."""
    year = city.calendar.school_year
    calendars = {
        service.id: ServiceCalendar(
            school_year=year, kind=service.calendar, open_weekdays=service.open_weekdays
        )
        for service, _ in _SHARES
    }
    holiday_week = _february_week(calendars[ALSH.id])
    enrollments: list[Enrollment] = []
    periodicities: dict[str, Periodicity] = {}
    for lunch in city.enrollments:
        rng = random.Random(f"{city.seed}:activities:{lunch.child_id}")
        for service, share in _SHARES:
            if rng.random() >= share:
                continue
            enrollment = attrs.evolve(
                lunch,
                id=f"{lunch.child_id}-{service.id}",
                service=service,
                calendar=calendars[service.id],
                # A PAI basket is lunch's: the activities price the child as resident or not.
                tariff_category=(
                    "non_resident" if lunch.tariff_category == "non_resident_child" else "resident"
                ),
            )
            enrollments.append(enrollment)
            if service is ALSH:
                pattern = Periodicity(
                    weekdays="mon-fri", start=holiday_week[0], end=holiday_week[1]
                )
            elif service is WEDNESDAY:
                pattern = Periodicity(weekdays="wed", start=lunch.start, end=lunch.end)
            else:
                pattern = city.periodicities[lunch.id]  # the evening care of lunch days
            periodicities[enrollment.id] = pattern
    return CityActivities(
        seed=city.seed,
        services=tuple(service for service, _ in _SHARES),
        enrollments=tuple(enrollments),
        periodicities=periodicities,
    )
