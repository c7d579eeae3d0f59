# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""Payments through the facade: the PayZen round trip, notification handling (duplicate,
tampered, mismatch, unknown), counter payments, refunds, SEPA mandates and collections."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from canteen_adapters.payment.sepa import validate_pain008
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    ConfigurationError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import DirectDebitAnnounced, PaymentReceived
from canteen_core.domain.ledger import InvoiceStatus
from canteen_core.domain.money import Money
from canteen_core.domain.online_payment import SignatureError
from canteen_core.services import Canteen

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    FAMILY_IBAN,
    any_billing_canteen,
    any_bworld,
    billing_canteen,
    book,
    make_billing_canteen,
    memory_billing_canteen,
    memory_bworld,
    priced_world,
    september,
    shared_backend,
)
from ._world import ADMIN, CO_REP, FINANCE, OTHER, PAYER, World
from .conftest import EventRecorder

D = date
RETURN = "https://famille.ronde.fr/factures/retour"
NOTIFY = "https://famille.ronde.fr/api/payzen"


def _bill_september(world: World, clock: FixedClock) -> tuple[str, str]:
    """Alban booked every September day (16 x 3.05 = 48.80), Léa 4 days (4 x 3.15 = 12.60);
    billed on 2 October. Returns the two invoice ids."""
    canteen = world.canteen
    book(canteen, world.alban, september(world.alban))
    book(canteen, world.lea, september(world.lea)[:4])
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    return report.issued[0].invoice_id, report.issued[1].invoice_id


def _payment_form(canteen: Canteen, invoice_id: str) -> dict[str, str]:
    start = canteen.payments.start_online_payment(
        PAYER, invoice_id, provider="payzen", return_url=RETURN, notification_url=NOTIFY
    )
    assert start.form is not None
    return start.form.as_dict()


def _outbox_kinds(canteen: Canteen) -> list[str]:
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        return [record.message.kind for record in uow.outbox.records()]


def test_card_payment_round_trip(
    any_bworld: World, clock: FixedClock, recorder: EventRecorder
) -> None:
    from ._billing_fixtures import ipn

    canteen = any_bworld.canteen
    invoice_id, _ = _bill_september(any_bworld, clock)
    form = _payment_form(canteen, invoice_id)
    assert form["vads_amount"] == "4880"
    assert form["vads_trans_id"] == "000000"
    assert form["vads_order_id"] == "2023-000001"
    clock.advance(minutes=3)
    result = canteen.payments.handle_notification("payzen", ipn(form))
    assert result.credited
    assert result.invoice_id == invoice_id
    state = canteen.billing.invoice(PAYER, invoice_id)
    assert state.status is InvoiceStatus.PAID
    assert state.balance_due == Money.of("0.00")
    assert canteen.billing.statement(PAYER, "concerto").balance_due == Money.zero()
    (event,) = recorder.of(PaymentReceived)
    assert (event.amount, event.method, event.invoice_ids) == (
        Money.of("48.80"),
        "card",
        (invoice_id,),
    )
    assert _outbox_kinds(canteen).count("payment-received") == 2  # payer and co-representative
    # The same notification again credits nothing more.
    clock.advance(seconds=30)
    again = canteen.payments.handle_notification("payzen", ipn(form))
    assert again.decision == "duplicate"
    assert not again.credited
    statement = canteen.billing.statement(FINANCE, "concerto")
    assert [e.kind for e in statement.entries] == ["invoice", "payment"]
    audit = canteen.payments.notifications_audit(FINANCE, provider="payzen")
    assert [a.decision for a in audit] == ["credit", "duplicate"]
    (started,) = canteen.payments.payment_requests(FINANCE, household_id="concerto")
    assert started.started_by == PAYER.user_id
    assert started.transaction_id == audit[0].transaction_id
    assert started.request.invoice_id == invoice_id
    # Paid: no second online payment.
    with pytest.raises(RuleViolationError, match="ne peut pas être payée en ligne"):
        _payment_form(canteen, invoice_id)


def test_tampered_notification_records_only_the_audit_entry(
    memory_bworld: World, clock: FixedClock, recorder: EventRecorder
) -> None:
    from ._billing_fixtures import ipn

    canteen = memory_bworld.canteen
    invoice_id, _ = _bill_september(memory_bworld, clock)
    form = _payment_form(canteen, invoice_id)
    clock.advance(seconds=1)
    with pytest.raises(SignatureError):
        canteen.payments.handle_notification("payzen", ipn(form, vads_amount="1"))
    unsigned = {k: v for k, v in ipn(form).items() if k != "signature"}
    clock.advance(seconds=1)
    with pytest.raises(SignatureError):
        canteen.payments.handle_notification("payzen", unsigned)
    assert canteen.billing.invoice(PAYER, invoice_id).status is InvoiceStatus.ISSUED
    assert recorder.of(PaymentReceived) == []
    audit = canteen.payments.notifications_audit(FINANCE)
    assert [a.decision for a in audit] == ["rejected", "rejected"]
    assert audit[0].fields
    assert dict(audit[0].fields)["vads_amount"] == "1"
    assert "signature" in audit[0].reason


