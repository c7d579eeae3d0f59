"""``canteen documents``: list the papers waiting for review, download, accept, reject, on a
copy of a small demo deployment (files stored in its documents folder)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from canteen_adapters.cli import main
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import FixedClock
from canteen_core.services import Canteen

from ._demo_site import run

EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


def pdf_bytes(text: str) -> bytes:
    """A real one-page PDF."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def _upload(config: Path) -> tuple[str, str]:
    """A guardian of the first household uploads two papers; returns their ids."""
    clock = FixedClock(datetime(2023, 10, 6, 7, 0, tzinfo=UTC))
    with Canteen.open(config, clock=clock) as canteen:
        admin = Actor.staff("admin", Role.ADMIN)
        household = sorted(h.id for h in canteen.families.list_households(admin))[0]
        guardian = Actor.guardian("parent", household)
        first = canteen.papers.upload(
            guardian,
            household,
            kind="justificatif_domicile",
            content=pdf_bytes("Facture EDF"),
            file_name="edf.pdf",
            issued_on=date(2023, 9, 30),
        )
        second = canteen.papers.upload(
            guardian,
            household,
            kind="rib",
            content=pdf_bytes("RIB"),
            file_name="rib.pdf",
            issued_on=date(2023, 9, 30),
        )
        with pytest.raises(Exception, match="seuls les PDF"):
            canteen.papers.upload(
                guardian,
                household,
                kind="rib",
                content=EXECUTABLE,
                file_name="rib.pdf",
                issued_on=date(2023, 9, 30),
            )
    return first.id, second.id


def test_documents_list_download_accept_reject(site: Path, tmp_path: Path) -> None:
    first, second = _upload(site)
    # The files are under the deployment's documents folder, with random names.
    stored = [p for p in (site.parent / "documents").rglob("*") if p.is_file()]
    assert len(stored) == 2
    # 64 hex digits: nothing of the uploaded file's name (a random name may contain "edf").
    assert all(len(p.name) == 64 and set(p.name) <= set("0123456789abcdef") for p in stored)

    listed = run("documents", "list", "--config", str(site), "--json")
    assert listed.exit_code == 0, listed.output
    assert {item["id"] for item in json.loads(listed.stdout)} == {first, second}
    text = run("documents", "list", "--config", str(site))
    assert "Justificatif de domicile" in text.stdout
    assert "En attente" in text.stdout

    out = tmp_path / "edf.pdf"
    result = run("documents", "download", first, "--out", str(out), "--config", str(site))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")

    result = run("documents", "accept", first, "--config", str(site))
    assert result.exit_code == 0, result.output
    assert "document accepté" in result.stdout
    result = run("documents", "reject", second, "--reason", "Illisible", "--config", str(site))
    assert result.exit_code == 0, result.output
    assert json.loads(run("documents", "list", "--config", str(site), "--json").stdout) == []

    # Bad input: one French line, exit 1, nothing changed.
    again = run("documents", "accept", first, "--config", str(site))
    assert again.exit_code == 1
    assert again.stderr.startswith("Erreur : ")
    assert "déjà été examiné" in again.stderr
    unknown = run("documents", "reject", "nope", "--reason", "x", "--config", str(site))
    assert unknown.exit_code == 1
    assert "document introuvable" in unknown.stderr


def test_bill_with_print_batch_emails_paperless_households_and_prints_the_others(
    site: Path, tmp_path: Path
) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    from canteen_core.domain.paperless import PostalAddress

    admin = Actor.staff("admin", Role.ADMIN)
    with Canteen.open(site, clock=FixedClock(datetime(2023, 10, 6, 7, 0, tzinfo=UTC))) as canteen:
        ids = sorted(h.id for h in canteen.families.list_households(admin))
        paperless, *others = ids
        canteen.paperless.consent(admin, paperless)
        for number, household_id in enumerate(reversed(others)):
            address = PostalAddress(
                street=f"{number + 1} rue de la Paix", postcode=f"7500{number + 1}", city="Paris"
            )
            canteen.paperless.set_postal_address(admin, household_id, address)
    out = tmp_path / "courrier.pdf"
    runner = CliRunner(env={"CANTEEN_NOW": "2023-11-06T09:00:00+01:00", "CANTEEN_CONFIG": None})
    result = runner.invoke(
        main,
        ["bill", "--period", "2023-10", "--print-batch", str(out), "--config", str(site), "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["emailed"]) == 1
    assert len(report["printed"]) == len(report["issued"]) - 1
    texts = [page.extract_text() for page in PdfReader(BytesIO(out.read_bytes())).pages]
    windows = [t for t in texts if "rue de la Paix" in t]
    postcodes = [next(w for w in ("75001", "75002", "75003", "75004") if w in t) for t in windows]
    assert postcodes == sorted(postcodes)  # the mail room's order
    with Canteen.open(site) as canteen:
        sent = [
            r.message for r in canteen.accounts.outbox(admin) if r.message.kind == "invoice-pdf"
        ]
    assert sent
    assert all(m.household_id == paperless for m in sent)
    assert all(m.attachments[0].content.startswith(b"%PDF-") for m in sent)
    again = runner.invoke(
        main, ["bill", "--period", "2023-10", "--print-batch", str(out), "--config", str(site)]
    )
    assert again.exit_code == 2
    assert "existe déjà" in again.stderr
