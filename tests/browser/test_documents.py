"""The "Espace de stockage" in Chromium: a parent uploads a medical certificate through the
page's form, chooses paperless invoices and gives a postal address; staff open the review
page and accept it. Both pages pass axe-core (WCAG 2 A/AA)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from browser.conftest import Portal


def _certificate(folder: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Certificat medical")
    path = folder / "certificat.pdf"
    path.write_bytes(bytes(pdf.output()))
    return path


def test_upload_paperless_and_staff_review(portal: Portal, tmp_path: Path) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    page.get_by_role("link", name="Espace de stockage").first.click()
    assert "Aucun document déposé." in page.inner_text("main")
    portal.check("espace-de-stockage")
    page.get_by_label("Type de document").select_option("certificat_medical")
    page.get_by_label("Enfant concerné (certificat médical, PAI)").select_option(index=1)
    page.get_by_label("Date du document").fill("2023-10-05")
    page.get_by_label("Valable du (certificat médical : premier jour d'absence)").fill("2023-10-05")
    page.get_by_label("au", exact=True).fill("2023-10-06")
    page.get_by_label("Fichier (PDF, JPEG ou PNG)").set_input_files(str(_certificate(tmp_path)))
    page.get_by_role("button", name="Déposer").click()
    main = page.inner_text("main")
    assert "Votre document est déposé" in main
    assert "En attente" in main
    page.get_by_label("Numéro et voie").fill("12 rue des Lilas")
    page.get_by_label("Code postal").fill("75020")
    page.get_by_label("Commune").fill("Paris")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    page.get_by_role("button", name="Recevoir mes factures par courriel").click()
    assert "par courriel (PDF joint)" in page.inner_text("main")
    portal.check("espace-de-stockage-depose")

    page.context.clear_cookies()
    portal.activate(portal.template.staff)
    portal.go("/gestion/documents")
    assert "Documents en attente (1)" in page.inner_text("main")
    portal.check("gestion-documents")
    page.get_by_role("button", name="Accepter").first.click()
    assert "Aucun document en attente." in page.inner_text("main")
