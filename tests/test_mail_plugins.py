"""The mail adapters are plugins: the ``canteen_mailers`` hook builds them from ``[mail]``."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from canteen_adapters.mail import outbox as outbox_module
from canteen_adapters.mail import smtp as smtp_module
from canteen_adapters.mail.outbox import OutboxMailer
from canteen_adapters.mail.smtp import SmtpMailer
from canteen_core.config.deployment import MailSecurity, MailSettings
from canteen_core.config.plugins import CanteenPluginManager, build_plugin_manager
from canteen_core.domain.notifications import OutgoingMessage

NOW = datetime(2023, 6, 9, 7, 30, tzinfo=UTC)
MESSAGE = OutgoingMessage(
    id="invitation.0001",
    kind="invitation",
    to_address="famille@example.fr",
    to_name="Famille Lefèvre",
    subject="Bienvenue sur votre espace restauration",
    text_body="Bonjour,\n",
    created_at=NOW,
)


def manager() -> CanteenPluginManager:
    return build_plugin_manager(
        load_entrypoints=False, built_ins=False, plugins=[outbox_module, smtp_module]
    )


def test_both_mailers_are_offered() -> None:
    pm = manager()
    assert set(pm.adapters("mailer")) == {"outbox", "smtp"}


def test_outbox_mailer_from_the_deployment_settings(tmp_path: Path) -> None:
    settings = MailSettings(
        adapter="outbox", sender="Cantine <c@mairie.example.fr>", folder=str(tmp_path)
    )
    mailer = manager().mailer_backend("outbox").factory(settings)
    assert isinstance(mailer, OutboxMailer)
    mailer.send(MESSAGE)
    assert (tmp_path / "invitation.0001.eml").exists()


class Collector:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


def test_smtp_mailer_from_the_deployment_settings() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = MailSettings(
            adapter="smtp",
            sender="Mairie <cantine@mairie.example.fr>",
            host="127.0.0.1",
            port=port,
            security=MailSecurity.PLAIN,
            timeout=5,
        )
        mailer = manager().mailer_backend("smtp").factory(settings)
        assert isinstance(mailer, SmtpMailer)
        mailer.send(MESSAGE)
    finally:
        controller.stop()
    (envelope,) = handler.envelopes
    received = email.message_from_bytes(
        envelope.original_content or b"", policy=email.policy.default
    )
    assert received["To"].addresses[0].display_name == "Famille Lefèvre"
    assert received["From"].addresses[0].display_name == "Mairie"
