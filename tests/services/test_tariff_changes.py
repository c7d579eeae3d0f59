# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""A tariff grid that already priced invoices is not re-priced by mistake: the next post-paid
run would regularise every invoice it priced (credit notes, days charged again)."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.money import Money
from canteen_core.domain.tariffs import BracketPricing, FlatPricing, TariffCategory
from canteen_core.services.billing import BilledGridChangeError

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
from ._world import ADMIN, FINANCE, World

DOUBLED = attrs.evolve(
    GRID,
    prices={
        **GRID.prices,
        TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
            ["2.00", "6.10", "6.20", "6.30"], [500, 800, 1200]
        ),
    },
)


def _september_billed(world: World, clock: FixedClock) -> Money:
    book(world.canteen, world.alban, september(world.alban))  # 16 x 3.05 = 48.80
    clock.set(BILLING_DAY)
    return world.canteen.billing.run_postpaid(FINANCE, "2023-09").total


def test_repricing_a_grid_that_billed_is_refused_unless_confirmed(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    assert _september_billed(any_bworld, clock) == Money.of("48.80")
    with pytest.raises(
        BilledGridChangeError,
        match=r"la grille rs-2023 a servi à facturer \(facture 2023-000001 du 02/10/2023\)",
    ):
        canteen.billing.save_tariff_grid(ADMIN, DOUBLED)
    assert canteen.billing.tariff_grids(FINANCE) == [GRID]
    # A validity that no longer covers a billed day is refused alike.
    with pytest.raises(RuleViolationError, match="a servi à facturer"):
        canteen.billing.save_tariff_grid(ADMIN, attrs.evolve(GRID, valid_from=date(2023, 10, 1)))
    with pytest.raises(InvalidInputError, match="vrai ou faux"):
        canteen.billing.save_tariff_grid(ADMIN, DOUBLED, reprice_billed="yes")  # type: ignore[arg-type]
    assert canteen.billing.tariff_grids(FINANCE) == [GRID]
    # Confirmed (a grid typed wrong): stored, and the next run regularises September.
    canteen.billing.save_tariff_grid(ADMIN, DOUBLED, reprice_billed=True)
    assert canteen.billing.tariff_grids(FINANCE) == [DOUBLED]
    clock.set(BILLING_DAY.replace(month=11))
    october = canteen.billing.run_postpaid(FINANCE, "2023-10")
    assert [note.total for note in october.credit_notes] == [Money.of("48.80")]


def test_changes_that_reprice_nothing_billed_need_no_confirmation(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    _september_billed(memory_bworld, clock)
    # A category nothing was billed in (PAI baskets: none in September), a new category,
    # a longer validity: what was invoiced keeps its prices.
    basket = {**GRID.prices, TariffCategory.PAI_BASKET: FlatPricing.of("1.80")}
    canteen.billing.save_tariff_grid(ADMIN, attrs.evolve(GRID, prices=basket))
    added = {**basket, TariffCategory.NON_RESIDENT_CHILD: FlatPricing.of("5.60")}
    canteen.billing.save_tariff_grid(ADMIN, attrs.evolve(GRID, prices=added))
    canteen.billing.save_tariff_grid(
        ADMIN, attrs.evolve(GRID, prices=added, valid_until=date(2024, 8, 31))
    )
    clock.set(BILLING_DAY.replace(month=11))
    assert canteen.billing.run_postpaid(FINANCE, "2023-10").credit_notes == ()


def test_a_grid_that_billed_nothing_changes_freely(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    canteen.billing.save_tariff_grid(ADMIN, DOUBLED)
    assert canteen.billing.tariff_grids(FINANCE) == [DOUBLED]


def test_a_grid_that_billed_cannot_be_removed(memory_bworld: World, clock: FixedClock) -> None:
    canteen = memory_bworld.canteen
    canteen.billing.save_tariff_grid(
        ADMIN, attrs.evolve(DOUBLED, id="rs-2024", valid_from=date(2024, 8, 1), valid_until=None)
    )
    canteen.billing.remove_tariff_grid(ADMIN, "rs-2024")  # priced nothing yet
    _september_billed(memory_bworld, clock)
    with pytest.raises(BilledGridChangeError, match="ne peut pas être supprimée"):
        canteen.billing.remove_tariff_grid(ADMIN, GRID.id)
    assert canteen.billing.tariff_grids(FINANCE) == [GRID]


def test_the_check_in_the_write_reads_only_the_invoices_issued_since_the_first(
    memory_bworld: World, clock: FixedClock
) -> None:
    """The long read runs outside the write lock; inside, only the invoices issued since it
    began are read again (an invoice issued meanwhile is still caught)."""
    from canteen_core.services.billing.tariff_admin import _refuse_repricing

    canteen = memory_bworld.canteen
    _september_billed(memory_bworld, clock)  # issued on 2 October
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        _refuse_repricing(uow, GRID, DOUBLED, since=date(2023, 10, 3))  # none since the 3rd
        with pytest.raises(BilledGridChangeError, match="2023-000001"):
            _refuse_repricing(uow, GRID, DOUBLED, since=date(2023, 10, 2))
