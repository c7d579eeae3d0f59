"""The counter payment port: what records cash, cheques and CESU handed to the finance office.

The built-in adapter is ``manual`` (:mod:`canteen_adapters.payment.manual`); a régie with its
own rules (another cash limit, other titles) registers another one under a new name and sets
:attr:`~canteen_core.services.payments.PaymentOptions.manual_provider`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NotRequired, Protocol, TypedDict, Unpack, runtime_checkable

from canteen_core.domain.clock import Clock
from canteen_core.domain.ledger import Payment, PaymentMethod
from canteen_core.domain.money import Money
from canteen_core.ports.backends import NamedProvider

__all__ = ["CounterPayment", "CounterPaymentProvider"]


class CounterPayment(TypedDict):
    """What was handed over at the counter, as :meth:`CounterPaymentProvider.record` takes it."""

    payment_id: str
    household_id: str
    amount: Money
    #: A :class:`~canteen_core.domain.ledger.PaymentMethod` or its value (``"cash"``).
    method: PaymentMethod | str
    received_on: date
    #: Says what "today" is: a payment is never received in the future.
    clock: Clock
    #: The cheque number or CESU title, required for those methods.
    reference: NotRequired[str | None]
    invoice_ids: NotRequired[Iterable[str]]


@runtime_checkable
class CounterPaymentProvider(NamedProvider, Protocol):
    """Checks a payment received at the counter and builds its ledger payment."""

    def record(self, **payment: Unpack[CounterPayment]) -> Payment:
        """The ledger payment for what was handed over; raises
        :class:`~canteen_core.domain.errors.InvalidInputError` or
        :class:`~canteen_core.domain.errors.RuleViolationError` (a method not accepted, cash
        above the limit) and stores nothing."""
        ...
