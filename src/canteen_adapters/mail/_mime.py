"""Building the MIME email of an outgoing message (shared by the mail adapters)."""

from __future__ import annotations

import email.policy
import email.utils
import functools
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from typing import Any

from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.notifications import OutgoingMessage

__all__ = ["Sender", "build_email", "parse_sender"]


class _HeaderClasses(HeaderRegistry):
    """The standard library's header registry, creating each header's class once and each
    repeated header once.

    ``HeaderRegistry`` builds a new class (``type(...)``) every time a header is set, and
    parses its value: most of building an e-mail. The classes it builds for a name are all
    alike, so one per name gives the same headers; and header objects are read-only, so the
    headers every message of a run repeats (its subject and date, the content types, the
    kind...) are parsed once and shared (the most recently used few hundred are kept).
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if type(value) is str:
            return _shared_header(self, name, value)
        return super().__call__(name, value)


#: The attribute of a shared header holding its folded lines by serializing policy.
_FOLDS = "_canteen_folds"


def _shareable(header: BaseHeader) -> BaseHeader:
    """``header``, ready to be shared: its folded lines will be kept with it."""
    setattr(header, _FOLDS, {})
    return header


@functools.lru_cache(maxsize=512)
def _shared_header(registry: HeaderRegistry, name: str, value: str) -> BaseHeader:
    """The header ``name: value`` made by ``registry``, once per value while it is used."""
    return _shareable(HeaderRegistry.__call__(registry, name, value))


class _SmtpPolicy(email.policy.EmailPolicy):
    """The standard ``SMTP`` policy, folding a shared header once.

    Serializing an e-mail folds each header again (parse tree to lines): for the headers every
    e-mail repeats, the lines are kept with the header, per folding setting.
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        folds: dict[tuple[object, ...], bytes] | None = getattr(value, _FOLDS, None)
        if folds is None:
            return super().fold_binary(name, value)
        # What folding a header object reads from the policy (``BaseHeader.fold``).
        key = (name, self.linesep, self.max_line_length, self.utf8, self.cte_type)
        folded = folds.get(key)
        if folded is None:
            folded = folds[key] = super().fold_binary(name, value)
        return folded


#: The policy used to serialize: CRLF line ends, non-ASCII headers RFC 2047-encoded (utf8=False)
#: so any SMTP server accepts them, even without SMTPUTF8 (the standard ``SMTP`` policy, its
#: header classes made once and its repeated headers parsed and folded once).
SMTP_POLICY = _SmtpPolicy(linesep="\r\n", header_factory=_HeaderClasses())


class Sender:
    """The From address and display name of a deployment's emails."""

    __slots__ = ("_from", "_header", "address", "domain", "name")

    def __init__(self, address: str, name: str | None = None) -> None:
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain or any(c.isspace() for c in address):
            raise ConfigurationError(f"adresse e-mail invalide : « {address} »", path="sender")
        if name is not None and ("\r" in name or "\n" in name):
            raise ConfigurationError("le nom de l'expéditeur tient sur une ligne", path="sender")
        self.address = address
        self.name = name or None
        self.domain = domain.lower()
        self._header: Address | None = None
        self._from: BaseHeader | None = None

    def header(self) -> Address:
        """The From header value (made once: an ``Address`` parses its address)."""
        if self._header is None:
            self._header = Address(display_name=self.name or "", addr_spec=self.address)
        return self._header

    def from_header(self) -> BaseHeader:
        """The From header, parsed once (header objects are read-only: every e-mail of the
        sender shares it)."""
        if self._from is None:
            self._from = _shareable(SMTP_POLICY.header_factory("From", self.header()))
        return self._from

    def __repr__(self) -> str:
        return f"Sender({self.address!r}, {self.name!r})"


def parse_sender(value: str, name: str | None = None) -> Sender:
    """``"Mairie de Bois-le-Roi <restauration@mairie.example.fr>"`` or a bare address."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("l'adresse de l'expéditeur est obligatoire", path="sender")
    parsed_name, address = email.utils.parseaddr(value.strip())
    return Sender(address or value.strip(), name or parsed_name or None)


def build_email(
    message: OutgoingMessage, *, sender: Sender, reply_to: str | None = None
) -> EmailMessage:
    """A ``multipart/alternative`` email (text then HTML), UTF-8, quoted-printable bodies,
    inside a ``multipart/mixed`` one with the attachments when the message has some.

    ``Message-ID`` is ``<message.id@sender-domain>``: stable across retries, so a message sent
    twice after a crash is recognised as the same message by receivers. ``Date`` is when the
    message was created, for the same reason.
    """
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["From"] = sender.from_header()
    mail["To"] = Address(display_name=message.to_name or "", addr_spec=message.to_address)
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Subject"] = message.subject
    mail["Date"] = email.utils.format_datetime(message.created_at)
    mail["Message-ID"] = f"<{message.id}@{sender.domain}>"
    for name, value in message.headers:
        mail[name] = value
    mail.set_content(message.text_body, charset="utf-8", cte="quoted-printable")
    if message.html_body:
        mail.add_alternative(
            message.html_body, subtype="html", charset="utf-8", cte="quoted-printable"
        )
    for attachment in message.attachments:
        # The alternative parts become the first part of a multipart/mixed message.
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mail
