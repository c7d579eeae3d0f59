"""Counter payments (cash, cheque, CESU) recorded by finance staff."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from canteen_adapters.payment.manual import ManualPayments, ManualPaymentSettings
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConfigurationError, InvalidInputError, RuleViolationError
from canteen_core.domain.ledger import PaymentMethod
from canteen_core.domain.money import Money

# 23:30 UTC on 14 October is 15 October in Paris.
CLOCK = FixedClock(datetime(2023, 10, 14, 23, 30, tzinfo=UTC))
TODAY = date(2023, 10, 15)


def record(recorder: ManualPayments | None = None, **changes: object) -> object:
    values: dict[str, object] = {
        "payment_id": "pay-1",
        "household_id": "hh-1",
        "amount": Money.of("42.10"),
        "method": "cheque",
        "received_on": TODAY,
        "clock": CLOCK,
        "reference": " 1234567 ",
        "invoice_ids": ["inv-2"],
    }
    values |= changes
    return (recorder or ManualPayments()).record(**values)  # type: ignore[arg-type]


def test_cheque_becomes_a_ledger_payment() -> None:
    payment = record()
    assert payment.method is PaymentMethod.CHEQUE  # type: ignore[attr-defined]
    assert payment.amount == Money.of("42.10")  # type: ignore[attr-defined]
    assert payment.reference == "1234567"  # type: ignore[attr-defined]
    assert payment.invoice_ids == ("inv-2",)  # type: ignore[attr-defined]
    assert payment.received_on == TODAY  # type: ignore[attr-defined]


def test_cash_and_cesu() -> None:
    cash = record(method=PaymentMethod.CASH, reference=None)
    assert cash.method is PaymentMethod.CASH  # type: ignore[attr-defined]
    assert cash.reference is None  # type: ignore[attr-defined]
    cesu = record(method="cesu", reference="CESU 0012, 0013")
    assert cesu.method is PaymentMethod.CESU  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"amount": Money.of("0")}, InvalidInputError, "amount"),
        ({"amount": Money.of("-3")}, InvalidInputError, "amount"),
        ({"amount": Money.of("1.005")}, InvalidInputError, "centime"),
        ({"amount": Money.of("3", "CHF")}, InvalidInputError, "EUR"),
        ({"amount": "3.00"}, InvalidInputError, "Money"),
        ({"method": "bitcoin"}, InvalidInputError, "mode de paiement inconnu"),
        ({"method": "card"}, InvalidInputError, "prestataire"),
        ({"method": "direct_debit"}, InvalidInputError, "prestataire"),
        ({"reference": None}, InvalidInputError, "numéro du chèque"),
        ({"reference": "  "}, InvalidInputError, "numéro du chèque"),
        ({"method": "cesu", "reference": ""}, InvalidInputError, "CESU"),
        ({"received_on": date(2023, 10, 16)}, InvalidInputError, "futur"),
        ({"received_on": "2023-10-15"}, InvalidInputError, "received_on"),
        ({"payment_id": ""}, InvalidInputError, "id"),
    ],
)
def test_bad_payments_are_refused(
    changes: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        record(**changes)


def test_regie_rules_accepted_methods_and_cash_limit() -> None:
    recorder = ManualPayments.from_settings(
        {"accepted_methods": ["cash", "cheque"], "cash_limit": "300"}
    )
    with pytest.raises(RuleViolationError, match="cesu"):
        record(recorder, method="cesu", reference="T1")
    with pytest.raises(RuleViolationError, match="300,00"):
        record(recorder, method="cash", amount=Money.of("300.01"), reference=None)
    assert record(recorder, method="cash", amount=Money.of("300"), reference=None)


def test_settings_errors() -> None:
    with pytest.raises(ConfigurationError, match="card"):
        ManualPaymentSettings.from_mapping({"accepted_methods": ["card"]})
    with pytest.raises(ConfigurationError, match="mode de paiement inconnu"):
        ManualPaymentSettings.from_mapping({"accepted_methods": ["gold"]})
    with pytest.raises(ConfigurationError, match="au moins un"):
        ManualPaymentSettings.from_mapping({"accepted_methods": []})
    with pytest.raises(ConfigurationError, match="liste"):
        ManualPaymentSettings.from_mapping({"accepted_methods": "cash"})
    with pytest.raises(ConfigurationError, match="cash_limit"):
        ManualPaymentSettings.from_mapping({"cash_limit": 0.5})
    with pytest.raises(ConfigurationError, match="réglages inconnus"):
        ManualPaymentSettings.from_mapping({"limit": "3"})
