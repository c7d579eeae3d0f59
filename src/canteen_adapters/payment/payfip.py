"""PayFiP: online card payment of local-authority receipts through the DGFiP (public treasury).

The portal redirects the payer to the PayFiP payment page with the debt in the query string:

- ``numcli``: the régie's client number given by the DGFiP (up to 6 digits);
- ``exer``: the financial year of the debt (the Europe/Paris year of the request here);
- ``refdet``: the debt reference, 1 to 30 letters or digits: the attempt's
  :attr:`~canteen_core.domain.online_payment.PaymentRequest.reference`, which is also the
  transaction id notifications carry;
- ``objet``: a label of letters, digits and spaces (accents transliterated, other characters
  dropped, at most 100 characters): "Facture 2023 000123";
- ``montant``: the amount in cents (PayFiP takes from 1,00 EUR);
- ``mel``: the payer's email (6 to 80 characters);
- ``urlcl``: the URL PayFiP calls back with the result;
- ``saisie``: ``T`` test, ``X`` activation (first real payments), ``W`` production.

The result comes back to ``urlcl`` with the same fields plus ``resultrans``: ``P`` or ``V``
paid, ``R`` or ``Z`` refused, ``A`` cancelled by the payer (and ``numauto``, ``dattrans``,
``heurtrans`` when paid).

**PayFiP results are not signed.** Anyone can call ``urlcl`` with ``resultrans=P``. The
notifications are therefore returned with
:attr:`~canteen_core.domain.online_payment.Authenticity.UNSIGNED`, and
:func:`~canteen_core.domain.online_payment.decide_notification` does not credit an unsigned "paid"
unless the services say it is trustworthy (``trust_unsigned``): the real service notifies
``urlcl`` server to server, so a deployment must accept that endpoint only from the DGFiP's
servers, or confirm each payment with the PayFiP web service (``recupererDetailPaiementSecurise``)
before trusting it. The browser's return must never credit anything by itself.

Deployment settings (``[payment.payfip]``): ``numcli``, ``saisie`` (``T``, ``X`` or ``W``),
optionally ``payment_url`` and ``trust_notifications`` (read by the services).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar, Final
from urllib.parse import urlencode

import attrs

from canteen_adapters.payment._provider import (
    ConfiguredProvider,
    NotificationFields,
    check_known_settings,
    setting_error,
)
from canteen_core.config.hookspecs import offer
from canteen_core.config.plugins import PaymentProviderBackend
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import EUR, Money
from canteen_core.domain.online_payment import (
    Authenticity,
    PaymentOutcome,
    PaymentRequest,
    PaymentStart,
    VerifiedNotification,
)

__all__ = [
    "DEFAULT_PAYMENT_URL",
    "RESULT_OUTCOMES",
    "PayFiPProvider",
    "PayFiPSettings",
    "payfip_object",
]

NAME: Final = "payfip"
_SECTION: Final = f"payment.{NAME}"
DEFAULT_PAYMENT_URL: Final = "https://www.payfip.gouv.fr/tpa/paiement.web"
MINIMUM: Final = Money.of("1.00")
MAXIMUM: Final = Money.of("100000.00")
_REFDET = re.compile(r"[A-Za-z0-9]{1,30}")
#: What a missing field is missing from, in the errors.
_RESULT: Final = "le résultat PayFiP"

#: ``resultrans`` -> outcome.
RESULT_OUTCOMES: Final[Mapping[str, PaymentOutcome]] = {
    "P": PaymentOutcome.PAID,
    "V": PaymentOutcome.PAID,
    "R": PaymentOutcome.REFUSED,
    "Z": PaymentOutcome.REFUSED,
    "A": PaymentOutcome.CANCELLED,
}


def payfip_object(text: str) -> str:
    """``text`` as a PayFiP ``objet``: letters, digits and single spaces, 100 characters.

    >>> payfip_object("Facture n° 2023-000123 — Élodie")
    'Facture n 2023 000123 Elodie'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    spaced = re.sub(r"['\-_/.]", " ", ascii_text)
    kept = re.sub(r"[^A-Za-z0-9 ]", "", spaced)
    return " ".join(kept.split())[:100].strip()


def _numcli(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,6}", value):
        expected = "doit être le numéro de client DGFiP (6 chiffres au plus)"
        raise setting_error(_SECTION, attribute.name, expected, value)


