"""The family's papers through the facade: upload, visibility, staff review and what an accepted
paper does (memory, SQLite and PostgreSQL; the files and the database document stores)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fpdf import FPDF

from canteen_core.config.deployment import DocumentStoreSettings
from canteen_core.domain.attendance import Presence
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.family_papers import PaperKind, PaperStatus
from canteen_core.domain.money import Money
from canteen_core.services import Canteen

from ._billing_fixtures import (
    BILLING_DAY,
    attend,
    book,
    make_billing_canteen,
    priced_world,
    september,
)
from ._world import ADMIN, FINANCE, OTHER, PAYER, STAFF, World
from .conftest import EventRecorder

D = date

#: (storage backend, document store): every store on every backend it can live beside.
COMBINATIONS = [
    pytest.param(("memory", "memory"), id="memory"),
    pytest.param(("sqlite", "files"), id="sqlite-files"),
    pytest.param(("sqlite", "database"), id="sqlite-database"),
    pytest.param(("postgres", "files"), id="postgres-files", marks=pytest.mark.postgres),
    pytest.param(("postgres", "database"), id="postgres-database", marks=pytest.mark.postgres),
]


def pdf_bytes(text: str = "Certificat médical") -> bytes:
    """A real one-page PDF."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def png_bytes() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


#: An ELF executable's first bytes, as a file renamed "certificat.pdf" would start.
EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
WINDOWS_EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


@pytest.fixture(params=COMBINATIONS)
def papers_world(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> Iterator[World]:
    """The priced world on one backend with one document store, 200 KB per file, 300 KB per
    household."""
    backend, store = request.param
    documents = DocumentStoreSettings(
        store=store,
        folder=str(tmp_path / "papiers"),
        max_bytes=200_000,
        household_quota=300_000,
    )
    with make_billing_canteen(
        backend, request, tmp_path, clock, recorder, documents=documents
    ) as canteen:
        yield priced_world(canteen)


def _certificate(canteen: Canteen, first: date, last: date, **changes: object) -> str:
    arguments: dict[str, object] = {
        "kind": "certificat_medical",
        "content": pdf_bytes(),
        "file_name": "certificat.pdf",
        "issued_on": first,
        "child_id": "alban",
        "valid_from": first,
        "valid_until": last,
        **changes,
    }
    paper = canteen.papers.upload(PAYER, "concerto", **arguments)  # type: ignore[arg-type]
    return paper.id


def _stored_blobs(canteen: Canteen, tmp_path: Path) -> int:
    """How many blobs the deployment's document store holds."""
    store = canteen.context.document_store
    if store.name == "files":
        return sum(1 for path in (tmp_path / "papiers").rglob("*") if path.is_file())
    if store.name == "database":
        from sqlalchemy import func, select

        from canteen_adapters.storage.sql.tables import document_blobs

        with store.engine.connect() as connection:  # type: ignore[attr-defined]
            return int(
                connection.execute(select(func.count()).select_from(document_blobs)).scalar_one()
            )
    return len(store)  # type: ignore[arg-type]


def test_accepted_certificate_means_covered_absences_are_not_charged(
    papers_world: World, clock: FixedClock, tmp_path: Path
) -> None:
    """The issue's done-when: a family uploads a medical certificate, staff accept it, and
    the covered absences are not charged on the next invoice (beyond the commune's carence)."""
    world, canteen = papers_world, papers_world.canteen
    days = september(world.alban)
    book(canteen, world.alban, days)
    absent = {D(2023, 9, 18), D(2023, 9, 19), D(2023, 9, 21)}
    attend(canteen, world.alban, {d: Presence.ABSENT if d in absent else "present" for d in days})
    paper_id = _certificate(canteen, D(2023, 9, 18), D(2023, 9, 21))

    [pending] = canteen.papers.to_review(STAFF)
    assert pending.id == paper_id
    assert pending.status is PaperStatus.PENDING
    assert pending.content_type == "application/pdf"
    assert _stored_blobs(canteen, tmp_path) == 1

    outcome = canteen.papers.accept(STAFF, paper_id)
    assert outcome.justified_days == (D(2023, 9, 18), D(2023, 9, 19), D(2023, 9, 21))
    assert outcome.summary_fr == "certificat accepté : 3 absence(s) justifiée(s)"
    assert canteen.papers.to_review(STAFF) == ()

    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    invoice = canteen.billing.invoice(FINANCE, report.issued[0].invoice_id).invoice
    rules = {(line.child_id, str(line.rule)): line for line in invoice.lines}
    # 13 meals present, the first day of the certificate charged as carence, 19 and 21 free.
    assert rules[("alban", "present")].quantity == 13
    assert rules[("alban", "justified_absence_carence")].days == (D(2023, 9, 18),)
    assert ("alban", "absent_unjustified") not in rules
    charged = {day for line in invoice.lines if line.child_id == "alban" for day in line.days}
    assert not charged & {D(2023, 9, 19), D(2023, 9, 21)}
    assert invoice.total == Money.of("42.70")  # 14 x 3.05

    # The family was told by e-mail (payer and co-representative), in French.
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        messages = [
            r.message for r in uow.outbox.records() if r.message.kind == "document-reviewed"
        ]
    assert {m.to_address for m in messages} == {"maman@concerto.fr", "papa@concerto.fr"}
    assert messages[0].subject == "Votre document « Certificat médical » a été accepté"


def test_family_sees_and_downloads_its_own_papers_only(papers_world: World, tmp_path: Path) -> None:
    canteen = papers_world.canteen
    content = png_bytes()
    paper = canteen.papers.upload(
        PAYER,
        "concerto",
        kind=PaperKind.PROOF_OF_ADDRESS,
        content=content,
        file_name="facture-edf.png",
        issued_on=D(2023, 8, 30),
    )
    assert paper.content_type == "image/png"
    assert [p.id for p in canteen.papers.of_household(PAYER, "concerto")] == [paper.id]
    downloaded = canteen.papers.download(PAYER, paper.id)
    assert downloaded.content == content
    assert downloaded.download_name == "justificatif_domicile-2023-08-30.png"
    assert canteen.papers.download(STAFF, paper.id).content == content
    # Another household's guardian: the paper is "introuvable", as if it did not exist.
    with pytest.raises(NotFoundError, match="document introuvable"):
        canteen.papers.download(OTHER, paper.id)
    with pytest.raises(NotFoundError, match="document introuvable"):
        canteen.papers.get(OTHER, paper.id)
    with pytest.raises(NotAuthorizedError):
        canteen.papers.of_household(OTHER, "concerto")
    with pytest.raises(NotAuthorizedError):
        canteen.papers.upload(
            OTHER,
            "concerto",
            kind="rib",
            content=pdf_bytes(),
            file_name="rib.pdf",
            issued_on=D(2023, 9, 1),
        )
    with pytest.raises(NotAuthorizedError):
        canteen.papers.accept(PAYER, paper.id)
    assert _stored_blobs(canteen, tmp_path) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (EXECUTABLE, "seuls les PDF, JPEG et PNG"),
        (WINDOWS_EXECUTABLE, "seuls les PDF, JPEG et PNG"),
        (b"", "le fichier est vide"),
        (b"%PDF-1.4" + b"\x00" * 250_000, "fichier trop volumineux"),
    ],
    ids=["elf-renamed-pdf", "exe-renamed-pdf", "empty", "oversized"],
)
def test_bad_files_are_refused_in_french_and_nothing_is_stored(
    papers_world: World, tmp_path: Path, content: bytes, message: str
) -> None:
    canteen = papers_world.canteen
    with pytest.raises(InvalidInputError, match=message):
        _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19), content=content)
    assert canteen.papers.of_household(PAYER, "concerto") == ()
    assert _stored_blobs(canteen, tmp_path) == 0


