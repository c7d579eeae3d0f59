# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""A direct debit pays its invoice from its collection date, not from the bank file (issue #17):
until then the family sees "Prélèvement prévu le …" and an unpaid invoice, and nothing asks
for the money twice (no reminder, no second debit, no online payment). Through the facade on
memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from canteen_adapters.documents.certificate import PaymentCertificate
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.ledger import InvoiceStatus
from canteen_core.domain.money import Money
from canteen_core.services import Canteen

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    FAMILY_IBAN,
    any_billing_canteen,
    any_bworld,
    book,
    september,
    shared_backend,
)
from ._world import FINANCE, PAYER, World

D = date
RETURN = "https://famille.ronde.fr/factures/retour"
NOTIFY = "https://famille.ronde.fr/api/payzen"
#: After the first reminder level (due 1 November + 15 days), so a reminder would be due.
COLLECTION = D(2023, 11, 20)


def _bill_september_with_a_debit(world: World, clock: FixedClock) -> tuple[str, str]:
    """Concerto (mandate, 48.80) and Voisins (no mandate) billed on 2 October; the debit run
    the same day collects Concerto's invoice on :data:`COLLECTION`. Returns both invoice ids."""
    canteen = world.canteen
    canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    book(canteen, world.alban, september(world.alban))
    book(canteen, world.lea, september(world.lea)[:4])
    clock.set(BILLING_DAY)
    issued = canteen.billing.run_postpaid(FINANCE, "2023-09").issued
    ours = next(i.invoice_id for i in issued if i.household_id == "concerto")
    theirs = next(i.invoice_id for i in issued if i.household_id == "voisins")
    run = canteen.payments.run_direct_debit(FINANCE, COLLECTION)
    assert run.count == 1
    return ours, theirs


def _certified(canteen: Canteen, today: date) -> Money:
    account = canteen.documents.household_account(PAYER, "concerto")
    household = canteen.billing.household_home(PAYER, "concerto").household
    certificate = PaymentCertificate.from_account(
        account, household=household, year=2023, as_of=today
    )
    return certificate.received


def test_before_its_collection_date_a_debit_is_scheduled_not_paid(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    invoice_id, _ = _bill_september_with_a_debit(any_bworld, clock)
    state = canteen.billing.invoice(PAYER, invoice_id)
    assert state.status is InvoiceStatus.DEBIT_SCHEDULED
    assert state.status_label_fr == "Prélèvement prévu le 20/11/2023"
    assert (state.paid, state.scheduled, state.balance_due, state.uncovered) == (
        Money.zero(),
        Money.of("48.80"),
        Money.of("48.80"),
        Money.zero(),
    )
    page = canteen.billing.invoices_page(PAYER, "concerto")
    (row,) = page.rows
    assert (row.status, row.status_label) == ("debit_scheduled", "Prélèvement prévu le 20/11/2023")
    assert row.balance_due == Money.of("48.80")
    assert row.scheduled_on == COLLECTION
    assert not row.can_pay_online
    assert row.online_payment_refusal == (
        "Cette facture sera réglée par le prélèvement prévu le 20/11/2023."
    )
    assert page.unpaid_count == 1
    assert page.balance_due == Money.of("48.80")
    assert page.summary_fr == "Vous avez 1 facture non réglée, prélèvement prévu le 20/11/2023"
    home = canteen.billing.household_home(PAYER, "concerto")
    assert home.invoices == page
    statement = canteen.billing.statement(PAYER, "concerto")
    assert [e.kind for e in statement.entries] == ["invoice"]
    assert (statement.received, statement.scheduled, statement.net_balance) == (
        Money.zero(),
        Money.of("48.80"),
        Money.of("48.80"),
    )
    assert _certified(canteen, BILLING_DAY.date()) == Money.zero()


def test_a_scheduled_debit_is_not_asked_for_twice(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    invoice_id, other_id = _bill_september_with_a_debit(any_bworld, clock)
    with pytest.raises(RuleViolationError, match="prélèvement prévu le 20/11/2023"):
        canteen.payments.start_online_payment(
            PAYER, invoice_id, provider="payzen", return_url=RETURN, notification_url=NOTIFY
        )
    again = canteen.payments.run_direct_debit(FINANCE, D(2023, 11, 21))
    assert again.count == 0
    # 17 November: both invoices are past the first reminder; only the one without a debit
    # is reminded.
    clock.set(datetime(2023, 11, 17, 9, tzinfo=UTC))
    report = canteen.billing.run_reminders(FINANCE, today=D(2023, 11, 17))
    assert report.sent == ((other_id, 1),)


def test_from_its_collection_date_the_invoice_is_paid(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    invoice_id, _ = _bill_september_with_a_debit(any_bworld, clock)
    clock.set(datetime(2023, 11, 19, 22, 30, tzinfo=UTC))  # 23:30 in Paris: still the 19th
    assert canteen.billing.invoice(PAYER, invoice_id).status is InvoiceStatus.DEBIT_SCHEDULED
    clock.set(datetime(2023, 11, 19, 23, 30, tzinfo=UTC))  # 00:30 on the 20th in Paris
    state = canteen.billing.invoice(PAYER, invoice_id)
    assert (state.status, state.status_label_fr) == (InvoiceStatus.PAID, "Facture réglée")
    assert (state.paid, state.scheduled, state.balance_due) == (
        Money.of("48.80"),
        Money.zero(),
        Money.zero(),
    )
    page = canteen.billing.invoices_page(PAYER, "concerto")
    assert page.unpaid_count == 0
    assert page.summary_fr == "Vous n'avez aucune facture non réglée"
    statement = canteen.billing.statement(PAYER, "concerto")
    assert [(e.kind, e.day) for e in statement.entries][1] == ("payment", COLLECTION)
    assert (statement.received, statement.scheduled, statement.net_balance) == (
        Money.of("48.80"),
        Money.zero(),
        Money.zero(),
    )
    assert _certified(canteen, COLLECTION) == Money.of("48.80")


def test_a_debit_rejected_before_its_date_reopens_the_invoice(
    any_bworld: World, clock: FixedClock
) -> None:
    canteen = any_bworld.canteen
    invoice_id, _ = _bill_september_with_a_debit(any_bworld, clock)
    number = canteen.billing.invoice(PAYER, invoice_id).invoice.number
    canteen.payments.record_debit_returns(FINANCE, [number])  # a pain.002 reject, 2 October
    state = canteen.billing.invoice(PAYER, invoice_id)
    assert (state.status, state.scheduled, state.uncovered) == (
        InvoiceStatus.ISSUED,
        Money.zero(),
        Money.of("48.80"),
    )
    (row,) = canteen.billing.invoices_page(PAYER, "concerto").rows
    assert row.can_pay_online
    assert row.scheduled_on is None
