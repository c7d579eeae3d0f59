# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""Paying household credit back (``payments.refund``): by transfer, cheque or cash, never
beyond the credit, never dated before the credit existed or in the future; every refusal
leaves the account and the audit trail as they were. And a counter payment dated years
before the household used the service is refused."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.ledger import PaymentMethod
from canteen_core.domain.money import Money
from canteen_core.services import Canteen

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    any_billing_canteen,
    any_bworld,
    book,
    memory_billing_canteen,
    memory_bworld,
    september,
)
from ._world import ADMIN, FINANCE, PAYER, World

#: The day the 60.00 cash payment is received (the invoice is 48.80: 11.20 of credit).
PAID_ON = date(2023, 10, 2)


def _with_credit(world: World, clock: FixedClock) -> Canteen:
    """CONCERTO billed 48.80 for September and paid 60.00 in cash on 2 October: 11.20 of
    credit; the clock then moves to 9 October."""
    canteen = world.canteen
    book(canteen, world.alban, september(world.alban))
    clock.set(BILLING_DAY)
    canteen.billing.run_postpaid(FINANCE, "2023-09")
    canteen.payments.record_payment(FINANCE, "concerto", "60.00", "cash")
    clock.advance(days=7)
    return canteen


def _state(canteen: Canteen) -> tuple[object, int]:
    """The household statement and how many audit entries there are."""
    return canteen.billing.statement(FINANCE, "concerto"), len(canteen.audit.entries(ADMIN))


def test_a_refund_by_transfer_shows_on_the_statement_and_in_the_audit(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = _with_credit(any_bworld, clock)
    refund = canteen.payments.refund(
        FINANCE, "concerto", "11.20", refunded_on=date(2023, 10, 5), reference=" VIR 42 "
    )
    assert refund.method is PaymentMethod.TRANSFER  # the default: credit goes back by transfer
    assert refund.reference == "VIR 42"
    statement = canteen.billing.statement(PAYER, "concerto")  # the family sees it too
    assert statement.available_credit == Money.zero()
    assert statement.refunded == Money.of("11.20")
    (entry,) = [e for e in statement.entries if e.kind == "refund"]
    assert (entry.day, entry.label, entry.debit) == (
        date(2023, 10, 5),
        "Remboursement (virement)",
        Money.of("11.20"),
    )
    logged = canteen.audit.entries(ADMIN, household_id="concerto")[-1]
    assert logged.summary == "Remboursement de 11,20 € (virement) au foyer concerto"
    assert logged.changes[0].after == {
        "amount": "11.20",
        "method": "transfer",
        "refunded_on": "2023-10-05",
        "reference": "VIR 42",
    }


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"method": "card"}, InvalidInputError, "ne se rembourse pas par carte bancaire"),
        ({"method": "direct_debit"}, InvalidInputError, "pas par prélèvement"),
        ({"method": "cesu"}, InvalidInputError, "possibles : transfer, cheque, cash"),
        ({"method": "paypal"}, InvalidInputError, "mode de remboursement inconnu"),
        ({"refunded_on": date(2023, 10, 10)}, InvalidInputError, "dans le futur"),
        ({"refunded_on": "2023-10-05"}, InvalidInputError, "date"),
        ({"amount": "0"}, InvalidInputError, "doit être positif"),
        ({"amount": "-5"}, InvalidInputError, "doit être positif"),
        ({"amount": "11.21"}, RuleViolationError, "n'a que 11,20 € d'avoir disponible"),
        # Before the 60.00 that made the credit was received: the replayed account could
        # not have paid it.
        ({"refunded_on": date(2023, 10, 1)}, RuleViolationError, "n'avait pas l'avoir"),
        ({"reference": 42}, InvalidInputError, "reference"),
    ],
)
def test_a_refused_refund_changes_nothing(
    memory_bworld: World,
    clock: FixedClock,
    change: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    canteen = _with_credit(memory_bworld, clock)
    before = _state(canteen)
    arguments: dict[str, object] = {"amount": "5.00", **change}
    amount = arguments.pop("amount")
    with pytest.raises(error, match=message):
        canteen.payments.refund(FINANCE, "concerto", amount, **arguments)  # type: ignore[arg-type]
    assert _state(canteen) == before


def test_a_refund_without_credit_says_there_is_none(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = _with_credit(memory_bworld, clock)
    canteen.payments.refund(FINANCE, "concerto", Decimal("11.20"), method="cheque")
    with pytest.raises(RuleViolationError, match="le foyer concerto n'a aucun avoir disponible"):
        canteen.payments.refund(FINANCE, "concerto", "1.00")


def test_a_backdated_refund_may_not_take_the_credit_a_later_refund_paid_back(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = _with_credit(memory_bworld, clock)
    # 11.20 paid back on 6 October, then 5.00 more received on 9 October.
    canteen.payments.refund(FINANCE, "concerto", "11.20", refunded_on=date(2023, 10, 6))
    canteen.payments.record_payment(FINANCE, "concerto", "5.00", "cash")
    before = _state(canteen)
    # Today's 5.00 of credit, but dated 3 October it would have spent the money the
    # 6 October refund paid back.
    with pytest.raises(RuleViolationError, match="au 03/10/2023"):
        canteen.payments.refund(FINANCE, "concerto", "5.00", refunded_on=date(2023, 10, 3))
    assert _state(canteen) == before
    canteen.payments.refund(FINANCE, "concerto", "5.00", method="cash")
    assert canteen.billing.statement(FINANCE, "concerto").available_credit == Money.zero()


def test_a_counter_payment_years_before_the_household_used_the_service_is_refused(
    memory_bworld: World, clock: FixedClock
) -> None:
    canteen = _with_credit(memory_bworld, clock)
    before = _state(canteen)
    # The first school year is 2023-2024: the year before it is the earliest allowed.
    with pytest.raises(InvalidInputError, match=r"\(01/01/2020\) est trop ancienne.*01/08/2022"):
        canteen.payments.record_payment(
            FINANCE, "concerto", "5.00", "cash", received_on=date(2020, 1, 1)
        )
    assert _state(canteen) == before
    earliest = date(2022, 8, 1)
    canteen.payments.record_payment(FINANCE, "concerto", "5.00", "cash", received_on=earliest)
    with pytest.raises(InvalidInputError, match="trop ancienne"):
        canteen.payments.record_payment(
            FINANCE, "concerto", "5.00", "cash", received_on=earliest - timedelta(days=1)
        )
