"""The online payment port: eligibility rule, requests and the notification decision."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.money import Money
from canteen_core.domain.online_payment import (
    Authenticity,
    NotificationDecision,
    PaymentForm,
    PaymentOutcome,
    PaymentRequest,
    PaymentStart,
    VerifiedNotification,
    decide_notification,
    ensure_online_payment_allowed,
    online_payment_refusal,
)

OPEN = date(2023, 6, 20)


def refusal(**changes: object) -> str | None:
    values: dict[str, object] = {
        "status": "issued",
        "balance_due": Money.of("42.10"),
        "payment_open_date": OPEN,
        "today": OPEN,
        "minimum": Money.of("1.00"),
    }
    values |= changes
    return online_payment_refusal(**values)  # type: ignore[arg-type]


def test_issued_unpaid_invoice_from_its_open_date_may_be_paid() -> None:
    assert refusal() is None
    assert refusal(today=OPEN + timedelta(days=40)) is None
    assert refusal(payment_open_date=None) is None
    assert refusal(status="partially_paid") is None


def test_not_before_the_payment_open_date() -> None:
    reason = refusal(today=OPEN - timedelta(days=1))
    assert reason is not None
    assert "20/06/2023" in reason


def test_only_issued_unpaid_invoices() -> None:
    assert refusal(status="draft") is not None
    assert refusal(status="paid") is not None
    assert refusal(status="cancelled") is not None
    assert refusal(balance_due=Money.zero()) == "Cette facture est déjà réglée."
    assert refusal(balance_due=Money.of("-3")) is not None


def test_minimum_amount_is_configurable() -> None:
    reason = refusal(balance_due=Money.of("0.80"))
    assert reason is not None
    assert "1,00 €" in reason
    assert refusal(balance_due=Money.of("0.80"), minimum=Money.of("0.50")) is None
    assert refusal(balance_due=Money.of("15"), minimum=Money.of("15")) is None
    assert refusal(balance_due=Money.of("14.99"), minimum=Money.of("15")) is not None


def test_custom_payable_statuses() -> None:
    assert refusal(status="emise", payable_statuses={"emise"}) is None


def test_ensure_raises_a_rule_violation() -> None:
    ensure_online_payment_allowed(
        status="issued",
        balance_due=Money.of("3"),
        payment_open_date=OPEN,
        today=OPEN,
        minimum=Money.of("1"),
    )
    with pytest.raises(RuleViolationError, match="à partir du"):
        ensure_online_payment_allowed(
            status="issued",
            balance_due=Money.of("3"),
            payment_open_date=OPEN,
            today=OPEN - timedelta(days=1),
            minimum=Money.of("1"),
        )


def test_eligibility_rejects_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="today"):
        refusal(today=datetime(2023, 6, 20, tzinfo=UTC))
    with pytest.raises(InvalidInputError, match="minimum"):
        refusal(minimum=Money.of("-1"))
    with pytest.raises(InvalidInputError, match="balance_due"):
        refusal(balance_due="3")


@given(
    open_offset=st.integers(-60, 60),
    balance=st.decimals("-10", "200", places=2),
    minimum=st.decimals("0", "20", places=2),
)
def test_eligibility_is_exactly_the_three_conditions(
    open_offset: int, balance: object, minimum: object
) -> None:
    today = OPEN + timedelta(days=open_offset)
    allowed = refusal(today=today, balance_due=Money.of(balance), minimum=Money.of(minimum)) is None  # type: ignore[arg-type]
    expected = today >= OPEN and balance > 0 and balance >= minimum  # type: ignore[operator]
    assert allowed == expected


def request(**changes: object) -> PaymentRequest:
    values: dict[str, object] = {
        "reference": "PAY1",
        "invoice_id": "inv-1",
        "invoice_number": "2023-000123",
        "amount": Money.of("13.40"),
        "payer_email": "payeur@example.org",
        "return_url": "https://portail.example.fr/retour",
        "notification_url": "https://portail.example.fr/ipn",
        "requested_at": datetime(2023, 10, 4, 8, 0, tzinfo=UTC),
    }
    values |= changes
    return PaymentRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference", "PAY-1"),
        ("reference", "X" * 31),
        ("amount", Money.of("0")),
        ("amount", Money.of("-1")),
        ("amount", Money.of("1.005")),
        ("payer_email", "not-an-email"),
        ("return_url", "javascript:alert(1)"),
        ("notification_url", "ftp://x"),
        ("requested_at", datetime(2023, 10, 4, 8, 0)),
        ("daily_sequence", -1),
    ],
)
def test_payment_request_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(InvalidInputError, match=field):
        request(**{field: value})


def test_payment_start_is_a_form_or_a_url() -> None:
    form = PaymentForm(action_url="https://pay.example/", fields=[("a", "1")])
    PaymentStart(provider="p", transaction_id="t", reference="r", amount=Money.of(1), form=form)
    PaymentStart(
        provider="p",
        transaction_id="t",
        reference="r",
        amount=Money.of(1),
        redirect_url="https://x/",
    )
    with pytest.raises(InvalidInputError, match="exactly one"):
        PaymentStart(provider="p", transaction_id="t", reference="r", amount=Money.of(1))
    with pytest.raises(InvalidInputError, match="exactly one"):
        PaymentStart(
            provider="p",
            transaction_id="t",
            reference="r",
            amount=Money.of(1),
            form=form,
            redirect_url="https://x/",
        )
    with pytest.raises(InvalidInputError, match="twice"):
        PaymentForm(action_url="https://pay.example/", fields=[("a", "1"), ("a", "2")])


def notification(**changes: object) -> VerifiedNotification:
    values: dict[str, object] = {
        "provider": "payzen",
        "transaction_id": "20231004-000001",
        "outcome": PaymentOutcome.PAID,
        "amount": Money.of("13.40"),
        "currency": "EUR",
        "provider_status": "CAPTURED",
        "raw_fields": {"vads_amount": "1340"},
    }
    values |= changes
    return VerifiedNotification(**values)  # type: ignore[arg-type]


def test_decision_credit_duplicate_and_review_cases() -> None:
    expected = request()
    assert decide_notification(notification(), expected, already_credited=False).credits
    assert (
        decide_notification(notification(), expected, already_credited=True).decision
        is NotificationDecision.DUPLICATE
    )
    late = decide_notification(
        notification(outcome=PaymentOutcome.CANCELLED, provider_status="CANCELLED"),
        expected,
        already_credited=True,
    )
    assert late.decision is NotificationDecision.STATUS_AFTER_CREDIT
    assert late.needs_review


def test_decision_flags_currency_and_invoice_mismatch() -> None:
    expected = request()
    other_currency = notification(amount=Money.of("13.40", "USD"), currency="USD")
    verdict = decide_notification(other_currency, expected, already_credited=False)
    assert verdict.decision is NotificationDecision.MISMATCH
    assert "devise USD au lieu de EUR" in verdict.reason
    other_invoice = notification(invoice_number="2023-000999")
    verdict = decide_notification(other_invoice, expected, already_credited=False)
    assert verdict.decision is NotificationDecision.MISMATCH
    assert "facture" in verdict.reason


def test_unsigned_paid_needs_confirmation_unless_trusted() -> None:
    unsigned = notification(authenticity=Authenticity.UNSIGNED)
    verdict = decide_notification(unsigned, request(), already_credited=False)
    assert verdict.decision is NotificationDecision.NEEDS_CONFIRMATION
    assert not verdict.credits
    trusted = decide_notification(unsigned, request(), already_credited=False, trust_unsigned=True)
    assert trusted.credits


def test_not_paid_outcomes_record_only() -> None:
    for outcome in (
        PaymentOutcome.REFUSED,
        PaymentOutcome.CANCELLED,
        PaymentOutcome.PENDING,
        PaymentOutcome.EXPIRED,
    ):
        verdict = decide_notification(
            notification(outcome=outcome), request(), already_credited=False
        )
        assert verdict.decision is NotificationDecision.NOT_PAID
        assert verdict.error() is None


def test_notification_currency_must_match_its_amount() -> None:
    with pytest.raises(InvalidInputError, match="currency"):
        notification(currency="USD")
    with pytest.raises(InvalidInputError, match="amount"):
        notification(amount="13.40")
