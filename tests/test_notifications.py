"""Emails rendered from templates: French, text and HTML parts, overridable per deployment."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape
from importlib import resources
from pathlib import Path

import argon2
import attrs
import pytest

from canteen_core.domain.accounts import AccountSettings, InMemoryAccountStore
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.events import (
    AccountInvited,
    ChangeRequestDecided,
    DirectDebitAnnounced,
    InvoiceIssued,
    InvoiceOverdue,
    PaymentReceived,
    ReservationsChanged,
)
from canteen_core.domain.families import Guardian
from canteen_core.domain.money import Money
from canteen_core.domain.notifications import (
    KINDS,
    NotificationSettings,
    Notifier,
    OutgoingMessage,
    Recipient,
)
from canteen_core.services.accounts import Accounts

NOW = datetime(2023, 6, 9, 7, 30, tzinfo=UTC)
CHEAP = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
MAMAN = Recipient(address="maman.concerto@example.fr", name="Madame CONCERTO Maman")
PAPA = Recipient(address="papa@example.fr", name="Monsieur CONCERTO Papa")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings() -> NotificationSettings:
    return NotificationSettings(
        portal_url="https://portail.example.fr/",
        organisation="API Restauration",
        contact="restauration@mairie.example.fr",
        creditor_identifier="FR12ZZZ123456",
    )


@pytest.fixture
def notifier(settings: NotificationSettings, clock: FixedClock) -> Notifier:
    return Notifier(settings, clock=clock)


def html_text(html: str) -> str:
    """The visible text of an HTML part (tags removed, entities decoded)."""
    inline_removed = re.sub(r"</?(?:strong|a|em|b)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", inline_removed)).split())


def assert_french_parts(message: OutgoingMessage, *snippets: str) -> None:
    """Both parts greet, sign, and contain every snippet."""
    assert message.html_body is not None
    visible = html_text(message.html_body)
    assert '<html lang="fr">' in message.html_body
    for part in (message.text_body, visible):
        assert "Bonjour Madame CONCERTO Maman," in part
        assert "Cordialement," in part
        assert "équipe API Restauration" in part
        for snippet in snippets:
            if part is visible and snippet.startswith("https://"):
                assert f'href="{snippet}"' in message.html_body  # links are links in HTML
            else:
                assert snippet in part, (snippet, part)
    assert ("Auto-Submitted", "auto-generated") in message.headers
    assert message.created_at == NOW
    assert message.to_address == MAMAN.address
    assert message.to_name == MAMAN.name


def test_invitation_is_the_seed_welcome_message(notifier: Notifier, clock: FixedClock) -> None:
    accounts = Accounts(InMemoryAccountStore(), clock=clock, settings=AccountSettings(hasher=CHEAP))
    invitation = accounts.invite(
        email="maman.concerto@example.fr", display_name="Madame CONCERTO Maman"
    )
    message = notifier.invitation(invitation, opens_at=datetime(2023, 8, 21, tzinfo=UTC))
    token = invitation.activation_token.reveal()
    url = f"https://portail.example.fr/activation?token={token}"
    assert message.subject == "Bienvenue sur votre espace restauration : activez votre compte"
    assert_french_parts(
        message,
        "Nous vous souhaitons la bienvenue sur votre espace restauration.",
        "votre espace a été automatiquement créé",
        "Pour l'activer, veuillez cliquer sur le lien suivant",
        url,
        "Nom d'utilisateur : maman.concerto",
        f"Mot de passe provisoire : {invitation.temporary_password.reveal()}",
        "changer ce mot de passe à la première connexion",
        "à partir du 21 août 2023",
        "valable jusqu'au 23 juin 2023 à 9 h 30",
    )
    assert f'href="{url}"' in (message.html_body or "")
    assert message.account_id == invitation.account.id
    assert message.kind == "invitation"
    # The link in the email activates the account.
    link = re.search(r"token=(\S+)", message.text_body)
    assert link is not None
    assert accounts.activate(link.group(1)).activated_at == NOW


def test_invitation_without_opening_date_does_not_mention_it(
    notifier: Notifier, clock: FixedClock
) -> None:
    accounts = Accounts(InMemoryAccountStore(), clock=clock, settings=AccountSettings(hasher=CHEAP))
    invitation = accounts.invite(email="a@example.fr", display_name="Monsieur Dupré")
    message = notifier.invitation(invitation)
    assert "à partir du" not in message.text_body
    assert message.text_body.startswith("Bonjour Monsieur Dupré,\n\n")


def test_password_reset(notifier: Notifier, clock: FixedClock) -> None:
    accounts = Accounts(InMemoryAccountStore(), clock=clock, settings=AccountSettings(hasher=CHEAP))
    invitation = accounts.invite(
        email="maman.concerto@example.fr", display_name="Madame CONCERTO Maman"
    )
    (reset,) = accounts.request_password_reset("maman.concerto")
    message = notifier.password_reset(reset)
    assert message.subject == "Réinitialisation de votre mot de passe"
    assert_french_parts(
        message,
        f"https://portail.example.fr/mot-de-passe/nouveau?token={reset.token.reveal()}",
        "valable jusqu'au 9 juin 2023 à 10 h 30",
        "utilisable une seule fois",
        "votre mot de passe reste inchangé",
    )
    assert invitation.temporary_password.reveal() not in message.text_body


@pytest.mark.parametrize(
    ("approved", "word"), [(True, "acceptée"), (False, "refusée")], ids=["approved", "rejected"]
)
def test_change_request_decided(notifier: Notifier, approved: bool, word: str) -> None:
    event = ChangeRequestDecided(
        occurred_at=NOW,
        request_id="req-1",
        household_id="h1",
        child_id="c1",
        day=date(2023, 9, 12),
        approved=approved,
        reason=None if approved else "Délai de prévenance dépassé",
        decided_by="staff-1",
    )
    (message,) = notifier.change_request_decided(
        event, [MAMAN], child_name="Alban", service_name="Restauration scolaire"
    )
    assert message.subject == (
        f"Votre demande de modification pour Alban du 12 septembre 2023 a été {word}"
    )
    snippets = [
        "Alban (Restauration scolaire), le mardi 12 septembre 2023, a été " + word,
        "https://portail.example.fr/reservations",
    ]
    if not approved:
        snippets.append("Motif : Délai de prévenance dépassé")
    assert_french_parts(message, *snippets)
    assert ("Motif" in message.text_body) is (not approved)
    assert message.household_id == "h1"


def test_invoice_available(notifier: Notifier) -> None:
    event = InvoiceIssued(
        occurred_at=NOW,
        invoice_id="inv-1",
        number="2023-000042",
        household_id="h1",
        total=Money.of("13.40"),
        due_date=date(2023, 6, 9),
    )
    (message,) = notifier.invoice_issued(
        event, [MAMAN], label="SEPTEMBRE 2023", payable_online_from=date(2023, 6, 9)
    )
    assert message.subject == "Votre facture SEPTEMBRE 2023 est disponible"
    assert_french_parts(
        message,
        "facture n° 2023-000042 (SEPTEMBRE 2023) d'un montant de 13,40 €",
        "à régler avant le 9 juin 2023",
        "Le paiement en ligne est disponible à partir du 9 juin 2023",
        "https://portail.example.fr/factures",
    )
    (plain,) = notifier.invoice_issued(event, [MAMAN])
    assert plain.subject == "Votre facture n° 2023-000042 est disponible"
    assert "paiement en ligne" not in plain.text_body


def test_payment_received(notifier: Notifier) -> None:
    event = PaymentReceived(
        occurred_at=NOW,
        payment_id="pay-1",
        household_id="h1",
        amount=Money.of("1234.5"),
        method="card",
        invoice_ids=("inv-1",),
    )
    (message,) = notifier.payment_received(event, [MAMAN], invoice_numbers=["2023-000042"])
    assert message.subject == "Confirmation de votre règlement de 1 234,50 €"
    assert_french_parts(
        message,
        "règlement de 1 234,50 € par carte bancaire le 9 juin 2023",
        "affecté à la facture n° 2023-000042",
    )
    cheque = PaymentReceived(
        occurred_at=NOW, payment_id="pay-2", household_id="h1", amount=Money.of(5), method="cheque"
    )
    (message,) = notifier.payment_received(cheque, [MAMAN], invoice_numbers=["A", "B"])
    assert "par chèque" in message.text_body
    assert "aux factures n° A, B" in message.text_body


@pytest.mark.parametrize(
    ("level", "subject", "snippet"),
    [
        (1, "Rappel : facture n° 2023-000042 en attente de règlement", "dès que possible"),
        (3, "Relance n° 3 : facture n° 2023-000042 impayée", "relance n° 3"),
    ],
)
def test_overdue_reminder(notifier: Notifier, level: int, subject: str, snippet: str) -> None:
    event = InvoiceOverdue(
        occurred_at=NOW,
        invoice_id="inv-1",
        number="2023-000042",
        household_id="h1",
        balance_due=Money.of("13.40"),
        due_date=date(2023, 6, 9),
        level=level,
    )
    (message,) = notifier.invoice_overdue(event, [MAMAN])
    assert message.subject == subject
    assert_french_parts(
        message,
        "présente un reste à payer de 13,40 €",
        "à régler avant le 9 juin 2023",
        snippet,
        "ne pas tenir compte de ce message",
    )
    # Each reminder level is its own message.
    (other,) = notifier.invoice_overdue(
        InvoiceOverdue(
            occurred_at=NOW,
            invoice_id="inv-1",
            number="2023-000042",
            household_id="h1",
            balance_due=Money.of("13.40"),
            due_date=date(2023, 6, 9),
            level=level + 1,
        ),
        [MAMAN],
    )
    assert other.id != message.id


def test_direct_debit_pre_notification(notifier: Notifier) -> None:
    event = DirectDebitAnnounced(
        occurred_at=NOW,
        household_id="h1",
        amount=Money.of("13.40"),
        collection_date=date(2023, 10, 5),
        mandate_reference="RUM-2023-0001",
    )
    (message,) = notifier.direct_debit_announced(event, [MAMAN])
    assert message.subject == "Avis de prélèvement : 13,40 € le 5 octobre 2023"
    assert_french_parts(
        message,
        "la somme de 13,40 € sera prélevée sur votre compte le jeudi 5 octobre 2023",
        "mandat de prélèvement SEPA référence RUM-2023-0001",
        "Créancier : API Restauration (identifiant créancier SEPA : FR12ZZZ123456)",
    )


def test_every_kind_has_its_three_templates_and_nothing_else() -> None:
    folder = resources.files("canteen_core") / "templates" / "mail"
    names = {entry.name for entry in folder.iterdir()}
    expected = {f"{kind}{suffix}" for kind in KINDS for suffix in (".subject.txt", ".txt", ".html")}
    assert names - {"_layout.html", "_signature.txt", "_greeting.txt"} == expected


def test_html_is_escaped_text_is_not(notifier: Notifier) -> None:
    sneaky = Recipient(address="x@example.fr", name="<b>Léa & Théo</b>")
    event = InvoiceOverdue(
        occurred_at=NOW,
        invoice_id="i",
        number="<script>",
        household_id="h1",
        balance_due=Money.of(1),
        due_date=date(2023, 6, 9),
        level=1,
    )
    (message,) = notifier.invoice_overdue(event, [sneaky])
    assert "&lt;b&gt;Léa &amp; Théo&lt;/b&gt;" in (message.html_body or "")
    assert "&lt;script&gt;" in (message.html_body or "")
    assert "<script>" not in (message.html_body or "")
    assert "Bonjour <b>Léa & Théo</b>," in message.text_body
    assert message.subject == "Rappel : facture n° <script> en attente de règlement"


def test_message_ids_are_stable_per_event_and_recipient(notifier: Notifier) -> None:
    event = InvoiceIssued(
        occurred_at=NOW,
        invoice_id="inv-1",
        number="1",
        household_id="h1",
        total=Money.of(1),
        due_date=date(2023, 6, 9),
    )
    first = notifier.invoice_issued(event, [MAMAN, PAPA])
    again = notifier.invoice_issued(event, [MAMAN, PAPA])
    assert [m.id for m in first] == [m.id for m in again]
    assert first[0].id != first[1].id
    assert first[0].id.startswith("invoice-issued.")
    # A shared address gets one message.
    shared = Recipient(address="MAMAN.concerto@example.fr", name="Papa")
    assert len(notifier.invoice_issued(event, [MAMAN, shared])) == 1


def test_for_event_dispatches_and_ignores_silent_events(notifier: Notifier) -> None:
    invoice = InvoiceIssued(
        occurred_at=NOW,
        invoice_id="inv-1",
        number="1",
        household_id="h1",
        total=Money.of(1),
        due_date=date(2023, 6, 9),
    )
    (message,) = notifier.for_event(invoice, [MAMAN], label="JUIN 2023")
    assert message.subject == "Votre facture JUIN 2023 est disponible"
    booked = ReservationsChanged(
        occurred_at=NOW, household_id="h1", child_id="c", enrollment_id="e", actor_id="u"
    )
    assert notifier.for_event(booked, [MAMAN]) == []
    invited = AccountInvited(occurred_at=NOW, account_id="a", username="u", email="u@example.fr")
    with pytest.raises(InvalidInputError, match=r"Notifier\.invitation"):
        notifier.for_event(invited, [MAMAN])
    with pytest.raises(InvalidInputError):
        notifier.for_event("event", [MAMAN])  # type: ignore[arg-type]


def test_recipient_from_guardian() -> None:
    guardian = Guardian(
        id="g1",
        first_name="Maman",
        last_name="Concerto",
        email="maman.concerto@example.fr",
        civility="Madame",
    )
    assert Recipient.from_guardian(guardian) == MAMAN
    with pytest.raises(InvalidInputError, match="no email"):
        Recipient.from_guardian(Guardian(id="g2", first_name="A", last_name="B"))


def test_deployment_templates_override_the_package_ones(
    tmp_path: Path, settings: NotificationSettings, clock: FixedClock
) -> None:
    (tmp_path / "invoice-issued.subject.txt").write_text(
        "Mairie de Bois-le-Roi : facture {{ number }} ({{ total|money }})\n", encoding="utf-8"
    )
    (tmp_path / "_signature.txt").write_text("Le service Enfance\n", encoding="utf-8")
    notifier = Notifier(attrs.evolve(settings, template_dir=tmp_path), clock=clock)
    event = InvoiceIssued(
        occurred_at=NOW,
        invoice_id="inv-1",
        number="42",
        household_id="h1",
        total=Money.of("13.4"),
        due_date=date(2023, 6, 9),
    )
    (message,) = notifier.invoice_issued(event, [MAMAN])
    assert message.subject == "Mairie de Bois-le-Roi : facture 42 (13,40 €)"
    assert message.text_body.rstrip().endswith("Le service Enfance")
    # Templates not overridden come from the package.
    assert "d'un montant de 13,40 €" in message.text_body
    assert "équipe API Restauration" in (message.html_body or "")


def test_broken_overrides_and_bad_settings_fail_clearly(
    tmp_path: Path, settings: NotificationSettings, clock: FixedClock
) -> None:
    (tmp_path / "invoice-issued.txt").write_text("{{ no_such_variable }}", encoding="utf-8")
    notifier = Notifier(attrs.evolve(settings, template_dir=tmp_path), clock=clock)
    event = InvoiceIssued(
        occurred_at=NOW,
        invoice_id="inv-1",
        number="42",
        household_id="h1",
        total=Money.of(1),
        due_date=date(2023, 6, 9),
    )
    with pytest.raises(ConfigurationError, match="no_such_variable"):
        notifier.invoice_issued(event, [MAMAN])
    with pytest.raises(ConfigurationError, match="does not exist"):
        Notifier(attrs.evolve(settings, template_dir=tmp_path / "missing"), clock=clock)
    with pytest.raises(ConfigurationError, match="no mail template"):
        Notifier(settings, clock=clock).render("unknown-kind", MAMAN, {}, key="k")
    with pytest.raises(ConfigurationError, match="http"):
        NotificationSettings(portal_url="portail.example.fr")
    with pytest.raises(ConfigurationError, match="token"):
        NotificationSettings(portal_url="https://p.example.fr", activation_url="{portal_url}/a")


def test_outgoing_message_validates_headers_and_subject() -> None:
    base = {
        "id": "m-1",
        "kind": "k",
        "to_address": "a@example.fr",
        "subject": "Objet",
        "text_body": "Texte",
        "created_at": NOW,
    }
    OutgoingMessage(**base)  # type: ignore[arg-type]
    for change, path in [
        ({"subject": "Objet\r\nBcc: x@example.fr"}, "subject"),
        ({"headers": [("Bcc", "x@example.fr")]}, "headers"),
        ({"headers": [("X-A", "b\nc")]}, "headers"),
        ({"headers": [("X A", "b")]}, "headers"),
        ({"id": "<bad id>"}, "id"),
        ({"to_address": "not-an-address"}, "to_address"),
        ({"to_name": "A\nB"}, "to_name"),
        ({"created_at": datetime(2023, 1, 1)}, "created_at"),
    ]:
        with pytest.raises(InvalidInputError) as caught:
            OutgoingMessage(**{**base, **change})  # type: ignore[arg-type]
        assert caught.value.path == path
