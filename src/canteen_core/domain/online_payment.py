"""Online payment rules: requests, verified notifications, what to do with them, who may pay.

A portal offers online payment of an invoice's balance due through a *payment provider*
(PayZen, PayFiP...; the port is :class:`~canteen_core.ports.online_payment.OnlinePaymentProvider`).
The flow has two halves:

1. The provider's ``start_payment`` turns a :class:`PaymentRequest` into a
   :class:`PaymentStart`: either a form the browser must POST to the provider
   (:class:`PaymentForm`, ordered fields) or a URL to redirect to. It also names the
   ``transaction_id`` the provider will echo in its notifications.
2. The provider later calls the portal back (IPN, "notification"). The raw fields go to its
   ``verify_notification``, which checks the signature and returns a
   :class:`VerifiedNotification` (outcome, amount, currency, raw fields for audit) or raises
   :class:`SignatureError` / :class:`~canteen_core.domain.errors.InvalidInputError`.

What to do with a verified notification is a pure decision, :func:`decide_notification`:
credit the invoice, ignore a duplicate (notifications arrive more than once), flag an amount
or currency mismatch, or reject an unknown transaction. The application services persist
every notification for audit and apply the decision; this module does no I/O.

Who may pay online is :func:`online_payment_refusal` / :func:`ensure_online_payment_allowed`:
issued, unpaid invoices, from their payment-open date (a Europe/Paris calendar date), for at
least a configured minimum.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from canteen_core.domain._french import not_positive_fr
from canteen_core.domain._validators import (
    aware_datetime,
    check_date,
    non_empty_str,
    non_negative_int,
)
from canteen_core.domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from canteen_core.domain.money import CENT, Money

__all__ = [
    "PAYABLE_INVOICE_STATUSES",
    "Authenticity",
    "NotificationDecision",
    "NotificationVerdict",
    "PaymentForm",
    "PaymentOutcome",
    "PaymentRequest",
    "PaymentStart",
    "SignatureError",
    "VerifiedNotification",
    "decide_notification",
    "ensure_online_payment_allowed",
    "online_payment_refusal",
]


class SignatureError(InvalidInputError):
    """A provider notification has a missing or wrong signature: it must change nothing."""


class PaymentOutcome(enum.StrEnum):
    """What a provider says happened to a payment attempt."""

    PAID = "paid"  # accepted: the money will reach the treasury (authorised or captured)
    REFUSED = "refused"  # the bank or the provider declined it
    CANCELLED = "cancelled"  # the payer abandoned or the merchant cancelled
    PENDING = "pending"  # not final yet (to validate, waiting for authorisation...)
    EXPIRED = "expired"  # an authorisation nobody validated in time


#: A payment outcome in the French of the notification reasons.
_OUTCOMES_FR = {
    PaymentOutcome.PAID: "payée",
    PaymentOutcome.REFUSED: "refusée",
    PaymentOutcome.CANCELLED: "annulée",
    PaymentOutcome.PENDING: "en attente",
    PaymentOutcome.EXPIRED: "expirée",
}


class Authenticity(enum.StrEnum):
    """How far a notification can be trusted."""

    SIGNED = "signed"  # the provider's signature was checked (PayZen)
    UNSIGNED = "unsigned"  # the protocol has no signature (PayFiP): needs confirmation


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _EMAIL.match(value) or len(value) > 254:
        raise InvalidInputError(f"adresse e-mail invalide « {value} »", path=attribute.name)


def _http_url(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value):
        raise InvalidInputError(
            f"{attribute.name} doit être une adresse http(s) complète (reçu « {value} »)",
            path=attribute.name,
        )


def _positive_cents(_: Any, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidInputError(f"must be Money, got {value!r}", path=attribute.name)
    if not value.is_positive:
        raise InvalidInputError(not_positive_fr("le montant", value), path=attribute.name)
    if value.amount != value.amount.quantize(CENT):
        raise InvalidInputError(
            f"le montant doit tomber au centime près (reçu « {value.amount} »)",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class PaymentRequest:
    """One attempt to pay an invoice online, as the application services prepare it.

    ``reference`` is the attempt's unique id chosen by the services (letters and digits, at
    most 30 characters so every provider can carry it: PayFiP uses it as ``REFDET``).
    ``daily_sequence`` is the attempt's number within its UTC day for this provider, taken
    from a counter the services keep; PayZen derives its 6-digit ``vads_trans_id`` (unique
    per shop and UTC day) from it, other providers ignore it.
    """

    reference: str = attrs.field(validator=non_empty_str)
    invoice_id: str = attrs.field(validator=non_empty_str)
    invoice_number: str = attrs.field(validator=non_empty_str)
    amount: Money = attrs.field(validator=_positive_cents)
    payer_email: str = attrs.field(validator=_email)
    return_url: str = attrs.field(validator=_http_url)
    notification_url: str = attrs.field(validator=_http_url)
    requested_at: datetime = attrs.field(validator=aware_datetime)
    daily_sequence: int = attrs.field(default=0, validator=non_negative_int)
    household_id: str | None = None
    description: str | None = None  # shown by the provider ("Facture 2023-000123")

    def __attrs_post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9]{1,30}", self.reference):
            raise InvalidInputError(
                f"la référence doit compter 1 à 30 lettres ou chiffres (reçue"
                f" « {self.reference} »)",
                path="reference",
            )


def _fields(items: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    result = tuple((str(name), str(value)) for name, value in items)
    names = [name for name, _ in result]
    if len(names) != len(set(names)):
        raise InvalidInputError("a form field appears twice", path="fields")
    return result


@attrs.frozen(kw_only=True)
class PaymentForm:
    """An HTML form the payer's browser must POST to ``action_url`` (fields in order)."""

    action_url: str = attrs.field(validator=_http_url)
    fields: tuple[tuple[str, str], ...] = attrs.field(converter=_fields)
    method: str = "POST"

    def as_dict(self) -> dict[str, str]:
        """The fields as a dict (insertion order kept)."""
        return dict(self.fields)


