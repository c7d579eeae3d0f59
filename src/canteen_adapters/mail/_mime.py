"""Building the MIME email of an outgoing message (shared by the mail adapters)."""

from __future__ import annotations

import email.policy
import email.utils
from email.headerregistry import Address
from email.message import EmailMessage

from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.notifications import OutgoingMessage

__all__ = ["Sender", "build_email", "parse_sender"]

#: The policy used to serialize: CRLF line ends, non-ASCII headers RFC 2047-encoded (utf8=False)
#: so any SMTP server accepts them, even without SMTPUTF8.
SMTP_POLICY = email.policy.SMTP


class Sender:
    """The From address and display name of a deployment's emails."""

    __slots__ = ("address", "domain", "name")

    def __init__(self, address: str, name: str | None = None) -> None:
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain or any(c.isspace() for c in address):
            raise ConfigurationError(f"adresse e-mail invalide : « {address} »", path="sender")
        if name is not None and ("\r" in name or "\n" in name):
            raise ConfigurationError("le nom de l'expéditeur tient sur une ligne", path="sender")
        self.address = address
        self.name = name or None
        self.domain = domain.lower()

    def header(self) -> Address:
        """The From header value."""
        return Address(display_name=self.name or "", addr_spec=self.address)

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
    mail["From"] = sender.header()
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
