"""PayZen (Lyra) hosted payment page, form API V2, and its IPN.

The portal posts a form of ``vads_*`` fields plus a ``signature`` to the payment page
(``https://secure.payzen.eu/vads-payment/`` by default). PayZen then calls the shop's
notification URL (IPN, ``vads_url_check``) server to server with the result, signed the same
way. The signature (:func:`compute_signature`): take the fields whose name starts with
``vads_``, sort them by name, join their values with ``+``, append ``+`` and the key of the
mode (test or production key), then

- ``HMAC-SHA-256`` (default): base64 of HMAC-SHA-256 of that string keyed with the key;
- ``SHA-1`` (deprecated by Lyra, kept for old shops): hex SHA-1 of that string.

``vads_trans_id`` must be 6 characters, unique per shop and UTC day. The portal allocates
it from a daily counter: :func:`trans_id_for` maps the request's ``daily_sequence``
(0, 1, 2... within the UTC day of ``vads_trans_date``) to ``"000000"``, ``"000001"``... and
stays below ``900000`` so ids made elsewhere (back office, payment by file) cannot collide.
The transaction id notifications carry is ``YYYYMMDD-NNNNNN`` (UTC day and ``vads_trans_id``),
unique for the shop.

Deployment settings (``[payment.payzen]``): ``site_id`` (8 digits), ``mode`` (``TEST`` or
``PRODUCTION``), ``test_key``, ``production_key``, ``algorithm`` (``HMAC-SHA-256`` or
``SHA-1``, as set in the shop's back office) and optionally ``payment_url``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any, ClassVar, Final

import attrs

from canteen_adapters.payment._provider import (
    ConfiguredProvider,
    NotificationFields,
    check_known_settings,
    setting_error,
)
from canteen_core.config.hookspecs import offer
from canteen_core.config.plugins import PaymentProviderBackend
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import Money
from canteen_core.domain.online_payment import (
    Authenticity,
    PaymentForm,
    PaymentOutcome,
    PaymentRequest,
    PaymentStart,
    SignatureError,
    VerifiedNotification,
)

__all__ = [
    "ALGORITHMS",
    "DEFAULT_PAYMENT_URL",
    "STATUS_OUTCOMES",
    "PayZenProvider",
    "PayZenSettings",
    "compute_signature",
    "trans_id_for",
]

NAME: Final = "payzen"
_SECTION: Final = f"payment.{NAME}"
#: What a missing field is missing from, in the errors.
_NOTIFICATION: Final = "la notification PayZen"
DEFAULT_PAYMENT_URL: Final = "https://secure.payzen.eu/vads-payment/"
ALGORITHMS: Final = ("HMAC-SHA-256", "SHA-1")
_MAX_SEQUENCE = 899_999
# ISO 4217 numeric codes PayZen expects in vads_currency.
_NUMERIC_CURRENCIES: Final = {"EUR": "978"}
_CURRENCIES_BY_CODE: Final = {code: name for name, code in _NUMERIC_CURRENCIES.items()}

#: ``vads_trans_status`` -> outcome (Lyra's "vads_trans_status" reference). AUTHORISED means
#: "waiting for capture": accepted, captured automatically on the capture date, so it counts
#: as paid. AUTHORISED_TO_VALIDATE needs the merchant to validate it by hand: pending.
STATUS_OUTCOMES: Final[Mapping[str, PaymentOutcome]] = {
    "AUTHORISED": PaymentOutcome.PAID,
    "CAPTURED": PaymentOutcome.PAID,
    "ACCEPTED": PaymentOutcome.PAID,
    "AUTHORISED_TO_VALIDATE": PaymentOutcome.PENDING,
    "WAITING_AUTHORISATION": PaymentOutcome.PENDING,
    "WAITING_AUTHORISATION_TO_VALIDATE": PaymentOutcome.PENDING,
    "UNDER_VERIFICATION": PaymentOutcome.PENDING,
    "INITIAL": PaymentOutcome.PENDING,
    "PRE_AUTHORISED": PaymentOutcome.PENDING,
    "SUSPENDED": PaymentOutcome.PENDING,
    "REFUSED": PaymentOutcome.REFUSED,
    "CAPTURE_FAILED": PaymentOutcome.REFUSED,
    "NOT_CREATED": PaymentOutcome.REFUSED,
    "ABANDONED": PaymentOutcome.CANCELLED,
    "CANCELLED": PaymentOutcome.CANCELLED,
    "EXPIRED": PaymentOutcome.EXPIRED,
}


def compute_signature(fields: Mapping[str, str], key: str, algorithm: str) -> str:
    """The PayZen signature of ``fields`` with ``key`` (form V2 and IPN alike).

    Only ``vads_`` fields count, sorted by name; values are joined with ``+`` and followed by
    ``+`` and ``key``. ``algorithm`` is ``"HMAC-SHA-256"`` (base64) or ``"SHA-1"`` (hex).
    """
    if algorithm not in ALGORITHMS:
        raise InvalidInputError(
            f"algorithme de signature inconnu « {algorithm} » (possibles : "
            f"{', '.join(ALGORITHMS)})",
            path="algorithm",
        )
    if not isinstance(key, str) or not key:
        raise InvalidInputError("la clé de signature PayZen ne doit pas être vide", path="key")
    values = [str(fields[name]) for name in sorted(fields) if name.startswith("vads_")]
    message = "+".join([*values, key]).encode("utf-8")
    if algorithm == "SHA-1":
        return hashlib.sha1(message).hexdigest()
    digest = hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def trans_id_for(sequence: int) -> str:
    """The 6-digit ``vads_trans_id`` for the ``sequence``-th payment of a UTC day (from 0)."""
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise InvalidInputError(
            "le numéro de paiement du jour doit être un nombre entier", path="daily_sequence"
        )
    if not 0 <= sequence <= _MAX_SEQUENCE:
        raise InvalidInputError(
            f"PayZen accepte au plus {_MAX_SEQUENCE + 1} paiements par jour (UTC) depuis le"
            f" portail : le numéro {sequence} est hors limites",
            path="daily_sequence",
        )
    return f"{sequence:06d}"


def _site_id(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{8}", value):
        raise setting_error(
            _SECTION, attribute.name, "doit être l'identifiant de boutique à 8 chiffres", value
        )


def _mode(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if value not in ("TEST", "PRODUCTION"):
        raise setting_error(_SECTION, attribute.name, "doit valoir TEST ou PRODUCTION", value)


def _algorithm(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if value not in ALGORITHMS:
        expected = f"doit valoir {' ou '.join(ALGORITHMS)}"
        raise setting_error(_SECTION, attribute.name, expected, value)


def _optional_key(_: Any, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise setting_error(_SECTION, attribute.name, "doit être un texte non vide")


def _url(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not re.match(r"^https://[^\s]+$", value):
        raise setting_error(_SECTION, attribute.name, "doit être une adresse https", value)


@attrs.frozen(kw_only=True)
class PayZenSettings:
    """A PayZen shop's settings; keys never appear in ``repr``."""

    site_id: str = attrs.field(validator=_site_id)
    mode: str = attrs.field(default="TEST", validator=_mode)
    test_key: str | None = attrs.field(default=None, validator=_optional_key, repr=False)
    production_key: str | None = attrs.field(default=None, validator=_optional_key, repr=False)
    algorithm: str = attrs.field(default="HMAC-SHA-256", validator=_algorithm)
    payment_url: str = attrs.field(default=DEFAULT_PAYMENT_URL, validator=_url)

    def __attrs_post_init__(self) -> None:
        if self.key_for(self.mode) is None:
            field = "test_key" if self.mode == "TEST" else "production_key"
            raise setting_error(_SECTION, field, f"manque : le mode {self.mode} demande cette clé")

    @classmethod
    def from_mapping(cls, settings: Mapping[str, object]) -> PayZenSettings:
        """Build from a deployment file section; unknown keys are an error."""
        check_known_settings(_SECTION, settings, (field.name for field in attrs.fields(cls)))
        return cls(
            site_id=_text(settings, "site_id"),
            mode=_text(settings, "mode", "TEST"),
            test_key=_optional_text(settings, "test_key"),
            production_key=_optional_text(settings, "production_key"),
            algorithm=_text(settings, "algorithm", "HMAC-SHA-256"),
            payment_url=_text(settings, "payment_url", DEFAULT_PAYMENT_URL),
        )

    def key_for(self, mode: str) -> str | None:
        """The key signing forms and notifications in ``mode``."""
        return self.test_key if mode == "TEST" else self.production_key


