# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""Rules that were computed but not applied (#14, items 9, 11 and 13): the arrears rule from
the deployment file blocks a family's new bookings, a household living outside the commune is
priced at the non-resident tariff, and a prepaid basket issues its own cancellation credits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import attrs
import pytest

from canteen_core.config.deployment import BillingMode, BillingSettings, parse_deployment
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConfigurationError, RuleViolationError
from canteen_core.domain.money import Money
from canteen_core.domain.reminders import ArrearsRule
from canteen_core.domain.tariffs import FlatPricing, TariffCategory

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    GRID,
    book,
    make_billing_canteen,
    memory_billing_canteen,
    memory_bworld,
    priced_world,
    september,
)
from ._world import ADMIN, FINANCE, OTHER, PAYER, World, voisins
from .conftest import EventRecorder

D = date
TOML = '[issuer]\nname = "Régie"\ncode = "R"\n[billing]\n'


def test_the_arrears_rule_is_read_from_the_deployment_file() -> None:
    deployment = parse_deployment(TOML + 'arrears_threshold = "50.00"\narrears_grace_days = 15\n')
    assert deployment.billing.arrears_rule == ArrearsRule(
        threshold=Money.of("50.00"), grace_days=15
    )
    assert parse_deployment(TOML).billing.arrears_rule is None
    for bad in (
        "arrears_threshold = 50.5",
        'arrears_threshold = "abc"',
        'arrears_threshold = "-1"',
    ):
        with pytest.raises(ConfigurationError) as caught:
            parse_deployment(TOML + bad + "\n")
        assert caught.value.path == "billing.arrears_threshold"


def test_a_family_over_the_deployment_threshold_cannot_book_new_days(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    canteen = make_billing_canteen(
        "sqlite",
        request,
        tmp_path,
        clock,
        recorder,
        billing=BillingSettings(arrears_threshold="20.00"),
    )
    with canteen:
        world = priced_world(canteen)
        assert canteen.billing.options.arrears_rule == ArrearsRule(threshold=Money.of("20.00"))
        book(canteen, world.alban, september(world.alban))  # 16 x 3.05 = 48.80
        book(canteen, world.lea, september(world.lea)[:4])  # 4 x 3.15 = 12.60
        clock.set(BILLING_DAY)
        canteen.billing.run_postpaid(FINANCE, "2023-09")
        clock.set(datetime(2023, 11, 6, 8, 0, tzinfo=UTC))  # both invoices overdue
        monday = D(2023, 11, 20)
        with pytest.raises(RuleViolationError, match="De nouvelles réservations ne sont pas"):
            canteen.reservations.book(PAYER, world.alban.id, monday)
        assert not canteen.reservations.book_of(PAYER, world.alban.id).is_booked(monday)
        # Cancelling stays possible; the neighbours (12.60 overdue) book as usual.
        assert canteen.reservations.cancel(PAYER, world.alban.id, monday).booked == ()
        assert canteen.reservations.book(OTHER, world.lea.id, monday).booked == (monday,)
        # Staff may still book for the blocked family.
        assert canteen.reservations.book(ADMIN, world.alban.id, monday).booked == (monday,)


def test_a_household_outside_the_commune_is_priced_non_resident(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = memory_bworld.canteen
    prices = {**GRID.prices, TariffCategory.NON_RESIDENT_CHILD: FlatPricing.of("5.60")}
    canteen.billing.save_tariff_grid(ADMIN, attrs.evolve(GRID, prices=prices))
    canteen.families.save_household(ADMIN, attrs.evolve(voisins(), resident=False))
    book(canteen, memory_bworld.lea, september(memory_bworld.lea)[:2])
    book(canteen, memory_bworld.alban, september(memory_bworld.alban)[:2])
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    totals = {item.household_id: item.total for item in report.issued}
    assert totals == {"concerto": Money.of("6.10"), "voisins": Money.of("11.20")}
    invoice = canteen.billing.invoice(FINANCE, report.issued[1].invoice_id).invoice
    assert [line.category for line in invoice.lines] == [TariffCategory.NON_RESIDENT_CHILD]


def test_a_prepaid_basket_issues_the_cancellation_credits_itself(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    canteen = make_billing_canteen(
        "memory", request, tmp_path, clock, recorder, mode=BillingMode.PREPAID
    )
    with canteen:
        world = priced_world(canteen)
        days = september(world.alban)[:4]
        book(canteen, world.alban, days)
        first = canteen.billing.invoice_basket(PAYER, "concerto", "2023-09")
        assert first is not None
        # One day cancelled in time, two more booked: the next basket credits the cancelled
        # day (no separate call) and bills the new ones.
        book(canteen, world.alban, september(world.alban)[4:6], cancel=[days[0]])
        second = canteen.billing.invoice_basket(PAYER, "concerto", "2023-09")
        assert second is not None
        assert second.total == Money.of("6.10")
        statement = canteen.billing.statement(PAYER, "concerto")
        assert statement.credited == Money.of("3.05")
        assert canteen.billing.invoice(PAYER, first.id).balance_due == Money.of("9.15")
        assert statement.balance_due == Money.of("15.25")  # 12.20 - 3.05 + 6.10
        assert canteen.billing.credit_cancellations(PAYER, "concerto", "2023-09") == []
