"""Secrets in queued emails (temporary passwords, token links), never readable at rest.

An invitation carries a temporary password and an activation link, a password reset a reset
link: whoever reads them from the database can take the account. The :class:`Notifier` renders
such messages with a placeholder (``[[canteen-secret:NAME]]``) where each secret goes, and the
secret values are encrypted with the deployment's key (Fernet: AES-128-CBC and HMAC-SHA256,
from ``cryptography``) into the message's :data:`SEALED_HEADER`. The dispatcher opens the
message just before handing it to the mailer: the email delivered carries the secrets, the
stored row only placeholders and ciphertext. A sent or dead message drops the ciphertext.

The key (:meth:`MailSecrets.for_deployment`): the ``CANTEEN_MAIL_SECRETS_KEY`` environment
variable, else the file ``mail-secrets.key`` in the deployment folder (created with mode 0600
on first use), else a key made for the process (a deployment built in code, or in memory):
messages it sealed cannot be opened by another process and end ``dead`` with a clear error.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

import attrs
from cryptography.fernet import Fernet, InvalidToken
from markupsafe import escape

from canteen_core.domain.errors import CanteenError, ConfigurationError
from canteen_core.domain.notifications import OutgoingMessage, secret_placeholder

__all__ = [
    "KEY_ENV",
    "KEY_FILE",
    "SEALED_HEADER",
    "MailSecrets",
    "SealedSecretsError",
    "drop_sealed",
    "open_message",
    "placeholder",
]

#: The extra header holding the encrypted secrets of a queued message (never sent).
SEALED_HEADER = "X-Canteen-Sealed"
#: The environment variable naming the key (a Fernet key: 32 bytes, url-safe base64).
KEY_ENV = "CANTEEN_MAIL_SECRETS_KEY"
#: The key file's name in the deployment folder.
KEY_FILE = "mail-secrets.key"

_PLACEHOLDER = re.compile(r"\[\[canteen-secret:([a-z_]+)\]\]")
_process_key: str | None = None
_process_key_lock = threading.Lock()


class SealedSecretsError(CanteenError):
    """A queued message's secrets cannot be opened (no key, another key, or dropped)."""


#: What the stored bodies hold where the secret ``name`` goes.
placeholder = secret_placeholder


def _sealed(message: OutgoingMessage) -> str | None:
    return message.header(SEALED_HEADER)


def drop_sealed(message: OutgoingMessage) -> OutgoingMessage:
    """``message`` without its encrypted secrets (a sent or dead message keeps none)."""
    if _sealed(message) is None:
        return message
    headers = tuple((n, v) for n, v in message.headers if n != SEALED_HEADER)
    return attrs.evolve(message, headers=headers)


def _key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key.decode("ascii")


class MailSecrets:
    """Seals and opens the secrets of queued emails with one deployment key."""

    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise ConfigurationError(
                "la clé des secrets de courriel doit être une clé Fernet (32 octets en base64)",
                path=KEY_ENV,
            ) from None

    def __repr__(self) -> str:
        return "MailSecrets(<key>)"

    @classmethod
    def for_deployment(cls, base_dir: Path | None) -> MailSecrets:
        """The deployment's key: the environment variable, the key file in ``base_dir``
        (created 0600), or a key for this process (see the module docstring)."""
        global _process_key
        key = os.environ.get(KEY_ENV, "").strip()
        if key:
            return cls(key)
        if base_dir is not None:
            try:
                return cls(_key_file(Path(base_dir) / KEY_FILE))
            except OSError as error:
                raise ConfigurationError(
                    f"clé des secrets de courriel illisible : {error.strerror}", path=KEY_FILE
                ) from None
        with _process_key_lock:
            if _process_key is None:
                _process_key = Fernet.generate_key().decode("ascii")
            return cls(_process_key)

    def seal(self, message: OutgoingMessage, values: Mapping[str, str]) -> OutgoingMessage:
        """``message`` (rendered with :func:`placeholder` for each secret) with ``values``
        encrypted in its :data:`SEALED_HEADER`."""
        token = self._fernet.encrypt(json.dumps(dict(values)).encode("utf-8"))
        headers = (*drop_sealed(message).headers, (SEALED_HEADER, token.decode("ascii")))
        return attrs.evolve(message, headers=headers)

    def values(self, message: OutgoingMessage) -> dict[str, str]:
        """The secrets sealed in ``message`` (empty without any)."""
        sealed = _sealed(message)
        if sealed is None:
            return {}
        try:
            values = json.loads(self._fernet.decrypt(sealed.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeError):
            raise SealedSecretsError(
                "secrets sealed with another key (set CANTEEN_MAIL_SECRETS_KEY to the key "
                "of the process that queued the message, or send a new one)"
            ) from None
        return {str(k): str(v) for k, v in dict(values).items()}


def open_message(message: OutgoingMessage, secrets: MailSecrets | None) -> OutgoingMessage:
    """The email to deliver: placeholders replaced by the sealed secrets (escaped in the
    HTML body), the sealed header dropped. A message without placeholders is returned as is.

    Raises :class:`SealedSecretsError` when placeholders cannot be filled.
    """
    sealed = _sealed(message) is not None
    bodies = (message.subject, message.text_body, message.html_body or "")
    if not sealed and not any(_PLACEHOLDER.search(body) for body in bodies):
        return message
    if not sealed:
        raise SealedSecretsError("secrets dropped (the message was dead): send a new one")
    if secrets is None:
        raise SealedSecretsError("no key to open the message's secrets")
    values = secrets.values(message)

    def fill(text: str, html: bool) -> str:
        def one(match: re.Match[str]) -> str:
            value = values.get(match.group(1))
            if value is None:
                raise SealedSecretsError(f"no sealed value for {match.group(1)!r}")
            return str(escape(value)) if html else value

        return _PLACEHOLDER.sub(one, text)

    opened = drop_sealed(message)
    return attrs.evolve(
        opened,
        subject=fill(message.subject, False),
        text_body=fill(message.text_body, False),
        html_body=None if message.html_body is None else fill(message.html_body, True),
    )