def test_quota_and_bad_fields_store_nothing(papers_world: World, tmp_path: Path) -> None:
    canteen = papers_world.canteen
    big = b"%PDF-1.4\n" + b"0" * 140_000
    _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19), content=big)
    _certificate(canteen, D(2023, 9, 20), D(2023, 9, 21), content=big)
    with pytest.raises(RuleViolationError, match="espace de stockage plein"):
        _certificate(canteen, D(2023, 9, 22), D(2023, 9, 22), content=big)
    # A certificate without its period, a child of another household, a period backwards.
    with pytest.raises(InvalidInputError, match="la période qu'il couvre"):
        _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19), valid_until=None)
    with pytest.raises(NotFoundError, match="n'est pas membre du foyer"):
        _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19), child_id="lea")
    with pytest.raises(InvalidInputError, match="se termine avant de commencer"):
        _certificate(canteen, D(2023, 9, 19), D(2023, 9, 18))
    with pytest.raises(InvalidInputError, match="type de document inconnu"):
        _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19), kind="passeport")
    assert len(canteen.papers.of_household(PAYER, "concerto")) == 2
    assert _stored_blobs(canteen, tmp_path) == 2
    used, quota = canteen.papers.usage(PAYER, "concerto")
    assert (used, quota) == (2 * len(big), 300_000)


def test_rejection_needs_a_reason_and_tells_the_family(papers_world: World) -> None:
    canteen = papers_world.canteen
    paper_id = _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19))
    with pytest.raises(InvalidInputError, match="raison du refus"):
        canteen.papers.reject(STAFF, paper_id, "  ")
    rejected = canteen.papers.reject(STAFF, paper_id, "Illisible, merci de le rescanner")
    assert rejected.status is PaperStatus.REJECTED
    assert rejected.rejection_reason == "Illisible, merci de le rescanner"
    with pytest.raises(RuleViolationError, match="déjà été examiné"):
        canteen.papers.accept(STAFF, paper_id)
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        [message, *_] = [
            r.message for r in uow.outbox.records() if r.message.kind == "document-reviewed"
        ]
    assert "refusé" in message.subject
    assert "Illisible, merci de le rescanner" in message.text_body


