"""The counter payment port: what records cash, cheques and CESU handed to the finance office.

The built-in adapter is ``manual`` (:mod:`canteen_adapters.payment.manual`); a régie with its
own rules (another cash limit, other titles) registers another one under a new name and sets
:attr:`~canteen_core.services.payments.PaymentOptions.manual_provider`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol, runtime_checkable

from canteen_core.domain.clock import Clock
from canteen_core.domain.ledger import Payment, PaymentMethod
from canteen_core.domain.money import Money

__all__ = ["CounterPaymentProvider"]


@runtime_checkable
class CounterPaymentProvider(Protocol):
    """Checks a payment received at the counter and builds its ledger payment."""

    @property
    def name(self) -> str:
        """The provider's registry name (``"manual"``)."""
        ...

    def record(
        self,
        *,
        payment_id: str,
        household_id: str,
        amount: Money,
        method: PaymentMethod | str,
        received_on: date,
        clock: Clock,
        reference: str | None = None,
        invoice_ids: Iterable[str] = (),
    ) -> Payment:
        """The ledger payment for what was handed over; raises
        :class:`~canteen_core.domain.errors.InvalidInputError` or
        :class:`~canteen_core.domain.errors.RuleViolationError` (a method not accepted, cash
        above the limit) and stores nothing."""
        ...
