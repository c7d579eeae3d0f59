"""PayZen (Lyra) form V2 and IPN.

The signature examples come from Lyra's documentation:

- HMAC-SHA-256: the "Computing the signature" example of the form API (Lyra docs, e.g.
  https://paiement.systempay.fr/doc/en-EN/form-payment/quick-start-guide/computing-the-signature.html
  and the PayZen hosted payment page guide): fields INTERACTIVE, 5124, TEST, 978, PAYMENT,
  SINGLE, 12345678, 20170129130025, 123456, V2 and test key 1122334455667788 give
  ``ycA5Do5tNvsnKdc/eP1bj2xa19z9q3iWPy9/rpesfS0=``. The stored page excerpt stops before
  the value; the value is the one several public integrations quote from that page, and
  computing it independently gives the same result.
- SHA-1: the example on
  https://payzen.io/en-EN/form-payment/payment-method/sepa-recurring/computing-the-signature.html
  (amount 1524, trans date 20090501193530, trans id 654321, test certificate
  1122334455667788) gives ``606b369759fac4f0864144c803c73676cbe470ff``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from canteen_adapters.payment.payzen import (
    DEFAULT_PAYMENT_URL,
    PayZenProvider,
    PayZenSettings,
    compute_signature,
    trans_id_for,
)
from canteen_core.domain.errors import ConfigurationError, InvalidInputError, NotFoundError
from canteen_core.domain.money import Money
from canteen_core.domain.online_payment import (
    NotificationDecision,
    PaymentOutcome,
    PaymentRequest,
    SignatureError,
    decide_notification,
)
from canteen_core.ports.online_payment import PaymentProvider

DOC_KEY = "1122334455667788"
HMAC_DOC_FIELDS = {
    "vads_action_mode": "INTERACTIVE",
    "vads_amount": "5124",
    "vads_ctx_mode": "TEST",
    "vads_currency": "978",
    "vads_page_action": "PAYMENT",
    "vads_payment_config": "SINGLE",
    "vads_site_id": "12345678",
    "vads_trans_date": "20170129130025",
    "vads_trans_id": "123456",
    "vads_version": "V2",
}
SHA1_DOC_FIELDS = {
    **HMAC_DOC_FIELDS,
    "vads_amount": "1524",
    "vads_trans_date": "20090501193530",
    "vads_trans_id": "654321",
}
TEST_KEY = "7Hq2fGzLpQ9xWv3T"
PROD_KEY = "prodKey-Never-Shown-42"


def test_hmac_signature_matches_the_documented_example() -> None:
    signature = compute_signature(HMAC_DOC_FIELDS, DOC_KEY, "HMAC-SHA-256")
    assert signature == "ycA5Do5tNvsnKdc/eP1bj2xa19z9q3iWPy9/rpesfS0="


def test_sha1_signature_matches_the_documented_example() -> None:
    signature = compute_signature(SHA1_DOC_FIELDS, DOC_KEY, "SHA-1")
    assert signature == "606b369759fac4f0864144c803c73676cbe470ff"


def test_signature_sorts_fields_and_ignores_non_vads_ones() -> None:
    shuffled = dict(reversed(list(HMAC_DOC_FIELDS.items())))
    shuffled |= {"signature": "whatever", "pay": "Payer"}
    assert compute_signature(shuffled, DOC_KEY, "HMAC-SHA-256") == compute_signature(
        HMAC_DOC_FIELDS, DOC_KEY, "HMAC-SHA-256"
    )


def test_signature_rejects_unknown_algorithm_and_empty_key() -> None:
    with pytest.raises(InvalidInputError, match="algorithm"):
        compute_signature(HMAC_DOC_FIELDS, DOC_KEY, "MD5")
    with pytest.raises(InvalidInputError, match="key"):
        compute_signature(HMAC_DOC_FIELDS, "", "SHA-1")


def test_trans_id_is_six_digits_from_the_daily_sequence() -> None:
    assert trans_id_for(0) == "000000"
    assert trans_id_for(1234) == "001234"
    assert trans_id_for(899_999) == "899999"
    for bad in (-1, 900_000, True):
        with pytest.raises(InvalidInputError):
            trans_id_for(bad)


def settings(**changes: str) -> PayZenSettings:
    values = {"site_id": "12345678", "mode": "TEST", "test_key": TEST_KEY}
    values |= changes
    return PayZenSettings.from_mapping(values | {"production_key": PROD_KEY})


def request(**changes: object) -> PaymentRequest:
    values: dict[str, object] = {
        "reference": "PAY000123",
        "invoice_id": "inv-1",
        "invoice_number": "2023-000123",
        "amount": Money.of("13.40"),
        "payer_email": "maman.concerto@example.org",
        "return_url": "https://famille.example.fr/paiement/retour",
        "notification_url": "https://famille.example.fr/paiement/ipn/payzen",
        "requested_at": datetime(2023, 10, 4, 22, 30, 5, tzinfo=UTC),
        "daily_sequence": 17,
        "household_id": "hh-1",
    }
    values |= changes
    return PaymentRequest(**values)  # type: ignore[arg-type]


def simulate_ipn(
    form_fields: dict[str, str], status: str = "CAPTURED", key: str = TEST_KEY, **extra: str
) -> dict[str, str]:
    """What PayZen posts back: the request's vads_ fields, a status and a fresh signature."""
    fields = {name: value for name, value in form_fields.items() if name.startswith("vads_")}
    fields |= {"vads_trans_status": status, "vads_auth_result": "00", "vads_trans_uuid": "a1b2"}
    fields |= extra
    fields["signature"] = compute_signature(fields, key, "HMAC-SHA-256")
    return fields


