"""Hand-built calendars and households for the reservation tests (official 2023-2024, zone C).

Dates from the arrêté of 7 December 2022 and the public holidays of 2023-2024. Kept by hand so the
tests do not depend on the France data plugin.
"""

from __future__ import annotations

from datetime import date, time

from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.deadlines import CutOffPolicy, OpenDaysBefore
from canteen_core.domain.enrollments import Enrollment, LateChangeMode, enroll
from canteen_core.domain.families import Child, Diet, Guardian, Household, HouseholdDirectory

# The hand-built school year, calendar, service, site and policy are shipped with the storage
# contract for plugin authors; the tests share that one copy.
from canteen_core.testing.samples import (
    CALENDAR,
    LAST_DAY,
    RENTREE,
    SERVICE,
    SITE,
    THURSDAY_10,
)

PREVIOUS_DAY_11 = OpenDaysBefore(days=1, at=time(11, 0))

MAMAN = Guardian(id="g-maman", first_name="Maman", last_name="Concerto", civility="Madame")
PAPA = Guardian(id="g-papa", first_name="Papa", last_name="Concerto", civility="Monsieur")
ALBAN = Child(id="c-alban", first_name="Alban", last_name="Concerto", birth_date=date(2015, 3, 2))
ARIELLE = Child(
    id="c-arielle",
    first_name="Arielle",
    last_name="Concerto",
    birth_date=date(2017, 6, 1),
    diet=Diet.VEGETARIAN,
)
BASILE = Child(
    id="c-basile", first_name="Basile", last_name="Concerto", birth_date=date(2019, 1, 9), pai=True
)
HOUSEHOLD = Household(
    id="h-concerto", payer=MAMAN, co_representative=PAPA, children=(ALBAN, ARIELLE, BASILE)
)
OTHER_CHILD = Child(
    id="c-zoe", first_name="Zoé", last_name="Martin", birth_date=date(2016, 2, 2), diet="no_pork"
)
OTHER = Household(
    id="h-martin",
    payer=Guardian(id="g-martin", first_name="Jeanne", last_name="Martin"),
    co_representative=PAPA,  # Papa is also linked to this household (blended family)
    children=(OTHER_CHILD,),
)
DIRECTORY = HouseholdDirectory.of([HOUSEHOLD, OTHER])


def enrollment(
    *,
    child_id: str = ALBAN.id,
    household: Household = HOUSEHOLD,
    booking: CutOffPolicy = THURSDAY_10,
    cancellation: CutOffPolicy | None = None,
    late: LateChangeMode | str = LateChangeMode.REFUSE,
    start: date = RENTREE,
    end: date = LAST_DAY,
    calendar: ServiceCalendar = CALENDAR,
    enrollment_id: str | None = None,
) -> Enrollment:
    """Alban's enrollment at Ronde for the year, with the given policies."""
    return enroll(
        household,
        child_id,
        id=enrollment_id or f"e-{child_id}",
        service=SERVICE,
        site=SITE,
        calendar=calendar,
        start=start,
        end=end,
        booking_policy=booking,
        cancellation_policy=cancellation,
        late_change=late,
    )
