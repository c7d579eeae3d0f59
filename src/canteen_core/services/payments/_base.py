"""Payment options and what the payment use cases share."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs

from canteen_core.domain.errors import (
    ConfigurationError,
    InvalidInputError,
)
from canteen_core.domain.ledger import (
    HouseholdAccount,
    Payment,
)
from canteen_core.domain.money import Money
from canteen_core.ports.counter_payment import CounterPaymentProvider
from canteen_core.ports.direct_debit import DirectDebitProvider
from canteen_core.ports.online_payment import OnlinePaymentProvider
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.billing import (
    BillingService,
    household_account,
    household_recipients,
)
from canteen_core.services.runner import ServiceBase, ServiceContext, Transaction


@attrs.frozen(kw_only=True)
class PaymentOptions:
    """Payment settings beyond each provider's own table.

    ``sepa_provider`` and ``manual_provider``: the plugin names used for direct debit and
    counter payments. The minimum payable online is
    :attr:`~canteen_core.services.billing.BillingOptions.online_payment_minimum` (one value
    for the invoices page and the payment itself).
    """

    sepa_provider: str = "sepa"
    manual_provider: str = "manual"


# -- helpers -------------------------------------------------------------------------------------


def _money(value: object, path: str = "amount") -> Money:
    if isinstance(value, Money):
        return value
    return _money_of(value, path)


def _money_of(value: object, path: str) -> Money:
    if isinstance(value, Decimal | int | str) and not isinstance(value, bool):
        try:
            return Money.of(value)
        except InvalidInputError as error:
            raise InvalidInputError(str(error), path=path) from None
    raise InvalidInputError(
        f"expected Money, a Decimal or a decimal string, got {type(value).__name__}", path=path
    )


def _a_date(value: object, path: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInputError("une date (sans heure) est attendue", path=path)
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("ne doit pas être vide", path=path)
    return value.strip()


def _stamp(tx: Transaction) -> str:
    """A new id that sorts in time order (storage lists documents by id; the ledger replays
    same-day payments in id order, i.e. in the order they were recorded)."""
    return f"{tx.now.astimezone(UTC):%Y%m%dT%H%M%S%f}-{tx.new_id()}"


def _alnum(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _sepa_id(text: str) -> str:
    """``text`` reduced to the SEPA identifier character set (for references and ids)."""
    cleaned = re.sub(r"[^A-Za-z0-9/\-?:().,'+]", "-", text).strip("/")
    return re.sub(r"/{2,}", "/", cleaned)[:35]


class PaymentBase(ServiceBase):
    """What the payment use cases share: options, providers, storing and rejecting payments."""

    def __init__(
        self,
        context: ServiceContext,
        options: PaymentOptions | None = None,
        *,
        billing: BillingService | None = None,
        providers: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(context)
        self.options = options or PaymentOptions()
        self._billing = billing or BillingService(context)
        self._providers: dict[str, object] = dict(providers or {})
        self._given = frozenset(self._providers)

    def offers_direct_debit(self) -> bool:
        """Whether this deployment offers SEPA direct debit: it has a
        ``[payment.<sepa_provider>]`` section (``[payment.sepa]``), or the direct-debit
        provider was given to the service. Without it nothing would ever collect a mandate:
        families cannot sign one (:meth:`sign_mandate
        <canteen_core.services.payments.mandates.DirectDebitMandates.sign_mandate>`) and the
        portal does not offer the signature."""
        name = self.options.sepa_provider
        return name in self._ctx.deployment.payment or name in self._given

    # -- providers -----------------------------------------------------------------------------

    def provider(self, name: str) -> object:
        """The payment adapter called ``name``, built once from ``[payment.<name>]``.

        :class:`ConfigurationError` lists the valid names for an unknown one. The use cases
        check it against the port they need (:meth:`online_provider`,
        :meth:`direct_debit_provider`, :meth:`counter_provider`).
        """
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"expected a provider name, got {name!r}", path="provider")
        found = self._providers.get(name)
        if found is None:
            backend = self._ctx.plugin_manager.payment_provider_backend(name)
            settings = self._ctx.deployment.payment.get(name, {})
            found = backend.factory(settings)
            self._providers[name] = found
        return found

    def _not_a(self, name: str, what: str) -> ConfigurationError:
        return ConfigurationError(f"le moyen de paiement « {name} » {what}", path="provider")

    def online_provider(self, name: str) -> OnlinePaymentProvider:
        """The online payment provider called ``name`` (:class:`ConfigurationError` when
        that adapter takes no online payments)."""
        found = self.provider(name)
        if not isinstance(found, OnlinePaymentProvider):
            raise self._not_a(name, "ne prend pas de paiement en ligne")
        return found

    def direct_debit_provider(self) -> DirectDebitProvider:
        """The direct-debit provider (:attr:`PaymentOptions.sepa_provider`)."""
        found = self.provider(self.options.sepa_provider)
        if not isinstance(found, DirectDebitProvider):
            raise self._not_a(self.options.sepa_provider, "ne fait pas de prélèvement")
        return found

    def counter_provider(self) -> CounterPaymentProvider:
        """The counter payment recorder (:attr:`PaymentOptions.manual_provider`)."""
        found = self.provider(self.options.manual_provider)
        if not isinstance(found, CounterPaymentProvider):
            raise self._not_a(
                self.options.manual_provider, "n'enregistre pas de paiement au guichet"
            )
        return found

    def _store_payment(
        self, tx: Transaction, account: HouseholdAccount, payment: Payment, *, notify: bool
    ) -> HouseholdAccount:
        uow = tx.uow
        updated = account.record_payment(payment)  # ledger rules first: nothing half-applied
        uow.payments.add(payment)
        tx.audit.change(
            f"payment:{payment.id}",
            "payment",
            None,
            {
                "amount": str(payment.amount.amount),
                "method": payment.method.value,
                "invoice_ids": list(payment.invoice_ids),
            },
            household_id=payment.household_id,
        )
        if notify:
            event = updated.payment_event(payment.id, tx.now)
            tx.emit(event)
            household = uow.households.get(payment.household_id)
            recipients = household_recipients(household)
            if recipients:
                numbers = [updated.invoice(i).number for i in event.invoice_ids]
                tx.send(
                    *self._ctx.notifier.payment_received(event, recipients, invoice_numbers=numbers)
                )
        return updated

    def _reject(self, uow: UnitOfWork, payment: Payment, rejected_on: date) -> Payment:
        if payment.is_rejected:
            return payment
        day = max(_a_date(rejected_on, "rejected_on"), payment.received_on)
        household_account(uow, payment.household_id).reject_payment(payment.id, rejected_on=day)
        rejected = attrs.evolve(payment, rejected_on=day)
        uow.payments.save(rejected)
        return rejected
