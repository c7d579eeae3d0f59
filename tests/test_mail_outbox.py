"""The ``outbox`` development mailer: keeps messages and writes ``.eml`` files."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import attrs
import pytest

from canteen_adapters.mail._mime import SMTP_POLICY, build_email, parse_sender
from canteen_adapters.mail.outbox import DEFAULT_SENDER, OutboxMailer, OutboxMailerSettings
from canteen_adapters.storage.sql import SqlStorage
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConfigurationError
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import (
    DeduplicatingMailer,
    DeliveryStatus,
    Dispatcher,
    InMemoryOutboxStore,
    MailDeliveryError,
)
from canteen_core.ports.storage import outbox_store

NOW = datetime(2023, 6, 9, 7, 30, tzinfo=UTC)


def outgoing(n: int = 1) -> OutgoingMessage:
    return OutgoingMessage(
        id=f"payment-received.{n:04d}",
        kind="payment-received",
        to_address="famille@example.fr",
        to_name="Famille Éluard",
        subject="Confirmation de votre règlement de 13,40 €",
        text_body="Bonjour,\nNous avons bien reçu 13,40 €.\n",
        html_body="<p>Nous avons bien reçu <strong>13,40 €</strong>.</p>\n",
        created_at=NOW,
    )


def test_keeps_messages_in_memory() -> None:
    mailer = OutboxMailer()
    assert isinstance(mailer, DeduplicatingMailer)
    mailer.send(outgoing(1))
    mailer.send(outgoing(1))  # same id: ignored
    mailer.send(outgoing(2))
    assert [m["Message-ID"].strip() for m in mailer.messages] == [
        "<payment-received.0001@localhost.localdomain>",
        "<payment-received.0002@localhost.localdomain>",
    ]
    first = mailer.sent["payment-received.0001"]
    assert first["Subject"] == "Confirmation de votre règlement de 13,40 €"
    assert first.get_content_type() == "multipart/alternative"
    assert mailer.has_sent("payment-received.0002")
    assert not mailer.has_sent("payment-received.0003")


def test_writes_eml_files_that_mail_clients_open(tmp_path: Path) -> None:
    folder = tmp_path / "mails"  # created on first send
    mailer = OutboxMailer(
        OutboxMailerSettings(
            sender="Mairie de Bois-le-Roi <cantine@mairie.example.fr>", folder=folder
        )
    )
    mailer.send(outgoing())
    path = folder / "payment-received.0001.eml"
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Confirmation de votre règlement de 13,40 €"
    assert parsed["From"].addresses[0].display_name == "Mairie de Bois-le-Roi"
    assert parsed["To"].addresses[0].display_name == "Famille Éluard"
    assert parsed["Message-ID"].strip() == "<payment-received.0001@mairie.example.fr>"
    text, html = parsed.iter_parts()
    assert text.get_content().replace("\r\n", "\n") == outgoing().text_body
    assert "13,40 €" in html.get_content()


def test_files_make_deduplication_survive_a_restart(tmp_path: Path) -> None:
    class CrashOnce(InMemoryOutboxStore):
        crashed = False

        def mark_sent_many(self, sent: Mapping[str, datetime]) -> None:
            if not self.crashed:
                self.crashed = True
                raise KeyboardInterrupt  # the process stops right after the send
            super().mark_sent_many(sent)

    store, clock = CrashOnce(), FixedClock(NOW)
    store.add([outgoing()])
    settings = OutboxMailerSettings(folder=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        Dispatcher(store, OutboxMailer(settings), clock=clock).run_once()
    clock.advance(minutes=10)
    restarted = OutboxMailer(settings)  # a new process: nothing in memory
    report = Dispatcher(store, restarted, clock=clock, lease=timedelta(minutes=10)).run_once()
    assert report.already_sent == (outgoing().id,)
    assert restarted.messages == []  # not sent a second time
    assert store.get(outgoing().id).status is DeliveryStatus.SENT  # type: ignore[union-attr]


def test_a_write_failure_is_retried(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    store, clock = InMemoryOutboxStore(), FixedClock(NOW)
    store.add([outgoing()])
    mailer = OutboxMailer(OutboxMailerSettings(folder=blocker))
    with pytest.raises(MailDeliveryError):
        mailer.send(outgoing(9))
    assert Dispatcher(store, mailer, clock=clock).run_once().retrying == (outgoing().id,)
    assert not mailer.has_sent(outgoing().id)


def test_settings_from_deployment_values(tmp_path: Path) -> None:
    assert OutboxMailerSettings.from_mapping({}).sender.address == DEFAULT_SENDER
    loaded = OutboxMailerSettings.from_mapping(
        {"adapter": "outbox", "sender": "a@example.fr", "folder": str(tmp_path), "host": None}
    )
    assert (loaded.sender.address, loaded.folder) == ("a@example.fr", tmp_path)
    deployment = SimpleNamespace(sender="b@example.fr", reply_to="c@example.fr", folder=None)
    mailer = OutboxMailer.from_settings(deployment)
    assert mailer.settings.reply_to == "c@example.fr"
    mailer.send(outgoing())
    assert mailer.messages[0]["Reply-To"] == "c@example.fr"
    with pytest.raises(ConfigurationError):
        OutboxMailerSettings.from_mapping({"sender": "no address"})
    with pytest.raises(ConfigurationError):
        OutboxMailerSettings.from_mapping({"folder": 3})


def test_headers_shared_between_emails_serialize_as_the_standard_library_does() -> None:
    """The e-mails of a run share their repeated headers, parsed and folded once: each is
    still written byte for byte as with the standard library's own policies (plain and
    SMTPUTF8), and keeps its own recipient and subject."""
    sender = parse_sender("Mairie de Bois-le-Roi <cantine@mairie.example.fr>")
    subjects = [
        "Confirmation de votre règlement de 13,40 €",
        "Relance : votre facture n° 2023-000042 de septembre reste à régler avant le 1er "
        "novembre, merci de régulariser votre situation auprès de la régie",
    ]
    messages = [
        attrs.evolve(outgoing(n), subject=subjects[n % 2], to_name=name, to_address=f"p{n}@ex.fr")
        for n, name in enumerate(["Famille Éluard", 'Jean "Jo" Martin', "Лена", None] * 2)
    ]
    for message in messages:
        mail = build_email(message, sender=sender, reply_to="Régie <regie@mairie.example.fr>")
        written = mail.as_bytes()  # the boundary is chosen here, then kept
        assert written == mail.as_bytes(policy=email.policy.SMTP)
        utf8 = SMTP_POLICY.clone(utf8=True)
        assert mail.as_bytes(policy=utf8) == mail.as_bytes(policy=email.policy.SMTPUTF8)
        parsed = email.message_from_bytes(written, policy=email.policy.default)
        assert parsed["Subject"] == message.subject
        assert parsed["To"].addresses[0].addr_spec == message.to_address


_KILLED_DISPATCHER = """
import os, signal, sys
from datetime import datetime
from canteen_adapters.mail.outbox import OutboxMailer, OutboxMailerSettings
from canteen_adapters.storage.sql import SqlStorage
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.outbox import Dispatcher
from canteen_core.ports.storage import outbox_store