def test_mismatch_is_flagged_and_unknown_transaction_rejected(
    memory_bworld: World, clock: FixedClock
) -> None:
    from ._billing_fixtures import ipn, signed

    canteen = memory_bworld.canteen
    invoice_id, _ = _bill_september(memory_bworld, clock)
    form = _payment_form(canteen, invoice_id)
    clock.advance(seconds=1)
    result = canteen.payments.handle_notification(
        "payzen", signed({**ipn(form), "vads_amount": "100"})
    )
    assert result.decision == "mismatch"
    assert result.needs_review
    assert not result.credited
    assert canteen.billing.invoice(PAYER, invoice_id).balance_due == Money.of("48.80")
    clock.advance(seconds=1)
    unknown = signed({**ipn(form), "vads_trans_id": "000042"})
    with pytest.raises(NotFoundError, match="inconnue"):
        canteen.payments.handle_notification("payzen", unknown)
    clock.advance(seconds=1)
    refused = canteen.payments.handle_notification("payzen", ipn(form, status="REFUSED"))
    assert refused.decision == "not_paid"
    decisions = [a.decision for a in canteen.payments.notifications_audit(FINANCE)]
    assert decisions == ["mismatch", "unknown_transaction", "not_paid"]


def test_online_payment_rules_and_daily_sequence(memory_bworld: World, clock: FixedClock) -> None:
    import attrs

    from canteen_core.domain.invoicing import InvoiceTerms

    canteen = memory_bworld.canteen
    canteen.billing.options = attrs.evolve(
        canteen.billing.options, terms=InvoiceTerms(payment_opens_after_days=2)
    )
    invoice_id, lea_invoice = _bill_september(memory_bworld, clock)
    with pytest.raises(RuleViolationError, match="04/10/2023"):
        _payment_form(canteen, invoice_id)
    clock.set(datetime(2023, 10, 4, 7, 0, tzinfo=UTC))
    with pytest.raises(NotAuthorizedError):
        canteen.payments.start_online_payment(
            OTHER, invoice_id, provider="payzen", return_url=RETURN, notification_url=NOTIFY
        )
    with pytest.raises(ConfigurationError, match="disponibles"):
        _ = canteen.payments.start_online_payment(
            PAYER, invoice_id, provider="stripe", return_url=RETURN, notification_url=NOTIFY
        )
    first = _payment_form(canteen, invoice_id)
    second = canteen.payments.start_online_payment(
        CO_REP, invoice_id, provider="payzen", return_url=RETURN, notification_url=NOTIFY
    )
    other = canteen.payments.start_online_payment(
        OTHER, lea_invoice, provider="payzen", return_url=RETURN, notification_url=NOTIFY
    )
    assert second.form is not None
    assert other.form is not None
    ids = [
        first["vads_trans_id"],
        second.form.as_dict()["vads_trans_id"],
        other.form.as_dict()["vads_trans_id"],
    ]
    assert ids == ["000000", "000001", "000002"]
    with pytest.raises(InvalidInputError):
        canteen.payments.start_online_payment(
            PAYER, invoice_id, provider="payzen", return_url="ftp://x", notification_url=NOTIFY
        )
    # A new UTC day starts again from 0.
    clock.set(datetime(2023, 10, 5, 7, 0, tzinfo=UTC))
    assert _payment_form(canteen, invoice_id)["vads_trans_id"] == "000000"