class PayZenProvider(ConfiguredProvider[PayZenSettings]):
    """The PayZen payment provider."""

    name: ClassVar[str] = NAME
    settings_type = PayZenSettings
    #: PayZen notifications are signed: nothing unsigned is ever trusted.
    trust_unsigned = False

    @property
    def _key(self) -> str:
        key = self.settings.key_for(self.settings.mode)
        assert key is not None  # checked by PayZenSettings
        return key

    def request_fields(self, request: PaymentRequest) -> dict[str, str]:
        """The ``vads_`` fields of the payment form for ``request`` (without signature)."""
        if not isinstance(request, PaymentRequest):
            raise InvalidInputError(
                f"une demande de paiement est attendue, pas {type(request).__name__}",
                path="request",
            )
        currency = _NUMERIC_CURRENCIES.get(request.amount.currency)
        if currency is None:
            raise InvalidInputError(
                f"PayZen n'est configuré que pour {', '.join(sorted(_NUMERIC_CURRENCIES))},"
                f" pas pour {request.amount.currency}",
                path="amount",
            )
        if len(request.invoice_number) > 64:
            raise InvalidInputError(
                "un numéro de commande PayZen a au plus 64 caractères", path="invoice_number"
            )
        fields = {
            "vads_action_mode": "INTERACTIVE",
            "vads_amount": str(request.amount.cents),
            "vads_ctx_mode": self.settings.mode,
            "vads_currency": currency,
            "vads_cust_email": request.payer_email,
            "vads_order_id": request.invoice_number,
            "vads_order_info": request.reference,
            "vads_page_action": "PAYMENT",
            "vads_payment_config": "SINGLE",
            "vads_site_id": self.settings.site_id,
            "vads_trans_date": request.requested_at.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
            "vads_trans_id": trans_id_for(request.daily_sequence),
            "vads_url_check": request.notification_url,
            "vads_url_return": request.return_url,
            "vads_version": "V2",
        }
        if request.household_id is not None:
            fields["vads_cust_id"] = request.household_id[:63]
        return dict(sorted(fields.items()))

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """The signed form to post to the PayZen payment page."""
        fields = self.request_fields(request)
        signature = compute_signature(fields, self._key, self.settings.algorithm)
        return PaymentStart(
            provider=self.name,
            transaction_id=_transaction_id(fields["vads_trans_date"], fields["vads_trans_id"]),
            reference=request.reference,
            amount=request.amount,
            form=PaymentForm(
                action_url=self.settings.payment_url,
                fields=[*fields.items(), ("signature", signature)],
            ),
        )

    def verify_notification(self, fields: Mapping[str, str]) -> VerifiedNotification:
        """Check an IPN's signature and read its result.

        Raises :class:`~canteen_core.domain.online_payment.SignatureError` if ``signature`` is
        missing
        or does not match (wrong key, tampered field), and
        :class:`~canteen_core.domain.errors.InvalidInputError` for a notification of another shop or
        mode, or with missing or malformed fields.
        """
        received = NotificationFields(fields, _NOTIFICATION)
        signature = received.get("signature", "")
        if not signature:
            raise SignatureError("la notification PayZen n'est pas signée", path="signature")
        mode = received.get("vads_ctx_mode")
        if mode != self.settings.mode:
            raise InvalidInputError(
                f"notification PayZen du mode « {mode} », mais la boutique est en mode"
                f" {self.settings.mode}",
                path="vads_ctx_mode",
            )
        expected = compute_signature(received, self._key, self.settings.algorithm)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise SignatureError(
                "la signature de la notification PayZen est fausse", path="signature"
            )
        site_id = received.get("vads_site_id")
        if site_id != self.settings.site_id:
            raise InvalidInputError(
                f"notification PayZen d'une autre boutique : « {site_id} »", path="vads_site_id"
            )
        status = received.required("vads_trans_status")
        outcome = STATUS_OUTCOMES.get(status)
        if outcome is None:
            raise InvalidInputError(f"statut PayZen inconnu « {status} »", path="vads_trans_status")
        currency = _CURRENCIES_BY_CODE.get(received.required("vads_currency"))
        if currency is None:
            raise InvalidInputError(
                f"code de devise non pris en charge « {received['vads_currency']} »",
                path="vads_currency",
            )
        amount = received.cents("vads_amount", digits=12)
        trans_date = received.required("vads_trans_date")
        trans_id = received.required("vads_trans_id")
        if not re.fullmatch(r"[0-9]{14}", trans_date):
            raise InvalidInputError(
                f"date de transaction invalide « {trans_date} »", path="vads_trans_date"
            )
        return VerifiedNotification(
            provider=self.name,
            transaction_id=_transaction_id(trans_date, trans_id),
            outcome=outcome,
            amount=Money(amount, currency),
            currency=currency,
            provider_status=status,
            raw_fields=received,
            authenticity=Authenticity.SIGNED,
            invoice_number=received.get("vads_order_id") or None,
            test=mode == "TEST",
        )


def _optional_text(settings: Mapping[str, object], name: str) -> str | None:
    value = settings.get(name)
    if value is not None and not isinstance(value, str):
        raise setting_error(_SECTION, name, "doit être un texte", value)
    return value


def _text(settings: Mapping[str, object], name: str, default: str | None = None) -> str:
    value = _optional_text(settings, name)
    if value is None:
        if default is None:
            raise setting_error(_SECTION, name, "manque")
        return default
    return value


def _transaction_id(trans_date: str, trans_id: str) -> str:
    return f"{trans_date[:8]}-{trans_id}"


canteen_payment_providers = offer(
    PaymentProviderBackend,
    PayZenProvider,
    "card payment with PayZen (Lyra) hosted form V2 and signed IPN",
)
