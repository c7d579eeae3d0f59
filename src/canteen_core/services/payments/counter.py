"""Counter payments (cash, cheque, CESU), refunds and rejected payments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import (
    ConfigurationError,
    RuleViolationError,
)
from canteen_core.domain.ledger import (
    Payment,
    PaymentMethod,
    Refund,
)
from canteen_core.domain.money import Money
from canteen_core.domain.policy import Action
from canteen_core.services.billing import (
    household_account,
)
from canteen_core.services.payments._base import PaymentBase, _a_date, _money, _stamp, _text


class CounterPayments(PaymentBase):
    """Payments recorded by finance staff, refunds, rejections."""

    # -- counter payments, refunds, rejections -------------------------------------------------

    def record_payment(
        self,
        actor: Actor,
        household_id: str,
        amount: Money | Decimal | str,
        method: PaymentMethod | str,
        *,
        received_on: date | None = None,
        reference: str | None = None,
        invoice_ids: Iterable[str] = (),
    ) -> Payment:
        """Record cash, a cheque or CESU received at the counter (``record_payment``: finance).

        The ``manual`` adapter checks the method, amount (positive, whole cents; floats
        refused), cheque number or CESU titles and date; the ledger allocates the named
        invoices first, then the oldest; an overpayment becomes household credit. Emits
        ``PaymentReceived`` and emails a receipt.

        A cheque, CESU titles or a receipt number already recorded for the household (and not
        rejected since) is refused (:class:`RuleViolationError`): the same cheque entered twice
        would count its money twice. A bounced cheque, once rejected, may be recorded again.
        """
        money = _money(amount)
        manual = self.counter_provider()
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            uow = tx.uow
            uow.households.get(_text(household_id, "household_id"))
            payment = manual.record(
                payment_id=f"pay-{_stamp(tx)}",
                household_id=household_id,
                amount=money,
                method=method,
                received_on=received_on or paris_date(tx.now),
                clock=self._ctx.clock,
                reference=reference,
                invoice_ids=tuple(invoice_ids),
            )
            if not isinstance(payment, Payment):
                raise ConfigurationError("the manual payment adapter returned no Payment")
            account = household_account(uow, household_id)
            _refuse_recorded_reference(account.payments, payment)
            self._store_payment(tx, account, payment, notify=True)
        return payment

    def refund(
        self,
        actor: Actor,
        household_id: str,
        amount: Money | Decimal | str,
        *,
        method: PaymentMethod | str = PaymentMethod.DIRECT_DEBIT,
        refunded_on: date | None = None,
        reference: str | None = None,
    ) -> Refund:
        """Pay household credit back (``record_payment``); refused above the available
        credit (:class:`RuleViolationError`)."""
        money = _money(amount)
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            uow = tx.uow
            uow.households.get(_text(household_id, "household_id"))
            refund = Refund(
                id=f"refund-{_stamp(tx)}",
                household_id=household_id,
                amount=money,
                refunded_on=_a_date(refunded_on or paris_date(tx.now), "refunded_on"),
                method=method,
                reference=reference,
            )
            household_account(uow, household_id).refund(refund)
            uow.refunds.add(refund)
            tx.audit.change(
                f"refund:{refund.id}", "amount", None, refund.amount, household_id=household_id
            )
        return refund

    def reject_payment(
        self, actor: Actor, payment_id: str, *, rejected_on: date | None = None
    ) -> Payment:
        """Mark a payment rejected (a bounced cheque, a returned debit): its invoices reopen
        (``record_payment``). Rejecting twice changes nothing."""
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            payment = tx.uow.payments.get(_text(payment_id, "payment_id"))
            rejected = self._reject(tx.uow, payment, rejected_on or paris_date(tx.now))
            tx.audit.change(
                f"payment:{payment.id}",
                "rejected_on",
                payment.rejected_on,
                rejected.rejected_on,
                household_id=payment.household_id,
            )
            return rejected


#: The refusal of a counter payment's reference recorded twice, by method.
_ALREADY_RECORDED: dict[PaymentMethod, str] = {
    PaymentMethod.CHEQUE: "le chèque n° {} est déjà enregistré",
    PaymentMethod.CESU: "les titres CESU {} sont déjà enregistrés",
    PaymentMethod.CASH: "la quittance n° {} est déjà enregistrée",
}


def _refuse_recorded_reference(recorded: Iterable[Payment], payment: Payment) -> None:
    """Refuse ``payment`` when a payment of the household with the same method and reference
    (spaces and case aside) is already recorded and not rejected."""
    already = _ALREADY_RECORDED.get(payment.method)
    if already is None or payment.reference is None:
        return
    wanted = "".join(payment.reference.split()).casefold()
    for earlier in recorded:
        if (
            earlier.method is payment.method
            and not earlier.is_rejected
            and earlier.reference is not None
            and "".join(earlier.reference.split()).casefold() == wanted
        ):
            raise RuleViolationError(
                f"{already.format(payment.reference)} pour ce foyer "
                f"({earlier.amount.format_fr()} reçus le {earlier.received_on:%d/%m/%Y}) : "
                "un même règlement ne se saisit qu'une fois"
            )