def test_settings_hide_keys_and_check_values() -> None:
    text = repr(PayZenProvider(settings()))
    assert TEST_KEY not in text
    assert PROD_KEY not in text
    assert "12345678" in text
    with pytest.raises(ConfigurationError, match="site_id"):
        settings(site_id="123")
    with pytest.raises(ConfigurationError, match="mode"):
        settings(mode="LIVE")
    with pytest.raises(ConfigurationError, match="algorithm"):
        settings(algorithm="MD5")
    with pytest.raises(ConfigurationError, match="production_key"):
        PayZenSettings(site_id="12345678", mode="PRODUCTION", test_key=TEST_KEY)
    with pytest.raises(ConfigurationError, match="réglages inconnus"):
        PayZenSettings.from_mapping({"site_id": "12345678", "test_key": "k", "secret": "x"})
    assert settings().payment_url == DEFAULT_PAYMENT_URL


def test_provider_satisfies_the_port() -> None:
    assert isinstance(PayZenProvider(settings()), PaymentProvider)


def test_form_has_the_v2_fields_and_a_valid_signature() -> None:
    provider = PayZenProvider(settings())
    start = provider.start_payment(request())
    assert start.form is not None
    assert start.redirect_url is None
    assert start.form.action_url == DEFAULT_PAYMENT_URL
    fields = start.form.as_dict()
    assert fields["vads_amount"] == "1340"
    assert fields["vads_currency"] == "978"
    assert fields["vads_ctx_mode"] == "TEST"
    assert fields["vads_trans_date"] == "20231004223005"  # UTC, not Paris (00:30 on the 5th)
    assert fields["vads_trans_id"] == "000017"
    assert fields["vads_order_id"] == "2023-000123"
    assert fields["vads_version"] == "V2"
    assert fields["vads_page_action"] == "PAYMENT"
    assert fields["vads_action_mode"] == "INTERACTIVE"
    assert fields["vads_payment_config"] == "SINGLE"
    assert fields["vads_url_check"].endswith("/ipn/payzen")
    assert list(start.form.fields)[-1][0] == "signature"
    assert fields["signature"] == compute_signature(fields, TEST_KEY, "HMAC-SHA-256")
    assert start.transaction_id == "20231004-000017"


