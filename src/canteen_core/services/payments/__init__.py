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
    numbers, so two attempts never share a PayZen ``vads_trans_id``), and stores the
    :class:`~canteen_core.domain.online_payment.PaymentRequest` as a
    :class:`~canteen_core.domain.payment_requests.StartedPayment` (``uow.payment_requests``,
    :meth:`PaymentService.payment_requests`), keyed by the provider's transaction id, so the
    notification can be matched to what was asked.

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
    reopen. The bank's return files (:meth:`PaymentService.load_debit_returns`, pain.002 and
    camt.054) do the same from the file, keep each return with its reason code and tell the
    family (:mod:`.bank_returns`).
"""

from __future__ import annotations

from canteen_core.services.payments._base import PaymentBase, PaymentOptions
from canteen_core.services.payments.bank_returns import BankReturns, ReturnFileReport
from canteen_core.services.payments.counter import REFUND_METHODS, CounterPayments
from canteen_core.services.payments.debit_schedule import DebitSchedule, DebitSchedules
from canteen_core.services.payments.direct_debit import (
    DebitReturns,
    DirectDebitReport,
    DirectDebits,
)
from canteen_core.services.payments.online import NotificationResult, OnlinePayments
from canteen_core.services.payments.payment_return import OnlinePaymentStatus, PaymentReturns

__all__ = [
    "REFUND_METHODS",
    "DebitReturns",
    "DebitSchedule",
    "DirectDebitReport",
    "NotificationResult",
    "OnlinePaymentStatus",
    "PaymentBase",
    "PaymentOptions",
    "PaymentService",
    "ReturnFileReport",
]


class PaymentService(
    OnlinePayments, PaymentReturns, DirectDebits, BankReturns, DebitSchedules, CounterPayments
):
    """``canteen.payments``: online payments, notifications, counter payments, refunds, SEPA.

    One object whose methods come from the rooms of this package: :mod:`.online` (card
    payments and provider notifications), :mod:`.mandates` (SEPA mandates), :mod:`.direct_debit`
    (SEPA runs, returns) and :mod:`.counter` (cash, cheque, CESU, refunds, rejections).
    """
