""":class:`Notifier`: events and account actions rendered into :class:`OutgoingMessage` records
(see :mod:`canteen_core.domain.notifications`).

One class, one idea (a message per kind, rendered in full or through a stencil): it reads
better whole than split, at a little over 500 lines.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import attrs
import jinja2
import markupsafe

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
from canteen_core.domain.money import Money
from canteen_core.domain.notifications.deferred import (
    deferred_messages,
    invoice_from_values,
    invoice_values,
    is_deferred,
)
from canteen_core.domain.notifications.filters import (
    _date_fr,
    _datetime_fr,
    _money_or_slot,
    _printed,
    _single_line,
    _Slot,
    _Stencil,
    _weekday_fr,
)
from canteen_core.domain.notifications.messages import (
    PAYMENT_METHOD_LABELS,
    NotificationSettings,
    OutgoingMessage,
    Recipient,
    _bulk_message,
    message_id_for,
)


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


class Notifier:
    """Renders messages from templates (package templates, overridden per deployment)."""

    def __init__(
        self,
        settings: NotificationSettings,
        *,
        clock: Clock,
        secrets: SecretSealer | None = None,
    ) -> None:
        if not isinstance(settings, NotificationSettings):
            raise ConfigurationError("expected NotificationSettings", path="settings")
        self.settings = settings
        self.clock = clock
        #: Seals the temporary password and token links of account emails (see
        #: :mod:`canteen_core.domain.mail_secrets`); without it they are rendered in clear.
        self.secrets = secrets
        loaders: list[jinja2.BaseLoader] = []
        if settings.template_dir is not None:
            if not settings.template_dir.is_dir():
                raise ConfigurationError(
                    f"template directory {str(settings.template_dir)!r} does not exist",
                    path="template_dir",
                )
            loaders.append(jinja2.FileSystemLoader(settings.template_dir))
        loaders.append(jinja2.PackageLoader("canteen_core", "templates/mail"))
        self.environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.environment.filters.update(
            money=_money_or_slot,
            date_fr=_date_fr,
            weekday_fr=_weekday_fr,
            datetime_fr=_datetime_fr,
        )
        # Stencils (a kind rendered once per shape, values filled in per message) are only
        # used with the package's own templates, whose use of each value is known and tested.
        package = jinja2.PackageLoader("canteen_core", "templates/mail")
        self._stencils_allowed = settings.template_dir is None or not any(
            (settings.template_dir / name).exists() for name in package.list_templates()
        )
        self._stencils: dict[tuple[Any, ...], _Stencil | None] = {}
        self._stencils_lock = threading.Lock()

    # -- generic ---------------------------------------------------------------------------

    def render(
        self,
        kind: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        *,
        key: str,
        household_id: str | None = None,
        account_id: str | None = None,
    ) -> OutgoingMessage:
        """Render the three templates of ``kind`` for ``recipient``.

        ``key`` identifies what the message is about (an invoice id, an event...): with the
        kind and the address it makes the message id. Plugins may render their own kinds.
        """
        if not isinstance(recipient, Recipient):
            raise InvalidInputError("expected a Recipient", path="recipient")
        variables = {
            "recipient": recipient,
            "settings": self.settings,
            "signature": self.settings.signature_text,
            **context,
        }
        try:
            subject = self.environment.get_template(f"{kind}.subject.txt").render(variables)
            text = self.environment.get_template(f"{kind}.txt").render(variables)
            html = self.environment.get_template(f"{kind}.html").render(variables)
        except jinja2.TemplateNotFound as error:
            raise ConfigurationError(
                f"no mail template {error.name!r} for kind {kind!r}", path="template_dir"
            ) from None
        except jinja2.TemplateError as error:
            raise ConfigurationError(
                f"mail template for {kind!r} failed: {error}", path="template_dir"
            ) from None
        return OutgoingMessage(
            id=message_id_for(kind, key, recipient.address),
            kind=kind,
            to_address=recipient.address,
            to_name=recipient.name,
            subject=_single_line(subject),
            text_body=text,
            html_body=html,
            headers=(("Auto-Submitted", "auto-generated"), ("X-Canteen-Kind", kind)),
            created_at=self.clock.now(),
            household_id=household_id,
            account_id=account_id,
        )

    def _each(
        self,
        kind: str,
        recipients: Sequence[Recipient],
        context: Mapping[str, Any],
        *,
        key: str,
        household_id: str | None,
        varying: Mapping[str, str | Money] | None = None,
    ) -> list[OutgoingMessage]:
        """Render ``kind`` for each distinct recipient address.

        ``varying``: the context values that change from one message to the next (invoice
        number, total), for kinds sent in bulk: the templates are then rendered once per
        shape of the rest of the context and these values filled in (:meth:`_stenciled`).
        """
        if isinstance(recipients, Recipient):
            recipients = [recipients]
        seen: set[str] = set()
        messages = []
        for recipient in recipients:
            if recipient.address.lower() in seen:  # payer and co-representative may share one
                continue
            seen.add(recipient.address.lower())
            message = None
            if varying is not None and self._stencils_allowed:
                message = self._stenciled(
                    kind, recipient, context, varying, key=key, household_id=household_id
                )
            if message is None:
                full = {**context, **(varying or {})}
                message = self.render(kind, recipient, full, key=key, household_id=household_id)
            messages.append(message)
        return messages

    def _stenciled(
        self,
        kind: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        varying: Mapping[str, str | Money],
        *,
        key: str,
        household_id: str | None,
    ) -> OutgoingMessage | None:
        """:meth:`render` through a stencil of the shape, or ``None`` when the shape has none.

        The recipient's name and address and the ``varying`` values are the holes; a name
        that is empty stays in the shape (templates test it). A stencil is kept only if two
        renderings with different stand-ins agree everywhere but in the holes.
        """
        name = recipient.name
        shape = (kind, tuple(sorted(context.items())), tuple(sorted(varying)), bool(name) or name)
        try:
            hash(shape)
        except TypeError:
            return None
        try:
            stencil = self._stencils[shape]
        except KeyError:
            stencil = self._make_stencil(kind, context, varying, bool(name), name)
            with self._stencils_lock:  # a notifier may serve several threads
                if len(self._stencils) >= 64:
                    self._stencils.pop(next(iter(self._stencils)))
                self._stencils[shape] = stencil
        if stencil is None:
            return None
        plain = {slot: _printed(value) for slot, value in varying.items()}
        plain["address"] = recipient.address
        if name:
            plain["name"] = name
        escaped = {slot: str(markupsafe.escape(value)) for slot, value in plain.items()}
        subject = _single_line(_Stencil.fill(stencil.subject, plain))
        text = _Stencil.fill(stencil.text, plain)
        created = self.clock.now()
        # The stencil's kind rendered into a valid message (its id, kind and headers were
        # checked then), a Recipient's address is normalized and its name single line, the
        # subject is one non-empty line, the text not blank, the instant aware: what
        # OutgoingMessage checks holds (compared by tests).
        trusted = (
            type(recipient) is Recipient
            and bool(subject)
            and bool(text.strip())
            and isinstance(created, datetime)
            and created.utcoffset() is not None
        )
        return _bulk_message(
            kind,
            recipient,
            key=key,
            subject=subject,
            text_body=text,
            html_body=_Stencil.fill(stencil.html, escaped),
            created_at=created,
            household_id=household_id,
            trusted=trusted,
        )

    def _make_stencil(
        self,
        kind: str,
        context: Mapping[str, Any],
        varying: Mapping[str, str | Money],
        named: bool,
        name: str | None,
    ) -> _Stencil | None:
        slots = [*varying, "address", *(["name"] if named else [])]
        renderings = []
        for tag in ("q", "zz"):  # stand-ins of different lengths and letters
            tokens = {slot: f"{tag}{uuid.uuid4().hex}{tag}" for slot in slots}
            recipient = Recipient(
                address=f"{tokens['address']}@stencil.invalid",
                name=tokens["name"] if named else name,
            )
            tokens["address"] = recipient.address
            values = {slot: _Slot(tokens[slot]) for slot in varying}
            try:
                message = self.render(kind, recipient, {**context, **values}, key="stencil")
            except (ConfigurationError, InvalidInputError):
                return None
            assert message.html_body is not None
            renderings.append(
                (
                    tokens,
                    _Stencil(
                        subject=_Stencil.split(message.subject, tokens),
                        text=_Stencil.split(message.text_body, tokens),
                        html=_Stencil.split(message.html_body, tokens),
                    ),
                )
            )
        (_, first), (_, second) = renderings
        return first if first == second else None

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
