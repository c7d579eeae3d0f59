""":class:`Notifier`: one method per message kind, turning events and account actions into
:class:`OutgoingMessage` records (see :mod:`canteen_core.domain.notifications`).

The template machinery it renders with (environment, stencils) is
:class:`~canteen_core.domain.notifications.rendering.MailRenderer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import attrs

from canteen_core.domain.accounts import Invitation, PasswordReset
from canteen_core.domain.calendar import Period
from canteen_core.domain.clock import Clock
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.events import (
    AccountInvited,
    ChangeRequestDecided,
    CreditNoteIssued,
    DirectDebitAnnounced,
    Event,
    InvoiceIssued,
    InvoiceOverdue,
    PaymentReceived,
)
from canteen_core.domain.notifications.deferred import (
    deferred_messages,
    invoice_from_values,
    invoice_values,
    is_deferred,
)
from canteen_core.domain.notifications.messages import (
    PAYMENT_METHOD_LABELS,
    NotificationSettings,
    OutgoingMessage,
    Recipient,
)
from canteen_core.domain.notifications.rendering import MailRenderer


def secret_placeholder(name: str) -> str:
    """What a stored body holds where the secret ``name`` goes (see
    :mod:`canteen_core.domain.mail_secrets`)."""
    return f"[[canteen-secret:{name}]]"


class SecretSealer(Protocol):
    """Keeps the secret values of a message apart from its stored bodies
    (:class:`~canteen_core.domain.mail_secrets.MailSecrets`)."""

    def seal(self, message: OutgoingMessage, values: Mapping[str, str]) -> OutgoingMessage:
        """``message`` (rendered with :func:`secret_placeholder`) with ``values`` sealed."""
        ...


class Notifier(MailRenderer):
    """Renders messages from templates (package templates, overridden per deployment)."""

    def __init__(
        self,
        settings: NotificationSettings,
        *,
        clock: Clock,
        secrets: SecretSealer | None = None,
    ) -> None:
        super().__init__(settings, clock=clock)
        #: Seals the temporary password and token links of account emails (see
        #: :mod:`canteen_core.domain.mail_secrets`); without it they are rendered in clear.
        self.secrets = secrets

    # -- account messages ------------------------------------------------------------------

    def invitation(
        self,
        invitation: Invitation,
        *,
        recipient: Recipient | None = None,
        opens_at: datetime | None = None,
    ) -> OutgoingMessage:
        """The welcome email with username, temporary password and activation link (seed's
        step 1). ``opens_at`` (the portal opening) adds "la connexion sera possible à partir
        du ..."."""
        account = invitation.account
        token = invitation.activation_token.reveal()
        secrets = {
            "temporary_password": invitation.temporary_password.reveal(),
            "activation_url": self.settings.link(self.settings.activation_url, token=token),
        }
        context = {
            "username": account.username,
            "expires_at": invitation.expires_at,
            "opens_at": opens_at,
        }
        return self._render_sealed(
            "invitation",
            recipient or Recipient.from_account(account),
            context,
            secrets,
            key=f"{account.id}:{token.split('.')[0]}",
            account_id=account.id,
        )

    def password_reset(self, reset: PasswordReset) -> OutgoingMessage:
        """The email carrying a password-reset link."""
        account = reset.account
        token = reset.token.reveal()
        secrets = {"reset_url": self.settings.link(self.settings.reset_url, token=token)}
        context = {"username": account.username, "expires_at": reset.expires_at}
        return self._render_sealed(
            "password-reset",
            Recipient.from_account(account),
            context,
            secrets,
            key=f"{account.id}:{token.split('.')[0]}",
            account_id=account.id,
        )

    def _render_sealed(
        self,
        kind: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        secrets: Mapping[str, str],
        *,
        key: str,
        account_id: str,
    ) -> OutgoingMessage:
        """Render with placeholders for ``secrets`` and seal them (with :attr:`secrets`), or
        render them in clear without a key."""
        if self.secrets is None:
            return self.render(
                kind, recipient, {**context, **secrets}, key=key, account_id=account_id
            )
        marked = {name: secret_placeholder(name) for name in secrets}
        message = self.render(
            kind, recipient, {**context, **marked}, key=key, account_id=account_id
        )
        return self.secrets.seal(message, secrets)

    # -- domain events ---------------------------------------------------------------------

    def change_request_decided(
        self,
        event: ChangeRequestDecided,
        recipients: Sequence[Recipient],
        *,
        child_name: str,
        service_name: str | None = None,
    ) -> list[OutgoingMessage]:
        """A late change request was approved or rejected (with the reason, if given)."""
        context = {
            "approved": event.approved,
            "day": event.day,
            "child_name": child_name,
            "reason": event.reason,
            "service_name": service_name,
            "reservations_url": self.settings.link(self.settings.reservations_url),
        }
        return self._each(
            "change-request-decided",
            recipients,
            context,
            key=event.request_id,
            household_id=event.household_id,
        )

    def invoice_issued(
        self,
        event: InvoiceIssued,
        recipients: Sequence[Recipient],
        *,
        label: str | None = None,
        payable_online_from: date | None = None,
        deferred: bool = False,
    ) -> list[OutgoingMessage]:
        """A new invoice is available (``label`` like "SEPTEMBRE 2023").

        ``deferred``: queue the messages unrendered, rendered by the outbox dispatcher at the
        send (:meth:`render_deferred`, :mod:`~canteen_core.domain.notifications.deferred`):
        what a billing run does."""
        if deferred:
            return deferred_messages(
                "invoice-issued",
                recipients,
                invoice_values(event, label=label, payable_online_from=payable_online_from),
                key=event.invoice_id,
                household_id=event.household_id,
                created_at=self.clock.now(),
            )
        context = {
            "label": label,
            "due_date": event.due_date,
            "payable_online_from": payable_online_from,
            "invoices_url": self.settings.link(self.settings.invoices_url),
        }
        return self._each(
            "invoice-issued",
            recipients,
            context,
            key=event.invoice_id,
            household_id=event.household_id,
            varying={"number": event.number, "total": event.total},
        )

    def render_deferred(self, message: OutgoingMessage) -> OutgoingMessage:
        """``message`` rendered if it was queued unrendered (see
        :mod:`~canteen_core.domain.notifications.deferred`), else ``message`` itself: the
        same id, recipient and creation instant, the text rendering it at queue time gives.
        :class:`InvalidInputError` for a damaged one, :class:`ConfigurationError` for a
        template that fails or a kind that cannot be deferred."""
        if not is_deferred(message):
            return message
        if message.kind != "invoice-issued":
            raise ConfigurationError(f"kind {message.kind!r} is not rendered at the send")
        event, label, online = invoice_from_values(message)
        (rendered,) = self.invoice_issued(
            event,
            [Recipient(address=message.to_address, name=message.to_name)],
            label=label,
            payable_online_from=online,
        )
        return attrs.evolve(
            rendered, created_at=message.created_at, household_id=message.household_id
        )

    def payment_received(
        self,
        event: PaymentReceived,
        recipients: Sequence[Recipient],
        *,
        invoice_numbers: Sequence[str] = (),
    ) -> list[OutgoingMessage]:
        """Confirmation of a payment."""
        context = {
            "amount": event.amount,
            "method": event.method,
            "method_label": PAYMENT_METHOD_LABELS.get(event.method.lower(), event.method),
            # The day the money came (a cheque's --date), not the day it was recorded.
            "received_on": event.received_on or event.occurred_at,
            "invoice_numbers": tuple(invoice_numbers),
            "invoices_url": self.settings.link(self.settings.invoices_url),
        }
        return self._each(
            "payment-received",
            recipients,
            context,
            key=event.payment_id,
            household_id=event.household_id,
        )

    def credit_note_issued(
        self, event: CreditNoteIssued, recipients: Sequence[Recipient]
    ) -> list[OutgoingMessage]:
        """A credit note was issued on one of the household's invoices."""
        context = {
            "number": event.number,
            "invoice_number": event.invoice_number,
            "total": event.total,
            "reason": event.reason,
            "invoices_url": self.settings.link(self.settings.invoices_url),
        }
        return self._each(
            "credit-note-issued",
            recipients,
            context,
            key=event.credit_note_id,
            household_id=event.household_id,
        )

    def site_closed(
        self,
        recipients: Sequence[Recipient],
        *,
        household_id: str,
        key: str,
        site_name: str,
        closure: Period,
        children: Sequence[tuple[str, Sequence[date]]],
    ) -> list[OutgoingMessage]:
        """The site closes over ``closure`` (strike, works): the booked days it cancels, per
        child (name, days), are not charged. ``key`` names the closure (one message per
        closure and recipient)."""
        context = {
            "site_name": site_name,
            "closure_name": closure.name,
            "first_day": closure.first_day,
            "last_day": closure.last_day,
            "children": tuple((name, tuple(days)) for name, days in children),
            "reservations_url": self.settings.link(self.settings.reservations_url),
        }
        return self._each("site-closed", recipients, context, key=key, household_id=household_id)

    def invoice_overdue(
        self, event: InvoiceOverdue, recipients: Sequence[Recipient]
    ) -> list[OutgoingMessage]:
        """A reminder for an unpaid invoice (``level`` 1 is a gentle reminder)."""
        context = {
            "number": event.number,
            "balance_due": event.balance_due,
            "due_date": event.due_date,
            "level": event.level,
            "invoices_url": self.settings.link(self.settings.invoices_url),
        }
        return self._each(
            "invoice-overdue",
            recipients,
            context,
            key=f"{event.invoice_id}:{event.level}",
            household_id=event.household_id,
        )

    def direct_debit_announced(
        self, event: DirectDebitAnnounced, recipients: Sequence[Recipient]
    ) -> list[OutgoingMessage]:
        """The SEPA pre-notification: amount, date, mandate reference and creditor id."""
        context = {
            "amount": event.amount,
            "collection_date": event.collection_date,
            "mandate_reference": event.mandate_reference,
            "creditor_name": self.settings.creditor_name or self.settings.organisation,
            "creditor_identifier": self.settings.creditor_identifier,
        }
        return self._each(
            "direct-debit-announced",
            recipients,
            context,
            key=(
                f"{event.household_id}:{event.mandate_reference}:"
                f"{event.collection_date.isoformat()}"
            ),
            household_id=event.household_id,
        )

    def for_event(
        self, event: Event, recipients: Sequence[Recipient], **details: Any
    ) -> list[OutgoingMessage]:
        """Messages for any event: dispatches on its type; events that send no email
        (``ReservationsChanged``...) give ``[]``. ``details`` are the keyword arguments of the
        specific method (``child_name`` for change requests, ``label`` for invoices...).
        :class:`~canteen_core.domain.events.AccountInvited` is refused: use :meth:`invitation`."""
        if isinstance(event, ChangeRequestDecided):
            return self.change_request_decided(event, recipients, **details)
        if isinstance(event, InvoiceIssued):
            return self.invoice_issued(event, recipients, **details)
        if isinstance(event, PaymentReceived):
            return self.payment_received(event, recipients, **details)
        if isinstance(event, InvoiceOverdue):
            return self.invoice_overdue(event, recipients, **details)
        if isinstance(event, CreditNoteIssued):
            return self.credit_note_issued(event, recipients, **details)
        if isinstance(event, DirectDebitAnnounced):
            return self.direct_debit_announced(event, recipients, **details)
        if isinstance(event, AccountInvited):
            # The event carries no secrets by design; the welcome email needs them.
            raise InvalidInputError(
                "render the welcome email with Notifier.invitation(invitation), which has the "
                "temporary password and the activation token",
                path="event",
            )
        if not isinstance(event, Event):
            raise InvalidInputError(f"expected an event, got {type(event).__name__}")
        return []
