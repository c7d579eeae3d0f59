"""Manual payments received at the counter by finance staff: cash, cheque, CESU.

Nothing goes through a provider: the staff member records what was handed over and the
ledger allocates it (oldest invoice first unless invoices are named). This recorder only
checks the method and the amount and builds the ledger :class:`~canteen_core.domain.ledger.Payment`:

- the method must be one the régie accepts (``accepted_methods``, default cash, cheque, CESU);
- the amount must be positive, in euros and a whole number of cents;
- a cheque needs its number, a CESU payment the numbers of the titles (``reference``);
- cash may be capped (``cash_limit``): public treasuries commonly cap cash payments, check
  the régie's own rule before setting it;
- the date received cannot be in the future (Europe/Paris).

Deployment settings (``[payment.manual]``): ``accepted_methods`` (list, default
``["cash", "cheque", "cesu"]``) and ``cash_limit`` (decimal string, optional).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Final, Unpack

import attrs

from canteen_adapters.payment._provider import check_known_settings, setting_error
from canteen_core.config.hookspecs import offer
from canteen_core.config.plugins import PaymentProviderBackend
from canteen_core.domain._french import not_positive_fr
from canteen_core.domain.clock import paris_today
from canteen_core.domain.errors import ConfigurationError, InvalidInputError, RuleViolationError
from canteen_core.domain.ledger import Payment, PaymentMethod
from canteen_core.domain.money import CENT, EUR, Money
from canteen_core.ports.counter_payment import CounterPayment

__all__ = ["MANUAL_METHODS", "ManualPaymentSettings", "ManualPayments"]

NAME: Final = "manual"
#: The methods a counter can take.
MANUAL_METHODS: Final = frozenset({PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.CESU})
_NEEDS_REFERENCE: Final = {
    PaymentMethod.CHEQUE: "le numéro du chèque",
    PaymentMethod.CESU: "les numéros des titres CESU",
}


_SECTION: Final = f"payment.{NAME}"
_NOT_A_LIST: Final = "doit être une liste de modes de paiement"


def _counter_methods(methods: Iterable[PaymentMethod]) -> str:
    """``cash, cesu, cheque``: the method names to type, in one line."""
    return ", ".join(sorted(method.value for method in methods))


def _methods(values: Iterable[PaymentMethod | str]) -> frozenset[PaymentMethod]:
    if isinstance(values, str):
        raise setting_error(_SECTION, "accepted_methods", _NOT_A_LIST)
    methods: set[PaymentMethod] = set()
    for value in values:
        try:
            method = PaymentMethod(value)
        except ValueError:
            raise _not_counter(f"« {value} », mode de paiement inconnu") from None
        if method not in MANUAL_METHODS:
            raise _not_counter(f"« {method.value} », qui ne se paie pas au guichet")
        methods.add(method)
    if not methods:
        raise setting_error(
            _SECTION, "accepted_methods", "doit garder au moins un mode de paiement"
        )
    return frozenset(methods)


def _not_counter(what: str) -> ConfigurationError:
    possible = _counter_methods(MANUAL_METHODS)
    return setting_error(_SECTION, "accepted_methods", f"contient {what} (possibles : {possible})")


def _limit(_: Any, attribute: attrs.Attribute[Money | None], value: object) -> None:
    if value is not None and (not isinstance(value, Money) or not value.is_positive):
        shown = value.format_fr() if isinstance(value, Money) else value
        raise setting_error(_SECTION, attribute.name, "doit être un montant positif", shown)


@attrs.frozen(kw_only=True)
class ManualPaymentSettings:
    """Which methods the counter accepts, and an optional ceiling for cash."""

    accepted_methods: frozenset[PaymentMethod] = attrs.field(
        default=MANUAL_METHODS, converter=_methods
    )
    cash_limit: Money | None = attrs.field(default=None, validator=_limit)

    @classmethod
    def from_mapping(cls, settings: Mapping[str, object]) -> ManualPaymentSettings:
        """Build from the ``[payment.manual]`` section of a deployment file."""
        check_known_settings(_SECTION, settings, (field.name for field in attrs.fields(cls)))
        methods = settings.get("accepted_methods", sorted(MANUAL_METHODS))
        if not isinstance(methods, list | tuple):
            raise setting_error(_SECTION, "accepted_methods", _NOT_A_LIST)
        raw_limit = settings.get("cash_limit")
        limit = None
        if raw_limit is not None:
            try:
                limit = Money.of(raw_limit)  # type: ignore[arg-type]
            except InvalidInputError as error:
                raise setting_error(_SECTION, "cash_limit", f": {error.message}") from None
        return cls(accepted_methods=frozenset(methods), cash_limit=limit)


class ManualPayments:
    """Records counter payments as ledger payments after checking method and amount."""

    name: ClassVar[str] = NAME

    def __init__(self, settings: ManualPaymentSettings | None = None) -> None:
        self.settings = settings or ManualPaymentSettings()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ManualPayments:
        """The factory the plugin system calls with the ``[payment.manual]`` table."""
        return cls(ManualPaymentSettings.from_mapping(settings))

    def record(self, **payment: Unpack[CounterPayment]) -> Payment:
        """Check a counter payment against the régie's settings; the ledger payment to allocate."""
        method, amount, received_on = payment["method"], payment["amount"], payment["received_on"]
        reference = payment.get("reference")
        try:
            chosen = PaymentMethod(method)
        except ValueError:
            raise InvalidInputError(
                f"mode de paiement inconnu « {method} »"
                f" (possibles : {_counter_methods(self.settings.accepted_methods)})",
                path="method",
            ) from None
        if chosen not in MANUAL_METHODS:
            raise InvalidInputError(
                f"« {chosen.value} » n'est pas un paiement au guichet : il arrive par son"
                " prestataire",
                path="method",
            )
        if chosen not in self.settings.accepted_methods:
            raise RuleViolationError(
                f"la régie n'accepte pas les paiements « {chosen.value} »"
                f" (possibles : {_counter_methods(self.settings.accepted_methods)})"
            )
        if not isinstance(amount, Money):
            raise InvalidInputError(f"must be Money, got {amount!r}", path="amount")
        if amount.currency != EUR:
            raise InvalidInputError(
                f"les paiements sont en EUR, pas en {amount.currency}", path="amount"
            )
        if not amount.is_positive:
            raise InvalidInputError(
                not_positive_fr("le montant", amount.format_fr()), path="amount"
            )
        if amount.amount != amount.amount.quantize(CENT):
            raise InvalidInputError(
                f"le montant doit tomber au centime près (reçu « {amount.amount} »)",
                path="amount",
            )
        limit = self.settings.cash_limit
        if chosen is PaymentMethod.CASH and limit is not None and amount > limit:
            raise RuleViolationError(
                f"les paiements en espèces sont limités à {limit.format_fr()}"
                f" (reçu {amount.format_fr()})"
            )
        if not isinstance(received_on, date) or isinstance(received_on, datetime):
            raise InvalidInputError(f"must be a date, got {received_on!r}", path="received_on")
        if received_on > paris_today(payment["clock"]):
            raise InvalidInputError(
                "la date de réception ne peut pas être dans le futur", path="received_on"
            )
        cleaned = reference.strip() if isinstance(reference, str) else None
        if chosen in _NEEDS_REFERENCE and not cleaned:
            raise InvalidInputError(f"indiquez {_NEEDS_REFERENCE[chosen]}", path="reference")
        return Payment.of(
            id=payment["payment_id"],
            household_id=payment["household_id"],
            amount=amount,
            method=chosen,
            received_on=received_on,
            invoice_ids=payment.get("invoice_ids", ()),
            reference=cleaned or None,
        )


canteen_payment_providers = offer(
    PaymentProviderBackend, ManualPayments, "cash, cheque and CESU received at the counter"
)
