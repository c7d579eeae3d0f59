"""Started online payments, kept to recognise the provider's notification later.

Each time a family starts paying an invoice online, the services store a
:class:`StartedPayment`: the :class:`~canteen_core.domain.online_payment.PaymentRequest` sent to
the provider, the provider's transaction id and who started it. A notification is matched to
its request by ``(provider, transaction_id)``. (Before migration 0009 these records lived in
the payment-notification audit as ``payment_started`` entries.)
"""

from __future__ import annotations

import attrs

from canteen_core.domain._validators import non_empty_str
from canteen_core.domain.online_payment import PaymentRequest

__all__ = ["StartedPayment"]


@attrs.frozen(kw_only=True)
class StartedPayment:
    """One online payment started: the request, its provider and transaction, its author."""

    id: str = attrs.field(validator=non_empty_str)
    provider: str = attrs.field(validator=non_empty_str)
    transaction_id: str = attrs.field(validator=non_empty_str)
    started_by: str = attrs.field(validator=non_empty_str)
    request: PaymentRequest = attrs.field(validator=attrs.validators.instance_of(PaymentRequest))

    @property
    def household_id(self) -> str | None:
        """The household paying."""
        return self.request.household_id
