"""The online payment port: what a card or treasury payment provider (PayZen, PayFiP...) does.

The flow and its pure rules (the request, the verified notification, what to do with it, who
may pay online) are in :mod:`canteen_core.domain.online_payment`; this module only says what an
adapter must offer. A provider registers through the ``canteen_payment_providers`` hook; the
payments service checks the object it builds against :class:`OnlinePaymentProvider`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from canteen_core.domain.online_payment import PaymentRequest, PaymentStart, VerifiedNotification
from canteen_core.ports.backends import NamedProvider

__all__ = ["OnlinePaymentProvider", "PaymentProvider"]


@runtime_checkable
class OnlinePaymentProvider(NamedProvider, Protocol):
    """An online payment provider adapter, found by ``name`` through the plugin hooks."""

    @property
    def trust_unsigned(self) -> bool:
        """Whether a notification the provider cannot sign may be credited (PayFiP's return
        without a signature, in a test deployment); ``False`` for a signing provider."""
        ...

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """Build the form or URL that starts ``request`` at the provider.

        Raises :class:`~canteen_core.domain.errors.InvalidInputError` when the request cannot be
        expressed in the provider's format (amount out of range, reference too long...).
        """
        ...

    def verify_notification(self, fields: Mapping[str, str]) -> VerifiedNotification:
        """Check a notification's fields and signature and say what happened.

        Raises :class:`~canteen_core.domain.online_payment.SignatureError` when the signature is
        missing or wrong, and :class:`~canteen_core.domain.errors.InvalidInputError` when fields
        are missing or malformed.
        """
        ...


#: The name this port had when it lived in the domain (kept for portals importing it).
PaymentProvider = OnlinePaymentProvider