def test_sha1_shop_signs_with_sha1_and_production_key() -> None:
    provider = PayZenProvider(settings(mode="PRODUCTION", algorithm="SHA-1"))
    fields = provider.start_payment(request()).form.as_dict()  # type: ignore[union-attr]
    assert fields["vads_ctx_mode"] == "PRODUCTION"
    assert fields["signature"] == compute_signature(fields, PROD_KEY, "SHA-1")
    assert len(fields["signature"]) == 40


def test_form_refuses_other_currencies() -> None:
    with pytest.raises(InvalidInputError, match="EUR"):
        PayZenProvider(settings()).start_payment(request(amount=Money.of("13.40", "USD")))


def test_full_round_trip_paid_with_the_right_amount() -> None:
    """Invoice of 13,40 EUR -> form -> signed IPN -> verified PAID -> credit decision."""
    provider = PayZenProvider(settings())
    payment = request()
    start = provider.start_payment(payment)
    ipn = simulate_ipn(start.form.as_dict())  # type: ignore[union-attr]
    notification = provider.verify_notification(ipn)
    assert notification.outcome is PaymentOutcome.PAID
    assert notification.amount == Money.of("13.40")
    assert notification.currency == "EUR"
    assert notification.transaction_id == start.transaction_id
    assert notification.invoice_number == "2023-000123"
    assert dict(notification.raw_fields)["signature"] == ipn["signature"]
    verdict = decide_notification(notification, payment, already_credited=False)
    assert verdict.decision is NotificationDecision.CREDIT
    assert verdict.credits


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("AUTHORISED", PaymentOutcome.PAID),
        ("CAPTURED", PaymentOutcome.PAID),
        ("AUTHORISED_TO_VALIDATE", PaymentOutcome.PENDING),
        ("REFUSED", PaymentOutcome.REFUSED),
        ("ABANDONED", PaymentOutcome.CANCELLED),
        ("CANCELLED", PaymentOutcome.CANCELLED),
        ("EXPIRED", PaymentOutcome.EXPIRED),
    ],
)
def test_statuses_map_to_outcomes(status: str, outcome: PaymentOutcome) -> None:
    provider = PayZenProvider(settings())
    ipn = simulate_ipn(provider.start_payment(request()).form.as_dict(), status)  # type: ignore[union-attr]
    assert provider.verify_notification(ipn).outcome is outcome


def test_refused_payment_is_not_credited() -> None:
    provider = PayZenProvider(settings())
    payment = request()
    ipn = simulate_ipn(provider.start_payment(payment).form.as_dict(), "REFUSED")  # type: ignore[union-attr]
    verdict = decide_notification(
        provider.verify_notification(ipn), payment, already_credited=False
    )
    assert verdict.decision is NotificationDecision.NOT_PAID


def test_tampered_field_is_rejected() -> None:
    provider = PayZenProvider(settings())
    ipn = simulate_ipn(provider.start_payment(request()).form.as_dict())  # type: ignore[union-attr]
    ipn["vads_amount"] = "1"
    with pytest.raises(SignatureError, match="fausse"):
        provider.verify_notification(ipn)


def test_wrong_key_is_rejected() -> None:
    provider = PayZenProvider(settings())
    form = provider.start_payment(request()).form.as_dict()  # type: ignore[union-attr]
    with pytest.raises(SignatureError):
        provider.verify_notification(simulate_ipn(form, key="not-the-shop-key"))


def test_missing_signature_is_rejected() -> None:
    provider = PayZenProvider(settings())
    ipn = simulate_ipn(provider.start_payment(request()).form.as_dict())  # type: ignore[union-attr]
    del ipn["signature"]
    with pytest.raises(SignatureError, match="pas signée"):
        provider.verify_notification(ipn)
    with pytest.raises(SignatureError):
        provider.verify_notification({**ipn, "signature": ""})


