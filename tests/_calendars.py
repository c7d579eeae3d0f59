"""Hand-built calendars and households for the reservation tests (official 2023-2024, zone C).

Dates from the arrêté of 7 December 2022 and the public holidays of 2023-2024. Kept by hand so the
tests do not depend on the France data plugin.
"""

from __future__ import annotations

from datetime import date, time

from canteen_core.domain.calendar import Period, SchoolYear, ServiceCalendar, Zone
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.deadlines import CutOffPolicy, OpenDaysBefore, WeeklyDeadline
from canteen_core.domain.enrollments import Enrollment, LateChangeMode, enroll
from canteen_core.domain.families import Child, Diet, Guardian, Household, HouseholdDirectory

RENTREE = date(2023, 9, 4)
LAST_DAY = date(2024, 7, 5)


def school_year_2023_c() -> SchoolYear:
    """School year 2023-2024 in zone C (Paris, Créteil, Montpellier, Toulouse)."""
    return SchoolYear(
        zone=Zone.C,
        start_year=2023,
        first_day=RENTREE,
        last_day=LAST_DAY,
        holidays=(
            Period(
                name="Vacances de la Toussaint",
                first_day=date(2023, 10, 21),
                last_day=date(2023, 11, 5),
            ),
            Period(
                name="Vacances de Noël", first_day=date(2023, 12, 23), last_day=date(2024, 1, 7)
            ),
            Period(
                name="Vacances d'hiver", first_day=date(2024, 2, 10), last_day=date(2024, 2, 25)
            ),
            Period(
                name="Vacances de printemps",
                first_day=date(2024, 4, 6),
                last_day=date(2024, 4, 21),
            ),
        ),
        public_holidays={
            date(2023, 11, 1): "Toussaint",
            date(2023, 11, 11): "Armistice",
            date(2023, 12, 25): "Noël",
            date(2024, 1, 1): "Jour de l'an",
            date(2024, 4, 1): "Lundi de Pâques",
            date(2024, 5, 1): "Fête du Travail",
            date(2024, 5, 8): "Victoire 1945",
            date(2024, 5, 9): "Ascension",
            date(2024, 5, 20): "Lundi de Pentecôte",
        },
        bridge_days={date(2024, 5, 10): "Pont de l'Ascension"},
    )


def calendar_2023_c() -> ServiceCalendar:
    """The school restaurant calendar (Monday, Tuesday, Thursday, Friday) for 2023-2024."""
    return ServiceCalendar(school_year=school_year_2023_c())


CALENDAR = calendar_2023_c()
SERVICE = Service(id="rs", name="Restauration scolaire")
SITE = Site(id="ronde", name="École élémentaire Ronde", zone="C", department="75")
THURSDAY_10 = WeeklyDeadline(weekday=3, at=time(10, 0))
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
