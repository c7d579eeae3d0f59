"""Menus and allergens, capacity and waiting lists.

Everyone logged in reads a site's menu of a week; staff publish it and read the kitchen's
allergy flags of a day; an admin sets a site's service capacity; staff read a day's waiting
list; families read their waiting days and accept or decline an offered place.
"""

from __future__ import annotations

from typing import Any

from litestar import get, put
from litestar.params import FromPath, JSONBody

from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.convert import body
from canteen_adapters.web.routes._actions import action
from canteen_adapters.web.routes._dates import parse_day, parse_week
from canteen_adapters.web.schemas_capacity import (
    AllergenOut,
    AllergyFlagOut,
    CapacityBody,
    CapacityOut,
    DayMenuOut,
    DishBody,
    DishOut,
    WaitingEntryOut,
    WeekMenuBody,
    WeekMenuOut,
)
from canteen_core.domain.allergens import Allergen
from canteen_core.domain.capacity import CapacityRule, WaitingEntry
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.menus import DayMenu, Dish, WeekMenu

__all__ = ["HANDLERS"]

TAGS = ["Menus et places"]


def _allergens(allergens: frozenset[Allergen]) -> list[AllergenOut]:
    return [AllergenOut(code=a.value, label=a.label) for a in sorted(allergens, key=str)]


def menu_out(menu: WeekMenu) -> WeekMenuOut:
    """A week's menu as the API shows it."""
    return body(
        WeekMenuOut,
        menu,
        days=[
            body(
                DayMenuOut,
                day,
                dishes=[
                    DishOut(
                        course=course.value,
                        course_label=course.label,
                        name=dish.name,
                        allergens=_allergens(dish.allergens),
                    )
                    for course, dish in day.dishes()
                ],
                allergens=_allergens(day.allergens),
            )
            for day in menu.days
        ],
    )


def _dish(sent: DishBody | None) -> Dish | None:
    return None if sent is None else Dish(name=sent.name, allergens=sent.allergens)


def _menu(site_id: str, sent: WeekMenuBody) -> WeekMenu:
    days = []
    for item in sent.days:
        main = _dish(item.main)
        assert main is not None
        days.append(
            DayMenu(
                day=item.day,
                main=main,
                starter=_dish(item.starter),
                side=_dish(item.side),
                dessert=_dish(item.dessert),
                vegetarian_option=_dish(item.vegetarian_option),
                vegetarian=item.vegetarian,
            )
        )
    return WeekMenu(site_id=site_id, week=sent.week, days=tuple(days))


@get("/api/v1/sites/{site_id:str}/menus/{week:str}", tags=TAGS, sync_to_thread=True)
def week_menu(
    request: AnyRequest, web: Web, site_id: FromPath[str], week: FromPath[str]
) -> WeekMenuOut:
    """The site's menu of a week (``2024-W07`` or a day of it), with the allergens of each
    dish (404 when none is published)."""
    actor = web.actor(request)
    menu = web.canteen.menus.week(actor, site_id, parse_week(week))
    if menu is None:
        site = web.canteen.catalog.site(actor, site_id).site  # 404 for an unknown site
        raise NotFoundError(f"aucun menu publié pour cette semaine à {site.name}")
    return menu_out(menu)


@action("/api/v1/staff/sites/{site_id:str}/menus", tags=TAGS)
def publish_menu(
    request: AnyRequest, web: Web, site_id: FromPath[str], data: JSONBody[WeekMenuBody]
) -> WeekMenuOut:
    """Publish the site's menu of a week (replaces the week's menu; a vegetarian day is
    required by EGalim)."""
    actor = web.staff_actor(request)
    return menu_out(web.canteen.menus.publish(actor, _menu(site_id, data)))


