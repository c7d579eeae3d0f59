"""The ``smtp`` mailer: delivers outbox messages with :mod:`smtplib`.

Connections are plain (``none``, port 25), upgraded with STARTTLS (``starttls``, port 587, the
default) or TLS from the start (``tls``, port 465); authentication is optional. Certificates are
verified against the system's CAs (plus ``ca_file`` for a private CA). Sending a password over
an unencrypted connection is refused unless ``allow_plain_auth`` says otherwise.

Every failure (connection refused or dropped, TLS error, timeout, an SMTP 4xx/5xx reply) is
raised as :class:`~canteen_core.domain.outbox.MailDeliveryError`, so the dispatcher records it and
retries; the message stays in the outbox. One connection is opened per message: the volumes of
a commune (a few thousand emails on invoice day) do not justify connection pooling, and a fresh
connection keeps one bad message from affecting the next.
"""

from __future__ import annotations

import enum
import smtplib
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from canteen_adapters.mail._mime import Sender, build_email, parse_sender
from canteen_core.config.hookspecs import offer
from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import MailDeliveryError
from canteen_core.ports.backends import MailerBackend

__all__ = ["SmtpMailer", "SmtpSecurity", "SmtpSettings", "canteen_mailers"]


class SmtpSecurity(enum.StrEnum):
    """How the connection is secured."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"

    @classmethod
    def parse(cls, value: object) -> SmtpSecurity:
        """Accept the enum, its value, or ``"plain"`` as a synonym of ``"none"``."""
        text = value.strip().lower() if isinstance(value, str) else ""
        try:
            return cls.NONE if text == "plain" else cls(text)
        except ValueError:
            raise ConfigurationError(
                f"sécurité inconnue « {value} » : none, starttls ou tls", path="security"
            ) from None


def _security(value: str | SmtpSecurity) -> SmtpSecurity:
    return SmtpSecurity.parse(value)


_DEFAULT_PORTS = {SmtpSecurity.NONE: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465}


def _sender(value: str | Sender) -> Sender:
    return value if isinstance(value, Sender) else parse_sender(value)


def _optional_path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


def _host(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise ConfigurationError(f"nom d'hôte attendu : « {value} »", path=attribute.name)


def _port(_: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536
    ):
        raise ConfigurationError(f"numéro de port attendu : « {value} »", path=attribute.name)


def _timeout(_: object, attribute: attrs.Attribute[float], value: object) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError(
            f"un nombre de secondes positif est attendu : « {value} »", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class SmtpSettings:
    """Settings of the SMTP mailer (``password`` is hidden from ``repr``).

    ``sender`` is the From address, ``"Mairie de Bois-le-Roi <restauration@example.fr>"`` or a
    bare address with ``sender_name``. ``port`` defaults from ``security`` (25, 587, 465).
    """

    host: str = attrs.field(validator=_host)
    port: int | None = attrs.field(default=None, validator=_port)
    security: SmtpSecurity = attrs.field(default=SmtpSecurity.STARTTLS, converter=_security)
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    sender: Sender = attrs.field(converter=_sender)
    sender_name: str | None = None
    reply_to: str | None = None
    timeout: float = attrs.field(default=30.0, validator=_timeout)
    ca_file: Path | None = attrs.field(default=None, converter=_optional_path)
    verify_certificate: bool = True
    allow_plain_auth: bool = False
    local_hostname: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.username is None) != (self.password is None):
            raise ConfigurationError("username et password vont ensemble", path="password")
        if (
            self.username is not None
            and self.security is SmtpSecurity.NONE
            and not self.allow_plain_auth
        ):
            raise ConfigurationError(
                "mot de passe refusé sur une connexion non chiffrée : utilisez starttls ou tls "
                "(ou allow_plain_auth pour un relais local de confiance)",
                path="security",
            )

    @property
    def from_sender(self) -> Sender:
        """The From address; an explicit ``sender_name`` wins over a name in ``sender``."""
        if self.sender_name is None:
            return self.sender
        return Sender(self.sender.address, self.sender_name)

    @property
    def effective_port(self) -> int:
        """The port to connect to."""
        return self.port or _DEFAULT_PORTS[self.security]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SmtpSettings:
        """From a deployment file's ``[mail]`` table. Unknown keys of other adapters
        (``adapter``, ``folder``) are ignored; ``None`` values mean the default."""
        known = {field.name for field in attrs.fields(cls)}
        given = {k: v for k, v in values.items() if k in known and v is not None}
        if "host" not in given:
            raise ConfigurationError("l'envoi par SMTP demande un hôte (host)", path="host")
        if "sender" not in given:
            raise ConfigurationError(
                "l'envoi par SMTP demande une adresse d'expéditeur (sender)", path="sender"
            )
        try:
            return cls(**given)
        except TypeError as error:
            raise ConfigurationError(str(error), path="mail") from None

    @classmethod
    def from_settings(cls, settings: object) -> SmtpSettings:
        """From any object with the same attribute names (the deployment's ``[mail]``)."""
        names = [field.name for field in attrs.fields(cls)]
        return cls.from_mapping({name: getattr(settings, name, None) for name in names})

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context: system CAs plus ``ca_file``; verification unless disabled."""
        context = ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )
        if not self.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class SmtpMailer:
    """Sends each message over its own SMTP connection (implements ``DeduplicatingMailer``
    for the lifetime of the process)."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        if not isinstance(settings, SmtpSettings):
            raise ConfigurationError("réglages SMTP attendus (SmtpSettings)", path="mail")
        self.settings = settings
        self._sent: set[str] = set()

    @classmethod
    def from_settings(cls, settings: object) -> SmtpMailer:
        """The factory for the ``canteen_mailers`` hook."""
        return cls(SmtpSettings.from_settings(settings))

    def has_sent(self, message_id: str) -> bool:
        """Whether this process already handed ``message_id`` to the server."""
        return message_id in self._sent

    def send(self, message: OutgoingMessage) -> None:
        """Deliver ``message`` or raise :class:`MailDeliveryError`."""
        if message.id in self._sent:
            return
        settings = self.settings
        mail = build_email(message, sender=settings.from_sender, reply_to=settings.reply_to)
        where = f"{settings.host}:{settings.effective_port}"
        client: smtplib.SMTP | None = None
        delivered = False
        try:
            client = self._client()
            code, reply = client.connect(settings.host, settings.effective_port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, reply)
            client.ehlo_or_helo_if_needed()
            if settings.security is SmtpSecurity.STARTTLS:
                client.starttls(context=settings.ssl_context())
                client.ehlo()
            if settings.username is not None and settings.password is not None:
                client.login(settings.username, settings.password)
            client.send_message(
                mail, from_addr=settings.sender.address, to_addrs=[message.to_address]
            )
            delivered = True
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()), (0, b""))
            raise MailDeliveryError(
                f"{where} a refusé {message.to_address} : {code} {_text(reply)}",
                permanent=code >= 500,
                code=code,
            ) from error
        except smtplib.SMTPResponseException as error:
            raise MailDeliveryError(
                f"{where} a répondu {error.smtp_code} {_text(error.smtp_error)}",
                permanent=error.smtp_code >= 500,
                code=error.smtp_code,
            ) from error
        except smtplib.SMTPException as error:
            raise MailDeliveryError(
                f"{where} : échec SMTP ({type(error).__name__} : {error})"
            ) from error
        except OSError as error:  # refused, unreachable, timeout, TLS handshake
            raise MailDeliveryError(
                f"envoi impossible par {where} : {error.strerror or error}"
            ) from error
        finally:
            if delivered:
                self._sent.add(message.id)
            if client is not None:
                self._close(client, polite=delivered)

    def _client(self) -> smtplib.SMTP:
        settings = self.settings
        client: smtplib.SMTP
        if settings.security is SmtpSecurity.TLS:
            client = smtplib.SMTP_SSL(
                timeout=settings.timeout,
                context=settings.ssl_context(),
                local_hostname=settings.local_hostname,
            )
        else:
            client = smtplib.SMTP(timeout=settings.timeout, local_hostname=settings.local_hostname)
        # smtplib records the host used for TLS certificate checks only when it connects in
        # its constructor; connecting explicitly (so the socket is always closed on errors)
        # needs it recorded the same way.
        vars(client)["_host"] = settings.host
        return client

    @staticmethod
    def _close(client: smtplib.SMTP, *, polite: bool) -> None:
        # The message is accepted once DATA got its 250: a failing QUIT must not turn that into
        # an error (it would cause a resend), so errors here are ignored.
        try:
            if polite:
                client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            client.close()


canteen_mailers = offer(
    MailerBackend,
    SmtpMailer,
    "delivers through an SMTP server (plain, STARTTLS or TLS; optional login)",
)