url, folder, now = sys.argv[1:]

class DiesAfter25(OutboxMailer):
    def send(self, message):
        super().send(message)
        if len(self.sent) == 25:  # its file is written, its send not recorded
            os.kill(os.getpid(), signal.SIGKILL)

storage = SqlStorage.from_url(url, migrate=False)
mailer = DiesAfter25(OutboxMailerSettings(folder=folder))
Dispatcher(outbox_store(storage), mailer, clock=FixedClock(datetime.fromisoformat(now))).run_once()
"""


def test_a_dispatcher_killed_mid_batch_writes_each_file_once(tmp_path: Path) -> None:
    """A real SIGKILL in the middle of a batch of 30 (sends recorded 20 at a time): the 20
    recorded stay sent, the 5 written but not recorded are found as files by the next
    dispatch once the lease has expired (recorded without a second write), the 5 never sent
    are sent. Each message ends with one file, nothing is lost."""
    url = f"sqlite:///{tmp_path / 'canteen.db'}"
    folder = tmp_path / "mail"
    storage = SqlStorage.from_url(url)
    try:
        store = outbox_store(storage)
        store.add([attrs.evolve(outgoing(n), id=f"m-{n:02d}") for n in range(30)])
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        killed = subprocess.run(
            [sys.executable, "-c", _KILLED_DISPATCHER, url, str(folder), NOW.isoformat()],
            env=environment,
            capture_output=True,
            timeout=120,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
        statuses = Counter(record.status for record in store.records())
        assert statuses == {DeliveryStatus.SENT: 20, DeliveryStatus.SENDING: 10}
        assert len(list(folder.glob("*.eml"))) == 25
        restarted = OutboxMailer(OutboxMailerSettings(folder=folder))
        after_lease = FixedClock(NOW + timedelta(minutes=10))
        report = Dispatcher(store, restarted, clock=after_lease).run_until_idle()
        assert report.already_sent == tuple(f"m-{n}" for n in range(20, 25))
        assert report.sent == tuple(f"m-{n}" for n in range(25, 30))
        assert list(restarted.sent) == [f"m-{n}" for n in range(25, 30)]  # written once
        assert sorted(p.stem for p in folder.glob("*.eml")) == [f"m-{n:02d}" for n in range(30)]
        assert {record.status for record in store.records()} == {DeliveryStatus.SENT}
    finally:
        storage.close()