@get("/api/v1/staff/sites/{site_id:str}/allergy-flags/{day:str}", tags=TAGS, sync_to_thread=True)
def allergy_flags(
    request: AnyRequest, web: Web, site_id: FromPath[str], day: FromPath[str]
) -> list[AllergyFlagOut]:
    """The children booked that day whose PAI lists an allergen of the day's menu."""
    actor = web.staff_actor(request)
    flags = web.canteen.kitchen.allergy_flags(actor, site_id, parse_day(day))
    return [body(AllergyFlagOut, flag, allergens=_allergens(flag.allergens)) for flag in flags]


def _capacity_out(rule: CapacityRule) -> CapacityOut:
    return body(
        CapacityOut,
        rule,
        weekdays={str(weekday): places for weekday, places in rule.weekdays},
        days={day.isoformat(): places for day, places in rule.days},
    )


def _weekday(text: str) -> int:
    if not text.isdigit():
        raise InvalidInputError(f"jour de semaine invalide « {text[:5]} » (0 à 6)", path="weekdays")
    return int(text)


@put(
    "/api/v1/staff/sites/{site_id:str}/capacities/{service_id:str}", tags=TAGS, sync_to_thread=True
)
def set_capacity(
    request: AnyRequest,
    web: Web,
    site_id: FromPath[str],
    service_id: FromPath[str],
    data: JSONBody[CapacityBody],
) -> CapacityOut:
    """Set the places of the site's service per day (admin); places added go to the children
    waiting."""
    actor = web.staff_actor(request)
    rule = web.canteen.capacity.set(
        actor,
        site_id,
        service_id,
        data.places,
        weekdays={_weekday(key): value for key, value in data.weekdays.items()},
        days={parse_day(key, "days"): value for key, value in data.days.items()},
    )
    return _capacity_out(rule)


def _entry_out(entry: WaitingEntry, label: str | None = None) -> WaitingEntryOut:
    """An entry's body; ``label`` by default its status's."""
    return body(WaitingEntryOut, entry, label=entry.status.label if label is None else label)


@get(
    "/api/v1/staff/sites/{site_id:str}/waiting-lists/{service_id:str}/{day:str}",
    tags=TAGS,
    sync_to_thread=True,
)
def waiting_list(
    request: AnyRequest,
    web: Web,
    site_id: FromPath[str],
    service_id: FromPath[str],
    day: FromPath[str],
) -> list[WaitingEntryOut]:
    """A day's waiting list in order of arrival (every entry, decided ones too)."""
    actor = web.staff_actor(request)
    entries = web.canteen.capacity.waiting_list(actor, site_id, service_id, parse_day(day))
    return [_entry_out(entry) for entry in entries]


@get("/api/v1/households/{household_id:str}/waiting-list", tags=TAGS, sync_to_thread=True)
def household_waiting_list(
    request: AnyRequest, web: Web, household_id: FromPath[str]
) -> list[WaitingEntryOut]:
    """The household's days on a waiting list (rank) or with a place offered (deadline)."""
    actor = web.actor(request)
    return [
        _entry_out(item.entry, item.label)
        for item in web.canteen.capacity.of_household(actor, household_id)
    ]


@action("/api/v1/waiting-list/{entry_id:str}/accept", tags=TAGS)
def accept_offer(request: AnyRequest, web: Web, entry_id: FromPath[str]) -> WaitingEntryOut:
    """Accept the place offered: the day is booked (409-like refusal once expired)."""
    actor = web.actor(request)
    entry = web.canteen.capacity.accept(actor, entry_id)
    return _entry_out(entry)


@action("/api/v1/waiting-list/{entry_id:str}/decline", tags=TAGS)
def decline_offer(request: AnyRequest, web: Web, entry_id: FromPath[str]) -> WaitingEntryOut:
    """Leave the waiting list, or decline the place offered (it goes to the next child)."""
    actor = web.actor(request)
    entry = web.canteen.capacity.decline(actor, entry_id)
    return _entry_out(entry)


HANDLERS: list[Any] = [
    week_menu,
    publish_menu,
    allergy_flags,
    set_capacity,
    waiting_list,
    household_waiting_list,
    accept_offer,
    decline_offer,
]
