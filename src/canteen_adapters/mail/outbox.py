"""The ``outbox`` mailer, for development and tests: keeps messages, optionally as ``.eml`` files.

Nothing leaves the machine. Each message is built exactly as the SMTP mailer would build it and
kept in :attr:`OutboxMailer.sent`; with a ``folder``, it is also written to
``<folder>/<message id>.eml`` (open it with any mail client). Sending the same message id twice
is a no-op, and :meth:`OutboxMailer.has_sent` lets the dispatcher skip messages it already
delivered before a crash (the files make that durable).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs

from canteen_adapters.mail._mime import Sender, build_email, parse_sender
from canteen_core.config.hookspecs import offer
from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import MailDeliveryError
from canteen_core.ports.backends import MailerBackend

__all__ = ["DEFAULT_SENDER", "OutboxMailer", "OutboxMailerSettings", "canteen_mailers"]

#: The From address when a deployment names none (development only).
DEFAULT_SENDER = "canteen@localhost.localdomain"


def _folder(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


def _sender(value: str | Sender) -> Sender:
    return value if isinstance(value, Sender) else parse_sender(value)


@attrs.frozen(kw_only=True)
class OutboxMailerSettings:
    """``sender`` is the From address (``"Name <addr>"`` accepted); ``folder`` receives
    ``.eml`` files when set (created if missing)."""

    sender: Sender = attrs.field(factory=lambda: parse_sender(DEFAULT_SENDER), converter=_sender)
    reply_to: str | None = None
    folder: Path | None = attrs.field(default=None, converter=_folder)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> OutboxMailerSettings:
        """From a deployment file's ``[mail]`` table (keys of other adapters are ignored)."""
        sender = values.get("sender") or DEFAULT_SENDER
        if not isinstance(sender, str | Sender):
            raise ConfigurationError("une adresse e-mail est attendue", path="mail.sender")
        reply_to = values.get("reply_to")
        if reply_to is not None and not isinstance(reply_to, str):
            raise ConfigurationError("une adresse e-mail est attendue", path="mail.reply_to")
        folder = values.get("folder")
        if folder is not None and not isinstance(folder, str | Path):
            raise ConfigurationError("un chemin de dossier est attendu", path="mail.folder")
        return cls(sender=sender, reply_to=reply_to, folder=folder)

    @classmethod
    def from_settings(cls, settings: object) -> OutboxMailerSettings:
        """From any object with ``sender``, ``reply_to`` and ``folder`` attributes (the
        deployment's ``[mail]`` settings)."""
        keys = ("sender", "reply_to", "folder")
        return cls.from_mapping({key: getattr(settings, key, None) for key in keys})


class OutboxMailer:
    """A mailer that keeps what it is given (implements ``DeduplicatingMailer``)."""

    name = "outbox"

    def __init__(self, settings: OutboxMailerSettings | None = None) -> None:
        self.settings = settings or OutboxMailerSettings()
        #: Built emails by message id, in sending order.
        self.sent: dict[str, EmailMessage] = {}

    @classmethod
    def from_settings(cls, settings: object) -> OutboxMailer:
        """The factory for the ``canteen_mailers`` hook."""
        return cls(OutboxMailerSettings.from_settings(settings))

    def _path(self, message_id: str) -> Path | None:
        folder = self.settings.folder
        # Message ids are [A-Za-z0-9._-] starting with an alphanumeric: safe as file names.
        return None if folder is None else folder / f"{message_id}.eml"

    @property
    def remembers_across_processes(self) -> bool:
        """With a folder, a sent message's ``.eml`` file outlives the process: the outbox's
        dispatcher may then record sends in batches (a crash re-sends nothing)."""
        return self.settings.folder is not None

    def has_sent(self, message_id: str) -> bool:
        """Whether ``message_id`` was sent (in this process, or found as a file)."""
        if message_id in self.sent:
            return True
        path = self._path(message_id)
        return path is not None and path.exists()

    def send(self, message: OutgoingMessage) -> None:
        """Keep ``message`` (and write its ``.eml`` file); a second send of an id is ignored."""
        if self.has_sent(message.id):
            return
        mail = build_email(message, sender=self.settings.sender, reply_to=self.settings.reply_to)
        path = self._path(message.id)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                # Write then rename: a crash never leaves a half file that looks "sent".
                fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(mail.as_bytes())
                    os.replace(temporary, path)
                except BaseException:
                    Path(temporary).unlink(missing_ok=True)
                    raise
            except OSError as error:
                raise MailDeliveryError(
                    f"écriture impossible de {path} : {error.strerror or error}"
                ) from error
        self.sent[message.id] = mail

    @property
    def messages(self) -> list[EmailMessage]:
        """The emails kept, in sending order."""
        return list(self.sent.values())


canteen_mailers = offer(
    MailerBackend,
    OutboxMailer,
    "keeps messages (and writes .eml files to [mail] folder): development",
)