def test_caf_attestation_records_a_dated_family_quotient(papers_world: World) -> None:
    canteen = papers_world.canteen
    paper = canteen.papers.upload(
        PAYER,
        "concerto",
        kind="attestation_caf",
        content=pdf_bytes("Attestation CAF"),
        file_name="caf.pdf",
        issued_on=D(2023, 10, 20),
        valid_from=D(2023, 11, 1),
        family_quotient=Decimal("480"),
    )
    # Recording a quotient is finance's: staff cannot accept an attestation.
    with pytest.raises(NotAuthorizedError, match="attestation CAF"):
        canteen.papers.accept(STAFF, paper.id)
    outcome = canteen.papers.accept(FINANCE, paper.id)
    assert outcome.family_quotient is not None
    household = canteen.families.get(ADMIN, "concerto")
    assert household.quotient_on(D(2023, 10, 31)) == Decimal("612.50")
    assert household.quotient_on(D(2023, 11, 1)) == Decimal("480")


def test_pai_marks_the_child_and_its_enrollments(papers_world: World) -> None:
    canteen = papers_world.canteen
    paper = canteen.papers.upload(
        PAYER,
        "concerto",
        kind="pai",
        content=pdf_bytes("PAI"),
        file_name="pai.pdf",
        issued_on=D(2023, 9, 10),
        child_id="alban",
    )
    outcome = canteen.papers.accept(STAFF, paper.id)
    assert outcome.pai_enrollments == ("e-alban",)
    assert canteen.enrollments.get(ADMIN, "e-alban").tariff_category == "pai"
    assert canteen.families.get(ADMIN, "concerto").child("alban").pai is True


def test_export_lists_the_papers_and_erasure_removes_them_with_their_bytes(
    papers_world: World, tmp_path: Path
) -> None:
    canteen = papers_world.canteen
    paper_id = _certificate(canteen, D(2023, 9, 11), D(2023, 9, 15))
    assert _stored_blobs(canteen, tmp_path) == 1
    exported = canteen.privacy.export_household(ADMIN, "concerto")
    assert [p["id"] for p in exported.data["family_papers"]] == [paper_id]
    assert {c.key: n for c, n in exported.categories}["documents"] == 1
    erased = canteen.privacy.erase_household(ADMIN, "concerto")
    assert dict(erased.removed)["documents déposés"] == 1
    assert _stored_blobs(canteen, tmp_path) == 0
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        assert uow.family_papers.count(household_id="concerto") == 0


def test_retention_removes_papers_reviewed_long_ago_with_their_bytes(
    papers_world: World, clock: FixedClock, tmp_path: Path
) -> None:
    """``documents_days_after_review`` (90 days): a dry run lists the papers reviewed longer
    ago and changes nothing; applied, their records go and then their bytes; a paper still
    waiting for review stays, whatever its age."""
    canteen = papers_world.canteen
    accepted = _certificate(canteen, D(2023, 9, 11), D(2023, 9, 12))
    rejected = _certificate(canteen, D(2023, 9, 13), D(2023, 9, 14))
    canteen.papers.accept(STAFF, accepted)
    canteen.papers.reject(STAFF, rejected, "Illisible")
    clock.advance(days=30)
    recent = _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19))
    canteen.papers.accept(STAFF, recent)
    waiting = _certificate(canteen, D(2023, 9, 20), D(2023, 9, 21))
    assert _stored_blobs(canteen, tmp_path) == 4
    clock.advance(days=61)  # the first two were reviewed 91 days ago, the third 61
    dry = canteen.retention.run(ADMIN)
    (documents,) = [item for item in dry.items if item.key == "documents"]
    assert set(documents.ids) == {accepted, rejected}
    assert "Documents déposés par les familles : 2 à supprimer" in "\n".join(dry.lines())
    assert _stored_blobs(canteen, tmp_path) == 4  # a dry run changes nothing
    assert len(canteen.papers.of_household(ADMIN, "concerto")) == 4
    applied = canteen.retention.run(ADMIN, apply=True)
    assert {item.key: item.count for item in applied.items}["documents"] == 2
    assert {p.id for p in canteen.papers.of_household(ADMIN, "concerto")} == {recent, waiting}
    assert _stored_blobs(canteen, tmp_path) == 2
    with pytest.raises(NotFoundError):
        canteen.papers.get(ADMIN, accepted)
    (entry,) = [e for e in canteen.audit.entries(ADMIN) if e.action == "apply_retention"]
    assert {f"paper:{accepted}", f"paper:{rejected}"} <= set(entry.entity_ids)
    # Nothing more to remove: a second run finds nothing.
    again = canteen.retention.run(ADMIN, apply=True)
    assert {item.key: item.count for item in again.items}["documents"] == 0
