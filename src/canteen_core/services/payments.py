"""Payment use cases: online card payment, provider notifications, counter payments, refunds,
SEPA mandates, direct-debit collections and returned debits.

``canteen.payments`` (:class:`PaymentService`). Payment adapters are plugins found by name
(``payzen``, ``payfip``, ``sepa``, ``manual``) and built once from the deployment's
``[payment.<name>]`` table; the core never imports them.

Online payment (``start_online_payment``, ``handle_notification``)
    Starting a payment checks the invoice may be paid online
    (:func:`~canteen_core.domain.online_payment.ensure_online_payment_allowed`), takes the attempt's
    daily sequence per provider and UTC day from storage (a counter row in the numbering table,
    issuer ``online:<provider>``, kind ``daily:YYYYMMDD``: locked and gapless like invoice
    numbers, so two attempts never share a PayZen ``vads_trans_id``), and persists the
    :class:`~canteen_core.domain.online_payment.PaymentRequest` as a ``payment_started`` entry of
    the
    notifications audit, keyed by the provider's transaction id, so the notification can be
    matched to what was asked.

    Every notification received is kept in the audit (``notifications_audit``) whatever its
    fate. A bad or missing signature, or malformed fields, store only that audit entry and
    raise the provider's error (:class:`~canteen_core.domain.online_payment.SignatureError`,
    :class:`~canteen_core.domain.errors.InvalidInputError`). An unknown transaction is audited and
    rejected (:class:`~canteen_core.domain.errors.NotFoundError`). A paid notification whose amount,
    currency or invoice differ from the request is flagged (``mismatch``), never credited. The
    same notification twice credits once: the payment id is derived from (provider,
    transaction id), and a concurrent duplicate that loses the race is handled again as a
    duplicate. A credit records a card :class:`~canteen_core.domain.ledger.Payment` allocated to the
    invoice first, then oldest first; it emits
    :class:`~canteen_core.domain.events.PaymentReceived` and queues the "paiement reçu" email.

Direct debit (:meth:`PaymentService.run_direct_debit`)
    For every household with a collectable mandate, every invoice with a balance due becomes
    one debit. Direct-debit payments are recorded (dated the collection date) in the same
    transaction as the mandate updates (FRST -> RCUR) and the pre-notification emails
    (:class:`~canteen_core.domain.events.DirectDebitAnnounced`); the adapter builds and validates
    the
    pain.008 file and writes it last, just before the commit: a failed run writes no file and
    changes nothing. (Only a commit failing after the file was written would leave a file
    without its records: run again and discard the orphan file.) Returned or rejected debits
    (:meth:`PaymentService.record_debit_returns`) mark the payments rejected: their invoices
    reopen.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import (
    CanteenError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import DirectDebitAnnounced
from canteen_core.domain.families import Household
from canteen_core.domain.ledger import (
    HouseholdAccount,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
)
from canteen_core.domain.mandates import (
    DirectDebitMandate,
    MandateKind,
    MandateStatus,
    validate_mandate_reference,
)
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import OutgoingMessage, message_id_for
from canteen_core.domain.online_payment import (
    NotificationDecision,
    PaymentProvider,
    PaymentRequest,
    PaymentStart,
    VerifiedNotification,
    decide_notification,
    ensure_online_payment_allowed,
)
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import AuditedNotification, UnitOfWork
from canteen_core.services.billing import (
    BillingService,
    household_account,
    household_recipients,
)
from canteen_core.services.runner import ServiceBase, ServiceContext, Transaction

__all__ = [
    "PAYMENT_STARTED",
    "DebitReturns",
    "DirectDebitReport",
    "NotificationResult",
    "PaymentOptions",
    "PaymentService",
]

#: ``decision`` of the audit entry that stores a started online payment (the request).
PAYMENT_STARTED = "payment_started"
#: ``decision`` of the audit entry of a notification refused before any decision.
REJECTED = "rejected"


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
        """Whether this notification recorded a payment."""
        return self.decision == NotificationDecision.CREDIT.value


@attrs.frozen(kw_only=True)
class DirectDebitReport:
    """A direct-debit collection run: the pain.008 message and what went into it.

    ``debits`` lists ``(household id, invoice number, amount, sequence type)``; ``skipped``
    ``(household id, reason)`` for households whose mandate cannot be used on that date.
    ``path`` is the file written by the adapter (``None`` without ``output_dir``, or when
    there was nothing to collect).
    """

    message_id: str | None
    collection_date: date
    xml: bytes | None = attrs.field(repr=False)
    path: Path | None
    debits: tuple[tuple[str, str, Money, str], ...]
    skipped: tuple[tuple[str, str], ...]

    @property
    def count(self) -> int:
        """Number of debits in the file."""
        return len(self.debits)

    @property
    def control_sum(self) -> Money:
        """Total amount collected."""
        return Money.sum(debit[2] for debit in self.debits)


@attrs.frozen(kw_only=True)
class DebitReturns:
    """Returned or rejected debits: the invoices reopened and the ids nobody recognised."""

    reopened_invoice_ids: tuple[str, ...]
    rejected_payment_ids: tuple[str, ...]
    unknown_ids: tuple[str, ...]


# -- helpers -------------------------------------------------------------------------------------


def _paris_date(instant: datetime) -> date:
    return instant.astimezone(PARIS).date()


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
        raise InvalidInputError(f"must be a date, got {value!r}", path=path)
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"expected a non-empty string, got {value!r}", path=path)
    return value.strip()


def _request_fields(request: PaymentRequest) -> tuple[tuple[str, str], ...]:
    """The request as audit fields (enough to rebuild it)."""
    fields = {
        "reference": request.reference,
        "invoice_id": request.invoice_id,
        "invoice_number": request.invoice_number,
        "amount": str(request.amount.amount),
        "currency": request.amount.currency,
        "payer_email": request.payer_email,
        "return_url": request.return_url,
        "notification_url": request.notification_url,
        "requested_at": request.requested_at.isoformat(),
        "daily_sequence": str(request.daily_sequence),
        "household_id": request.household_id or "",
        "description": request.description or "",
    }
    return tuple(fields.items())


def _request_from(entry: AuditedNotification) -> PaymentRequest:
    fields = dict(entry.fields)
    return PaymentRequest(
        reference=fields["reference"],
        invoice_id=fields["invoice_id"],
        invoice_number=fields["invoice_number"],
        amount=Money.of(fields["amount"], fields["currency"]),
        payer_email=fields["payer_email"],
        return_url=fields["return_url"],
        notification_url=fields["notification_url"],
        requested_at=datetime.fromisoformat(fields["requested_at"]),
        daily_sequence=int(fields["daily_sequence"]),
        household_id=fields["household_id"] or None,
        description=fields["description"] or None,
    )


def _raw_fields(fields: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(fields, Mapping):
        return ()
    return tuple((str(name), str(value)) for name, value in fields.items())


def _payment_id(provider: str, transaction_id: str) -> str:
    """One id per (provider, transaction): the same notification twice credits once."""
    return f"{provider}:{transaction_id}"


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


# -- the service ---------------------------------------------------------------------------------


class PaymentService(ServiceBase):
    """``canteen.payments``: online payments, notifications, counter payments, refunds, SEPA."""

    def __init__(
        self,
        context: ServiceContext,
        options: PaymentOptions | None = None,
        *,
        billing: BillingService | None = None,
        providers: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(context)
        self.options = options or PaymentOptions()
        self._billing = billing or BillingService(context)
        self._providers: dict[str, Any] = dict(providers or {})

    # -- providers -----------------------------------------------------------------------------

    def provider(self, name: str) -> Any:
        """The payment adapter called ``name``, built once from ``[payment.<name>]``.

        :class:`ConfigurationError` lists the valid names for an unknown one.
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

    def _online(self, name: str) -> PaymentProvider:
        provider = self.provider(name)
        if not isinstance(provider, PaymentProvider):
            raise ConfigurationError(
                f"payment provider {name!r} does not take online payments", path="provider"
            )
        return provider

    # -- online payment ------------------------------------------------------------------------

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
        adapter = self._online(provider)
        with self._ctx.use_case(actor, Action.PAY_ONLINE) as tx:
            uow = tx.uow
            invoice = uow.invoices.get(_text(invoice_id, "invoice_id"))
            tx.authorize(invoice.household_id)
            state = household_account(uow, invoice.household_id).invoice_state(invoice.id)
            ensure_online_payment_allowed(
                status=state.status.value,
                balance_due=state.balance_due,
                payment_open_date=invoice.payment_open_date,
                today=_paris_date(tx.now),
                minimum=self._billing.options.online_payment_minimum,
            )
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
                amount=state.balance_due,
                payer_email=email,
                return_url=return_url,
                notification_url=notification_url,
                requested_at=tx.now,
                daily_sequence=sequence,
                household_id=invoice.household_id,
                description=f"Facture {invoice.number}",
            )
            start = adapter.start_payment(request)
            uow.notifications_audit.add(
                AuditedNotification(
                    id=f"start-{_stamp(tx)}",
                    provider=provider,
                    received_at=tx.now,
                    decision=PAYMENT_STARTED,
                    reason=f"paiement de la facture {invoice.number} demandé par {actor.user_id}",
                    transaction_id=start.transaction_id,
                    fields=_request_fields(request),
                )
            )
        return start

    def handle_notification(self, provider: str, fields: Mapping[str, str]) -> NotificationResult:
        """Handle a notification (IPN) from ``provider``; runs as the system actor.

        Always keeps an audit entry. Raises the provider's error after storing only the audit
        entry for a bad signature or malformed fields, and :class:`NotFoundError` for an
        unknown transaction. Otherwise returns what was decided: credited, duplicate (already
        credited), mismatch (flagged for review), not paid, needs confirmation...
        """
        adapter = self._online(provider)
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
        adapter: PaymentProvider,
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

        if verified is None:
            reason = f"{type(failure).__name__}: {failure}"
            record(REJECTED, reason, None)
            return NotificationResult(
                audit_id=audit_id,
                provider=provider,
                transaction_id=None,
                decision=REJECTED,
                reason=reason,
            )
        transaction_id = verified.transaction_id
        started = [
            entry
            for entry in uow.notifications_audit.list(
                provider=provider, transaction_id=transaction_id
            )
            if entry.decision == PAYMENT_STARTED
        ]
        expected = _request_from(started[-1]) if started else None
        payment_id = _payment_id(provider, transaction_id)
        already = uow.payments.find(payment_id) is not None
        verdict = decide_notification(
            verified,
            expected,
            already_credited=already,
            trust_unsigned=bool(getattr(adapter, "trust_unsigned", False)),
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
            received_on=_paris_date(tx.now),
            invoice_ids=targets,
            reference=verified.transaction_id,
        )
        self._store_payment(tx, account, payment, notify=True)

    def _store_payment(
        self, tx: Transaction, account: HouseholdAccount, payment: Payment, *, notify: bool
    ) -> HouseholdAccount:
        uow = tx.uow
        updated = account.record_payment(payment)  # ledger rules first: nothing half-applied
        uow.payments.add(payment)
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

    def notifications_audit(
        self, actor: Actor, *, provider: str | None = None, transaction_id: str | None = None
    ) -> list[AuditedNotification]:
        """The audit trail of online payments: requests started and every notification
        received, oldest first (``view_reports``: finance, admin)."""
        with self._ctx.use_case(actor, Action.VIEW_REPORTS, read_only=True) as tx:
            where: dict[str, object] = {}
            if provider is not None:
                where["provider"] = provider
            if transaction_id is not None:
                where["transaction_id"] = transaction_id
            entries = list(tx.uow.notifications_audit.list(**where))
        return sorted(entries, key=lambda entry: (entry.received_at, entry.id))

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
        """
        money = _money(amount)
        manual = self.provider(self.options.manual_provider)
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            uow = tx.uow
            uow.households.get(_text(household_id, "household_id"))
            payment = manual.record(
                payment_id=f"pay-{_stamp(tx)}",
                household_id=household_id,
                amount=money,
                method=method,
                received_on=received_on or _paris_date(tx.now),
                clock=self._ctx.clock,
                reference=reference,
                invoice_ids=tuple(invoice_ids),
            )
            if not isinstance(payment, Payment):
                raise ConfigurationError("the manual payment adapter returned no Payment")
            self._store_payment(tx, household_account(uow, household_id), payment, notify=True)
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
                refunded_on=_a_date(refunded_on or _paris_date(tx.now), "refunded_on"),
                method=method,
                reference=reference,
            )
            household_account(uow, household_id).refund(refund)
            uow.refunds.add(refund)
        return refund

    def reject_payment(
        self, actor: Actor, payment_id: str, *, rejected_on: date | None = None
    ) -> Payment:
        """Mark a payment rejected (a bounced cheque, a returned debit): its invoices reopen
        (``record_payment``). Rejecting twice changes nothing."""
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            payment = tx.uow.payments.get(_text(payment_id, "payment_id"))
            return self._reject(tx.uow, payment, rejected_on or _paris_date(tx.now))

    def _reject(self, uow: UnitOfWork, payment: Payment, rejected_on: date) -> Payment:
        if payment.is_rejected:
            return payment
        day = max(_a_date(rejected_on, "rejected_on"), payment.received_on)
        household_account(uow, payment.household_id).reject_payment(payment.id, rejected_on=day)
        rejected = attrs.evolve(payment, rejected_on=day)
        uow.payments.save(rejected)
        return rejected

    # -- SEPA mandates -------------------------------------------------------------------------

    def sign_mandate(
        self,
        actor: Actor,
        household_id: str,
        *,
        iban: str,
        debtor_name: str | None = None,
        bic: str | None = None,
        signed_on: date | None = None,
        reference: str | None = None,
        kind: MandateKind | str = MandateKind.RECURRENT,
    ) -> DirectDebitMandate:
        """Join direct debit: a SEPA mandate on the household's bank account.

        ``manage_direct_debit``: the payer for their own household, or finance. The IBAN is
        checked (mod 97); the reference (RUM) is generated unless given. One collectable
        mandate per household: change its IBAN (:meth:`change_mandate_iban`) instead.
        """
        with self._ctx.use_case(
            actor, Action.MANAGE_DIRECT_DEBIT, household_id=_text(household_id, "household_id")
        ) as tx:
            uow = tx.uow
            household = uow.households.get(household_id)
            if any(m.collectable for m in uow.mandates.list(household_id=household_id)):
                raise RuleViolationError(
                    "ce foyer a déjà un mandat de prélèvement actif : modifiez ses coordonnées "
                    "bancaires"
                )
            rum = reference or _sepa_id(
                f"RUM-{self._ctx.deployment.issuer.code}-{tx.new_id()[:12].upper()}"
            )
            mandate = DirectDebitMandate(
                reference=validate_mandate_reference(rum),
                household_id=household_id,
                debtor_name=debtor_name or _debtor_name(household),
                iban=iban,
                signed_on=_a_date(signed_on or _paris_date(tx.now), "signed_on"),
                bic=bic,
                kind=kind,
            )
            uow.mandates.add(mandate)
        return mandate

    def change_mandate_iban(
        self,
        actor: Actor,
        household_id: str,
        *,
        iban: str,
        bic: str | None = None,
        changed_on: date | None = None,
    ) -> DirectDebitMandate:
        """Amend the household's collectable mandate for a new bank account (same RUM)."""
        with self._ctx.use_case(
            actor, Action.MANAGE_DIRECT_DEBIT, household_id=_text(household_id, "household_id")
        ) as tx:
            mandate = self._active_mandate(tx.uow, household_id)
            changed = mandate.with_new_iban(
                iban, changed_on=changed_on or _paris_date(tx.now), bic=bic
            )
            tx.uow.mandates.save(changed)
        return changed

    def revoke_mandate(
        self,
        actor: Actor,
        household_id: str,
        *,
        final_collection: bool = False,
        on: date | None = None,
    ) -> DirectDebitMandate:
        """Leave direct debit: revoke the household's mandate (``final_collection``: one last
        FNAL debit is still presented)."""
        with self._ctx.use_case(
            actor, Action.MANAGE_DIRECT_DEBIT, household_id=_text(household_id, "household_id")
        ) as tx:
            mandate = self._active_mandate(tx.uow, household_id)
            revoked = mandate.revoke(on or _paris_date(tx.now), final_collection=final_collection)
            tx.uow.mandates.save(revoked)
        return revoked

    def mandates(self, actor: Actor, household_id: str) -> list[DirectDebitMandate]:
        """The household's mandates, newest signature first (``view_payments``)."""
        with self._ctx.use_case(
            actor,
            Action.VIEW_PAYMENTS,
            household_id=_text(household_id, "household_id"),
            read_only=True,
        ) as tx:
            found = list(tx.uow.mandates.list(household_id=household_id))
        return sorted(found, key=lambda m: (m.signed_on, m.reference), reverse=True)

    def _active_mandate(self, uow: UnitOfWork, household_id: str) -> DirectDebitMandate:
        uow.households.get(household_id)
        active = [m for m in uow.mandates.list(household_id=household_id) if m.collectable]
        if not active:
            raise NotFoundError(f"household {household_id!r} has no active mandate")
        return max(active, key=lambda m: (m.signed_on, m.reference))

    # -- SEPA collections ----------------------------------------------------------------------

    def run_direct_debit(
        self, actor: Actor, collection_date: date, *, message_id: str | None = None
    ) -> DirectDebitReport:
        """Collect every unpaid invoice of households with a collectable mandate on
        ``collection_date`` (``export_sepa``: finance, admin, system).

        Builds the pain.008.001.02 file through the ``sepa`` adapter (validated against the
        XSD, written to its ``output_dir``), records a direct-debit payment per invoice,
        advances the mandates (FRST -> RCUR) and queues the pre-notification emails. A
        collection date with too short a notice, or any invalid debit, raises and changes
        nothing (no file).
        """
        day = _a_date(collection_date, "collection_date")
        sepa = self.provider(self.options.sepa_provider)
        make_item = _debit_item_factory(sepa)
        with self._ctx.use_case(actor, Action.EXPORT_SEPA) as tx:
            uow = tx.uow
            message = message_id or _sepa_id(
                f"{self._ctx.deployment.issuer.code}-{tx.now.astimezone(UTC):%Y%m%d%H%M%S}"
            )
            validate_mandate_reference(message, path="message_id")
            chosen: dict[str, DirectDebitMandate] = {}
            for status in (MandateStatus.ACTIVE, MandateStatus.FINAL_PENDING):
                for mandate in uow.mandates.list(status=status.value):
                    known = chosen.get(mandate.household_id)
                    if known is None or mandate.signed_on > known.signed_on:
                        chosen[mandate.household_id] = mandate
            items: list[Any] = []
            debits: list[tuple[str, str, Money, str]] = []
            skipped: list[tuple[str, str]] = []
            for household_id in sorted(chosen):
                mandate = chosen[household_id]
                try:
                    sequence_type = mandate.check_collectable(day)
                except RuleViolationError as error:
                    skipped.append((household_id, str(error)))
                    continue
                account = household_account(uow, household_id)
                for state in account.open_invoices():
                    items.append(
                        make_item(
                            household_id=household_id,
                            invoice_id=state.invoice.id,
                            invoice_number=state.invoice.number,
                            amount=state.balance_due,
                            mandate=mandate,
                        )
                    )
                    debits.append(
                        (household_id, state.invoice.number, state.balance_due, sequence_type)
                    )
                    payment = Payment(
                        id=f"sepa:{message}:{state.invoice.number}",
                        household_id=household_id,
                        amount=state.balance_due,
                        method=PaymentMethod.DIRECT_DEBIT,
                        received_on=day,
                        invoice_ids=(state.invoice.id,),
                        reference=state.invoice.number,
                    )
                    account = self._store_payment(tx, account, payment, notify=False)
            if not items:
                return DirectDebitReport(
                    message_id=None,
                    collection_date=day,
                    xml=None,
                    path=None,
                    debits=(),
                    skipped=tuple(skipped),
                )
            # Last step before the commit: build, validate and write the file.
            run, path = sepa.collect(
                items, collection_date=day, clock=self._ctx.clock, message_id=message
            )
            for mandate in run.mandates:
                uow.mandates.save(mandate)
            creditor = getattr(sepa, "creditor", None)
            for announcement in run.announcements:
                tx.emit(announcement)
                household = uow.households.get(announcement.household_id)
                tx.send(*self._pre_notifications(announcement, household, creditor))
        return DirectDebitReport(
            message_id=run.message_id,
            collection_date=day,
            xml=run.xml,
            path=path,
            debits=tuple(debits),
            skipped=tuple(skipped),
        )

    def _pre_notifications(
        self, event: DirectDebitAnnounced, household: Household, creditor: Any
    ) -> list[OutgoingMessage]:
        notifier = self._ctx.notifier
        context = {
            "amount": event.amount,
            "collection_date": event.collection_date,
            "mandate_reference": event.mandate_reference,
            "creditor_name": getattr(creditor, "name", None)
            or notifier.settings.creditor_name
            or notifier.settings.organisation,
            "creditor_identifier": getattr(creditor, "creditor_id", None)
            or notifier.settings.creditor_identifier,
        }
        key = f"{event.household_id}:{event.mandate_reference}:{event.collection_date.isoformat()}"
        messages: list[OutgoingMessage] = []
        for recipient in household_recipients(household):
            if any(m.to_address == recipient.address for m in messages):
                continue
            message = notifier.render(
                "direct-debit-announced",
                recipient,
                context,
                key=key,
                household_id=event.household_id,
            )
            assert message.id == message_id_for("direct-debit-announced", key, recipient.address)
            messages.append(message)
        return messages

    def record_debit_returns(
        self,
        actor: Actor,
        end_to_end_ids: Iterable[str],
        *,
        rejected_on: date | None = None,
    ) -> DebitReturns:
        """Returned or rejected debits from the bank (their end-to-end ids, the invoice
        numbers): each matching direct-debit payment is marked rejected and its invoice
        reopens (``record_payment``). Ids matching nothing are listed, not an error; an id
        listed twice, or returned twice, counts once."""
        if isinstance(end_to_end_ids, str):
            raise InvalidInputError("give a list of end-to-end ids", path="end_to_end_ids")
        ids = list(dict.fromkeys(_text(i, "end_to_end_ids") for i in end_to_end_ids))
        reopened: list[str] = []
        rejected: list[str] = []
        unknown: list[str] = []
        with self._ctx.use_case(actor, Action.RECORD_PAYMENT) as tx:
            uow = tx.uow
            day = rejected_on or _paris_date(tx.now)
            for identifier in ids:
                candidates = [
                    p
                    for p in uow.payments.list(
                        reference=identifier, method=PaymentMethod.DIRECT_DEBIT.value
                    )
                    if not p.is_rejected
                ]
                if not candidates:
                    unknown.append(identifier)
                    continue
                payment = max(candidates, key=lambda p: (p.received_on, p.id))
                self._reject(uow, payment, day)
                rejected.append(payment.id)
                reopened.extend(payment.invoice_ids)
        return DebitReturns(
            reopened_invoice_ids=tuple(reopened),
            rejected_payment_ids=tuple(rejected),
            unknown_ids=tuple(unknown),
        )


def _debtor_name(household: Household) -> str:
    payer = household.payer
    return f"{payer.first_name} {payer.last_name.upper()}"[:70]


def _debit_item_factory(provider: Any) -> Callable[..., Any]:
    """How to build the adapter's debit items without the core importing the adapter.

    A direct-debit provider may offer ``debit_item(**fields)``; otherwise the ``DebitItem``
    class of the provider's own module is used (the built-in ``sepa`` adapter).
    """
    factory = getattr(provider, "debit_item", None)
    if callable(factory):
        return factory  # type: ignore[no-any-return]
    module = sys.modules.get(type(provider).__module__)
    item_class = getattr(module, "DebitItem", None)
    if not callable(item_class) or not callable(getattr(provider, "collect", None)):
        raise ConfigurationError(
            f"payment provider {getattr(provider, 'name', provider)!r} cannot collect direct "
            "debits",
            path="sepa_provider",
        )
    return item_class  # type: ignore[no-any-return]
