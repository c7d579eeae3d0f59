""" "Mes prélèvements": each mandate's upcoming debits, pre-notifications and past debits.

The schedule is read from what the direct-debit use cases (:mod:`.direct_debit`,
:mod:`.bank_returns`) stored; nothing new is kept:

- **upcoming**: the debits already in a bank file whose collection date has not come (their
  direct-debit payment is dated the collection date, :meth:`DirectDebits.run_direct_debit`), and
  the invoices still open under a collectable mandate, at the earliest date the next run can
  collect them: the invoice's due date, but never before today plus the SEPA notice
  (``[payment.sepa] pre_notification_days``, 14 by default), moved to a TARGET2 business day. Those
  are a forecast (``announced`` false): the date is the commune's run's.
- **pre-notifications**: one per mandate and collection date (the e-mail each run queues), with
  its delivery state read from the outbox by its stable message id.
- **past**: debits whose collection date has come, with the day a returned debit was recorded
  and, when it came from the bank's return file, the reason (:mod:`.bank_returns`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import attrs

from canteen_core.config.deployment import Deployment
from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import Invoice
from canteen_core.domain.ledger import HouseholdAccount, Payment, PaymentMethod
from canteen_core.domain.mandates import DirectDebitMandate, next_target2_business_day
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import message_id_for
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.billing import household_account, household_recipients
from canteen_core.services.payments._base import PaymentBase

__all__ = [
    "DEFAULT_NOTICE_DAYS",
    "DebitSchedule",
    "MandateSchedule",
    "PastDebit",
    "PreNotification",
    "ScheduledDebit",
    "earliest_collection_date",
]

#: The SEPA pre-notification period when ``[payment.sepa]`` does not set one.
DEFAULT_NOTICE_DAYS = 14
#: The outbox message kind of a pre-notification.
ANNOUNCEMENT_KIND = "direct-debit-announced"


@attrs.frozen(kw_only=True)
class ScheduledDebit:
    """An upcoming debit of one invoice. ``announced``: already in a bank file and
    pre-notified (the date is firm); otherwise a forecast of the next run."""

    invoice_id: str
    invoice_number: str
    label: str
    amount: Money
    collection_date: date
    announced: bool


@attrs.frozen(kw_only=True)
class PreNotification:
    """The e-mail announcing a collection: its date, amount and delivery state
    (``queued``, ``sent``, ``failed``; ``unknown`` when no message is found)."""

    collection_date: date
    amount: Money
    recipients: tuple[str, ...]
    status: str
    sent_at: datetime | None


@attrs.frozen(kw_only=True)
class PastDebit:
    """A debit whose collection date has come; ``returned_on`` when the bank returned it,
    with the bank's reason code and its French label when a return file said why."""

    invoice_id: str | None
    invoice_number: str
    amount: Money
    collection_date: date
    returned_on: date | None
    reason_code: str | None = None
    reason_label: str | None = None

    @property
    def returned(self) -> bool:
        """Whether the debit was returned or rejected (the invoice reopened)."""
        return self.returned_on is not None


@attrs.frozen(kw_only=True)
class MandateSchedule:
    """One mandate with its debits."""

    mandate: DirectDebitMandate
    upcoming: tuple[ScheduledDebit, ...]
    pre_notifications: tuple[PreNotification, ...]
    past: tuple[PastDebit, ...]


@attrs.frozen(kw_only=True)
class DebitSchedule:
    """The household's direct debits, per mandate (newest signature first), as of ``today``;
    ``earliest_collection`` is the first date a new run may collect (notice included)."""

    household_id: str
    today: date
    earliest_collection: date
    mandates: tuple[MandateSchedule, ...]


def _mandate_of(mandates: list[DirectDebitMandate], day: date) -> DirectDebitMandate | None:
    """The mandate a debit collected on ``day`` went under: the one whose collections span
    ``day``, else the latest signed by then."""
    spanning = [
        m
        for m in mandates
        if m.first_collected_on is not None
        and m.last_collected_on is not None
        and m.first_collected_on <= day <= m.last_collected_on
    ]
    candidates = spanning or [m for m in mandates if m.signed_on <= day]
    if not candidates:
        return None
    return max(candidates, key=lambda m: (m.signed_on, m.reference))


def earliest_collection_date(deployment: Deployment, today: date) -> date:
    """The first date a direct-debit run started ``today`` may collect: the SEPA notice the
    deployment gives families (``[payment.sepa] pre_notification_days``, else 14 days) later,
    moved to a TARGET2 business day."""
    days = deployment.payment.get("sepa", {}).get("pre_notification_days")
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        days = DEFAULT_NOTICE_DAYS
    return next_target2_business_day(today + timedelta(days=days))


