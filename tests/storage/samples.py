"""Real domain objects for the storage tests (built with the domain's own constructors)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from _calendars import CALENDAR, LAST_DAY, RENTREE, SERVICE, SITE, THURSDAY_10
from canteen_core.domain.catalog import Site
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
