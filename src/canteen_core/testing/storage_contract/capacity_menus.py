"""The storage contract for capacity rules, waiting lists and weekly menus.

Capacity rules are documents with a lock: :meth:`CapacityRepository.lock` reads the rule
(``None`` when there is none) and holds it until the unit of work ends. Waiting-list entries
are found by site, service, day (a range too), enrollment, household and status; menus by site
and week. All are kept or dropped with their unit of work, and round-trip exactly (allergens,
aware datetimes, the rule's per-day overrides).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from canteen_core.domain.allergens import Allergen
from canteen_core.domain.capacity import CapacityRule, WaitingEntry, WaitingStatus
from canteen_core.domain.errors import ConflictError, NotFoundError
from canteen_core.domain.menus import DayMenu, Dish, WeekMenu
from canteen_core.ports.storage import Range, Storage
from canteen_core.testing.samples import NOW, SERVICE, SITE

__all__ = [
    "sample_week_menu",
    "test_capacity_rules_round_trip_and_lock",
    "test_menus_round_trip_and_filter",
    "test_waiting_list_is_dropped_with_its_unit_of_work",
    "test_waiting_list_round_trip_and_filter",
]

_MONDAY = date(2023, 10, 2)


def sample_week_menu(site_id: str = SITE.id, week: date = _MONDAY) -> WeekMenu:
    """A week of two days at ``site_id``: peanuts on Monday, a vegetarian Tuesday."""
    return WeekMenu(
        site_id=site_id,
        week=week,
        days=(
            DayMenu(
                day=week,
                starter=Dish(name="Carottes râpées", allergens={Allergen.MUSTARD}),
                main=Dish(
                    name="Poulet sauce satay", allergens={Allergen.PEANUTS, Allergen.SOYBEANS}
                ),
                side=Dish(name="Riz"),
                dessert=Dish(name="Yaourt", allergens={Allergen.MILK}),
                vegetarian_option=Dish(name="Omelette", allergens={Allergen.EGGS}),
            ),
            DayMenu(
                day=week + timedelta(days=1),
                main=Dish(name="Lasagnes aux légumes", allergens={"gluten", "lait"}),
                vegetarian=True,
            ),
        ),
    )


def _entry(entry_id: str, day: date, position: int, **changes: object) -> WaitingEntry:
    values: dict[str, object] = {
        "id": entry_id,
        "site_id": SITE.id,
        "service_id": SERVICE.id,
        "day": day,
        "enrollment_id": f"e-{entry_id}",
        "household_id": "h1",
        "child_id": "h1-c1",
        "position": position,
        "requested_at": NOW,
    }
    values.update(changes)
    return WaitingEntry(**values)  # type: ignore[arg-type]


def test_capacity_rules_round_trip_and_lock(storage: Storage) -> None:
    rule = CapacityRule(
        site_id=SITE.id,
        service_id=SERVICE.id,
        places=30,
        weekdays=((2, 12),),
        days=((_MONDAY, 5),),
    )
    with storage.unit_of_work() as uow:
        assert uow.capacities.lock(rule.id) is None
        uow.capacities.add(rule)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.capacities.lock(rule.id) == rule
        assert uow.capacities.get(rule.id).places_on(_MONDAY) == 5
        assert list(uow.capacities.list(site_id=SITE.id)) == [rule]
        with pytest.raises(ConflictError):
            uow.capacities.add(rule)
        uow.capacities.save(CapacityRule(site_id=SITE.id, service_id=SERVICE.id, places=10))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.capacities.get(rule.id).places == 10
        assert uow.capacities.lock(rule.id) is not None  # a read-only unit reads it
        assert uow.capacities.find_many([]) == {}
        found = uow.capacities.find_many(["elsewhere:rs", rule.id, rule.id])
        assert list(found) == [rule.id]  # unknown ids left out, each id once
        assert found[rule.id].places == 10
        with pytest.raises(NotFoundError):
            uow.capacities.get("elsewhere:rs")


def test_waiting_list_round_trip_and_filter(storage: Storage) -> None:
    until = datetime(2023, 9, 3, 16, 0, tzinfo=UTC)
    first = _entry("w1", _MONDAY, 1)
    offered = _entry("w2", _MONDAY, 2, status=WaitingStatus.OFFERED, offer_until=until)
    later = _entry("w3", _MONDAY + timedelta(days=3), 1, household_id="h2")
    with storage.unit_of_work() as uow:
        uow.waiting_list.add_many([first, offered, later])
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.waiting_list.get("w2") == offered
        assert uow.waiting_list.get("w2").offer_until == until
        assert list(uow.waiting_list.list(day=_MONDAY)) == [first, offered]
        week = Range(_MONDAY, _MONDAY + timedelta(days=6))
        assert uow.waiting_list.count(site_id=SITE.id, service_id=SERVICE.id, day=week) == 3
        assert list(uow.waiting_list.list(status="offered")) == [offered]
        assert list(uow.waiting_list.list(household_id="h2")) == [later]
        assert list(uow.waiting_list.list(enrollment_id=["e-w1", "e-w3"])) == [first, later]
        uow.waiting_list.save(first.closed(WaitingStatus.PLACED, NOW))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.waiting_list.get("w1").status is WaitingStatus.PLACED
        assert uow.waiting_list.count(status="waiting") == 1


def test_waiting_list_is_dropped_with_its_unit_of_work(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.waiting_list.add(_entry("w1", _MONDAY, 1))
        uow.capacities.add(CapacityRule(site_id=SITE.id, service_id=SERVICE.id, places=1))
        uow.menus.add(sample_week_menu())
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.waiting_list.find("w1") is None
        assert uow.capacities.count() == 0
        assert uow.menus.count() == 0


def test_menus_round_trip_and_filter(storage: Storage) -> None:
    menu = sample_week_menu()
    other = sample_week_menu("ailleurs", _MONDAY + timedelta(weeks=1))
    with storage.unit_of_work() as uow:
        uow.menus.add_many([menu, other])
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        stored = uow.menus.get(menu.id)
        assert stored == menu
        assert stored.days[0].allergens == {
            Allergen.MUSTARD,
            Allergen.PEANUTS,
            Allergen.SOYBEANS,
            Allergen.MILK,
            Allergen.EGGS,
        }
        assert list(uow.menus.list(site_id=SITE.id)) == [menu]
        assert list(uow.menus.list(week=Range(_MONDAY + timedelta(days=7), None))) == [other]
