"""Step 1 of the guide in Chromium: the activation e-mail, the temporary password, the forced
change with its rules, the opening date, the forgotten password."""

from __future__ import annotations

import re
from datetime import datetime

from browser.conftest import NEW_PASSWORD, Portal
from canteen_core.domain.clock import PARIS


def test_activation_first_login_and_forced_password_change(portal: Portal) -> None:
    page = portal.page
    concerto = portal.template.concerto
    text = portal.mail("invitation", "concerto-maman")
    link = re.search(r"(https?://\S+/activation\?token=\S+)", text)
    assert link is not None
    portal.go(portal.link(link.group(1)))
    portal.check("activation")
    page.get_by_role("button", name="Activer mon compte").click()
    assert "Votre compte est activé" in page.content()
    portal.login(concerto.username, concerto.password)
    assert page.url.endswith("/mot-de-passe")
    assert "Règles du mot de passe" in page.inner_text("main")
    portal.check("mot-de-passe-premiere-connexion")
    # Another page is refused until the password is changed.
    portal.go("/foyer/CONCERTO")
    assert page.url.endswith("/mot-de-passe?suivant=%2Ffoyer%2FCONCERTO")
    page.get_by_label("Mot de passe actuel").fill(concerto.password)
    page.get_by_label("Nouveau mot de passe", exact=True).fill("court")
    page.get_by_label("Confirmation du nouveau mot de passe").fill("court")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    assert "au moins 12 caractères" in page.get_by_role("alert").inner_text()
    portal.change_password(concerto.password)
    assert page.url.endswith("/foyer/CONCERTO?mot-de-passe=1")
    assert "Bonjour Madame CONCERTO." in page.inner_text("main")
    page.get_by_role("button", name="Se déconnecter").click()
    portal.login(concerto.username, NEW_PASSWORD)
    assert page.url.endswith("/foyer/CONCERTO")


def test_login_page_before_the_opening_date(portal: Portal) -> None:
    page = portal.page
    concerto = portal.template.concerto
    portal.canteen.accounts.activate(concerto.token)
    portal.clock.set(datetime(2023, 8, 20, 9, 0, tzinfo=PARIS))
    portal.go("/connexion")
    assert "Le portail ouvre le 21/08/2023" in page.inner_text("main")
    portal.check("connexion-avant-ouverture")
    portal.login(concerto.username, concerto.password)
    assert "21 août 2023" in page.get_by_role("alert").inner_text()
    assert page.url.endswith("/connexion")


def test_forgotten_password(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    page.get_by_role("button", name="Se déconnecter").click()
    portal.check("connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    portal.check("mot-de-passe-oublie")
    page.get_by_label("Nom d'utilisateur ou adresse électronique").fill("concerto")
    page.get_by_role("button", name="Recevoir un lien").click()
    assert "Si un compte correspond" in page.inner_text("main")
    text = portal.mail("password-reset", "concerto-maman")
    link = re.search(r"(https?://\S+/mot-de-passe/nouveau\?token=\S+)", text)
    assert link is not None
    portal.go(portal.link(link.group(1)))
    portal.check("nouveau-mot-de-passe")
    chosen = "Autre-Cantine-2024!"
    page.get_by_label("Nouveau mot de passe", exact=True).fill(chosen)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(chosen)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    assert "Votre mot de passe est modifié" in page.inner_text("main")
    portal.login("concerto", chosen)
    assert page.url.endswith("/foyer/CONCERTO")
    for name, slug in [
        ("Mentions légales", "mentions-legales"),
        ("Conditions générales d'utilisation", "conditions-generales"),
        ("Nous contacter", "contact"),
        ("Aide", "aide"),
    ]:
        page.get_by_role("contentinfo").get_by_role("link", name=name).click()
        assert page.get_by_role("heading", level=1).inner_text() == name
        portal.check(slug)
        if slug == "contact":
            assert "regie.cantine@ronde.example" in page.inner_text("main")


def test_an_emailed_link_opens_after_the_login_it_needs(portal: Portal) -> None:
    page = portal.page
    concerto = portal.template.concerto
    portal.canteen.accounts.activate(concerto.token)
    # The invoices link of an e-mail, opened without a session: the login page first...
    portal.go("/factures")
    assert page.url.endswith("/connexion?suivant=%2Ffactures")
    page.get_by_label("Nom d'utilisateur").fill(concerto.username)
    page.get_by_label("Mot de passe", exact=True).fill(concerto.password)
    page.get_by_role("button", name="Se connecter").click()
    # ...then the forced change of the temporary password, then the invoices.
    assert "/mot-de-passe?suivant=" in page.url
    portal.change_password(concerto.password)
    assert page.url.endswith("/foyer/CONCERTO/factures")
    assert page.get_by_role("heading", level=1).inner_text() == "Mes factures"
    # A link whose target is another site ends on the dashboard instead.
    page.get_by_role("button", name="Se déconnecter").click()
    portal.go("/connexion?suivant=%2F%2Fevil.example%2F")
    page.get_by_label("Nom d'utilisateur").fill(concerto.username)
    page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    assert page.url == portal.base + "/foyer/CONCERTO"
