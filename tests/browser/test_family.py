"""Steps 2 to 4 of the guide in Chromium: the dashboard and profile, the reservation grid
(week and month, tick all, periodicity, recap then validation, a late change pending), the
invoices with their PDF and a PayZen payment confirmed by a signed IPN."""

from __future__ import annotations

from datetime import datetime

import httpx

from browser.conftest import Portal
from canteen_adapters.cli.demo import FINANCE, PAYZEN_TEST_KEY
from canteen_adapters.payment.payzen import compute_signature
from canteen_core.domain.clock import PARIS


def test_dashboard_and_profile(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    main = page.inner_text("main")
    # Her first login is the current one: no previous visit to show yet.
    assert "Bonjour Madame CONCERTO. Première connexion : bienvenue !" in main
    assert "Vous n'avez aucune facture non réglée" in main
    assert "Co-représentant" in main
    assert "Papa" in main
    for child in ("Alban", "Arielle", "Basile"):
        assert child in main
    assert page.get_by_role("link", name="Modifier les réservations").count() >= 1
    portal.check("tableau-de-bord")
    page.get_by_role("link", name="Mon profil").first.click()
    portal.check("profil")
    page.get_by_label("Adresse électronique").first.fill("maman@concerto.example")
    page.get_by_role("button", name="Enregistrer").first.click()
    assert "Vos coordonnées sont enregistrées" in page.inner_text("main")
    assert page.get_by_label("Adresse électronique").first.input_value() == (
        "maman@concerto.example"
    )


def test_reservations_recap_validation_and_pending(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    page.get_by_role("link", name="Modifier les réservations").first.click()
    main = page.inner_text("main")
    assert "Octobre 2023" in main
    assert "Semaine 41" in main
    assert "LUNDI" in main
    assert "Vacances de la Toussaint" in main  # closed days with their reason
    assert "Verrouillé" in main  # past-deadline days locked, deadline shown
    portal.check("reservations-mois")
    portal.fits_a_phone()
    page.get_by_label("Repas de Alban le mardi 17/10/2023").check()
    page.get_by_label("Repas de Alban le mardi 10/10/2023").check()  # past Thursday's deadline
    page.get_by_role("button", name="Aller à l'étape 2").click()
    recap = page.inner_text("main")
    assert "Repas réservés" in recap
    assert "mardi 17/10/2023" in recap
    assert "Demandes en attente d'instruction" in recap
    assert "Réservation du mardi 10/10/2023" in recap
    portal.check("reservations-etape-2")
    page.get_by_role("button", name="Valider").click()
    assert "1 repas réservé, 1 demande en attente d'instruction" in page.inner_text("main")
    page.get_by_role("link", name="Semaine", exact=True).click()
    assert "Semaine 40" in page.inner_text("main")
    page.goto(portal.base + page.url.split(portal.base)[1].replace("2023-10-06", "2023-10-10"))
    assert "Réservation en attente d'instruction" in page.inner_text("main")
    portal.check("reservations-semaine")
    portal.fits_a_phone()
    # "Tout cocher" then step 2 (JavaScript ticks the boxes in the page).
    page.get_by_role("link", name="Mois", exact=True).click()
    page.get_by_role("button", name="Tout cocher").click()
    boxes = page.locator("input[name=day]:not(:disabled)")
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.get_by_role("button", name="Tout décocher").click()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
    # "Appliquer une périodicité": Thursdays from the 16th of October.
    page.get_by_text("Appliquer une périodicité").click()
    page.get_by_label("Jeudi", exact=True).check()
    page.get_by_label("Du", exact=True).fill("2023-11-06")
    page.get_by_label("Au", exact=True).fill("2023-11-30")
    page.get_by_label("Fréquence").select_option("every_week")
    portal.check("reservations-periodicite")
    page.get_by_role("button", name="Appliquer la périodicité").click()
    assert "Périodicité appliquée" in page.inner_text("main")
    assert page.get_by_label("Repas de Alban le jeudi 09/11/2023").is_checked()
    assert not page.get_by_label("Repas de Alban le lundi 06/11/2023").is_checked()


def test_invoices_pdf_and_payzen_payment(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    portal.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    portal.canteen.billing.run_postpaid(FINANCE, "2023-10")
    page.reload()
    assert "Vous avez 1 facture non réglée" in page.inner_text("main")
    page.get_by_role("link", name="Voir mes factures").click()
    table = page.inner_text("table")
    for header in ("Facture du", "À régler avant le", "Reste à payer", "Montant total"):
        assert header in table
    portal.check("factures")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").first.click()
    assert download.value.suggested_filename.startswith("facture-")
    page.get_by_role("button", name="Payer").first.click()
    form = page.locator("form#paiement")
    assert form.get_attribute("action").startswith("https://")  # type: ignore[union-attr]
    portal.check("paiement")
    fields = {
        name: form.locator(f"input[name='{name}']").input_value()
        for name in form.locator("input[type=hidden]").evaluate_all("e => e.map(i => i.name)")
        if name != "signature"
    }
    assert fields["vads_url_check"] == portal.base + "/api/v1/callbacks/payzen/ipn"
    fields.update(
        vads_trans_status="AUTHORISED",
        vads_operation_type="DEBIT",
        vads_auth_result="00",
        vads_card_brand="CB",
        vads_card_number="497010XXXXXX0055",
        vads_effective_amount=fields["vads_amount"],
    )
    signed = {**fields, "signature": compute_signature(fields, PAYZEN_TEST_KEY, "HMAC-SHA-256")}
    ipn = httpx.post(fields["vads_url_check"], data=signed)
    assert ipn.status_code == 200, ipn.text
    page.goto(fields.get("vads_url_return", portal.base))
    page.get_by_role("link", name="Mes factures").first.click()
    assert "Vous n'avez aucune facture non réglée" in page.inner_text("main")
    assert "Réglée" in page.inner_text("table")
