"""What a notification is made of: the kinds of message and their variables, recipients, the
rendered :class:`OutgoingMessage` and the deployment's :class:`NotificationSettings`.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from canteen_core.domain._unchecked import unchecked
from canteen_core.domain._validators import aware_datetime, non_empty_str
from canteen_core.domain.accounts import Account, normalize_email
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.families import Guardian

#: Message kinds and the variables their templates receive (besides the common ones).
KINDS: Mapping[str, tuple[str, ...]] = {
    "invitation": (
        "username",
        "temporary_password",
        "activation_url",
        "expires_at",
        "opens_at",
    ),
    "password-reset": ("username", "reset_url", "expires_at"),
    "change-request-decided": ("approved", "day", "child_name", "reason", "service_name"),
    "enrollment-request-decided": ("approved", "child_name", "label", "reason", "portal_url"),
    "invoice-issued": ("number", "label", "total", "due_date", "payable_online_from"),
    "invoice-pdf": ("number", "label", "total", "due_date", "invoices_url"),
    "payment-received": ("amount", "method", "method_label", "received_on", "invoice_numbers"),
    "invoice-overdue": ("number", "balance_due", "due_date", "level"),
    "document-reviewed": (
        "accepted",
        "kind_label",
        "child_name",
        "uploaded_on",
        "reason",
        "documents_url",
    ),
    "quotient-campaign-request": (
        "title",
        "valid_from",
        "deadline",
        "reminder",
        "documents_url",
    ),
    "quotient-campaign-outcome": ("title", "valid_from", "kept", "quotient", "tariffs_url"),
    "reenrollment-opened": (
        "title",
        "school_year",
        "deadline",
        "children",
        "reminder",
        "portal_url",
    ),
    "credit-note-issued": ("number", "invoice_number", "total", "reason"),
    "site-closed": ("site_name", "closure_name", "first_day", "last_day", "children"),
    "waiting-list-placed": ("child_name", "day", "service_name", "site_name", "offer_until"),
    "waiting-list-offer": ("child_name", "day", "service_name", "site_name", "offer_until"),
    "direct-debit-announced": (
        "amount",
        "collection_date",
        "mandate_reference",
        "creditor_name",
        "creditor_identifier",
    ),
    "direct-debit-returned": (
        "amount",
        "returned_on",
        "invoice_numbers",
        "reason_code",
        "reason_label",
        "invoices_url",
    ),
}

#: How payment methods are named to families.
PAYMENT_METHOD_LABELS: Mapping[str, str] = {
    "card": "carte bancaire",
    "payzen": "carte bancaire",
    "payfip": "carte bancaire (PayFiP)",
    "direct_debit": "prélèvement SEPA",
    "sepa": "prélèvement SEPA",
    "cash": "espèces",
    "cheque": "chèque",
    "check": "chèque",
    "cesu": "CESU",
    "transfer": "virement",
}

_NAMESPACE = uuid.UUID("5d1c5d43-6a43-4bd4-9c5e-1c2b7a0f6c11")

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")

_HEADER_NAME_RE = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ':' (RFC 5322)

_RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "content-type"}
)


def message_id_for(kind: str, key: str, address: str) -> str:
    """A stable message id: the same kind, key and recipient always give the same id."""
    name = f"{kind}\x1f{key}\x1f{address.lower()}"
    return f"{kind}.{_uuid5_hex(name)}"


_NAMESPACE_BYTES = _NAMESPACE.bytes


def _uuid5_hex(name: str) -> str:
    """``uuid.uuid5(_NAMESPACE, name).hex`` without building the UUID object (RFC 4122:
    SHA-1 of namespace and name, version 5 and variant bits set)."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8"), usedforsecurity=False).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return digest.hex()