def test_counter_payments_refunds_and_rejections(
    memory_bworld: World, clock: FixedClock, recorder: EventRecorder
) -> None:
    canteen = memory_bworld.canteen
    invoice_id, _ = _bill_september(memory_bworld, clock)
    with pytest.raises(NotAuthorizedError):
        canteen.payments.record_payment(PAYER, "concerto", "10.00", "cash")
    with pytest.raises(InvalidInputError):
        canteen.payments.record_payment(FINANCE, "concerto", 10.0, "cash")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="numéro du chèque"):
        canteen.payments.record_payment(FINANCE, "concerto", "10.00", "cheque")
    with pytest.raises(InvalidInputError):
        canteen.payments.record_payment(FINANCE, "concerto", "10.00", "card")
    with pytest.raises(NotFoundError):
        canteen.payments.record_payment(FINANCE, "concerto", "10.00", "cash", invoice_ids=["x"])
    assert canteen.billing.statement(FINANCE, "concerto").received == Money.zero()
    cash = canteen.payments.record_payment(FINANCE, "concerto", "20.00", "cash")
    clock.advance(minutes=5)
    cheque = canteen.payments.record_payment(
        FINANCE, "concerto", Decimal("40.00"), "cheque", reference="1234567"
    )
    statement = canteen.billing.statement(PAYER, "concerto")
    assert statement.balance_due == Money.zero()
    assert statement.available_credit == Money.of("11.20")  # 60.00 - 48.80
    assert len(recorder.of(PaymentReceived)) == 2
    with pytest.raises(RuleViolationError):
        canteen.payments.refund(FINANCE, "concerto", "20.00")
    refund = canteen.payments.refund(FINANCE, "concerto", "11.20", reference="virement 42")
    assert refund.amount == Money.of("11.20")
    assert canteen.billing.statement(PAYER, "concerto").available_credit == Money.zero()
    # The cheque (recorded second, so its 11.20 were the credit refunded) cannot bounce now.
    with pytest.raises(RuleViolationError):
        canteen.payments.reject_payment(FINANCE, cheque.id)
    # Rejecting the cash payment (a counterfeit note...) reopens the invoice for its 20.00.
    canteen.payments.reject_payment(FINANCE, cash.id)
    state = canteen.billing.invoice(FINANCE, invoice_id)
    assert state.balance_due == Money.of("20.00")
    assert state.status is InvoiceStatus.PARTIALLY_PAID


def test_sepa_mandate_collection_frst_then_rcur_and_return(
    any_bworld: World, clock: FixedClock, recorder: EventRecorder, tmp_path: Path
) -> None:
    canteen = any_bworld.canteen
    with pytest.raises(NotAuthorizedError):
        canteen.payments.sign_mandate(CO_REP, "concerto", iban=FAMILY_IBAN)
    with pytest.raises(NotAuthorizedError):
        canteen.payments.sign_mandate(OTHER, "concerto", iban=FAMILY_IBAN)
    with pytest.raises(InvalidInputError):
        canteen.payments.sign_mandate(PAYER, "concerto", iban="FR14 2004 1010 0505 0001 3M02 607")
    assert canteen.payments.mandates(PAYER, "concerto") == []
    mandate = canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    assert mandate.debtor_name == "Maman CONCERTO"
    with pytest.raises(RuleViolationError):
        canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    invoice_id, _ = _bill_september(any_bworld, clock)
    # Too short a notice: nothing happens, no file.
    with pytest.raises(RuleViolationError):
        canteen.payments.run_direct_debit(FINANCE, D(2023, 10, 5))
    assert not (tmp_path / "sepa").exists()
    with pytest.raises(NotAuthorizedError):
        canteen.payments.run_direct_debit(PAYER, D(2023, 10, 20))
    run = canteen.payments.run_direct_debit(FINANCE, D(2023, 10, 20))
    assert run.debits == (("concerto", "2023-000001", Money.of("48.80"), "FRST"),)
    assert run.xml is not None
    validate_pain008(run.xml)
    assert run.path is not None
    assert run.path.read_bytes() == run.xml
    assert b"<SeqTp>FRST</SeqTp>" in run.xml
    assert b"<CtrlSum>48.80</CtrlSum>" in run.xml
    # Paid only from the collection date (issue #17): scheduled until 20 October.
    assert canteen.billing.invoice(PAYER, invoice_id).status is InvoiceStatus.DEBIT_SCHEDULED
    (announced,) = recorder.of(DirectDebitAnnounced)
    assert announced.amount == Money.of("48.80")
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        notices = [
            r.message for r in uow.outbox.records() if r.message.kind == "direct-debit-announced"
        ]
    assert len(notices) == 2
    assert "FR72ZZZ123456" in notices[0].text_body
    # Nothing left to collect: a second run for the same invoices makes no file.
    empty = canteen.payments.run_direct_debit(FINANCE, D(2023, 10, 21))
    assert empty.count == 0
    assert empty.path is None
    # The bank returns the debit: the invoice reopens.
    returns = canteen.payments.record_debit_returns(FINANCE, ["2023-000001", "2023-999999"])
    assert returns.reopened_invoice_ids == (invoice_id,)
    assert returns.unknown_ids == ("2023-999999",)
    assert canteen.billing.invoice(PAYER, invoice_id).balance_due == Money.of("48.80")
    # Next run: the same mandate is now recurrent.
    clock.set(datetime(2023, 11, 2, 8, 0, tzinfo=UTC))
    second = canteen.payments.run_direct_debit(FINANCE, D(2023, 11, 20))
    assert second.debits == (("concerto", "2023-000001", Money.of("48.80"), "RCUR"),)
    assert second.xml is not None
    assert b"<SeqTp>RCUR</SeqTp>" in second.xml
    validate_pain008(second.xml)
    assert canteen.payments.mandates(FINANCE, "concerto")[0].first_collected_on == D(2023, 10, 20)


