"""Counter payments (cash, cheque, CESU), refunds and rejected payments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar_words import school_year_label
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import (
    ConfigurationError,
    InvalidInputError,
    RuleViolationError,
)
from canteen_core.domain.ledger import (
    HouseholdAccount,
    Payment,
    PaymentMethod,
    Refund,
)
from canteen_core.domain.money import Money
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.billing import household_account, refund_uncovered
from canteen_core.services.payments._base import PaymentBase, _a_date, _money, _stamp, _text
from canteen_core.services.runner import school_year_of


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

        A day received before the school year preceding the household's first one (its first
        enrollment or invoice) is refused (:class:`InvalidInputError`): money cannot have come
        from a family years before it used the service (``2020`` typed for ``2023``).

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
            _refuse_before_the_household(uow, account, payment.received_on)
            _refuse_recorded_reference(account.payments, payment)
            self._store_payment(tx, account, payment, notify=True)
        return payment

    def refund(
        self,
        actor: Actor,
        household_id: str,
        amount: Money | Decimal | str,
        *,
        method: PaymentMethod | str = PaymentMethod.TRANSFER,
        refunded_on: date | None = None,
        reference: str | None = None,
    ) -> Refund:
        """Pay household credit back to the family (``record_payment``: finance).

        ``method``: one of :data:`REFUND_METHODS` (bank transfer by default, cheque, cash);
        ``refunded_on``: the day the money went out (default today, Europe/Paris);
        ``reference``: the transfer's or the cheque's reference. The refund shows on the
        household statement (``kind="refund"``) and in the audit trail.

        Refused, with nothing changed: another method, an amount that is not positive whole
        cents, or a day in the future (:class:`InvalidInputError`); more than the available
        credit, or a day before the credit existed (the account, replayed in date order,
        could not cover it then, or it would leave a later refund or rejection uncovered)
        (:class:`RuleViolationError`).

        No e-mail is sent: the money reaches the family through its bank or at the counter,
        and the statement shows it.
        """
        money = _money(amount)
        chosen = _refund_method(method)
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            uow = tx.uow
            household_id = _text(household_id, "household_id")
            uow.households.get(household_id)
            today = paris_date(tx.now)
            day = today if refunded_on is None else _a_date(refunded_on, "refunded_on")
            if day > today:
                raise InvalidInputError(
                    "la date du remboursement ne peut pas être dans le futur", path="refunded_on"
                )
            refund = Refund(
                id=f"refund-{_stamp(tx)}",
                household_id=household_id,
                amount=money,
                refunded_on=day,
                method=chosen,
                reference=(reference or "").strip() or None,
            )
            account = household_account(uow, household_id, as_of=today)
            _refuse_above_credit(household_id, refund.amount, account.available_credit)
            if refund_uncovered(uow, household_id, refund):
                raise RuleViolationError(
                    f"remboursement refusé : au {day:%d/%m/%Y}, le foyer {household_id} "
                    f"n'avait pas l'avoir de {refund.amount.format_fr()} (il vient d'un "
                    "règlement plus récent) ; datez le remboursement du jour où il a été fait"
                )
            account.refund(refund)
            uow.refunds.add(refund)
            tx.audit.change(
                f"refund:{refund.id}",
                "refund",
                None,
                {
                    "amount": str(refund.amount.amount),
                    "method": refund.method.value,
                    "refunded_on": refund.refunded_on.isoformat(),
                    "reference": refund.reference,
                },
                household_id=household_id,
            )
            tx.audit.describe(
                f"Remboursement de {refund.amount.format_fr()} ({refund.method.label_fr}) "
                f"au foyer {household_id}"
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


#: How the régie pays credit back: card and direct debit only ever collect money.
REFUND_METHODS = (PaymentMethod.TRANSFER, PaymentMethod.CHEQUE, PaymentMethod.CASH)


def _refund_method(method: object) -> PaymentMethod:
    """``method`` as one of :data:`REFUND_METHODS`; :class:`InvalidInputError` otherwise."""
    possible = ", ".join(m.value for m in REFUND_METHODS)
    try:
        chosen = PaymentMethod(method)
    except ValueError:
        raise InvalidInputError(
            f"mode de remboursement inconnu « {method} » (possibles : {possible})", path="method"
        ) from None
    if chosen not in REFUND_METHODS:
        raise InvalidInputError(
            f"un avoir ne se rembourse pas par {chosen.label_fr} (possibles : {possible})",
            path="method",
        )
    return chosen


def _refuse_before_the_household(uow: UnitOfWork, account: HouseholdAccount, day: date) -> None:
    """:class:`InvalidInputError` when ``day`` comes before the school year preceding the
    household's first one (that of its first enrollment or invoice; families enroll, and may
    pay in advance, during the year before). No bound for a household with neither."""
    household_id = account.household_id
    starts = [e.start for e in uow.enrollments.list(household_id=household_id)]
    starts += [invoice.issue_date for invoice in account.invoices]
    if not starts:
        return
    first = school_year_of(min(starts))
    earliest = date(first - 1, 8, 1)
    if day < earliest:
        raise InvalidInputError(
            f"la date de réception ({day:%d/%m/%Y}) est trop ancienne : la première année "
            f"scolaire du foyer {household_id} est {school_year_label(first)} (au plus tôt "
            f"le {earliest:%d/%m/%Y})",
            path="received_on",
        )


def _refuse_above_credit(household_id: str, amount: Money, credit: Money) -> None:
    """:class:`RuleViolationError` when ``amount`` is more than the household's ``credit``."""
    if amount <= credit:
        return
    held = (
        f"n'a que {credit.format_fr()} d'avoir disponible"
        if credit.is_positive
        else "n'a aucun avoir disponible"
    )
    raise RuleViolationError(
        f"remboursement refusé : {amount.format_fr()} demandés, mais le foyer {household_id} {held}"
    )


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
