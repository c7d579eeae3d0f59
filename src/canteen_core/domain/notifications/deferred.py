"""Messages rendered when they are sent, not when they are queued.

A billing run queues one "votre facture est disponible" e-mail per parent: thousands of them,
in the run's transactions. Rendering them there costs the run time it needs for invoices, so
:meth:`~canteen_core.domain.notifications.Notifier.invoice_issued` with ``deferred=True``
queues each message with its template's name (the message ``kind``) and the values its
context is made of, in the :data:`RENDER_HEADER` (compact JSON, one line, never sent); its
subject and bodies are a placeholder (:data:`DEFERRED_BODY`). The outbox dispatcher renders
the message just before the send
(:meth:`~canteen_core.domain.notifications.Notifier.render_deferred`): same id, recipient and
creation instant, and the text a rendering at queue time would have given, with the
deployment's templates and settings of the moment of sending.

The message id is computed at queue time exactly as for a rendered message, so the outbox's
deduplication (one message per id) and the mailers' ``has_sent`` work unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring as _quote
from typing import Any

from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.events import InvoiceIssued
from canteen_core.domain.money import Money
from canteen_core.domain.notifications.messages import (
    OutgoingMessage,
    Recipient,
    _standard_message,
)

__all__ = [
    "DEFERRED_BODY",
    "RENDER_HEADER",
    "deferred_message",
    "deferred_messages",
    "deferred_values",
    "invoice_from_values",
    "invoice_values",
    "is_deferred",
]

#: The extra header holding what a deferred message is rendered from (never sent).
RENDER_HEADER = "X-Canteen-Render"
#: The subject and text body of a message queued for rendering at dispatch.
DEFERRED_BODY = "(Message mis en forme à l'envoi.)"


def deferred_message(
    kind: str,
    recipient: Recipient,
    values: Mapping[str, str | None],
    *,
    key: str,
    household_id: str | None,
    created_at: datetime,
) -> OutgoingMessage:
    """A message of ``kind`` for ``recipient``, to be rendered at dispatch from ``values``
    (strings or ``None``: what the kind's context is rebuilt from) and ``key`` (what it is
    about: with the kind and address it makes the same id as a rendered message)."""
    payload = _payload(key, values)
    # A Recipient's address is normalized and its name one line, the instant aware, the header
    # one line of JSON: what OutgoingMessage checks holds (compared by tests).
    return _standard_message(
        kind,
        recipient,
        key=key,
        subject=DEFERRED_BODY,
        text_body=DEFERRED_BODY,
        html_body=None,
        created_at=created_at,
        household_id=household_id,
        trusted=type(recipient) is Recipient and created_at.utcoffset() is not None,
        extra_headers=((RENDER_HEADER, payload),),
    )


def _payload(key: str, values: Mapping[str, str | None]) -> str:
    """``json.dumps({"key": key, "values": dict(values)}, ensure_ascii=False,
    separators=(",", ":"))``: texts (and ``None``) written with the encoder's own escaping, in
    its order, without a new encoder per message (a billing run queues thousands); other
    values go to ``json.dumps``."""
    try:
        if type(key) is str and all(type(name) is str for name in values):
            fields = ",".join(
                f"{_quote(name)}:{'null' if value is None else _quote(value)}"
                for name, value in values.items()
            )
            return f'{{"key":{_quote(key)},"values":{{{fields}}}}}'
    except TypeError:  # a value that is not a text (the escaping refuses it)
        pass
    return json.dumps(
        {"key": key, "values": dict(values)}, ensure_ascii=False, separators=(",", ":")
    )


def is_deferred(message: OutgoingMessage) -> bool:
    """Whether ``message`` is still to be rendered (see the module)."""
    return message.header(RENDER_HEADER) is not None


def deferred_values(message: OutgoingMessage) -> tuple[str, dict[str, Any]]:
    """The key and values ``message`` is to be rendered from; :class:`InvalidInputError`
    when it is not a deferred message or its header is damaged."""
    payload = message.header(RENDER_HEADER)
    if payload is None:
        raise InvalidInputError(f"message {message.id!r} is not waiting to be rendered")
    try:
        data = json.loads(payload)
        key, values = data["key"], data["values"]
    except (ValueError, TypeError, KeyError):
        raise InvalidInputError(
            f"message {message.id!r}: damaged {RENDER_HEADER} header", path="headers"
        ) from None
    if not isinstance(key, str) or not isinstance(values, dict):
        raise InvalidInputError(
            f"message {message.id!r}: damaged {RENDER_HEADER} header", path="headers"
        )
    return key, values


def deferred_messages(
    kind: str,
    recipients: Sequence[Recipient],
    values: Mapping[str, str | None],
    *,
    key: str,
    household_id: str | None,
    created_at: datetime,
) -> list[OutgoingMessage]:
    """:func:`deferred_message` for each distinct address of ``recipients`` (a payer and a
    co-representative may share one), as the rendered messages would be."""
    if isinstance(recipients, Recipient):
        recipients = [recipients]
    seen: set[str] = set()
    messages = []
    for recipient in recipients:
        if not isinstance(recipient, Recipient):
            raise InvalidInputError("expected a Recipient", path="recipients")
        if recipient.address.lower() in seen:
            continue
        seen.add(recipient.address.lower())
        messages.append(
            deferred_message(
                kind,
                recipient,
                values,
                key=key,
                household_id=household_id,
                created_at=created_at,
            )
        )
    return messages


def invoice_values(
    event: InvoiceIssued, *, label: str | None, payable_online_from: date | None
) -> dict[str, str | None]:
    """What an invoice e-mail is rendered from (see :func:`invoice_from_values`)."""
    return {
        "number": event.number,
        "total": str(event.total.amount),
        "currency": event.total.currency,
        "label": label,
        "due_date": event.due_date.isoformat(),
        "payable_online_from": (
            None if payable_online_from is None else payable_online_from.isoformat()
        ),
    }


def invoice_from_values(message: OutgoingMessage) -> tuple[InvoiceIssued, str | None, date | None]:
    """The event, label and online-payment date a deferred invoice e-mail was queued with
    (:func:`invoice_values`); :class:`InvalidInputError` when they are damaged."""
    key, values = deferred_values(message)
    try:
        event = InvoiceIssued(
            occurred_at=message.created_at,
            invoice_id=key,
            number=values["number"],
            household_id=message.household_id or "",
            total=Money(Decimal(values["total"]), values.get("currency") or "EUR"),
            due_date=date.fromisoformat(values["due_date"]),
        )
        online = values.get("payable_online_from")
        label = values.get("label")
        return event, label, None if online is None else date.fromisoformat(online)
    except (KeyError, TypeError, ValueError, ArithmeticError, InvalidInputError):
        raise InvalidInputError(
            f"message {message.id!r}: damaged values to render", path="headers"
        ) from None
