"""PayFiP (DGFiP) payment URL and results."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_adapters.payment.payfip import (
    DEFAULT_PAYMENT_URL,
    PayFiPProvider,
    PayFiPSettings,
    payfip_object,
)
from canteen_core.domain.errors import ConfigurationError, InvalidInputError, NotFoundError
from canteen_core.domain.money import Money
from canteen_core.domain.online_payment import (
    Authenticity,
    NotificationDecision,
    PaymentOutcome,
    PaymentRequest,
    decide_notification,
)
from canteen_core.ports.online_payment import PaymentProvider

PROVIDER = PayFiPProvider(PayFiPSettings(numcli="012345", saisie="T"))


def request(**changes: object) -> PaymentRequest:
    values: dict[str, object] = {
        "reference": "CANT2023000123A1",
        "invoice_id": "inv-1",
        "invoice_number": "2023-000123",
        "amount": Money.of("13.40"),
        "payer_email": "maman.concerto@example.org",
        "return_url": "https://famille.example.fr/paiement/retour",
        "notification_url": "https://famille.example.fr/paiement/payfip",
        # 23:30 UTC on 31 December is already 2024 in Paris: the financial year follows Paris.
        "requested_at": datetime(2023, 12, 31, 23, 30, tzinfo=UTC),
    }
    values |= changes
    return PaymentRequest(**values)  # type: ignore[arg-type]


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def result(resultrans: str = "P", **changes: str) -> dict[str, str]:
    """What PayFiP sends back to urlcl."""
    fields = query(PROVIDER.start_payment(request()).redirect_url or "")
    fields |= {"resultrans": resultrans, "numauto": "A12345", "dattrans": "01012024"}
    fields |= {"heurtrans": "0031"}
    fields |= changes
    return fields


def test_provider_satisfies_the_port() -> None:
    assert isinstance(PROVIDER, PaymentProvider)


def test_payment_url_carries_the_debt() -> None:
    start = PROVIDER.start_payment(request())
    assert start.form is None
    assert start.redirect_url is not None
    assert start.redirect_url.startswith(DEFAULT_PAYMENT_URL + "?")
    fields = query(start.redirect_url)
    assert fields == {
        "numcli": "012345",
        "exer": "2024",
        "refdet": "CANT2023000123A1",
        "objet": "Facture 2023 000123",
        "montant": "1340",
        "mel": "maman.concerto@example.org",
        "urlcl": "https://famille.example.fr/paiement/payfip",
        "saisie": "T",
    }
    assert start.transaction_id == "CANT2023000123A1"


def test_description_becomes_a_clean_object() -> None:
    start = PROVIDER.start_payment(request(description="Cantine — Septembre 2023 (Élise & Léo)"))
    assert query(start.redirect_url or "")["objet"] == "Cantine Septembre 2023 Elise Leo"


@given(st.text(max_size=300))
def test_object_is_letters_digits_and_spaces(text: str) -> None:
    objet = payfip_object(text)
    assert len(objet) <= 100
    assert all(char.isascii() and (char.isalnum() or char == " ") for char in objet)
    assert "  " not in objet
    assert objet == objet.strip()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"amount": Money.of("0.99")}, "amount"),
        ({"amount": Money.of("100000.01")}, "amount"),
        ({"amount": Money.of("5", "USD")}, "amount"),
        ({"payer_email": "a@b.c"}, "payer_email"),
        ({"description": "——"}, "description"),
    ],
)
def test_requests_outside_payfip_rules_are_refused(changes: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        PROVIDER.start_payment(request(**changes))


def test_refdet_must_be_1_to_30_alphanumerics() -> None:
    # Enforced by the port's request already, so every provider can carry the reference.
    for bad in ("CANT-1", "X" * 31, "é1"):
        with pytest.raises(InvalidInputError, match="reference"):
            request(reference=bad)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("P", PaymentOutcome.PAID),
        ("V", PaymentOutcome.PAID),
        ("R", PaymentOutcome.REFUSED),
        ("Z", PaymentOutcome.REFUSED),
        ("A", PaymentOutcome.CANCELLED),
    ],
)
def test_results(code: str, outcome: PaymentOutcome) -> None:
    notification = PROVIDER.verify_notification(result(code))
    assert notification.outcome is outcome
    assert notification.provider_status == code
    assert notification.transaction_id == "CANT2023000123A1"
    assert notification.amount == Money.of("13.40")
    assert notification.test


def test_paid_result_is_unsigned_and_needs_confirmation() -> None:
    payment = request()
    notification = PROVIDER.verify_notification(result("P"))
    assert notification.authenticity is Authenticity.UNSIGNED
    verdict = decide_notification(notification, payment, already_credited=False)
    assert verdict.decision is NotificationDecision.NEEDS_CONFIRMATION
    assert not verdict.credits
    # Once the deployment trusts the server-to-server channel (or confirmed the payment):
    trusted = decide_notification(
        notification, payment, already_credited=False, trust_unsigned=True
    )
    assert trusted.credits
    again = decide_notification(notification, payment, already_credited=True, trust_unsigned=True)
    assert again.decision is NotificationDecision.DUPLICATE


def test_amount_mismatch_and_unknown_reference() -> None:
    notification = PROVIDER.verify_notification(result("P", montant="1000"))
    verdict = decide_notification(notification, request(), already_credited=False)
    assert verdict.decision is NotificationDecision.MISMATCH
    unknown = decide_notification(notification, None, already_credited=False)
    assert isinstance(unknown.error(), NotFoundError)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"numcli": "999999"}, "numcli"),
        ({"saisie": "W"}, "saisie"),
        ({"resultrans": "Q"}, "resultrans"),
        ({"refdet": "CANT-1"}, "refdet"),
        ({"montant": "13,40"}, "montant"),
        ({"montant": ""}, "montant"),
    ],
)
def test_malformed_results_are_rejected(changes: dict[str, str], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        PROVIDER.verify_notification(result() | changes)


def test_settings() -> None:
    settings = PayFiPSettings.from_mapping({"numcli": 12345, "saisie": "W"})
    assert settings.numcli == "12345"
    assert settings.payment_url == DEFAULT_PAYMENT_URL
    with pytest.raises(ConfigurationError, match="numcli"):
        PayFiPSettings(numcli="1234567")
    with pytest.raises(ConfigurationError, match="saisie"):
        PayFiPSettings(numcli="12345", saisie="M")
    with pytest.raises(ConfigurationError, match="réglages inconnus"):
        PayFiPSettings.from_mapping({"numcli": "12345", "secret": "x"})
    with pytest.raises(ConfigurationError, match="payment_url"):
        PayFiPSettings(numcli="12345", payment_url="http://insecure.example/")


def test_factory_and_trust_setting() -> None:
    provider = PayFiPProvider.from_settings({"numcli": "012345", "trust_notifications": True})
    assert provider.name == "payfip"
    assert provider.trust_unsigned
    assert not PROVIDER.trust_unsigned
    with pytest.raises(ConfigurationError, match="trust_notifications"):
        PayFiPSettings.from_mapping({"numcli": "012345", "trust_notifications": "yes"})