@attrs.frozen(kw_only=True)
class PaymentStart:
    """What the portal shows to start paying: a form to post, or a URL to redirect to.

    Exactly one of ``form`` and ``redirect_url`` is set. ``transaction_id`` is the key the
    provider's notifications will carry (:attr:`VerifiedNotification.transaction_id`); the
    services store it with the request to recognise the notification later.
    """

    provider: str = attrs.field(validator=non_empty_str)
    transaction_id: str = attrs.field(validator=non_empty_str)
    reference: str = attrs.field(validator=non_empty_str)
    amount: Money = attrs.field(validator=attrs.validators.instance_of(Money))
    form: PaymentForm | None = None
    redirect_url: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.form is None) == (self.redirect_url is None):
            raise InvalidInputError("give exactly one of a form and a redirect URL", path="form")
        if self.redirect_url is not None and not re.match(r"^https?://[^\s]+$", self.redirect_url):
            raise InvalidInputError(
                f"redirect_url doit être une adresse http(s) complète"
                f" (reçu « {self.redirect_url} »)",
                path="redirect_url",
            )


def _raw(items: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    pairs = items.items() if isinstance(items, Mapping) else items
    return tuple((str(name), str(value)) for name, value in pairs)


@attrs.frozen(kw_only=True)
class VerifiedNotification:
    """A provider notification whose signature (if the protocol has one) was checked.

    ``raw_fields`` keeps every received field, signature included, for the audit trail.
    ``amount`` and ``currency`` are what the provider says was paid; they are compared with
    the expected payment by :func:`decide_notification`, never trusted blindly.
    """

    provider: str = attrs.field(validator=non_empty_str)
    transaction_id: str = attrs.field(validator=non_empty_str)
    outcome: PaymentOutcome = attrs.field(converter=PaymentOutcome)
    amount: Money
    currency: str
    provider_status: str  # the provider's own status code ("CAPTURED", "P"...)
    raw_fields: tuple[tuple[str, str], ...] = attrs.field(converter=_raw)
    authenticity: Authenticity = attrs.field(default=Authenticity.SIGNED, converter=Authenticity)
    invoice_number: str | None = None
    test: bool = False  # sent by the provider's test environment

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.amount, Money):
            raise InvalidInputError(f"must be Money, got {self.amount!r}", path="amount")
        if self.currency != self.amount.currency:
            raise InvalidInputError(
                f"currency {self.currency} differs from the amount's {self.amount.currency}",
                path="currency",
            )

    @property
    def idempotency_key(self) -> tuple[str, str]:
        """``(provider, transaction_id)``: one credit at most per key."""
        return (self.provider, self.transaction_id)


