"""The SMTP mailer against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import enum
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from canteen_adapters.mail.smtp import SmtpMailer, SmtpSecurity, SmtpSettings
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import (
    DeliveryStatus,
    Dispatcher,
    InMemoryOutboxStore,
    MailDeliveryError,
    RetryPolicy,
)

NOW = datetime(2023, 6, 9, 7, 30, tzinfo=UTC)
SENDER = "Mairie de Bois-le-Roi – Restauration <restauration@mairie.example.fr>"


def outgoing(n: int = 1) -> OutgoingMessage:
    return OutgoingMessage(
        id=f"invoice-issued.{n:032x}",
        kind="invoice-issued",
        to_address="helene.dupre@example.fr",
        to_name="Hélène Dupré-Nuñez",
        subject="Votre facture « SEPTEMBRE 2023 » est disponible : 13,40 €",
        text_body="Bonjour Hélène,\n\nVotre facture d'un montant de 13,40 € est prête.\n",
        html_body="<p>Bonjour Hélène,</p>\n<p>Votre facture : <strong>13,40 €</strong></p>\n",
        headers=(("Auto-Submitted", "auto-generated"), ("X-Canteen-Kind", "invoice-issued")),
        created_at=NOW,
    )


class SimpleSecurity(enum.StrEnum):
    """Like the deployment file's security enum."""

    PLAIN = "plain"


