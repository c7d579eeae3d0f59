"""The family's papers ("Espace de stockage") over HTTP: upload, list, download, staff review.

A family uploads a file as ``multipart/form-data`` (the file and the paper's fields) to its
household; it lists and downloads its own papers. Staff list the papers waiting for review,
download them, accept (the paper is applied: absences justified, quotient recorded, PAI marked)
or reject them with a reason. Files are only ever served from here, after the facade checked
who asks: ids are random, and another household's paper answers 404 like a missing one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import anyio.to_thread
import attrs
from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.convert import body
from canteen_adapters.web.routes._actions import action
from canteen_adapters.web.routes._dates import parse_day
from canteen_adapters.web.routes._tags import FAMILY, STAFF
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.family_papers import FamilyPaper, PaperKind
from canteen_core.domain.policy import Action, authorize

__all__ = ["HANDLERS", "form_day", "form_field", "form_quotient", "paper_fields"]


@attrs.frozen(kw_only=True)
class DocumentOut:
    """One paper: what it is, its state, and where to download it."""

    id: str
    household_id: str
    child_id: str | None
    kind: str
    kind_label: str
    issued_on: date
    valid_from: date | None
    valid_until: date | None
    family_quotient: str | None
    file_name: str
    content_type: str
    size: int
    uploaded_at: datetime
    status: str
    status_label: str
    rejection_reason: str | None
    download_url: str


@attrs.frozen(kw_only=True)
class DocumentsOut:
    """A household's storage space: its papers (newest first) and how full it is."""

    household_id: str
    used_bytes: int
    quota_bytes: int
    documents: list[DocumentOut]


@attrs.frozen(kw_only=True)
class ReviewOut:
    """What accepting a paper did. For an attestation CAF: ``quotient_from``, the day its
    quotient applies from (the day after ``billed_until`` when days from the paper's date on
    were already invoiced: they keep their price); ``null`` with ``billed_until`` set when
    its whole validity was invoiced (no quotient recorded)."""

    document: DocumentOut
    summary: str
    justified_days: list[date]
    pai_enrollments: list[str]
    quotient_from: date | None = None
    billed_until: date | None = None


@attrs.frozen(kw_only=True)
class RejectBody:
    """Why a paper is rejected (the family reads it; required)."""

    reason: str = ""


def document_out(paper: FamilyPaper) -> DocumentOut:
    """The JSON of a paper."""
    return body(
        DocumentOut,
        paper,
        kind_label=paper.kind.label,
        family_quotient=None if paper.family_quotient is None else f"{paper.family_quotient}",
        status_label=paper.status.label,
        download_url=f"/api/v1/papers/{paper.id}/file",
    )


def form_day(text: str | None, path: str) -> date | None:
    """A form's ``AAAA-MM-JJ`` date (``None`` when blank); French error otherwise."""
    if text is None or not text.strip():
        return None
    return parse_day(text.strip(), path)


def form_quotient(text: str | None) -> Decimal | None:
    """A form's family quotient (``"612.50"`` or ``"612,50"``; ``None`` when blank)."""
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise InvalidInputError(
            f"quotient familial invalide « {text[:20]} » (par exemple 612.50)",
            path="family_quotient",
        )
    return value


def form_field(form: Any, name: str) -> str | None:
    """A text field of a posted form, stripped (``None`` when missing, blank or a file)."""
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    text = str(value).strip()
    return text or None


def paper_fields(form: Any, file: UploadFile) -> dict[str, Any]:
    """What an upload form (the API's or the page's) says of its paper, as the keyword
    arguments of :meth:`~canteen_core.services.family_papers.FamilyPapers.upload` but the
    content: 422 without ``issued_on`` or with a field that does not parse."""
    issued_on = form_day(form_field(form, "issued_on"), "issued_on")
    if issued_on is None:
        raise InvalidInputError("indiquez la date du document", path="issued_on")
    return {
        "kind": PaperKind.parse(form_field(form, "kind") or ""),
        "file_name": file.filename or "document",
        "issued_on": issued_on,
        "child_id": form_field(form, "child_id"),
        "valid_from": form_day(form_field(form, "valid_from"), "valid_from"),
        "valid_until": form_day(form_field(form, "valid_until"), "valid_until"),
        "family_quotient": form_quotient(form_field(form, "family_quotient")),
    }