def test_mandate_changes_and_revocation(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    with pytest.raises(NotFoundError):
        canteen.payments.change_mandate_iban(PAYER, "concerto", iban=FAMILY_IBAN)
    canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN, reference="RUM-TEST-1")
    changed = canteen.payments.change_mandate_iban(
        FINANCE, "concerto", iban="FR7630006000011234567890189"
    )
    assert changed.reference == "RUM-TEST-1"
    assert changed.amendment is None  # never collected yet: nothing to tell the bank
    revoked = canteen.payments.revoke_mandate(PAYER, "concerto")
    assert revoked.status.value == "revoked"
    again = canteen.payments.sign_mandate(ADMIN, "concerto", iban=FAMILY_IBAN)
    assert again.reference != "RUM-TEST-1"


def test_payfip_unsigned_paid_result_needs_confirmation(
    memory_bworld: World, clock: FixedClock
) -> None:
    from urllib.parse import parse_qsl, urlsplit

    canteen = memory_bworld.canteen
    invoice_id, _ = _bill_september(memory_bworld, clock)
    start = canteen.payments.start_online_payment(
        PAYER, invoice_id, provider="payfip", return_url=RETURN, notification_url=NOTIFY
    )
    assert start.redirect_url is not None
    query = dict(parse_qsl(urlsplit(start.redirect_url).query))
    assert query["montant"] == "4880"
    clock.advance(minutes=2)
    result = canteen.payments.handle_notification("payfip", {**query, "resultrans": "P"})
    assert result.decision == "needs_confirmation"
    assert result.needs_review
    assert canteen.billing.invoice(PAYER, invoice_id).balance_due == Money.of("48.80")


def test_the_same_notification_twice_at_once_credits_once(
    shared_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> None:
    import threading

    from ._billing_fixtures import ipn, make_billing_canteen, priced_world

    first = make_billing_canteen(shared_backend, request, tmp_path, clock, recorder)
    second = make_billing_canteen(shared_backend, request, tmp_path, clock, recorder)
    try:
        world = priced_world(first)
        invoice_id, _ = _bill_september(world, clock)
        fields = ipn(_payment_form(first, invoice_id))
        results: list[str] = []
        errors: list[BaseException] = []

        def handle(canteen: Canteen) -> None:
            try:
                results.append(canteen.payments.handle_notification("payzen", fields).decision)
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=handle, args=(c,)) for c in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert sorted(results) == ["credit", "duplicate"]
        statement = first.billing.statement(FINANCE, "concerto")
        assert statement.received == Money.of("48.80")
        assert statement.balance_due == Money.zero()
    finally:
        first.close()
        second.close()


@pytest.fixture
def sqlite_bworld(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> Iterator[World]:
    with make_billing_canteen("sqlite", request, tmp_path, clock, recorder) as built:
        yield priced_world(built)


def test_a_mandate_whose_iban_became_invalid_skips_its_household_only(
    sqlite_bworld: World, clock: FixedClock, tmp_path: Path
) -> None:
    """#14 item 7 follow-up: an IBAN stored when it was accepted, refused by today's rules
    (right checksum, wrong length for France), must not stop the collection of the others."""
    canteen = sqlite_bworld.canteen
    canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    canteen.payments.sign_mandate(OTHER, "voisins", iban="FR14 2004 1010 0505 0001 3M02 606")
    _bill_september(sqlite_bworld, clock)
    with sqlite3.connect(tmp_path / "billing.db") as connection:
        connection.execute(
            "UPDATE mandates SET body = json_set(body, '$.iban', 'FR04300060000112345678901') "
            "WHERE household_id = 'concerto'"
        )
    run = canteen.payments.run_direct_debit(FINANCE, D(2023, 10, 20))
    assert [debit[0] for debit in run.debits] == ["voisins"]
    assert run.xml is not None
    validate_pain008(run.xml)
    ((household, reason),) = run.skipped
    assert household == "concerto"
    assert reason.startswith("Madame CONCERTO Maman : ")
    assert reason.removeprefix("Madame CONCERTO Maman : ").startswith(
        "IBAN FR04300060000112345678901 invalide"
    )