class Collector:
    """An aiosmtpd handler keeping what it accepts; it can refuse or drop on demand."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.data_replies: list[str] = []  # replies to DATA used (in order) instead of 250
        self.rcpt_replies: list[str] = []
        self.drop_next = 0

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.drop_next:
            self.drop_next -= 1
            assert server.transport is not None
            server.transport.close()  # hang up without answering
            return "421 closing"
        if self.data_replies:
            return self.data_replies.pop(0)
        self.envelopes.append(envelope)
        return "250 2.0.0 Message accepted"

    def received(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=email.policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(handler: Collector, port: int | None = None, **kwargs: Any) -> Iterator[int]:
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the TLS tests need the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def settings(port: int, **kwargs: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": SENDER,
        "timeout": 5,
    }
    values.update(kwargs)
    return SmtpSettings(**values)


class Credentials:
    """An aiosmtpd authenticator accepting one login and remembering attempts."""

    def __init__(self, login: str, password: str) -> None:
        self.login, self.password = login.encode(), password.encode()
        self.attempts: list[tuple[str, bytes]] = []

    def __call__(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.attempts.append((mechanism, data.login))
        ok = data.login == self.login and data.password == self.password
        return AuthResult(success=ok, handled=False)


# -- delivery and format ---------------------------------------------------------------------


def test_message_arrives_with_headers_parts_and_utf8_encoding() -> None:
    handler = Collector()
    with smtp_server(handler) as port:
        SmtpMailer(settings(port)).send(outgoing())
    (envelope,) = handler.envelopes
    assert envelope.mail_from == "restauration@mairie.example.fr"
    assert envelope.rcpt_tos == ["helene.dupre@example.fr"]
    raw = envelope.original_content or b""
    raw.decode("ascii")  # 7-bit clean: accents are encoded, any server accepts it
    assert b"=?utf-8?" in raw
    (mail,) = handler.received()
    assert mail["Subject"] == "Votre facture « SEPTEMBRE 2023 » est disponible : 13,40 €"
    assert mail["To"].addresses[0].display_name == "Hélène Dupré-Nuñez"
    assert mail["To"].addresses[0].addr_spec == "helene.dupre@example.fr"
    assert mail["From"].addresses[0].display_name == "Mairie de Bois-le-Roi – Restauration"
    assert mail["From"].addresses[0].addr_spec == "restauration@mairie.example.fr"
    assert mail["Message-ID"].strip() == f"<{outgoing().id}@mairie.example.fr>"
    assert mail["Date"].datetime == NOW
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Canteen-Kind"] == "invoice-issued"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    for part, body in ((text, outgoing().text_body), (html, outgoing().html_body)):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part.get_content().replace("\r\n", "\n") == body


def test_text_only_messages_are_single_part() -> None:
    handler = Collector()
    message = OutgoingMessage(
        id="plain-1",
        kind="k",
        to_address="a@example.fr",
        subject="Objet",
        text_body="Texte seul é\n",
        created_at=NOW,
    )
    with smtp_server(handler) as port:
        SmtpMailer(settings(port, sender_name="Cantine")).send(message)
    (mail,) = handler.received()
    assert mail.get_content_type() == "text/plain"
    assert mail["From"].addresses[0].display_name == "Cantine"
    assert mail.get_content().replace("\r\n", "\n") == "Texte seul é\n"


def test_a_message_is_sent_once_per_process() -> None:
    handler = Collector()
    with smtp_server(handler) as port:
        mailer = SmtpMailer(settings(port))
        mailer.send(outgoing())
        mailer.send(outgoing())
        assert mailer.has_sent(outgoing().id)
    assert len(handler.envelopes) == 1


# -- authentication and TLS ------------------------------------------------------------------


def test_authentication_when_configured() -> None:
    handler, credentials = Collector(), Credentials("mairie", "s3cret-Pass")
    with smtp_server(handler, authenticator=credentials, auth_require_tls=False) as port:
        good = settings(port, username="mairie", password="s3cret-Pass", allow_plain_auth=True)
        SmtpMailer(good).send(outgoing(1))
        bad = settings(port, username="mairie", password="wrong", allow_plain_auth=True)
        with pytest.raises(MailDeliveryError) as caught:
            SmtpMailer(bad).send(outgoing(2))
    assert caught.value.code == 535
    assert caught.value.permanent
    assert len(handler.envelopes) == 1
    # smtplib tries each offered mechanism before giving up on bad credentials.
    assert {login for _, login in credentials.attempts} == {b"mairie"}
    assert len(credentials.attempts) >= 2
    assert "s3cret" not in repr(good)


def test_password_over_plain_connection_is_refused_by_default() -> None:
    with pytest.raises(ConfigurationError, match="non chiffrée"):
        settings(2525, username="u", password="p")
    with pytest.raises(ConfigurationError, match="vont ensemble"):
        settings(2525, security="starttls", username="u")
    with pytest.raises(ConfigurationError, match="sécurité inconnue"):
        settings(2525, security="ssl3")


def test_starttls_with_a_self_signed_certificate_and_auth(
    certificate: tuple[Path, Path],
) -> None:
    handler, credentials = Collector(), Credentials("mairie", "s3cret-Pass")
    with smtp_server(
        handler,
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=credentials,
    ) as port:
        secured = settings(
            port,
            security="starttls",
            ca_file=certificate[0],
            username="mairie",
            password="s3cret-Pass",
        )
        SmtpMailer(secured).send(outgoing(1))
        # Without trusting the certificate, nothing is sent.
        untrusted = settings(port, security="starttls")
        with pytest.raises(MailDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpMailer(untrusted).send(outgoing(2))
        # A server requiring STARTTLS refuses a plain session.
        with pytest.raises(MailDeliveryError) as caught:
            SmtpMailer(settings(port)).send(outgoing(3))
    assert caught.value.code == 530
    assert len(handler.envelopes) == 1
    assert credentials.attempts == [("PLAIN", b"mairie")]


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    handler = Collector()
    with smtp_server(handler, ssl_context=server_context(certificate)) as port:
        tls = settings(port, security=SmtpSecurity.TLS, ca_file=certificate[0])
        assert tls.effective_port == port
        SmtpMailer(tls).send(outgoing())
    (mail,) = handler.received()
    assert mail["Message-ID"].strip() == f"<{outgoing().id}@mairie.example.fr>"


def test_a_missing_ca_file_is_a_delivery_error(tmp_path: Path) -> None:
    broken = settings(free_port(), security="tls", ca_file=tmp_path / "missing.pem")
    with pytest.raises(MailDeliveryError, match="envoi impossible"):
        SmtpMailer(broken).send(outgoing())


def test_default_ports_follow_security() -> None:
    assert SmtpSettings(host="smtp.example.fr", sender="a@example.fr").effective_port == 587
    assert SmtpSettings(host="h", sender="a@b.fr", security="tls").effective_port == 465
    assert SmtpSettings(host="h", sender="a@b.fr", security="plain").effective_port == 25


def test_settings_from_a_deployment_mapping() -> None:
    values = {
        "adapter": "smtp",
        "host": "smtp.mairie.example.fr",
        "port": None,
        "security": "tls",
        "username": "u",
        "password": "p",
        "sender": "Mairie <r@mairie.example.fr>",
        "folder": None,
    }
    loaded = SmtpSettings.from_mapping(values)
    assert (loaded.host, loaded.effective_port, loaded.security) == (
        "smtp.mairie.example.fr",
        465,
        SmtpSecurity.TLS,
    )
    assert loaded.sender.name == "Mairie"
    # The deployment's [mail] settings object works too ("plain" means no encryption).
    deployment = SimpleNamespace(
        adapter="smtp",
        host="relay.local",
        port=2525,
        security=SimpleSecurity.PLAIN,
        username=None,
        password=None,
        sender="cantine@mairie.example.fr",
        reply_to=None,
        folder=None,
        timeout=10,
    )
    mailer = SmtpMailer.from_settings(deployment)
    assert mailer.settings.security is SmtpSecurity.NONE
    assert (mailer.settings.effective_port, mailer.settings.timeout) == (2525, 10)
    with pytest.raises(ConfigurationError, match="demande un hôte"):
        SmtpSettings.from_mapping({"sender": "a@b.fr"})
    with pytest.raises(ConfigurationError, match="port"):
        SmtpSettings.from_mapping({"host": "h", "sender": "a@b.fr", "port": 70000})
    with pytest.raises(ConfigurationError, match="sender"):
        SmtpSettings.from_mapping({"host": "h", "sender": "not an address"})


# -- failures go back to the outbox, never lost ----------------------------------------------


def dispatch(port: int, store: InMemoryOutboxStore, clock: FixedClock) -> Dispatcher:
    return Dispatcher(
        store, SmtpMailer(settings(port)), clock=clock, retry=RetryPolicy(max_attempts=5)
    )


@pytest.mark.parametrize(
    ("where", "reply", "code"),
    [
        ("data", "451 4.3.0 Temporary failure, try again later", 451),
        ("data", "554 5.7.1 Message rejected as spam", 554),
        ("rcpt", "550 5.1.1 Mailbox unavailable", 550),
    ],
)
def test_server_refusal_is_retried_not_lost(where: str, reply: str, code: int) -> None:
    handler = Collector()
    (handler.data_replies if where == "data" else handler.rcpt_replies).append(reply)
    store, clock = InMemoryOutboxStore(), FixedClock(NOW)
    store.add([outgoing()])
    with smtp_server(handler) as port:
        first = dispatch(port, store, clock).run_once()
        assert first.retrying == (outgoing().id,)
        record = store.get(outgoing().id)
        assert record is not None
        assert record.status is DeliveryStatus.PENDING
        assert f"{code}" in (record.last_error or "")
        assert handler.envelopes == []
        clock.advance(minutes=1)
        assert dispatch(port, store, clock).run_once().sent == (outgoing().id,)
    assert len(handler.envelopes) == 1
    assert store.get(outgoing().id).status is DeliveryStatus.SENT  # type: ignore[union-attr]


def test_dropped_connection_is_retried_not_lost() -> None:
    handler = Collector()
    handler.drop_next = 1
    store, clock = InMemoryOutboxStore(), FixedClock(NOW)
    store.add([outgoing()])
    with smtp_server(handler) as port:
        assert dispatch(port, store, clock).run_once().retrying == (outgoing().id,)
        record = store.get(outgoing().id)
        assert record is not None
        assert "MailDeliveryError" in (record.last_error or "")
        clock.advance(minutes=1)
        assert dispatch(port, store, clock).run_once().sent == (outgoing().id,)
    assert len(handler.envelopes) == 1


def test_server_down_then_up() -> None:
    store, clock = InMemoryOutboxStore(), FixedClock(NOW)
    store.add([outgoing()])
    port = free_port()  # nothing listens there yet
    report = dispatch(port, store, clock).run_once()
    assert report.retrying == (outgoing().id,)
    assert "envoi impossible par 127.0.0.1" in (store.get(outgoing().id).last_error or "")  # type: ignore[union-attr]
    handler = Collector()
    clock.advance(minutes=1)
    with smtp_server(handler, port=port):
        assert dispatch(port, store, clock).run_once().sent == (outgoing().id,)
    assert len(handler.envelopes) == 1


def test_a_silent_server_times_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections in the backlog, never greets
        port = silent.getsockname()[1]
        with pytest.raises(MailDeliveryError, match="timed out"):
            SmtpMailer(settings(port, timeout=0.3)).send(outgoing())
