"""Sample domain values for the storage contract: a school year, households, books, invoices.

Built with the domain's own constructors, by hand (no holiday-source plugin): the official
2023-2024 school year of zone C (arrêté of 7 December 2022, with its public holidays), the
school restaurant of the "Ronde" school, and builders for households, enrollments, reservation
books and invoices. :mod:`canteen_core.testing.storage_contract` stores and reads these; a
plugin author's own tests may use them too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from canteen_core.domain.calendar import Period, SchoolYear, ServiceCalendar, Zone
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.deadlines import WeeklyDeadline
from canteen_core.domain.enrollments import Enrollment, enroll
from canteen_core.domain.families import Child, Diet, FamilyQuotient, Guardian, Household
from canteen_core.domain.invoicing import (
    BillingMode,
    Invoice,
    InvoiceLine,
    NumberSequence,
    billing_key,
)
from canteen_core.domain.money import Money
from canteen_core.domain.reservations import ReservationBook

__all__ = [
    "CALENDAR",
    "ISSUER",
    "LAST_DAY",
    "NOW",
    "OTHER_SITE",
    "RENTREE",
    "SEPTEMBER",
    "SERVICE",
    "SITE",
    "THURSDAY_10",
    "booked",
    "calendar_2023_c",
    "enrollment",
    "household",
    "invoice",
    "school_year_2023_c",
]

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

ISSUER = "regie-ronde"
OTHER_SITE = Site(id="lac", name="École du Lac", zone="C", department="75")
SEPTEMBER = [date(2023, 9, day) for day in (4, 5, 7, 8, 11, 12, 14, 15)]
NOW = datetime(2023, 9, 1, 8, 0, tzinfo=UTC)


def household(household_id: str, *, children: int = 1, diets: tuple[Diet, ...] = ()) -> Household:
    """A household with ``children`` children (ids ``<household>-c<n>``)."""
    kids = tuple(
        Child(
            id=f"{household_id}-c{n}",
            first_name=f"Enfant{n}",
            last_name="Concerto",
            birth_date=date(2014 + n, 1, 1),
            diet=diets[n] if n < len(diets) else Diet.STANDARD,
            pai=False,
        )
        for n in range(children)
    )
    return Household(
        id=household_id,
        payer=Guardian(
            id=f"g-{household_id}",
            first_name="Maman",
            last_name="Concerto",
            email=f"{household_id}@example.fr",
        ),
        children=kids,
        quotients=(FamilyQuotient(value="850.50", valid_from=date(2023, 9, 1)),),
    )


def enrollment(
    home: Household, child_index: int = 0, *, site: Site = SITE, suffix: str = ""
) -> Enrollment:
    """The child's enrollment to the school restaurant for 2023-2024."""
    child = home.children[child_index]
    return enroll(
        home,
        child.id,
        id=f"e-{child.id}{suffix}",
        service=SERVICE,
        site=site,
        calendar=CALENDAR,
        start=RENTREE,
        end=LAST_DAY,
        booking_policy=THURSDAY_10,
    )


def booked(enrolled: Enrollment, days: list[date], *, version: int = 1) -> ReservationBook:
    """A book of ``enrolled`` with ``days`` booked, at ``version``."""
    return ReservationBook.from_days(enrolled.id, enrolled.start, days, version=version)


def invoice(
    home: Household,
    number: int,
    *,
    first_day: date = date(2023, 9, 1),
    last_day: date = date(2023, 9, 30),
) -> Invoice:
    """A post-paid invoice of ``home`` for the period, numbered ``number``."""
    text = NumberSequence(issuer_id=ISSUER, year=2023).format(number)
    line = InvoiceLine.build(
        service_id=SERVICE.id,
        description="Repas septembre",
        quantity=8,
        unit_price=Money.of("3.10"),
        child_id=home.children[0].id,
        days=SEPTEMBER,
    )
    return Invoice(
        id=f"invoice:{ISSUER}:{text}",
        number=text,
        issuer_id=ISSUER,
        household_id=home.id,
        label="SEPTEMBRE 2023",
        mode=BillingMode.POSTPAID,
        billing_key=billing_key(
            BillingMode.POSTPAID,
            issuer_id=ISSUER,
            household_id=home.id,
            first_day=first_day,
            last_day=last_day,
        ),
        period_start=first_day,
        period_end=last_day,
        issue_date=date(2023, 10, 2),
        due_date=date(2023, 11, 1),
        payment_open_date=date(2023, 10, 2),
        lines=(line,),
        total=line.amount,
        payer_name=home.payer.display_name,
    )