class NotificationDecision(enum.StrEnum):
    """What the services must do with a verified notification."""

    CREDIT = "credit"  # paid, amount and currency match: record the payment
    # paid, but the invoice was settled meanwhile (a second tab, a cheque): record the payment
    # (the excess becomes household credit) and flag it for staff to refund or keep
    CREDIT_FOR_REVIEW = "credit_for_review"
    DUPLICATE = "duplicate"  # already credited for this key: change nothing
    MISMATCH = "mismatch"  # paid but amount/currency/invoice differ: flag, do not credit
    NOT_PAID = "not_paid"  # refused, cancelled, pending, expired: record the attempt only
    NEEDS_CONFIRMATION = "needs_confirmation"  # unsigned "paid": confirm with the provider
    STATUS_AFTER_CREDIT = "status_after_credit"  # a non-paid status after a credit: review
    UNKNOWN_TRANSACTION = "unknown_transaction"  # no attempt with this id: reject


@attrs.frozen(kw_only=True)
class NotificationVerdict:
    """The decision on a notification, with the reason staff will read in the audit log."""

    decision: NotificationDecision
    reason: str
    notification: VerifiedNotification
    expected: PaymentRequest | None = None

    @property
    def credits(self) -> bool:
        """Whether the services must record a payment now."""
        return self.decision in {
            NotificationDecision.CREDIT,
            NotificationDecision.CREDIT_FOR_REVIEW,
        }

    @property
    def needs_review(self) -> bool:
        """Whether finance staff should look at it (mismatch, late status, unconfirmed, paid
        twice)."""
        return self.decision in {
            NotificationDecision.CREDIT_FOR_REVIEW,
            NotificationDecision.MISMATCH,
            NotificationDecision.NEEDS_CONFIRMATION,
            NotificationDecision.STATUS_AFTER_CREDIT,
        }

    def error(self) -> NotFoundError | None:
        """The error to raise after the audit record is stored (unknown transactions only)."""
        if self.decision is NotificationDecision.UNKNOWN_TRANSACTION:
            return NotFoundError(self.reason)
        return None


def decide_notification(
    notification: VerifiedNotification,
    expected: PaymentRequest | None,
    *,
    already_credited: bool,
    trust_unsigned: bool = False,
    balance_due: Money | None = None,
) -> NotificationVerdict:
    """Decide what a verified notification means for the ledger (pure, no side effect).

    ``expected`` is the payment request stored when the payment started under the
    notification's ``transaction_id`` (``None`` if the services know no such transaction).
    ``already_credited`` says whether a payment was already recorded for the notification's
    :attr:`~VerifiedNotification.idempotency_key`: the same notification twice credits once.
    ``trust_unsigned`` lets an unsigned "paid" (PayFiP) be credited; set it only when the
    notification endpoint accepts calls from the provider's servers alone, or after
    confirming the payment with the provider. ``balance_due``: what is left to pay on the
    invoice now; a payment above it (the invoice was paid meanwhile, from another browser tab
    or at the counter) is still credited, the excess becoming household credit, but flagged
    for review (:attr:`NotificationDecision.CREDIT_FOR_REVIEW`).
    """
    name = f"transaction {notification.provider} « {notification.transaction_id} »"

    def verdict(decision: NotificationDecision, reason: str) -> NotificationVerdict:
        return NotificationVerdict(
            decision=decision, reason=reason, notification=notification, expected=expected
        )

    if expected is None:
        return verdict(NotificationDecision.UNKNOWN_TRANSACTION, f"{name} inconnue")
    paid = notification.outcome is PaymentOutcome.PAID
    if already_credited:
        if paid:
            return verdict(NotificationDecision.DUPLICATE, f"{name} déjà créditée")
        return verdict(
            NotificationDecision.STATUS_AFTER_CREDIT,
            f"{name} créditée mais désormais {_OUTCOMES_FR[notification.outcome]}"
            f" ({notification.provider_status})",
        )
    if not paid:
        return verdict(
            NotificationDecision.NOT_PAID,
            f"{name} {_OUTCOMES_FR[notification.outcome]} ({notification.provider_status})",
        )
    problems: list[str] = []
    if notification.currency != expected.amount.currency:
        problems.append(f"devise {notification.currency} au lieu de {expected.amount.currency}")
    elif notification.amount != expected.amount:
        problems.append(
            f"montant {notification.amount.format_fr()} au lieu de {expected.amount.format_fr()}"
        )
    if (
        notification.invoice_number is not None
        and notification.invoice_number != expected.invoice_number
    ):
        problems.append(
            f"facture « {notification.invoice_number} » au lieu de « {expected.invoice_number} »"
        )
    if problems:
        return verdict(NotificationDecision.MISMATCH, f"{name} : " + " ; ".join(problems))
    if notification.authenticity is Authenticity.UNSIGNED and not trust_unsigned:
        return verdict(
            NotificationDecision.NEEDS_CONFIRMATION,
            f"{name} annoncée payée mais non signée : à confirmer auprès du prestataire",
        )
    if balance_due is not None and notification.amount > balance_due:
        return verdict(
            NotificationDecision.CREDIT_FOR_REVIEW,
            f"{name} payée {notification.amount.format_fr()} alors que la facture "
            f"{expected.invoice_number} n'avait plus que {balance_due.format_fr()} à payer "
            "(réglée entre-temps) : l'excédent est un avoir du foyer, à rembourser ou à conserver",
        )
    return verdict(NotificationDecision.CREDIT, f"{name} payée {notification.amount.format_fr()}")


