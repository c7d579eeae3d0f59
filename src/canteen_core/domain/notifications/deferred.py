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
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.notifications.messages import (
    OutgoingMessage,
    Recipient,
    _unchecked_message,
    message_id_for,
)

__all__ = [
    "DEFERRED_BODY",
    "RENDER_HEADER",
    "deferred_message",
    "deferred_values",
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
    payload = json.dumps(
        {"key": key, "values": dict(values)}, ensure_ascii=False, separators=(",", ":")
    )
    build: Any = OutgoingMessage
    if type(recipient) is Recipient and created_at.utcoffset() is not None:
        # A Recipient's address is normalized and its name one line, the instant aware, the
        # header one line of JSON: what OutgoingMessage checks holds (compared by tests).
        build = _unchecked_message
    message: OutgoingMessage = build(
        id=message_id_for(kind, key, recipient.address),
        kind=kind,
        to_address=recipient.address,
        to_name=recipient.name,
        subject=DEFERRED_BODY,
        text_body=DEFERRED_BODY,
        html_body=None,
        headers=(
            ("Auto-Submitted", "auto-generated"),
            ("X-Canteen-Kind", kind),
            (RENDER_HEADER, payload),
        ),
        created_at=created_at,
        household_id=household_id,
        account_id=None,
        attachments=(),
    )
    return message


def _payload(message: OutgoingMessage) -> str | None:
    for name, value in message.headers:
        if name == RENDER_HEADER:
            return value
    return None


def is_deferred(message: OutgoingMessage) -> bool:
    """Whether ``message`` is still to be rendered (see the module)."""
    return _payload(message) is not None


def deferred_values(message: OutgoingMessage) -> tuple[str, dict[str, Any]]:
    """The key and values ``message`` is to be rendered from; :class:`InvalidInputError`
    when it is not a deferred message or its header is damaged."""
    payload = _payload(message)
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
