"""In Chromium: a parent asks to enroll a child ("Inscription à la restauration scolaire") and
reads "Tarification"; staff accept the request; the parent sees it accepted and can book.
Every page is checked with axe-core and photographed."""

from __future__ import annotations

import re

from browser.conftest import Portal
from canteen_adapters.cli.demo import ADMIN


def test_a_parent_asks_staff_accept_and_the_parent_books(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    assert "Première connexion" in page.inner_text("main")
    page.get_by_role("link", name="Inscription à la restauration scolaire").click()
    assert page.get_by_role("heading", name="Inscription à la restauration scolaire").is_visible()
    portal.check("inscription")
    page.get_by_label("Enfant").select_option(label="Arielle CONCERTO")
    # The demo offers its activities too (ALSH, Wednesday, evening care): ask for lunch.
    page.get_by_label("Prestation et école").select_option(value="rs@ronde")
    page.get_by_label("Année scolaire").select_option(label="2023-2024")
    page.get_by_label("Précisions pour le service restauration (facultatif)").fill(
        "Arielle mange végétarien."
    )
    page.get_by_role("button", name="Envoyer la demande").click()
    assert "Votre demande est envoyée" in page.inner_text("main")
    assert "En attente d'instruction" in page.inner_text("main")
    # Asking again for Alban, already enrolled: refused on the form, in French.
    page.get_by_label("Enfant").select_option(label="Alban CONCERTO")
    page.get_by_label("Prestation et école").select_option(value="rs@ronde")
    page.get_by_role("button", name="Envoyer la demande").click()
    assert "déjà inscrit" in page.get_by_role("alert").inner_text()
    portal.check("inscription-refus")
    portal.fits_a_phone()
    page.get_by_role("link", name="Mon accueil").click()
    assert "Inscription de Arielle" in page.inner_text("main")
    page.get_by_role("button", name="Se déconnecter").click()

    portal.activate(portal.template.staff)
    page.get_by_role("link", name="Inscriptions").click()
    assert "Arielle CONCERTO" in page.inner_text("main")
    portal.check("gestion-inscriptions")
    portal.fits_a_phone()
    page.get_by_role("button", name="Accepter la demande de Arielle CONCERTO").click()
    assert "l'enfant est inscrit" in page.inner_text("main")
    assert "Aucune demande d'inscription en attente" in page.inner_text("main")
    mails = [
        r.message
        for r in portal.canteen.accounts.outbox(ADMIN)
        if r.message.kind == "enrollment-request-decided"
    ]
    assert mails
    assert "acceptée" in mails[0].subject
    page.get_by_role("button", name="Se déconnecter").click()

    portal.login(portal.template.concerto.username, "Ronde-Cantine-2023!")
    assert re.search(r"Dernière connexion le 06/10/2023 à 09:00", page.inner_text("main"))
    assert "Acceptée" in page.inner_text("main")
    page.get_by_role("link", name=re.compile("Modifier les réservations de Arielle")).click()
    assert "Semaine" in page.inner_text("main")


def test_a_parent_reads_the_tariffs_and_why(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    page.get_by_role("link", name="Tarification", exact=True).first.click()
    main = page.inner_text("main")
    assert "Tarification 2023-2024" in main
    assert re.search(r"Votre tarif : 3,35\s€ par repas, car Alban est inscrit\(e\)", main)
    assert "tranche « QF de 700 € à moins de 1 000 € »" in main
    # Lunch's grid, among the grids of the demo's activities.
    lunch = page.get_by_role("region", name=re.compile("^Restauration Scolaire : tarifs"))
    table = lunch.get_by_role("table", name="Prix par repas : enfant résident")
    assert "QF inférieur à 450 €" in table.inner_text()
    portal.check("tarification")
    portal.fits_a_phone()


def test_another_household_and_a_form_without_its_token_get_nothing(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    for path in ("/foyer/H000001/inscription", "/foyer/H000001/tarification"):
        response = portal.go(path)
        assert response.status == 403, path
        assert "Accès refusé" in page.inner_text("main")
    refused = page.request.post(
        portal.base + "/foyer/CONCERTO/inscription",
        form={"child_id": "concerto-arielle", "offer": "rs@ronde", "school_year": "2023"},
    )
    assert refused.status == 403
    assert portal.canteen.enrollment_requests.of_household(ADMIN, "CONCERTO") == ()
