"""The JSON bodies of the menus, allergy-flag, capacity and waiting-list routes.

Same conventions as :mod:`canteen_adapters.web.schemas`: dates ``YYYY-MM-DD``, instants ISO
8601 with their offset, French labels ready to show. Allergens are the codes of
:class:`~canteen_core.domain.allergens.Allergen` (``"peanuts"``; French names are accepted in
requests).
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

# -- requests ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DishBody:
    """A dish and its allergens (codes or French names)."""

    name: str
    allergens: list[str] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class DayMenuBody:
    """One day's menu; ``vegetarian``: the whole menu is vegetarian (EGalim)."""

    day: date
    main: DishBody
    starter: DishBody | None = None
    side: DishBody | None = None
    dessert: DishBody | None = None
    vegetarian_option: DishBody | None = None
    vegetarian: bool = False


@attrs.frozen(kw_only=True)
class WeekMenuBody:
    """A site's menu for the week starting on ``week`` (a Monday)."""

    week: date
    days: list[DayMenuBody]


@attrs.frozen(kw_only=True)
class CapacityBody:
    """Places per day; ``weekdays`` (``"0"`` = Monday ... ``"6"``) and ``days``
    (``"2024-02-12"``) override them."""

    places: int
    weekdays: dict[str, int] = attrs.Factory(dict)
    days: dict[str, int] = attrs.Factory(dict)


# -- responses -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AllergenOut:
    """An allergen: its code and French name."""

    code: str
    label: str


@attrs.frozen(kw_only=True)
class DishOut:
    """A dish of the menu (``course``: ``starter``, ``main``, ``side``, ``dessert``,
    ``vegetarian_option``; ``course_label`` in French)."""

    course: str
    course_label: str
    name: str
    allergens: list[AllergenOut]


@attrs.frozen(kw_only=True)
class DayMenuOut:
    """One day's menu and every allergen it contains."""

    day: date
    vegetarian: bool
    dishes: list[DishOut]
    allergens: list[AllergenOut]


@attrs.frozen(kw_only=True)
class WeekMenuOut:
    """A site's menu for a week."""

    site_id: str
    week: date
    days: list[DayMenuOut]


@attrs.frozen(kw_only=True)
class AllergyFlagOut:
    """A child booked on a day whose menu contains an allergen of the child's PAI."""

    day: date
    enrollment_id: str
    household_id: str
    child_id: str
    child_name: str
    allergens: list[AllergenOut]
    dishes: list[str]
    message: str


@attrs.frozen(kw_only=True)
class CapacityOut:
    """A site's service capacity."""

    site_id: str
    service_id: str
    places: int
    weekdays: dict[str, int]
    days: dict[str, int]


@attrs.frozen(kw_only=True)
class WaitingEntryOut:
    """A waiting-list entry (``status``: ``waiting``, ``offered``, ``placed``,
    ``withdrawn``, ``expired``; ``label`` in French, with the rank while waiting)."""

    id: str
    site_id: str
    service_id: str
    day: date
    enrollment_id: str
    child_id: str
    position: int
    status: str
    label: str
    requested_at: datetime
    offer_until: datetime | None
