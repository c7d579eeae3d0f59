"""Secrets of queued account emails: sealed at rest, opened only for the send (#22 item 3)."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import argon2
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from cryptography.fernet import Fernet

from canteen_adapters.mail.outbox import OutboxMailer, OutboxMailerSettings
from canteen_adapters.mail.smtp import SmtpMailer, SmtpSettings
from canteen_core.config.deployment import (
    CalendarSettings,
    Deployment,
    IssuerSettings,
    PortalSettings,
    StorageSettings,
)
from canteen_core.domain.accounts import AccountSettings
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.mail_secrets import (
    KEY_ENV,
    KEY_FILE,
    SEALED_HEADER,
    MailSecrets,
    open_message,
    placeholder,
)
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import (
    DeliveryStatus,
    Dispatcher,
    InMemoryOutboxStore,
    MailDeliveryError,
    RetryPolicy,
)
from canteen_core.ports.mail import Mailer
from canteen_core.services import Canteen

ADMIN = Actor.staff("admin", Role.ADMIN)
SYSTEM = Actor.system()
NOW = datetime(2023, 9, 1, 8, 0, tzinfo=UTC)
ISSUER = IssuerSettings(name="Régie de restauration scolaire de Ronde", code="RONDE")
ADDRESS = "agent@ronde.fr"


def _accounts() -> AccountSettings:
    return AccountSettings(hasher=argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _sqlite_canteen(tmp_path: Path, mailer: Mailer | None = None) -> Canteen:
    deployment = Deployment(
        issuer=ISSUER,
        storage=StorageSettings(url=f"sqlite:///{tmp_path / 'x.db'}"),
        calendar=CalendarSettings(department="75"),
        portal=PortalSettings(url="https://famille.ronde.fr"),
        base_dir=tmp_path,  # as if read from tmp_path/canteen.toml: the key file goes there
    )
    return Canteen.from_deployment(
        deployment, clock=FixedClock(NOW), account_settings=_accounts(), mailer=mailer
    )


def _secrets_of(text: str) -> tuple[str, str]:
    password = re.search(r"Mot de passe provisoire : (\S+)", text)
    token = re.search(r"token=(\S+)", text)
    assert password
    assert token
    return password.group(1), token.group(1)


def _raw_outbox(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return "\n".join(repr(row) for row in db.execute("SELECT * FROM outbox"))


def test_a_pending_invitation_row_holds_neither_password_nor_token(tmp_path: Path) -> None:
    with _sqlite_canteen(tmp_path) as canteen:
        canteen.accounts.invite(ADMIN, email=ADDRESS, display_name="Agent")
        canteen.accounts.request_password_reset(ADDRESS)
        # The admin's outbox view shows the email to be sent ...
        invitation, reset = canteen.accounts.outbox(ADMIN, "pending")
        password, token = _secrets_of(invitation.message.text_body)
        _, reset_token = _secrets_of(reset.message.text_body + "\nMot de passe provisoire : -")
        raw = _raw_outbox(tmp_path / "x.db")
    # ... the stored rows only placeholders and ciphertext.
    assert password not in raw
    for secret in (token, reset_token):
        assert secret not in raw
        assert secret.split(".")[1] not in raw  # not even the verifier alone
    assert placeholder("temporary_password") in raw
    assert placeholder("reset_url") in raw
    assert SEALED_HEADER in raw
    # The key was made for this deployment, readable by its owner only.
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_delivered_email_carries_the_secrets_and_no_ciphertext(tmp_path: Path) -> None:
    mailer = OutboxMailer(OutboxMailerSettings(folder=tmp_path / "mail"))
    with _sqlite_canteen(tmp_path, mailer) as canteen:
        canteen.accounts.invite(ADMIN, email=ADDRESS, display_name="Agent")
        (queued,) = canteen.accounts.outbox(ADMIN)
        password, token = _secrets_of(queued.message.text_body)
        assert canteen.accounts.send_outbox(SYSTEM).sent == (queued.id,)
        (sent,) = canteen.accounts.outbox(ADMIN, "sent")
        raw = _raw_outbox(tmp_path / "x.db")
    (eml,) = (tmp_path / "mail").glob("*.eml")
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail[SEALED_HEADER] is None
    text, html = (part.get_content() for part in mail.iter_parts())
    assert _secrets_of(text) == (password, token)
    assert password in html
    assert f"token={token}" in html
    assert "canteen-secret" not in text + html
    assert SEALED_HEADER not in raw
    assert password not in raw
    assert token not in raw
    assert SEALED_HEADER not in dict(sent.message.headers)


class _Collector:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@contextmanager
def _smtp_server(handler: _Collector) -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_smtp_delivers_the_invitation_with_its_secrets(tmp_path: Path) -> None:
    handler = _Collector()
    with _smtp_server(handler) as port:
        settings = SmtpSettings(
            host="127.0.0.1", port=port, security="none", sender="x@ronde.fr", timeout=5
        )
        with _sqlite_canteen(tmp_path, SmtpMailer(settings)) as canteen:
            canteen.accounts.invite(ADMIN, email=ADDRESS, display_name="Agent")
            (queued,) = canteen.accounts.outbox(ADMIN)
            password, token = _secrets_of(queued.message.text_body)
            assert canteen.accounts.send_outbox(SYSTEM).sent == (queued.id,)
    (envelope,) = handler.envelopes
    mail = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail[SEALED_HEADER] is None
    text, html = (part.get_content() for part in mail.iter_parts())
    assert _secrets_of(text) == (password, token)
    assert password in html
    assert token in html


class _Refusing:
    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: OutgoingMessage) -> None:
        self.calls += 1
        raise MailDeliveryError("relay denied", permanent=True, code=550)


def _sealed_message(secrets: MailSecrets) -> tuple[OutgoingMessage, str]:
    message = secrets.seal(
        OutgoingMessage(
            id="m1",
            kind="invitation",
            to_address=ADDRESS,
            subject="Bienvenue",
            text_body=f"Mot de passe provisoire : {placeholder('temporary_password')}\n",
            html_body=f"<p>{placeholder('temporary_password')}</p>",
            created_at=NOW,
        ),
        {"temporary_password": "a&b<c>"},
    )
    return message, "a&b<c>"


def test_a_dead_message_keeps_nothing_readable_and_is_not_sent_with_placeholders() -> None:
    secrets = MailSecrets(Fernet.generate_key())
    message, password = _sealed_message(secrets)
    store = InMemoryOutboxStore()
    store.add([message])
    refusing = _Refusing()
    dispatcher = Dispatcher(
        store, refusing, clock=FixedClock(NOW), secrets=secrets, retry=RetryPolicy(max_attempts=1)
    )
    assert dispatcher.run_once().dead == ("m1",)
    record = store.get("m1")
    assert record is not None
    assert record.status is DeliveryStatus.DEAD
    assert SEALED_HEADER not in dict(record.message.headers)
    assert password not in repr(record)
    # Requeued, it is not handed to the mailer with placeholders: dead again, saying why.
    store.requeue("m1", now=NOW)
    assert dispatcher.run_once().dead == ("m1",)
    assert refusing.calls == 1
    record = store.get("m1")
    assert record is not None
    assert "secrets dropped" in (record.last_error or "")


def test_another_key_cannot_open_a_message_and_the_mailer_gets_nothing() -> None:
    message, _ = _sealed_message(MailSecrets(Fernet.generate_key()))
    store = InMemoryOutboxStore()
    store.add([message])
    refusing = _Refusing()
    other = MailSecrets(Fernet.generate_key())
    report = Dispatcher(store, refusing, clock=FixedClock(NOW), secrets=other).run_once()
    assert report.dead == ("m1",)
    assert refusing.calls == 0
    record = store.get("m1")
    assert record is not None
    assert "another key" in (record.last_error or "")


def test_secrets_are_escaped_in_html_and_raw_in_text() -> None:
    secrets = MailSecrets(Fernet.generate_key())
    message, password = _sealed_message(secrets)
    opened = open_message(message, secrets)
    assert opened.text_body == f"Mot de passe provisoire : {password}\n"
    assert opened.html_body == "<p>a&amp;b&lt;c&gt;</p>"
    assert SEALED_HEADER not in dict(opened.headers)


def test_the_key_comes_from_the_environment_then_the_deployment_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    message, password = _sealed_message(MailSecrets.for_deployment(tmp_path))
    # The same folder gives the same key (another process can send what this one queued).
    assert password in open_message(message, MailSecrets.for_deployment(tmp_path)).text_body
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_ENV, key)
    from_env, password = _sealed_message(MailSecrets.for_deployment(tmp_path))
    assert password in open_message(from_env, MailSecrets(key)).text_body
    monkeypatch.setenv(KEY_ENV, "not-a-key")
    with pytest.raises(ConfigurationError):
        MailSecrets.for_deployment(tmp_path)
    assert "<key>" in repr(MailSecrets(key))
