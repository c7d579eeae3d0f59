"""Step 5 (Prélèvement: the mandate, its signed authorization in the storage space) and the
documents on request in Chromium as a parent, and the back office's closures, direct-debit
file and reminders as staff; axe-core on every page. The demo deployment gets a
``[payment.sepa]`` table (files kept in its ``sepa/`` folder)."""

from __future__ import annotations

import io
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from pypdf import PdfReader

from browser.conftest import Portal
from canteen_adapters.cli.demo import ADMIN, FINANCE
from canteen_core.domain.clock import PARIS
from web.conftest import Template

SEPA = """
[payment.sepa]
creditor_name = "Régie de restauration scolaire de Ronde"
creditor_iban = "FR7630004000031234567890143"
creditor_id = "FR72ZZZ123456"
output_dir = "sepa"
pre_notification_days = 5
"""
IBAN = "FR76 3000 6000 0112 3456 7890 189"


@pytest.fixture
def template(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The demo's deployment with direct debit configured."""
    folder = tmp_path_factory.mktemp("sepa-demo") / "demo"
    shutil.copytree(template.folder, folder)
    with (folder / "canteen.toml").open("a", encoding="utf-8") as config:
        config.write(SEPA)
    return attrs.evolve(template, folder=folder)


def _pdf_text(download: Any) -> str:
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_parent_signs_a_mandate_and_downloads_a_certificate(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    page.get_by_role("link", name="Prélèvement").click()
    assert "Adhérer au prélèvement automatique" in page.inner_text("main")
    # Each field's hint is under its field, not squeezed beside it.
    for field, hint in (("#holder", "#holder-aide"), ("#iban", "#iban-aide")):
        box, below = page.locator(field).bounding_box(), page.locator(hint).bounding_box()
        assert below["y"] >= box["y"] + box["height"], (field, box, below)
        assert below["x"] == box["x"], (field, box, below)
    portal.check("prelevement")
    page.get_by_label("IBAN").fill("FR76 3000 6000 0112 3456 7890 188")
    page.get_by_label("En signant ce mandat").check()
    page.get_by_role("button", name="Signer le mandat").click()
    assert "clé de contrôle incorrecte" in page.inner_text("main")
    portal.check("prelevement-erreur")
    page.get_by_label("IBAN").fill(IBAN)
    page.get_by_label("En signant ce mandat").check()
    page.get_by_role("button", name="Signer le mandat").click()
    main = page.inner_text("main")
    assert "Votre mandat de prélèvement SEPA est signé" in main
    assert "FR76 **** **** **** **** ***0 189" in main
    assert "Actif" in main
    assert "Prochains prélèvements" in main
    portal.check("prelevement-mandat")
    (mandate,) = portal.canteen.payments.mandates(FINANCE, "CONCERTO")
    assert mandate.iban == IBAN.replace(" ", "")

    # The signed authorization is in the household's storage space.
    page.get_by_role("link", name="Espace de stockage").click()
    row = page.get_by_role("row", name=re.compile("Mandat de prélèvement SEPA signé"))
    assert "Accepté" in row.inner_text()
    portal.check("espace-de-stockage-mandat")
    with page.expect_download() as info:
        row.get_by_role("link", name="Télécharger Mandat de prélèvement SEPA signé").click()
    text = _pdf_text(info.value)
    assert mandate.reference in text
    assert "FR76 **** **** **** **** ***0 189" in text
    assert "FR72ZZZ123456" in text
    assert "Paiement récurrent/répétitif" in text

    page.get_by_role("link", name="Prélèvement", exact=True).click()
    page.get_by_label("Nouvel IBAN").fill("FR14 2004 1010 0505 0001 3M02 606")
    page.get_by_role("button", name="Modifier l'IBAN").click()
    main = page.inner_text("main")
    assert "Vos coordonnées bancaires sont modifiées" in main
    assert "FR14 **** **** **** **** ***2 606" in main
    portal.check("prelevement-iban")
    page.get_by_label("Je révoque mon mandat").check()
    page.get_by_role("button", name="Révoquer le mandat").click()
    assert "Votre mandat est révoqué" in page.inner_text("main")
    portal.check("prelevement-revoque")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger l'autorisation de prélèvement signée").click()
    text = _pdf_text(info.value)
    assert "FR14 **** **** **** **** ***2 606" in text
    assert "MANDAT RÉVOQUÉ LE 06/10/2023" in text

    page.get_by_role("link", name="Documents").click()
    main = page.inner_text("main")
    assert "Attestation de paiement 2023" in main
    assert "Relevé de compte du foyer" in main
    assert "Réservations de Alban (.ics)" in main
    portal.check("documents")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger Attestation de paiement 2023").click()
    download = info.value
    assert download.suggested_filename == "attestation-paiement-2023-CONCERTO.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
    with page.expect_download() as info:
        page.get_by_role("link", name="Réservations de Alban (.ics)").click()
    assert Path(info.value.path()).read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_staff_add_a_closure_and_produce_a_debit_file(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.staff)
    page.get_by_role("link", name="Fermetures").click()
    portal.check("fermetures")
    page.get_by_label("Motif").fill("Grève")
    page.get_by_label("Premier jour").fill("2023-10-16")
    page.get_by_label("Dernier jour").fill("2023-10-17")
    page.get_by_role("button", name="Fermer le site").click()
    main = page.inner_text("main")
    assert "Fermeture enregistrée" in main
    assert "Grève" in main
    assert "17/10/2023" in main

    # A month later, a family with a mandate has October's invoice to pay.
    portal.canteen.payments.sign_mandate(ADMIN, "H000001", iban=IBAN)
    portal.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    portal.canteen.billing.run_postpaid(FINANCE, "2023-10")
    page.get_by_role("link", name="Prélèvements").click()
    assert page.get_by_label("Date de prélèvement").input_value() == "2023-11-07"
    portal.check("prelevements")
    page.get_by_role("button", name="Produire le fichier de prélèvement").click()
    main = page.inner_text("main")
    assert "prélèvement(s) pour" in main
    assert "H000001" in main
    portal.check("prelevements-fichier")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger le fichier pain.008").click()
    xml = Path(info.value.path()).read_bytes()
    assert b"urn:iso:std:iso:20022:tech:xsd:pain.008.001.02" in xml

    # The household's page shows the signed authorization to staff.
    portal.go("/gestion/foyers/H000001")
    row = page.get_by_role("row", name=re.compile("Mandat de prélèvement SEPA signé"))
    assert "Accepté" in row.inner_text()
    portal.check("gestion-foyer")
    with page.expect_download() as info:
        row.get_by_role("link", name=re.compile("^Ouvrir")).click()
    assert "RUM-RONDE-" in _pdf_text(info.value)

    page.get_by_role("link", name="Relances").click()
    page.get_by_role("button", name="Envoyer les relances").click()
    assert "relance(s) pour" in page.inner_text("main")
    portal.check("relances")