#: Invoice statuses (values of the invoicing status enum) that may be paid online.
PAYABLE_INVOICE_STATUSES = frozenset({"issued", "partially_paid", "overdue"})


def online_payment_refusal(
    *,
    status: str,
    balance_due: Money,
    payment_open_date: date | None,
    today: date,
    minimum: Money,
    payable_statuses: Iterable[str] = PAYABLE_INVOICE_STATUSES,
) -> str | None:
    """Why an invoice cannot be paid online now (a French sentence for the family), or ``None``.

    ``status`` is the invoice status value (a string or a ``StrEnum`` member); ``today`` is
    the Europe/Paris calendar date (:func:`canteen_core.domain.clock.paris_today`); online payment
    opens on ``payment_open_date`` (``None``: as soon as the invoice is issued) and needs a
    balance due of at least ``minimum``.
    """
    check_date(today, "today")
    if payment_open_date is not None:
        check_date(payment_open_date, "payment_open_date")
    for name, value in (("balance_due", balance_due), ("minimum", minimum)):
        if not isinstance(value, Money):
            raise InvalidInputError(f"must be Money, got {value!r}", path=name)
    if minimum.is_negative:
        raise InvalidInputError(
            f"le minimum payable en ligne ne peut pas être négatif (reçu {minimum.format_fr()})",
            path="minimum",
        )
    if str(status) not in {str(item) for item in payable_statuses}:
        return (
            "Cette facture ne peut pas être payée en ligne (elle n’est pas en attente de paiement)."
        )
    if not balance_due.is_positive:
        return "Cette facture est déjà réglée."
    if payment_open_date is not None and today < payment_open_date:
        return (
            "Le paiement en ligne de cette facture sera possible à partir du "
            f"{payment_open_date:%d/%m/%Y}."
        )
    if balance_due < minimum:
        return (
            f"Le paiement en ligne est possible à partir de {minimum.format_fr()} ; "
            f"le reste à payer est de {balance_due.format_fr()}."
        )
    return None


def ensure_online_payment_allowed(
    *,
    status: str,
    balance_due: Money,
    payment_open_date: date | None,
    today: date,
    minimum: Money,
    payable_statuses: Iterable[str] = PAYABLE_INVOICE_STATUSES,
) -> None:
    """Raise :class:`~canteen_core.domain.errors.RuleViolationError` unless online payment is open.

    Same parameters as :func:`online_payment_refusal`; the error message is its French reason.
    """
    reason = online_payment_refusal(
        status=status,
        balance_due=balance_due,
        payment_open_date=payment_open_date,
        today=today,
        minimum=minimum,
        payable_statuses=payable_statuses,
    )
    if reason is not None:
        raise RuleViolationError(reason)
