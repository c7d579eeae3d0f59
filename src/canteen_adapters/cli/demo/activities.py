"""The demo's activities beyond lunch: the synthetic city's evening care (by the half-hour),
Wednesday service (by the half-day, with its meal) and February ALSH week (by the week), with
their tariff grids, bookings and September's evening roll calls with arrival and departure
(see ``docs/rules/activities.md``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from canteen_adapters.cli._output import plural
from canteen_adapters.cli.demo.commune import (
    ADMIN,
    BOOKING_POLICY,
    SCHOOL_YEAR,
    SEPTEMBER,
    SETUP_AT,
    SITE,
    STAFF,
)
from canteen_core.domain.allergens import Allergen
from canteen_core.domain.attendance import Presence
from canteen_core.domain.clock import PARIS
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.menus import DayMenu, Dish, WeekMenu
from canteen_core.domain.money import Money
from canteen_core.domain.reservations import SkipReason
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    Pricing,
    SiblingDiscount,
    TariffCategory,
    TariffGrid,
)
from canteen_core.services import Canteen
from canteen_core.services.enrollments import EnrollmentRequest
from canteen_core.synthetic import SyntheticCity
from canteen_core.synthetic_activities import (
    ALSH,
    EVENING_CARE,
    WEDNESDAY,
    CityActivities,
    city_activities,
)

__all__ = ["ALSH_PAI_ALLERGENS", "activity_grids", "alsh_menu", "city_request", "run_activities"]

#: The allergens the demo records on the PAI of the children going to the ALSH.
ALSH_PAI_ALLERGENS = (Allergen.PEANUTS, Allergen.MILK)


def _grid(
    service_id: str, resident: Pricing, non_resident: str, late_pickup_fee: Money | None = None
) -> TariffGrid:
    prices: dict[TariffCategory, Pricing] = {
        TariffCategory.RESIDENT_CHILD: resident,
        TariffCategory.NON_RESIDENT_CHILD: FlatPricing.of(non_resident),
    }
    return TariffGrid(
        id=f"{service_id}-2023-2024",
        service_id=service_id,
        valid_from=date(2023, 9, 1),
        valid_until=date(2024, 8, 31),
        prices=prices,
        sibling_discounts=(SiblingDiscount(from_rank=3, percent=Decimal(20)),),
        late_pickup_fee=late_pickup_fee,
    )


def city_request(enrollment: Enrollment) -> EnrollmentRequest:
    """The request enrolling a synthetic city's ``enrollment`` at the demo's site."""
    return EnrollmentRequest(
        household_id=enrollment.household_id,
        child_id=enrollment.child_id,
        service=enrollment.service,
        site=SITE,
        booking_policy=BOOKING_POLICY,
        tariff_category=enrollment.tariff_category,
        school_year=SCHOOL_YEAR,
        start=enrollment.start,
        end=enrollment.end,
        id=enrollment.id,
    )


def activity_grids() -> tuple[TariffGrid, ...]:
    """The 2023-2024 grids of Ronde's activities, each pricing one unit: the evening
    half-hour at an effort rate of 0.08 % of the QF (0.40 to 1.10 EUR) with a 5 EUR late
    pick-up fee, the Wednesday half-day and the ALSH week by QF brackets."""
    return (
        _grid(
            EVENING_CARE.id,
            EffortRatePricing.of("0.08", minimum="0.40", maximum="1.10"),
            "1.40",
            late_pickup_fee=Money.of("5.00"),
        ),
        _grid(
            WEDNESDAY.id,
            BracketPricing.from_thresholds(["2.50", "4.00", "5.50", "7.00"], [450, 800, 1200]),
            "9.00",
        ),
        _grid(
            ALSH.id,
            BracketPricing.from_thresholds(["25", "45", "65", "85"], [450, 800, 1200]),
            "110",
        ),
    )


def alsh_menu(monday: date) -> WeekMenu:
    """The site's menu for the ALSH week starting on ``monday`` (Monday to Friday)."""
    dishes = (
        ("Carottes râpées", "Poulet rôti", "Haricots verts", "Yaourt nature"),
        ("Potage de légumes", "Poisson pané", "Riz", "Pomme"),
        ("Salade de tomates", "Lasagnes", "Salade verte", "Crème au chocolat"),
        ("Betteraves", "Sauté de bœuf", "Purée", "Biscuit aux cacahuètes"),
        ("Concombre", "Omelette", "Pâtes", "Fromage blanc"),
    )
    allergens: dict[str, tuple[Allergen, ...]] = {
        "Yaourt nature": (Allergen.MILK,),
        "Poisson pané": (Allergen.FISH, Allergen.GLUTEN),
        "Lasagnes": (Allergen.GLUTEN, Allergen.MILK, Allergen.EGGS),
        "Crème au chocolat": (Allergen.MILK,),
        "Purée": (Allergen.MILK,),
        "Biscuit aux cacahuètes": (Allergen.PEANUTS, Allergen.GLUTEN),
        "Omelette": (Allergen.EGGS,),
        "Pâtes": (Allergen.GLUTEN,),
        "Fromage blanc": (Allergen.MILK,),
    }

    def dish(name: str) -> Dish:
        return Dish(name=name, allergens=frozenset(allergens.get(name, ())))

    days = tuple(
        DayMenu(
            day=monday + timedelta(days=offset),
            starter=dish(starter),
            main=dish(main),
            side=dish(side),
            dessert=dish(dessert),
            vegetarian=main == "Omelette",  # EGalim: a vegetarian menu a week
        )
        for offset, (starter, main, side, dessert) in enumerate(dishes)
    )
    return WeekMenu(site_id=SITE.id, week=monday, days=days)