def _no_newline(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise InvalidInputError(f"must be a single-line string, got {value!r}", path=attribute.name)


def _check_address(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if normalize_email(value, attribute.name) != value:
        raise InvalidInputError(f"address must be normalized, got {value!r}", path=attribute.name)


def _optional_name(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        _no_newline(_, attribute, value)  # type: ignore[arg-type]


def _check_id(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise InvalidInputError(
            f"message ids are 1-200 characters among letters, digits, '.', '_', '-': {value!r}",
            path=attribute.name,
        )


def _headers(items: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    result = []
    for item in items:
        name, value = item
        if not isinstance(name, str) or not _HEADER_NAME_RE.match(name):
            raise InvalidInputError(f"bad header name {name!r}", path="headers")
        if name.lower() in _RESERVED_HEADERS:
            raise InvalidInputError(f"header {name!r} is set by the mailer", path="headers")
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise InvalidInputError(f"bad value for header {name!r}", path="headers")
        result.append((name, value))
    return tuple(result)


@attrs.frozen(kw_only=True)
class Recipient:
    """Who receives a message: an address and an optional display name (accents welcome)."""

    address: str = attrs.field(converter=normalize_email)
    name: str | None = attrs.field(default=None, validator=_optional_name)

    @classmethod
    def from_guardian(cls, guardian: Guardian) -> Recipient:
        """The guardian's address and ``display_name`` ("Madame CONCERTO Maman")."""
        if guardian.email is None:
            raise InvalidInputError(f"guardian {guardian.id!r} has no email", path="email")
        return cls(address=guardian.email, name=guardian.display_name)

    @classmethod
    def from_account(cls, account: Account) -> Recipient:
        """The account's address and display name."""
        return cls(address=account.email, name=account.display_name)


def _bytes(_: object, attribute: attrs.Attribute[bytes], value: object) -> None:
    if not isinstance(value, bytes) or not value:
        raise InvalidInputError("an attachment holds bytes", path=attribute.name)


@attrs.frozen(kw_only=True)
class Attachment:
    """A file attached to a message (an invoice's PDF for a paperless household)."""

    filename: str = attrs.field(validator=[non_empty_str, _no_newline])
    content_type: str = attrs.field(validator=non_empty_str)
    content: bytes = attrs.field(validator=_bytes, repr=False)


@attrs.frozen(kw_only=True)
class OutgoingMessage:
    """An email ready to send, as stored in the outbox.

    ``id`` is stable and unique: the outbox deduplicates on it and mailers derive the
    ``Message-ID`` header from it (``<id@sender-domain>``). ``headers`` are extra headers
    (``Auto-Submitted``...); From, To, Subject, Date and Message-ID are set by the mailer.
    """

    id: str = attrs.field(validator=_check_id)
    kind: str = attrs.field(validator=non_empty_str)
    to_address: str = attrs.field(validator=_check_address)
    to_name: str | None = attrs.field(default=None, validator=_optional_name)
    subject: str = attrs.field(validator=[non_empty_str, _no_newline])
    text_body: str = attrs.field(validator=non_empty_str)
    html_body: str | None = None
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_headers)
    created_at: datetime = attrs.field(validator=aware_datetime)
    household_id: str | None = None
    account_id: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def header(self, name: str) -> str | None:
        """The value of the first extra header ``name`` (exact case), ``None`` without one."""
        return next((value for key, value in self.headers if key == name), None)


_unchecked_message = unchecked(OutgoingMessage)


def _standard_message(
    kind: str,
    recipient: Recipient,
    *,
    key: str,
    subject: str,
    text_body: str,
    html_body: str | None,
    created_at: datetime,
    household_id: str | None,
    trusted: bool,
    extra_headers: tuple[tuple[str, str], ...] = (),
    account_id: str | None = None,
) -> OutgoingMessage:
    """A message of ``kind`` to ``recipient``, with the standard headers: every rendered
    message, and the ones sent in bulk (invoice e-mails). ``trusted``: the caller knows what
    :class:`OutgoingMessage` checks holds (built without the checks, as a billing run makes
    thousands)."""
    build: Any = _unchecked_message if trusted else OutgoingMessage
    message: OutgoingMessage = build(
        id=message_id_for(kind, key, recipient.address),
        kind=kind,
        to_address=recipient.address,
        to_name=recipient.name,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers=(("Auto-Submitted", "auto-generated"), ("X-Canteen-Kind", kind), *extra_headers),
        created_at=created_at,
        household_id=household_id,
        account_id=account_id,
        attachments=(),
    )
    return message


def _url(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value):
        shown = f" : « {value} »" if isinstance(value, str) else ""
        raise ConfigurationError(
            f"l'adresse du portail ({attribute.name}) doit commencer par http:// ou https:// et "
            f"ne pas contenir d'espace{shown}",
            path=attribute.name,
        )


def _token_template(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or "{token}" not in value:
        raise ConfigurationError(
            f"{attribute.name} doit contenir {{token}} (et peut contenir {{portal_url}})",
            path=attribute.name,
        )


def _template_dir(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


@attrs.frozen(kw_only=True)
class NotificationSettings:
    """What a deployment says about its emails.

    URL templates may use ``{portal_url}``; token URLs must contain ``{token}``.
    """

    portal_url: str = attrs.field(validator=_url)
    organisation: str = attrs.field(
        default="Service restauration scolaire", validator=non_empty_str
    )
    signature: str | None = None  # default: "L'équipe <organisation>"
    contact: str | None = None  # e.g. "restauration@mairie.example.fr ou 01 23 45 67 89"
    activation_url: str = attrs.field(
        default="{portal_url}/activation?token={token}", validator=_token_template
    )
    reset_url: str = attrs.field(
        default="{portal_url}/mot-de-passe/nouveau?token={token}", validator=_token_template
    )
    invoices_url: str = "{portal_url}/factures"
    reservations_url: str = "{portal_url}/reservations"
    creditor_name: str | None = None  # SEPA creditor, for pre-notifications
    creditor_identifier: str | None = None  # ICS
    template_dir: Path | None = attrs.field(default=None, converter=_template_dir)

    @property
    def signature_text(self) -> str:
        """The signature under every message."""
        return self.signature or f"L'équipe {self.organisation}"

    def link(self, template: str, **values: str) -> str:
        """Expand a URL template with the portal URL and ``values``."""
        return template.format(portal_url=self.portal_url.rstrip("/"), **values)
