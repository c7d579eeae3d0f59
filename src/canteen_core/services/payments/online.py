"""Online payment: starting a card or treasury payment, handling the provider's notifications."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import (
    CanteenError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.ledger import (
    InvoiceStatus,
    Payment,
    PaymentMethod,
)
from canteen_core.domain.online_payment import (
    NotificationDecision,
    PaymentOutcome,
    PaymentRequest,
    PaymentStart,
    VerifiedNotification,
    decide_notification,
)
from canteen_core.domain.payment_requests import StartedPayment
from canteen_core.domain.policy import Action
from canteen_core.ports.online_payment import OnlinePaymentProvider
from canteen_core.ports.storage import AuditedNotification
from canteen_core.services.billing import (
    household_account,
)
from canteen_core.services.billing.statements import payment_refusal
from canteen_core.services.payments._base import PaymentBase, _alnum, _stamp, _text
from canteen_core.services.runner import Transaction

#: ``decision`` of the audit entry of a notification refused before any decision.
REJECTED = "rejected"
#: The answer's reason for a rejected notification (the audit entry keeps the details).
REJECTED_REASON = (
    "Notification refusée : signature ou contenu invalide (détail dans le journal d'audit)."
)


@attrs.frozen(kw_only=True)
class NotificationResult:
    """What was done with a provider notification (its audit entry is ``audit_id``)."""

    audit_id: str
    provider: str
    transaction_id: str | None
    decision: str  # a NotificationDecision value, or "rejected"
    reason: str
    payment_id: str | None = None  # set when a payment was recorded
    invoice_id: str | None = None
    needs_review: bool = False

    @property
    def credited(self) -> bool:
        """Whether this notification recorded a payment (``needs_review`` may still be set:
        an invoice paid twice keeps the second payment as household credit, flagged)."""
        return self.payment_id is not None


def _raw_fields(fields: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(fields, Mapping):
        return ()
    return tuple((str(name), str(value)) for name, value in fields.items())


def _payment_id(provider: str, transaction_id: str) -> str:
    """One id per (provider, transaction): the same notification twice credits once."""
    return f"{provider}:{transaction_id}"


def _given(**filters: str | None) -> dict[str, object]:
    """The filters of a listing that were given (``None``: any)."""
    return {key: value for key, value in filters.items() if value is not None}


class OnlinePayments(PaymentBase):
    """Online payments and provider notifications."""

    def start_online_payment(
        self,
        actor: Actor,
        invoice_id: str,
        *,
        provider: str,
        return_url: str,
        notification_url: str,
        payer_email: str | None = None,
    ) -> PaymentStart:
        """Start paying an invoice's balance due online (``pay_online``, own household).

        Returns what the portal shows: a form to post (PayZen) or a URL (PayFiP). Refused with
        :class:`RuleViolationError` (a French reason) when the invoice cannot be paid online
        now. The request is stored to match the provider's notification later.
        """
        adapter = self.online_provider(provider)
        with self._ctx.use_case(actor, Action.PAY_ONLINE) as tx:
            uow = tx.uow
            invoice = uow.invoices.get(_text(invoice_id, "invoice_id"))
            tx.authorize(invoice.household_id)
            today = paris_date(tx.now)
            account = household_account(uow, invoice.household_id, as_of=today)
            state = account.invoice_state(invoice.id)
            refusal = payment_refusal(
                state,
                today=today,
                minimum=self._billing.options.online_payment_minimum,
            )
            if refusal is not None:
                raise RuleViolationError(refusal)
            email = payer_email
            if email is None:
                household = uow.households.get(invoice.household_id)
                email = next((g.email for g in household.guardians if g.email), None)
                if email is None:
                    raise InvalidInputError("give the payer's email address", path="payer_email")
            utc_day = tx.now.astimezone(UTC).date()
            number = uow.invoices.next_number(
                f"online:{provider}", utc_day.year, kind=f"daily:{utc_day:%Y%m%d}"
            )
            sequence = number - 1  # providers count from 0 within the UTC day
            request = PaymentRequest(
                reference=f"{_alnum(provider)[:4].upper()}{utc_day:%Y%m%d}{sequence:06d}",
                invoice_id=invoice.id,
                invoice_number=invoice.number,
                amount=state.uncovered,
                payer_email=email,
                return_url=return_url,
                notification_url=notification_url,
                requested_at=tx.now,
                daily_sequence=sequence,
                household_id=invoice.household_id,
                description=f"Facture {invoice.number}",
            )
            start = adapter.start_payment(request)
            uow.payment_requests.add(
                StartedPayment(
                    id=f"start-{_stamp(tx)}",
                    provider=provider,
                    transaction_id=start.transaction_id,
                    started_by=actor.user_id,
                    request=request,
                )
            )
            tx.audit.touch(f"invoice:{invoice.id}", f"payment_request:{start.transaction_id}")
            tx.audit.describe(f"Paiement en ligne de la facture {invoice.number} demandé")
        return start

    def handle_notification(self, provider: str, fields: Mapping[str, str]) -> NotificationResult:
        """Handle a notification (IPN) from ``provider``; runs as the system actor.

        Always keeps an audit entry. Raises the provider's error after storing only the audit
        entry for a bad signature or malformed fields, and :class:`NotFoundError` for an
        unknown transaction. Otherwise returns what was decided: credited, duplicate (already
        credited), mismatch (flagged for review), not paid, needs confirmation...
        """
        adapter = self.online_provider(provider)
        raw = _raw_fields(fields)
        verified: VerifiedNotification | None = None
        failure: CanteenError | None = None
        try:
            verified = adapter.verify_notification(fields)
        except InvalidInputError as error:  # SignatureError included
            failure = error
        result: NotificationResult | None = None
        for attempt in range(2):
            try:
                with self._ctx.use_case(Actor.system(), Action.RECORD_PAYMENT) as tx:
                    result = self._apply_notification(tx, provider, adapter, raw, verified, failure)
                break
            except ConflictError:
                # A concurrent twin credited first; handle again: it is now a duplicate.
                if attempt:
                    raise
        assert result is not None
        if failure is not None:
            raise failure
        if result.decision == NotificationDecision.UNKNOWN_TRANSACTION.value:
            raise NotFoundError(result.reason)
        return result

    def _apply_notification(
        self,
        tx: Transaction,
        provider: str,
        adapter: OnlinePaymentProvider,
        raw: tuple[tuple[str, str], ...],
        verified: VerifiedNotification | None,
        failure: CanteenError | None,
    ) -> NotificationResult:
        uow = tx.uow
        audit_id = f"ntf-{_stamp(tx)}"

        def record(decision: str, reason: str, transaction_id: str | None) -> None:
            """Store the audit entry of this notification."""
            uow.notifications_audit.add(
                AuditedNotification(
                    id=audit_id,
                    provider=provider,
                    received_at=tx.now,
                    decision=decision,
                    reason=reason[:1000],
                    transaction_id=transaction_id,
                    fields=raw,
                )
            )
            tx.audit.touch(f"notification:{audit_id}")
            shown = REJECTED_REASON.rstrip(".") if decision == REJECTED else reason
            tx.audit.describe(f"Notification de paiement {provider} : {shown}"[:300])

        if verified is None:
            record(REJECTED, f"{type(failure).__name__}: {failure}", None)  # for staff
            return NotificationResult(
                audit_id=audit_id,
                provider=provider,
                transaction_id=None,
                decision=REJECTED,
                reason=REJECTED_REASON,
            )
        transaction_id = verified.transaction_id
        started = sorted(
            uow.payment_requests.list(provider=provider, transaction_id=transaction_id),
            key=lambda item: (item.request.requested_at, item.id),
        )
        expected = started[-1].request if started else None
        if started:
            tx.audit.touch(
                f"payment_request:{started[-1].id}", household_id=started[-1].household_id
            )
        payment_id = _payment_id(provider, transaction_id)
        already = uow.payments.find(payment_id) is not None
        balance_due = None
        if expected is not None and not already and verified.outcome is PaymentOutcome.PAID:
            invoice = uow.invoices.find(expected.invoice_id)
            if invoice is not None:
                account = household_account(uow, invoice.household_id)
                balance_due = account.invoice_state(invoice.id).uncovered
        verdict = decide_notification(
            verified,
            expected,
            balance_due=balance_due,
            already_credited=already,
            trust_unsigned=adapter.trust_unsigned,
        )
        recorded: str | None = None
        if verdict.credits and expected is not None:
            self._credit(tx, payment_id, verified, expected)
            recorded = payment_id
        record(verdict.decision.value, verdict.reason, transaction_id)
        return NotificationResult(
            audit_id=audit_id,
            provider=provider,
            transaction_id=transaction_id,
            decision=verdict.decision.value,
            reason=verdict.reason,
            payment_id=recorded,
            invoice_id=None if expected is None else expected.invoice_id,
            needs_review=verdict.needs_review,
        )

    def _credit(
        self,
        tx: Transaction,
        payment_id: str,
        verified: VerifiedNotification,
        expected: PaymentRequest,
    ) -> None:
        uow = tx.uow
        invoice = uow.invoices.get(expected.invoice_id)
        account = household_account(uow, invoice.household_id)
        state = account.invoice_state(invoice.id)
        # Money paid for an invoice cancelled meanwhile is kept as household credit.
        targets = () if state.status is InvoiceStatus.CANCELLED else (invoice.id,)
        payment = Payment(
            id=payment_id,
            household_id=invoice.household_id,
            amount=verified.amount,
            method=PaymentMethod.CARD,
            received_on=paris_date(tx.now),
            invoice_ids=targets,
            reference=verified.transaction_id,
        )
        self._store_payment(tx, account, payment, notify=True)

    def notifications_audit(
        self, actor: Actor, *, provider: str | None = None, transaction_id: str | None = None
    ) -> list[AuditedNotification]:
        """Every payment-provider notification received, oldest first (``view_reports``:
        finance, admin). The payments started are :meth:`payment_requests`."""
        with self._ctx.use_case(actor, Action.VIEW_REPORTS, read_only=True) as tx:
            where = _given(provider=provider, transaction_id=transaction_id)
            entries = list(tx.uow.notifications_audit.list(**where))
        return sorted(entries, key=lambda entry: (entry.received_at, entry.id))

    def payment_requests(
        self, actor: Actor, *, household_id: str | None = None, provider: str | None = None
    ) -> list[StartedPayment]:
        """The online payments started (of one household, one provider), oldest first
        (``view_reports``: finance, admin)."""
        with self._ctx.use_case(actor, Action.VIEW_REPORTS, read_only=True) as tx:
            where = _given(provider=provider, household_id=household_id)
            found = list(tx.uow.payment_requests.list(**where))
        return sorted(found, key=lambda item: (item.request.requested_at, item.id))
