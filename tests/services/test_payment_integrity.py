# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""Money in whole cents and an invoice paid twice (#22, items 7 and 9): refunds and credit
notes below a cent or absurdly large are refused with the library's error, and a second card
payment for an invoice already paid (two browser tabs) is kept as credit but flagged."""

from __future__ import annotations

import pytest

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.ledger import InvoiceStatus
from canteen_core.domain.money import Money

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    any_billing_canteen,
    any_bworld,
    book,
    ipn,
    memory_billing_canteen,
    memory_bworld,
    september,
)
from ._world import FINANCE, PAYER, World

RETURN = "https://famille.ronde.fr/factures/retour"
NOTIFY = "https://famille.ronde.fr/api/payzen"


def _billed(world: World, clock: FixedClock) -> str:
    from ._billing_fixtures import BILLING_DAY

    book(world.canteen, world.alban, september(world.alban))  # 16 x 3.05 = 48.80
    clock.set(BILLING_DAY)
    return world.canteen.billing.run_postpaid(FINANCE, "2023-09").issued[0].invoice_id


@pytest.mark.parametrize("amount", ["0.001", "1E-30", "1E+26", "12.345"])
def test_refunds_are_whole_cents_of_a_sane_size(
    memory_bworld: World, clock: FixedClock, amount: str
) -> None:
    canteen = memory_bworld.canteen
    _billed(memory_bworld, clock)
    canteen.payments.record_payment(FINANCE, "concerto", "60.00", "cash")  # 11.20 of credit
    with pytest.raises(InvalidInputError, match="amount"):
        canteen.payments.refund(FINANCE, "concerto", amount)
    statement = canteen.billing.statement(FINANCE, "concerto")
    assert statement.refunded == Money.zero()
    assert statement.available_credit == Money.of("11.20")


@pytest.mark.parametrize("amount", ["0.004", "1E-30", "1E+26", "1.005"])
def test_credit_notes_are_whole_cents_of_a_sane_size(
    memory_bworld: World, clock: FixedClock, amount: str
) -> None:
    canteen = memory_bworld.canteen
    invoice_id = _billed(memory_bworld, clock)
    with pytest.raises(InvalidInputError, match="amount"):
        canteen.billing.issue_credit_note(
            FINANCE, invoice_id, reason="Repas non servi", amount=Money.of(amount)
        )
    assert canteen.billing.statement(FINANCE, "concerto").credited == Money.zero()
    # The next credit note still gets the first number: none was consumed.
    note = canteen.billing.issue_credit_note(
        FINANCE, invoice_id, reason="Repas non servi", amount=Money.of("3.05")
    )
    assert note.number == "AV-2023-000001"


def test_two_tabs_paying_the_same_invoice_flag_the_second_payment(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    invoice_id = _billed(any_bworld, clock)
    tabs = [
        canteen.payments.start_online_payment(
            PAYER, invoice_id, provider="payzen", return_url=RETURN, notification_url=NOTIFY
        )
        for _ in range(2)
    ]
    forms = [tab.form.as_dict() for tab in tabs if tab.form is not None]
    assert forms[0]["vads_trans_id"] != forms[1]["vads_trans_id"]
    clock.advance(minutes=2)
    first = canteen.payments.handle_notification("payzen", ipn(forms[0]))
    assert first.credited
    assert not first.needs_review
    clock.advance(minutes=1)
    second = canteen.payments.handle_notification("payzen", ipn(forms[1]))
    assert second.credited  # the money was taken: it is kept, as household credit
    assert second.needs_review
    assert second.decision == "credit_for_review"
    assert "réglée entre-temps" in second.reason
    state = canteen.billing.invoice(FINANCE, invoice_id)
    assert state.status is InvoiceStatus.PAID
    assert canteen.billing.statement(FINANCE, "concerto").available_credit == Money.of("48.80")
    audit = canteen.payments.notifications_audit(FINANCE, provider="payzen")
    assert len(canteen.payments.payment_requests(FINANCE, provider="payzen")) == 2
    assert [entry.decision for entry in audit] == [
        "credit",
        "credit_for_review",
    ]
    # The same second notification again is a duplicate, credited once.
    assert canteen.payments.handle_notification("payzen", ipn(forms[1])).decision == "duplicate"


@pytest.mark.parametrize(
    ("method", "first", "again", "refusal"),
    [
        ("cheque", "0001234", " 0001234 ", "le chèque n° 0001234 est déjà enregistré"),
        ("cesu", "A12 B34", "a12b34", "les titres CESU a12b34 sont déjà enregistrés"),
        ("cash", "Q-77", "q-77", "la quittance n° q-77 est déjà enregistrée"),
    ],
)
def test_a_counter_payment_entered_twice_is_refused(
    any_bworld: World, clock: FixedClock, method: str, first: str, again: str, refusal: str
) -> None:
    """The same cheque typed in twice at the counter would count its money twice: the second
    entry is refused with the first one's amount and day, and nothing more is stored."""
    canteen = any_bworld.canteen
    _billed(any_bworld, clock)
    canteen.payments.record_payment(FINANCE, "concerto", "20.00", method, reference=first)
    with pytest.raises(RuleViolationError, match=refusal) as refused:
        canteen.payments.record_payment(FINANCE, "concerto", "20.00", method, reference=again)
    assert "20,00 € reçus le" in str(refused.value)
    statement = canteen.billing.statement(FINANCE, "concerto")
    assert statement.received == Money.of("20.00")
    # Another method, another number or another household is another payment.
    canteen.payments.record_payment(FINANCE, "concerto", "5.00", method, reference=first + "9")
    canteen.payments.record_payment(FINANCE, "concerto", "5.00", "cash")
    assert canteen.billing.statement(FINANCE, "concerto").received == Money.of("30.00")


def test_a_bounced_cheque_may_be_recorded_again(any_bworld: World, clock: FixedClock) -> None:
    """A cheque rejected by the bank (impayé) and handed in again is a new payment."""
    canteen = any_bworld.canteen
    _billed(any_bworld, clock)
    bounced = canteen.payments.record_payment(
        FINANCE, "concerto", "48.80", "cheque", reference="0005678"
    )
    canteen.payments.reject_payment(FINANCE, bounced.id)
    canteen.payments.record_payment(FINANCE, "concerto", "48.80", "cheque", reference="0005678")
    statement = canteen.billing.statement(FINANCE, "concerto")
    assert statement.received == Money.of("48.80")
    assert statement.balance_due == Money.zero()