def test_signature_error_is_an_invalid_input_error() -> None:
    assert issubclass(SignatureError, InvalidInputError)


def test_notification_from_another_mode_or_shop_is_rejected() -> None:
    provider = PayZenProvider(settings())
    form = provider.start_payment(request()).form.as_dict()  # type: ignore[union-attr]
    with pytest.raises(InvalidInputError, match="mode"):
        provider.verify_notification(simulate_ipn(form, vads_ctx_mode="PRODUCTION"))
    with pytest.raises(InvalidInputError, match="autre boutique"):
        provider.verify_notification(simulate_ipn(form, vads_site_id="87654321"))


def test_unknown_status_is_rejected() -> None:
    provider = PayZenProvider(settings())
    form = provider.start_payment(request()).form.as_dict()  # type: ignore[union-attr]
    with pytest.raises(InvalidInputError, match="statut PayZen inconnu"):
        provider.verify_notification(simulate_ipn(form, "SOMETHING_NEW"))


def test_replayed_notification_credits_once() -> None:
    provider = PayZenProvider(settings())
    payment = request()
    ipn = simulate_ipn(provider.start_payment(payment).form.as_dict())  # type: ignore[union-attr]
    credited: set[tuple[str, str]] = set()
    decisions = []
    for _ in range(2):
        notification = provider.verify_notification(ipn)
        verdict = decide_notification(
            notification, payment, already_credited=notification.idempotency_key in credited
        )
        if verdict.credits:
            credited.add(notification.idempotency_key)
        decisions.append(verdict.decision)
    assert decisions == [NotificationDecision.CREDIT, NotificationDecision.DUPLICATE]


def test_mismatching_amount_is_flagged_not_credited() -> None:
    provider = PayZenProvider(settings())
    payment = request()
    form = provider.start_payment(payment).form.as_dict()  # type: ignore[union-attr]
    # A correctly signed notification for another amount (e.g. a form built for an old balance).
    notification = provider.verify_notification(simulate_ipn(form, vads_amount="1000"))
    assert notification.amount == Money(Decimal("10.00"))
    verdict = decide_notification(notification, payment, already_credited=False)
    assert verdict.decision is NotificationDecision.MISMATCH
    assert not verdict.credits
    assert verdict.needs_review
    assert "montant" in verdict.reason


def test_unknown_transaction_is_rejected() -> None:
    provider = PayZenProvider(settings())
    form = provider.start_payment(request()).form.as_dict()  # type: ignore[union-attr]
    notification = provider.verify_notification(simulate_ipn(form))
    verdict = decide_notification(notification, None, already_credited=False)
    assert verdict.decision is NotificationDecision.UNKNOWN_TRANSACTION
    assert isinstance(verdict.error(), NotFoundError)


def test_malformed_notifications_raise_clear_errors() -> None:
    provider = PayZenProvider(settings())
    form = provider.start_payment(request()).form.as_dict()  # type: ignore[union-attr]
    ipn = simulate_ipn(form)
    del ipn["vads_trans_status"]
    ipn["signature"] = compute_signature(ipn, TEST_KEY, "HMAC-SHA-256")
    with pytest.raises(InvalidInputError, match="vads_trans_status"):
        provider.verify_notification(ipn)
    with pytest.raises(InvalidInputError, match="vads_amount"):
        provider.verify_notification(simulate_ipn(form, vads_amount="13.40"))
    with pytest.raises(InvalidInputError, match="vads_currency"):
        provider.verify_notification(simulate_ipn(form, vads_currency="840"))


def test_factory_for_the_plugin_system() -> None:
    provider = PayZenProvider.from_settings(
        {"site_id": "12345678", "mode": "TEST", "test_key": TEST_KEY}
    )
    assert provider.name == "payzen"
    assert provider.settings.algorithm == "HMAC-SHA-256"
    assert not provider.trust_unsigned
