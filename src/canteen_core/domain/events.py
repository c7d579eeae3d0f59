"""Domain events: facts about committed changes.

The application services collect events during a use case and, only after the transaction
commits, pass them to the event hooks (``canteen_reservations_changed``...) and to the
notification rules that turn some of them into emails. A rolled-back change fires nothing.
Events carry identifiers and amounts, never secrets (no passwords, no tokens).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, NotRequired, Self, TypedDict, Unpack

import attrs

from canteen_core.domain._validators import aware_datetime
from canteen_core.domain.money import Money

if TYPE_CHECKING:
    from canteen_core.domain.enrollments import Enrollment

__all__ = [
    "AccountInvited",
    "ChangeRequestDecided",
    "CreditNoteIssued",
    "DaysChange",
    "DirectDebitAnnounced",
    "Event",
    "InvoiceIssued",
    "InvoiceOverdue",
    "PaymentReceived",
    "ReservationsChanged",
]


@attrs.frozen(kw_only=True)
class Event:
    """Base class: every event says when it happened (aware, UTC)."""

    occurred_at: datetime = attrs.field(validator=aware_datetime)


@attrs.frozen(kw_only=True)
class ReservationsChanged(Event):
    """Days were booked or cancelled for one child's enrollment (``pending`` awaits staff)."""

    household_id: str
    child_id: str
    enrollment_id: str
    actor_id: str
    booked: tuple[date, ...] = ()
    cancelled: tuple[date, ...] = ()
    pending: tuple[date, ...] = ()

    @classmethod
    def for_enrollment(
        cls, enrollment: Enrollment, occurred_at: datetime, **change: Unpack[DaysChange]
    ) -> Self:
        """The event of ``enrollment``'s days changed at ``occurred_at``: its household, child
        and id are the enrollment's, the rest is ``change``."""
        return cls(
            occurred_at=occurred_at,
            household_id=enrollment.household_id,
            child_id=enrollment.child_id,
            enrollment_id=enrollment.id,
            **change,
        )


class DaysChange(TypedDict):
    """Who changed which days of an enrollment (:meth:`ReservationsChanged.for_enrollment`)."""

    actor_id: str
    booked: NotRequired[tuple[date, ...]]
    cancelled: NotRequired[tuple[date, ...]]
    pending: NotRequired[tuple[date, ...]]


@attrs.frozen(kw_only=True)
class ChangeRequestDecided(Event):
    """Staff approved or rejected a late change request."""

    request_id: str
    household_id: str
    child_id: str
    day: date
    approved: bool
    reason: str | None
    decided_by: str


@attrs.frozen(kw_only=True)
class InvoiceIssued(Event):
    """An invoice was issued to a household."""

    invoice_id: str
    number: str
    household_id: str
    total: Money
    due_date: date


@attrs.frozen(kw_only=True)
class CreditNoteIssued(Event):
    """A credit note (avoir) was issued on an invoice of a household: by the finance office,
    for prepaid cancellations, or by the régularisation of a post-paid run."""

    credit_note_id: str
    number: str
    invoice_id: str
    invoice_number: str
    household_id: str
    total: Money
    reason: str


@attrs.frozen(kw_only=True)
class InvoiceOverdue(Event):
    """A reminder step is due for an unpaid invoice (``level`` 1 = first reminder)."""

    invoice_id: str
    number: str
    household_id: str
    balance_due: Money
    due_date: date
    level: int


@attrs.frozen(kw_only=True)
class PaymentReceived(Event):
    """Money was received from a household and allocated.

    ``received_on`` is the day the money was received (a cheque recorded on Monday for
    Friday's post), which the receipt states; ``occurred_at`` is when it was recorded.
    """

    payment_id: str
    household_id: str
    amount: Money
    method: str
    invoice_ids: tuple[str, ...] = ()
    received_on: date | None = None


@attrs.frozen(kw_only=True)
class DirectDebitAnnounced(Event):
    """A household will be debited (SEPA pre-notification)."""

    household_id: str
    amount: Money
    collection_date: date
    mandate_reference: str


@attrs.frozen(kw_only=True)
class AccountInvited(Event):
    """A portal account was created for a guardian and an invitation sent."""

    account_id: str
    username: str
    email: str
    household_id: str | None = None
