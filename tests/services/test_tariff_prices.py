# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""The family's tariffs "with why": the grid of the school year, each child's price and the
reasons, and the price shown is the price billing charges (Hypothesis across quotients)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, NotAuthorizedError
from canteen_core.domain.families import FamilyQuotient
from canteen_core.domain.money import Money
from canteen_core.services import Canteen

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    book,
    make_billing_canteen,
    memory_billing_canteen,
    memory_bworld,
    priced_world,
)
from ._world import ADMIN, FINANCE, OTHER, PAYER, STAFF, World
from .conftest import EventRecorder

SEPT_15 = date(2023, 9, 15)


def test_grid_and_price_with_the_reasons(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    tariffs = canteen.billing.household_tariffs(PAYER, "concerto", on=SEPT_15)
    assert tariffs.school_year_fr == "2023-2024"
    (table,) = tariffs.tables
    assert table.service_name == "Restauration scolaire"
    assert table.period_fr == "du 01/08/2023 au 31/07/2024"
    rows = dict(table.rows)
    assert [b.bounds for b in rows["enfant résident"]] == [
        "QF inférieur à 500 €",
        "QF de 500 € à moins de 800 €",
        "QF de 800 € à moins de 1 200 €",
        "QF de 1 200 € et plus",
    ]
    assert rows["panier repas (PAI)"][0].price == Money.of("1.50")
    assert "Réduction fratrie : -50 % à partir du 2e enfant inscrit" in table.rules
    alban, zoe = tariffs.prices
    assert alban.price == Money.of("3.05")
    price = Money.of("3.05").format_fr()  # "3,05 €" with babel's space
    assert alban.sentence_fr.startswith(f"Votre tarif : {price} par repas, car Alban est")
    assert "tranche « QF de 500 € à moins de 800 € »" in alban.sentence_fr
    assert "quotient familial au 15/09/2023 est de 612,5 €" in alban.sentence_fr
    assert "pas de réduction (à partir du 2e enfant)" in alban.sentence_fr
    assert zoe.price == Money.of("1.53")  # second child, half price
    assert "Zoé est le 2e enfant inscrit de la fratrie : réduction de 50 %" in zoe.reasons


def test_an_expired_quotient_gives_the_highest_bracket(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    household = canteen.families.get(ADMIN, "concerto")
    expired = attrs.evolve(
        household,
        quotients=(
            FamilyQuotient(
                value="612.50", valid_from=date(2023, 1, 1), valid_until=date(2023, 9, 10)
            ),
        ),
    )
    canteen.families.save_household(ADMIN, expired)
    alban = canteen.billing.household_tariffs(PAYER, "concerto", on=SEPT_15).prices[0]
    assert alban.price == Money.of("3.15")
    assert (
        "votre quotient familial a expiré le 10/09/2023 : la tranche la plus haute s'applique"
        in alban.reasons
    )
    lea = canteen.billing.household_tariffs(STAFF, "voisins", on=SEPT_15).prices[0]
    assert "aucun quotient familial n'est enregistré" in lea.sentence_fr


def test_a_household_outside_the_commune_pays_the_non_resident_price(
    memory_bworld: World,
) -> None:
    canteen = memory_bworld.canteen
    household = canteen.families.get(ADMIN, "voisins")
    canteen.families.save_household(ADMIN, attrs.evolve(household, resident=False))
    from canteen_core.domain.tariffs import FlatPricing, TariffCategory

    from ._billing_fixtures import GRID

    grid = attrs.evolve(
        GRID, prices={**GRID.prices, TariffCategory.NON_RESIDENT_CHILD: FlatPricing.of("5.60")}
    )
    canteen.billing.save_tariff_grid(ADMIN, grid)
    lea = canteen.billing.household_tariffs(STAFF, "voisins", on=SEPT_15).prices[0]
    assert lea.price == Money.of("5.60")
    assert lea.reasons[0] == "votre foyer n'habite pas la commune : tarif « enfant non résident »"
    assert "prix unique" in lea.reasons[1]


def test_another_household_and_bad_dates_are_refused(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    with pytest.raises(NotAuthorizedError):
        canteen.billing.household_tariffs(OTHER, "concerto")
    with pytest.raises(InvalidInputError, match="année scolaire 2023-2024"):
        canteen.billing.household_tariffs(PAYER, "concerto", school_year=2023, on=date(2025, 1, 6))
    with pytest.raises(InvalidInputError, match="année doit être comprise"):
        canteen.billing.household_tariffs(PAYER, "concerto", school_year=0)
    none = canteen.billing.household_tariffs(PAYER, "concerto", school_year=2030)
    assert (none.tables, none.prices) == ((), ())


QUOTIENTS = st.none() | st.decimals(
    min_value=Decimal(0), max_value=Decimal(3000), places=2, allow_nan=False
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(quotient=QUOTIENTS, resident=st.booleans())
def test_the_price_shown_is_what_billing_charges(
    tmp_path: Path, quotient: Decimal | None, resident: bool
) -> None:
    """For any quotient (or none) and residence, each child's price on the page is the unit
    price of the invoice lines billing writes for that month."""
    clock = FixedClock(BILLING_DAY)
    with make_billing_canteen("memory", None, tmp_path, clock, EventRecorder()) as canteen:  # type: ignore[arg-type]
        world = priced_world(canteen)
        _set_household(canteen, quotient, resident)
        days = [date(2023, 9, 11), date(2023, 9, 12), date(2023, 9, 14), SEPT_15]
        book(canteen, world.alban, days)
        book(canteen, world.zoe, days)
        shown = {
            p.child_id: p.price
            for p in canteen.billing.household_tariffs(PAYER, "concerto", on=SEPT_15).prices
        }
        report = canteen.billing.run_postpaid(FINANCE, "2023-09")
        invoice = canteen.billing.invoice(FINANCE, report.issued[0].invoice_id).invoice
        charged = {line.child_id: line.unit_price for line in invoice.lines}
        assert charged == shown


def _set_household(canteen: Canteen, quotient: Decimal | None, resident: bool) -> None:
    household = canteen.families.get(ADMIN, "concerto")
    quotients = (
        () if quotient is None else (FamilyQuotient(value=quotient, valid_from=date(2023, 1, 1)),)
    )
    changed = attrs.evolve(household, quotients=quotients, resident=resident)
    canteen.families.save_household(ADMIN, changed)
    if not resident:
        from canteen_core.domain.tariffs import FlatPricing, TariffCategory

        from ._billing_fixtures import GRID

        grid = attrs.evolve(
            GRID,
            prices={**GRID.prices, TariffCategory.NON_RESIDENT_CHILD: FlatPricing.of("5.60")},
        )
        canteen.billing.save_tariff_grid(ADMIN, grid)