class DebitSchedules(PaymentBase):
    """The household's schedule of direct debits ("Mes prélèvements")."""

    def debit_schedule(self, actor: Actor, household_id: str) -> DebitSchedule:
        """Each mandate of the household with its upcoming debits (invoice, amount, date), the
        pre-notifications sent and the past debits with returns (``view_payments``: a family
        sees only its own household)."""
        with self._viewing(actor, Action.VIEW_PAYMENTS, household_id) as tx:
            uow = tx.uow
            household = uow.households.get(household_id)
            today = paris_date(tx.now)
            mandates = sorted(
                uow.mandates.list(household_id=household_id),
                key=lambda m: (m.signed_on, m.reference),
                reverse=True,
            )
            account = household_account(uow, household_id)
            earliest = earliest_collection_date(self._ctx.deployment, today)
            schedules = _schedules(uow, household, account, mandates, today, earliest)
        return DebitSchedule(
            household_id=household_id,
            today=today,
            earliest_collection=earliest,
            mandates=schedules,
        )


def _schedules(
    uow: UnitOfWork,
    household: Household,
    account: HouseholdAccount,
    mandates: list[DirectDebitMandate],
    today: date,
    earliest: date,
) -> tuple[MandateSchedule, ...]:
    numbers = {invoice.number: invoice for invoice in account.invoices}
    debits: dict[str, list[Payment]] = defaultdict(list)
    for payment in account.payments:
        if payment.method is not PaymentMethod.DIRECT_DEBIT:
            continue
        mandate = _mandate_of(mandates, payment.received_on)
        if mandate is not None:
            debits[mandate.reference].append(payment)
    reasons = {r.payment_id: r for r in uow.debit_returns.list(household_id=household.id)}
    active = next((m for m in mandates if m.collectable), None)
    addresses = [recipient.address for recipient in household_recipients(household)]
    result = []
    for mandate in mandates:
        payments = sorted(debits[mandate.reference], key=lambda p: (p.received_on, p.id))
        upcoming = [
            ScheduledDebit(
                invoice_id=p.invoice_ids[0] if p.invoice_ids else "",
                invoice_number=p.reference or "",
                label=_label(numbers, p.reference),
                amount=p.amount,
                collection_date=p.received_on,
                announced=True,
            )
            for p in payments
            if p.received_on > today and not p.is_rejected
        ]
        if mandate is active:
            for state in account.open_invoices():
                day = next_target2_business_day(max(earliest, state.invoice.due_date))
                upcoming.append(
                    ScheduledDebit(
                        invoice_id=state.invoice.id,
                        invoice_number=state.invoice.number,
                        label=state.invoice.label,
                        amount=state.uncovered,
                        collection_date=day,
                        announced=False,
                    )
                )
        past = tuple(
            PastDebit(
                invoice_id=p.invoice_ids[0] if p.invoice_ids else None,
                invoice_number=p.reference or "",
                amount=p.amount,
                collection_date=p.received_on,
                returned_on=p.rejected_on,
                reason_code=reasons[p.id].reason_code if p.id in reasons else None,
                reason_label=reasons[p.id].reason_label if p.id in reasons else None,
            )
            for p in reversed(payments)
            if p.received_on <= today
        )
        result.append(
            MandateSchedule(
                mandate=mandate,
                upcoming=tuple(
                    sorted(upcoming, key=lambda d: (d.collection_date, d.invoice_number))
                ),
                pre_notifications=_announcements(uow, household.id, mandate, payments, addresses),
                past=past,
            )
        )
    return tuple(result)


def _label(numbers: dict[str, Invoice], number: str | None) -> str:
    invoice = numbers.get(number or "")
    return invoice.label if invoice is not None else f"Facture {number}"


def _announcements(
    uow: UnitOfWork,
    household_id: str,
    mandate: DirectDebitMandate,
    payments: list[Payment],
    addresses: list[str],
) -> tuple[PreNotification, ...]:
    """One pre-notification per collection date of the mandate, newest first."""
    totals: dict[date, Money] = {}
    for payment in payments:
        totals[payment.received_on] = totals.get(payment.received_on, Money.zero()) + payment.amount
    found = []
    for day in sorted(totals, reverse=True):
        key = f"{household_id}:{mandate.reference}:{day.isoformat()}"
        records = [
            record
            for address in addresses
            if (record := uow.outbox.get(message_id_for(ANNOUNCEMENT_KIND, key, address)))
            is not None
        ]
        statuses = {record.status.value for record in records}
        if not records:
            status = "unknown"
        elif statuses == {"sent"}:
            status = "sent"
        elif "dead" in statuses:
            status = "failed"
        else:
            status = "queued"
        sent = [record.sent_at for record in records if record.sent_at is not None]
        found.append(
            PreNotification(
                collection_date=day,
                amount=totals[day],
                recipients=tuple(record.message.to_address for record in records),
                status=status,
                sent_at=max(sent) if sent else None,
            )
        )
    return tuple(found)
