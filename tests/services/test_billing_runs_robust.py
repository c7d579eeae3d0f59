# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""Billing never stops for one household (#14): a household whose invoice cannot be computed
is reported and skipped, the others are billed, and running again after the fix bills only
the skipped one; a post-paid run refuses a month that is not over, or has not started."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import pytest

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.families import Child, Guardian, Household
from canteen_core.domain.tariffs import TariffCategory
from canteen_core.services.billing import SkippedHousehold, parse_period

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    GRID,
    any_billing_canteen,
    any_bworld,
    book,
    memory_billing_canteen,
    memory_bworld,
    september,
)
from ._world import ADMIN, FINANCE, SERVICE, SITE, WEEKLY, World

TIERS = Household(
    id="tiers",
    payer=Guardian(id="tiers-p", first_name="Paul", last_name="Tiers", email="paul@tiers.fr"),
    children=(Child(id="tom", first_name="Tom", last_name="Tiers", birth_date=date(2016, 5, 4)),),
)


def _with_a_pai_basket_the_grid_does_not_price(world: World) -> None:
    canteen = world.canteen
    canteen.families.create_household(ADMIN, TIERS)
    tom = canteen.enrollments.enroll(
        ADMIN,
        "tiers",
        "tom",
        service=SERVICE,
        site=SITE,
        booking_policy=WEEKLY,
        school_year=2023,
        tariff_category="pai",
        enrollment_id="e-tom",
    )
    book(canteen, tom, september(tom)[:3])
    book(canteen, world.alban, september(world.alban)[:2])
    book(canteen, world.lea, september(world.lea)[:2])
    without_pai = {k: v for k, v in GRID.prices.items() if k is not TariffCategory.PAI_BASKET}
    canteen.billing.save_tariff_grid(ADMIN, attrs.evolve(GRID, prices=without_pai))


def test_a_household_that_cannot_be_priced_is_skipped_and_billed_after_the_fix(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    _with_a_pai_basket_the_grid_does_not_price(any_bworld)
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert [item.household_id for item in report.issued] == ["concerto", "voisins"]
    (skipped,) = report.skipped
    assert isinstance(skipped, SkippedHousehold)
    assert skipped.household_id == "tiers"
    assert "ne tarife pas la catégorie « pai_basket »" in skipped.reason
    assert "e-tom" in skipped.reason
    assert "\n" not in skipped.reason
    assert [i.number for i in report.issued] == ["2023-000001", "2023-000002"]
    # The fix: the grid prices PAI baskets again. Only the skipped household is billed.
    canteen.billing.save_tariff_grid(ADMIN, GRID)
    again = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert [(i.household_id, i.number) for i in again.issued] == [("tiers", "2023-000003")]
    assert again.already_billed == ("concerto", "voisins")
    assert again.skipped == ()


def test_a_skipped_household_in_a_batch_of_one_does_not_stop_the_next_batches(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    _with_a_pai_basket_the_grid_does_not_price(memory_bworld)
    clock.set(BILLING_DAY)
    canteen.billing.options = attrs.evolve(canteen.billing.options, batch_size=1)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    assert report.batches == 3
    assert [item.household_id for item in report.issued] == ["concerto", "voisins"]
    assert [item.household_id for item in report.skipped] == ["tiers"]


def test_a_month_not_over_is_refused_unless_asked_and_a_future_one_always(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    book(canteen, memory_bworld.alban, september(memory_bworld.alban)[:2])
    clock.set(datetime(2023, 9, 15, 8, 0, tzinfo=UTC))
    with pytest.raises(RuleViolationError, match="la période 2023-09 n'est pas terminée"):
        canteen.billing.run_postpaid(FINANCE, "2023-09")
    with pytest.raises(RuleViolationError, match="la période 2027-03 n'a pas commencé"):
        canteen.billing.run_postpaid(FINANCE, "2027-03")
    with pytest.raises(RuleViolationError, match="n'a pas commencé"):
        canteen.billing.run_postpaid(FINANCE, "2027-03", allow_unfinished=True)
    with pytest.raises(InvalidInputError):
        canteen.billing.run_postpaid(FINANCE, "2023-09", allow_unfinished="yes")  # type: ignore[arg-type]
    assert canteen.billing.statement(FINANCE, "concerto").invoices == ()
    early = canteen.billing.run_postpaid(FINANCE, "2023-09", allow_unfinished=True)
    assert [item.household_id for item in early.issued] == ["concerto"]
    clock.set(datetime(2023, 9, 30, 20, 0, tzinfo=UTC))  # 22:00 in Paris: still September
    with pytest.raises(RuleViolationError, match="n'est pas terminée"):
        canteen.billing.run_postpaid(FINANCE, "2023-09")


def test_the_last_month_of_the_calendar_is_a_period_not_a_crash() -> None:
    assert parse_period("9999-12") == (date(9999, 12, 1), date(9999, 12, 31))
    assert parse_period("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
