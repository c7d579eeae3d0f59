"""``billing.household_home``: the family's home page in one read gives what the four use
cases it replaces give, with their permissions (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from canteen_core.domain.errors import NotAuthorizedError, NotFoundError
from canteen_core.services import Canteen

from ._world import ADMIN, CO_REP, OTHER, PAYER, STAFF, build_world


def test_the_home_page_is_what_the_four_use_cases_give(any_canteen: Canteen) -> None:
    world = build_world(any_canteen)
    canteen = world.canteen
    canteen.reservations.book(PAYER, world.alban.id, date(2023, 9, 4))  # late: a request
    for actor in (PAYER, CO_REP, ADMIN):
        home = canteen.billing.household_home(actor, "concerto")
        dashboard = canteen.families.dashboard(actor, "concerto")
        assert home.household == dashboard.household
        assert home.enrollments == dashboard.enrollments
        assert home.invoices == canteen.billing.invoices_page(actor, "concerto")
        assert home.requests == canteen.reservations.requests(actor, household_id="concerto")
        assert home.enrollment_requests == canteen.enrollment_requests.of_household(
            actor, "concerto"
        )
    assert home.requests  # the late booking above


def test_another_household_or_an_unknown_one_is_refused(any_canteen: Canteen) -> None:
    canteen = build_world(any_canteen).canteen
    for actor in (OTHER, STAFF):  # staff do not read invoices (nor did the dashboard route)
        with pytest.raises(NotAuthorizedError):
            canteen.billing.household_home(actor, "concerto")
        with pytest.raises(NotAuthorizedError):
            canteen.billing.invoices_page(actor, "concerto")
    with pytest.raises(NotFoundError):
        canteen.billing.household_home(ADMIN, "nobody")
