"""Weekly menus, the 14 allergens and the kitchen's allergy flags, through the facade.

A Monday whose menu contains peanuts flags Zoé, whose PAI lists peanuts, on the kitchen's
sheet; the EGalim weekly vegetarian menu is required; bad input changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

import attrs
import pytest

from canteen_core.domain.allergens import Allergen, parse_allergens
from canteen_core.domain.errors import InvalidInputError, NotAuthorizedError, NotFoundError
from canteen_core.domain.menus import DayMenu, Dish, WeekMenu
from canteen_core.synthetic_activities import EVENING_CARE
from canteen_core.testing.storage_contract.capacity_menus import sample_week_menu

from ._world import ADMIN, OTHER, PAYER, SERVICE, SITE, STAFF, WEEKLY, World

MONDAY = date(2023, 10, 2)


def test_a_day_whose_menu_contains_peanuts_flags_a_child_whose_pai_lists_peanuts(
    world: World,
) -> None:
    canteen = world.canteen
    canteen.menus.publish(STAFF, sample_week_menu(SITE.id, MONDAY))
    child = canteen.menus.set_pai_allergens(STAFF, "concerto", "zoe", ["arachides", "Œufs"])
    assert child.pai_allergens == {Allergen.PEANUTS, Allergen.EGGS}
    canteen.menus.set_pai_allergens(STAFF, "voisins", "lea", [Allergen.FISH])
    for enrollment in (world.zoe, world.alban, world.lea):
        canteen.reservations.tick_week(ADMIN, enrollment.id, MONDAY)
    flags = canteen.kitchen.allergy_flags(STAFF, SITE.id, MONDAY)
    assert [(flag.child_id, flag.allergens) for flag in flags] == [
        ("zoe", {Allergen.PEANUTS, Allergen.EGGS})
    ]
    assert flags[0].message == "Zoé CONCERTO : Arachides, Œufs (Poulet sauce satay, Omelette)"
    assert canteen.menus.allergy_flags(STAFF, SITE.id, MONDAY, service_id=SERVICE.id) == flags
    # Tuesday's lasagnes hold no peanut; Zoé not booked on Thursday (no menu anyway).
    assert canteen.kitchen.allergy_flags(STAFF, SITE.id, MONDAY + timedelta(days=1)) == ()
    canteen.reservations.cancel(PAYER, world.zoe.id, MONDAY + timedelta(days=7))
    assert canteen.kitchen.allergy_flags(STAFF, SITE.id, MONDAY + timedelta(days=7)) == ()


def test_menus_are_read_by_site_and_week(world: World) -> None:
    canteen = world.canteen
    menu = canteen.menus.publish(STAFF, sample_week_menu(SITE.id, MONDAY))
    assert canteen.menus.week(PAYER, SITE.id, MONDAY + timedelta(days=3)) == menu
    assert canteen.menus.day(OTHER, SITE.id, MONDAY) == menu.days[0]
    assert canteen.menus.day(OTHER, SITE.id, MONDAY + timedelta(days=3)) is None
    assert canteen.menus.week(PAYER, SITE.id, MONDAY + timedelta(weeks=1)) is None
    changed = attrs.evolve(menu, days=menu.days[1:])
    assert canteen.menus.publish(ADMIN, changed) == changed
    assert canteen.menus.week(PAYER, SITE.id, MONDAY) == changed


def test_bad_menus_are_refused_and_change_nothing(world: World) -> None:
    canteen = world.canteen
    monday = DayMenu(day=MONDAY, main=Dish(name="Poisson pané", allergens={"poissons"}))
    with pytest.raises(InvalidInputError, match="EGalim"):
        WeekMenu(site_id=SITE.id, week=MONDAY, days=(monday,))
    with pytest.raises(InvalidInputError, match="lundi"):
        WeekMenu(site_id=SITE.id, week=MONDAY + timedelta(days=1), days=(monday,))
    with pytest.raises(InvalidInputError):
        Dish(name="Tarte", allergens={"cacahuètes"})
    with pytest.raises(InvalidInputError):
        WeekMenu(
            site_id=SITE.id,
            week=MONDAY,
            days=(attrs.evolve(monday, vegetarian=True), attrs.evolve(monday, vegetarian=True)),
        )
    with pytest.raises(NotAuthorizedError):
        canteen.menus.publish(PAYER, sample_week_menu(SITE.id, MONDAY))
    with pytest.raises(NotFoundError):
        canteen.menus.publish(STAFF, sample_week_menu("nowhere", MONDAY))
    with pytest.raises(InvalidInputError):
        canteen.menus.set_pai_allergens(STAFF, "concerto", "zoe", ["arachide grillée"])
    with pytest.raises(NotAuthorizedError):
        canteen.menus.set_pai_allergens(PAYER, "concerto", "zoe", ["arachides"])
    assert canteen.menus.week(STAFF, SITE.id, MONDAY) is None
    zoe = canteen.families.get(STAFF, "concerto").child("zoe")
    assert zoe.pai_allergens == frozenset()


def test_the_fourteen_allergens_have_french_labels() -> None:
    assert len(Allergen) == 14
    assert Allergen.PEANUTS.label == "Arachides"
    assert parse_allergens(["ARACHIDES", "sulfites", "fruits à coque", "oeufs"]) == {
        Allergen.PEANUTS,
        Allergen.SULPHITES,
        Allergen.NUTS,
        Allergen.EGGS,
    }
    assert len({allergen.label for allergen in Allergen}) == 14


def test_allergy_flags_count_only_services_with_a_meal(world: World) -> None:
    # Zoé eats at lunch and stays at the evening care (no meal) and at a second service with
    # its meal the same day: the kitchen flags her once, for the services with a meal.
    canteen = world.canteen
    canteen.menus.publish(STAFF, sample_week_menu(SITE.id, MONDAY))
    canteen.menus.set_pai_allergens(STAFF, "concerto", "zoe", [Allergen.PEANUTS])
    evening = attrs.evolve(EVENING_CARE, open_weekdays=SERVICE.open_weekdays)
    snack = attrs.evolve(SERVICE, id="gouter", name="Goûter")
    for service in (evening, snack):
        canteen.catalog.add_service(ADMIN, service)
        enrollment = canteen.enrollments.enroll(
            ADMIN,
            "concerto",
            "zoe",
            service=service,
            site=SITE,
            booking_policy=WEEKLY,
            school_year=2023,
            enrollment_id=f"e-zoe-{service.id}",
        )
        canteen.reservations.tick_week(ADMIN, enrollment.id, MONDAY)
    assert canteen.kitchen.allergy_flags(STAFF, SITE.id, MONDAY, service_id=evening.id) == ()
    canteen.reservations.tick_week(ADMIN, world.zoe.id, MONDAY)
    flags = canteen.kitchen.allergy_flags(STAFF, SITE.id, MONDAY)
    assert [flag.child_id for flag in flags] == ["zoe"]
    assert flags[0].enrollment_id in {world.zoe.id, "e-zoe-gouter"}