def alsh_week(activities: CityActivities) -> date | None:
    """The Monday of the ALSH's booked week (``None`` without ALSH enrollments)."""
    for enrollment_id, pattern in activities.periodicities.items():
        if enrollment_id.endswith(f"-{ALSH.id}"):
            return pattern.start - timedelta(days=pattern.start.weekday())
    return None


def alsh_places(enrolled: int) -> int:
    """The ALSH's places per day: about nine children in ten of those enrolled get one, the
    others wait (at least one place)."""
    return max(1, enrolled * 9 // 10)


def run_activities(
    canteen: Canteen,
    city: SyntheticCity,
    at: Callable[[datetime], None],
    step: Callable[..., None],
) -> None:
    """The demo's "Activités" step: enroll, price, book, and call September's evening roll."""
    activities = city_activities(city)
    if not activities.enrollments:
        return
    at(SETUP_AT)
    first = activities.enrollments[0]
    if any(e.id == first.id for e in canteen.enrollments.of_household(ADMIN, first.household_id)):
        step(
            "Activités",
            plural(len(activities.enrollments), "inscription déjà enregistrée",
                   "inscriptions déjà enregistrées"),
            done_before=True,
        )  # fmt: skip
        return
    known = {entry.id for entry in canteen.catalog.services(ADMIN)}
    for service in activities.services:
        if service.id not in known:
            canteen.catalog.add_service(ADMIN, service)
    for grid in activity_grids():
        canteen.billing.save_tariff_grid(ADMIN, grid)
    canteen.enrollments.enroll_many(ADMIN, [city_request(e) for e in activities.enrollments])
    alsh = [e for e in activities.enrollments if e.service.id == ALSH.id]
    places = alsh_places(len(alsh))
    canteen.capacity.set(ADMIN, SITE.id, ALSH.id, places)  # before booking: the rest waits
    results = canteen.reservations.apply_periodicities(ADMIN, activities.periodicities)
    booked = sum(len(result.booked) for result in results.values())
    waiting = sum(len(r.skipped_for(SkipReason.FULL)) for r in results.values())
    with_pai = {(h.id, c.id) for h in city.households for c in h.children if c.pai}
    allergic = [e for e in alsh if (e.household_id, e.child_id) in with_pai] or alsh[:1]
    for enrollment in allergic:  # (the first ALSH child when none has a PAI)
        canteen.menus.set_pai_allergens(
            ADMIN, enrollment.household_id, enrollment.child_id, ALSH_PAI_ALLERGENS
        )
    week = alsh_week(activities)
    if week is not None:
        canteen.menus.publish(STAFF, alsh_menu(week))
    calls: dict[date, dict[str, Presence]] = defaultdict(dict)
    stays: dict[date, dict[str, tuple[time, time]]] = defaultdict(dict)
    for day, enrollment_id, arrival, departure in activities.stays(*SEPTEMBER):
        calls[day][enrollment_id] = Presence.PRESENT
        stays[day][enrollment_id] = (arrival, departure)
    for day in sorted(calls):
        at(datetime.combine(day, time(19, 0), tzinfo=PARIS))
        canteen.attendance.roll_call(STAFF, day, calls[day], stays=stays[day])
    by_service: dict[str, int] = defaultdict(int)
    for enrollment in activities.enrollments:
        by_service[enrollment.service.name] += 1
    enrolled = ", ".join(f"{name} : {count}" for name, count in by_service.items())
    step(
        "Activités",
        f"{plural(len(activities.enrollments), 'inscription')} ({enrolled}), "
        f"{plural(booked, 'jour réservé', 'jours réservés')}, "
        f"{plural(sum(len(c) for c in calls.values()), 'soir pointé', 'soirs pointés')} "
        "en septembre avec arrivée et départ ; "
        f"ALSH : {plural(places, 'place')} par jour, "
        f"{plural(waiting, 'jour', 'jours')} en liste d'attente, menu de la semaine publié",
    )