def _saisie(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if value not in ("T", "X", "W"):
        expected = "doit valoir T (test), X (activation) ou W (production)"
        raise setting_error(_SECTION, attribute.name, expected, value)


def _url(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not re.match(r"^https://[^\s?#]+$", value):
        raise setting_error(
            _SECTION, attribute.name, "doit être une adresse https sans ? ni #", value
        )


@attrs.frozen(kw_only=True)
class PayFiPSettings:
    """A régie's PayFiP settings."""

    numcli: str = attrs.field(validator=_numcli)
    saisie: str = attrs.field(default="T", validator=_saisie)
    payment_url: str = attrs.field(default=DEFAULT_PAYMENT_URL, validator=_url)
    # Set only when urlcl accepts calls from the DGFiP's servers alone (see module docs).
    trust_notifications: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool)
    )

    @classmethod
    def from_mapping(cls, settings: Mapping[str, object]) -> PayFiPSettings:
        """Build from the ``[payment.payfip]`` section of a deployment file."""
        check_known_settings(_SECTION, settings, (field.name for field in attrs.fields(cls)))
        numcli = settings.get("numcli")
        if isinstance(numcli, int) and not isinstance(numcli, bool):
            numcli = str(numcli)  # TOML readers may give the number as an integer
        saisie = settings.get("saisie", "T")
        url = settings.get("payment_url", DEFAULT_PAYMENT_URL)
        for name, value in (("numcli", numcli), ("saisie", saisie), ("payment_url", url)):
            if not isinstance(value, str):
                raise setting_error(_SECTION, name, "doit être un texte", value)
        trust = settings.get("trust_notifications", False)
        if not isinstance(trust, bool):
            raise setting_error(_SECTION, "trust_notifications", "doit valoir true ou false")
        return cls(
            numcli=str(numcli), saisie=str(saisie), payment_url=str(url), trust_notifications=trust
        )


class PayFiPProvider(ConfiguredProvider[PayFiPSettings]):
    """The PayFiP payment provider."""

    name: ClassVar[str] = NAME
    settings_type = PayFiPSettings

    @property
    def trust_unsigned(self) -> bool:
        """Whether unsigned results may be credited (``decide_notification(trust_unsigned=)``)."""
        return self.settings.trust_notifications

    def query_fields(self, request: PaymentRequest) -> dict[str, str]:
        """The query-string fields of the PayFiP payment URL for ``request``."""
        if not isinstance(request, PaymentRequest):
            raise InvalidInputError(f"expected a PaymentRequest, got {request!r}", path="request")
        if request.amount.currency != EUR:
            raise InvalidInputError("PayFiP n'accepte que les euros", path="amount")
        if not MINIMUM <= request.amount <= MAXIMUM:
            raise InvalidInputError(
                f"PayFiP accepte de {MINIMUM.format_fr()} à {MAXIMUM.format_fr()},"
                f" pas {request.amount.format_fr()}",
                path="amount",
            )
        if not 6 <= len(request.payer_email) <= 80:
            raise InvalidInputError(
                "PayFiP demande une adresse e-mail de 6 à 80 caractères", path="payer_email"
            )
        label = request.description or f"Facture {request.invoice_number}"
        objet = payfip_object(label)
        if not objet:
            raise InvalidInputError(
                f"aucun caractère utilisable par PayFiP dans « {label} »", path="description"
            )
        return {
            "numcli": self.settings.numcli,
            "exer": f"{request.requested_at.astimezone(PARIS).year:04d}",
            "refdet": request.reference,
            "objet": objet,
            "montant": str(request.amount.cents),
            "mel": request.payer_email,
            "urlcl": request.notification_url,
            "saisie": self.settings.saisie,
        }

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """The PayFiP URL to redirect the payer to."""
        fields = self.query_fields(request)
        return PaymentStart(
            provider=self.name,
            transaction_id=request.reference,
            reference=request.reference,
            amount=request.amount,
            redirect_url=f"{self.settings.payment_url}?{urlencode(fields)}",
        )

    def verify_notification(self, fields: Mapping[str, str]) -> VerifiedNotification:
        """Read a PayFiP result (unsigned: see the module documentation).

        Raises :class:`~canteen_core.domain.errors.InvalidInputError` for a result of another régie
        or environment, or with missing or malformed fields.
        """
        received = NotificationFields(fields, _RESULT, strip=True)
        numcli = received.required("numcli")
        if numcli != self.settings.numcli:
            raise InvalidInputError(
                f"résultat PayFiP d'une autre régie : « {numcli} »", path="numcli"
            )
        saisie = received.required("saisie")
        if saisie != self.settings.saisie:
            raise InvalidInputError(
                f"résultat PayFiP en saisie « {saisie} », mais la régie est en saisie"
                f" « {self.settings.saisie} »",
                path="saisie",
            )
        refdet = received.required("refdet")
        if not _REFDET.fullmatch(refdet):
            raise InvalidInputError(f"référence de dette invalide « {refdet} »", path="refdet")
        result = received.required("resultrans")
        outcome = RESULT_OUTCOMES.get(result)
        if outcome is None:
            raise InvalidInputError(f"résultat PayFiP inconnu « {result} »", path="resultrans")
        amount = received.cents("montant", digits=10)
        return VerifiedNotification(
            provider=self.name,
            transaction_id=refdet,
            outcome=outcome,
            amount=Money(amount, EUR),
            currency=EUR,
            provider_status=result,
            raw_fields=received,
            authenticity=Authenticity.UNSIGNED,
            test=saisie == "T",
        )


canteen_payment_providers = offer(
    PaymentProviderBackend, PayFiPProvider, "card payment of public receipts with PayFiP (DGFiP)"
)