@post(
    "/api/v1/households/{household_id:str}/papers",
    tags=FAMILY,
    status_code=HTTP_201_CREATED,
)
async def upload(request: AnyRequest, web: Web, household_id: FromPath[str]) -> DocumentOut:
    """Upload a paper as ``multipart/form-data``: ``file`` (PDF, JPEG or PNG, checked by
    content; a size limit and a quota per household), ``kind`` (``attestation_caf``,
    ``certificat_medical``, ``pai``, ``rib``, ``justificatif_domicile``; the signed SEPA
    mandate, ``mandat_sepa``, is filed by canteen when the family signs), ``issued_on``
    (AAAA-MM-JJ), and as the kind needs ``child_id``, ``valid_from``, ``valid_until``,
    ``family_quotient`` (``"612.50"``). Who may upload is checked before the body is read;
    refused input (422, French reason) stores nothing."""
    actor = web.actor(request)
    authorize(actor, Action.SUBMIT_DOCUMENTS, household_id=household_id)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise InvalidInputError(
            "envoyez le fichier en multipart/form-data (champ « file »)", path="file"
        )
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise InvalidInputError("joignez le fichier (champ « file »)", path="file")
    limit = web.canteen.deployment.documents.max_bytes
    content = await file.read(limit + 1)
    fields = paper_fields(form, file)

    def run() -> FamilyPaper:
        return web.canteen.papers.upload(actor, household_id, content=content, **fields)

    return document_out(await anyio.to_thread.run_sync(run))


@get("/api/v1/households/{household_id:str}/papers", tags=FAMILY, sync_to_thread=True)
def household_documents(request: AnyRequest, web: Web, household_id: FromPath[str]) -> DocumentsOut:
    """The household's papers, newest first, with the space used and the quota."""
    actor = web.actor(request)
    papers = web.canteen.papers.of_household(actor, household_id)
    return DocumentsOut(
        household_id=household_id,
        used_bytes=sum(p.size for p in papers),
        quota_bytes=web.canteen.papers.limits.household_quota,
        documents=[document_out(p) for p in papers],
    )


@get("/api/v1/papers/{document_id:str}", tags=FAMILY, sync_to_thread=True)
def document(request: AnyRequest, web: Web, document_id: FromPath[str]) -> DocumentOut:
    """One paper (its household, or staff)."""
    return document_out(web.canteen.papers.get(web.actor(request), document_id))


@get(
    "/api/v1/papers/{document_id:str}/file",
    tags=FAMILY,
    sync_to_thread=True,
    media_type="application/octet-stream",
    responses={},
)
def document_file(request: AnyRequest, web: Web, document_id: FromPath[str]) -> Response[bytes]:
    """The paper's file (its household, or staff), as an attachment."""
    found = web.canteen.papers.download(web.actor(request), document_id)
    return Response(
        found.content,
        media_type=found.paper.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.download_name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@get("/api/v1/staff/papers", tags=STAFF, sync_to_thread=True)
def staff_documents(
    request: AnyRequest,
    web: Web,
    status: FromQuery[str] = "pending",
    household_id: FromQuery[str | None] = None,
) -> list[DocumentOut]:
    """Papers to review (``status=pending``, the default; ``accepted``, ``rejected``,
    ``all``), oldest first."""
    actor = web.staff_actor(request)
    papers = web.canteen.papers.list_papers(
        actor, status=None if status == "all" else status, household_id=household_id
    )
    return [document_out(p) for p in papers]


@action("/api/v1/staff/papers/{document_id:str}/accept", tags=STAFF)
def accept(request: AnyRequest, web: Web, document_id: FromPath[str]) -> ReviewOut:
    """Accept a paper and apply it; the family is e-mailed."""
    outcome = web.canteen.papers.accept(web.staff_actor(request), document_id)
    return body(
        ReviewOut, outcome, document=document_out(outcome.paper), summary=outcome.summary_fr
    )


@action("/api/v1/staff/papers/{document_id:str}/reject", tags=STAFF)
def reject(
    request: AnyRequest,
    web: Web,
    document_id: FromPath[str],
    data: JSONBody[RejectBody],
) -> DocumentOut:
    """Reject a paper with a reason; the family is e-mailed."""
    rejected = web.canteen.papers.reject(web.staff_actor(request), document_id, data.reason)
    return document_out(rejected)


HANDLERS: list[Any] = [
    upload,
    household_documents,
    document,
    document_file,
    staff_documents,
    accept,
    reject,
]
