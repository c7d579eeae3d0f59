"""Where an online payment stands, for the page the payer returns to from the provider.

The browser's return from PayZen or PayFiP proves nothing (PayFiP's results are not even
signed): it must never credit anything. :meth:`PaymentReturns.online_payment_status` reads what
was asked (the :class:`~canteen_core.domain.payment_requests.StartedPayment` stored when it
started) and what the provider's server-to-server
notification did (a card payment stored under the transaction's id), so the page tells the
family the truth: paid and recorded, or waiting for the provider's confirmation.
"""

from __future__ import annotations

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import NotFoundError
from canteen_core.domain.money import Money
from canteen_core.domain.policy import Action
from canteen_core.services.billing import household_account
from canteen_core.services.payments._base import PaymentBase, _text
from canteen_core.services.payments.online import _payment_id

__all__ = ["OnlinePaymentStatus", "PaymentReturns"]


@attrs.frozen(kw_only=True)
class OnlinePaymentStatus:
    """An online payment attempt: the invoice and amount asked, whether the provider's
    notification was credited, and the invoice's balance now."""

    provider: str
    transaction_id: str
    household_id: str
    invoice_id: str
    invoice_number: str
    amount: Money
    credited: bool
    invoice_balance_due: Money


class PaymentReturns(PaymentBase):
    """The state of an online payment, for the provider's browser return."""

    def online_payment_status(
        self, actor: Actor, provider: str, transaction_id: str
    ) -> OnlinePaymentStatus:
        """The attempt ``transaction_id`` started with ``provider`` (``view_invoices``: a
        family only its own household's; :class:`NotFoundError` for an unknown one). Reads
        only: a return never credits."""
        name = _text(provider, "provider")
        transaction = _text(transaction_id, "transaction_id")
        with self._ctx.use_case(actor, Action.VIEW_INVOICES, read_only=True) as tx:
            uow = tx.uow
            started = sorted(
                uow.payment_requests.list(provider=name, transaction_id=transaction),
                key=lambda item: (item.request.requested_at, item.id),
            )
            if not started:
                raise NotFoundError("paiement en ligne introuvable")
            request = started[-1].request
            invoice = uow.invoices.get(request.invoice_id)
            tx.authorize(invoice.household_id)
            credited = uow.payments.find(_payment_id(name, transaction)) is not None
            account = household_account(uow, invoice.household_id, as_of=paris_date(tx.now))
            state = account.invoice_state(invoice.id)
        return OnlinePaymentStatus(
            provider=name,
            transaction_id=transaction,
            household_id=invoice.household_id,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            amount=request.amount,
            credited=credited,
            invoice_balance_due=state.balance_due,
        )
