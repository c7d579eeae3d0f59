"""The "Espace de stockage" pages: the family's papers and paperless invoices; staff review.

A family sees its papers (kind, date, child, state, the reason of a refusal), uploads a new one
(a plain HTML form, ``multipart/form-data``), chooses paperless invoices and gives its postal
address. Staff see the papers waiting for review, open each file and accept or reject it. Every
action goes through the facade, as the JSON API's routes do.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.common import (
    form_of,
    home_of,
    page,
    review_of,
    run,
    session_of,
    staff_of,
)
from canteen_adapters.web.pages.render import context_of, redirect
from canteen_adapters.web.routes._dates import parse_day as iso_day
from canteen_adapters.web.routes.family_papers import form_field, paper_fields
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.family_papers import PaperKind, size_fr
from canteen_core.domain.paperless import PostalAddress

__all__ = ["HANDLERS"]

_DONE = {
    "depose": "Votre document est déposé : le service restauration va l'examiner.",
    "adhesion": "Vous recevrez désormais vos factures par courriel (PDF joint).",
    "courrier": "Vous recevrez désormais vos factures par courrier.",
    "adresse": "Votre adresse postale est enregistrée.",
}


@get("/espace-de-stockage", include_in_schema=False)
async def my_space(request: AnyRequest) -> Response[Any]:
    """The link of the e-mails: the user's own household's space."""
    session = session_of(request)
    home = home_of(session)
    return redirect(request, f"{home}/espace-de-stockage" if home.startswith("/foyer/") else home)


@get("/foyer/{household_id:str}/espace-de-stockage", include_in_schema=False)
async def space(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """ "Espace de stockage": the household's papers, the upload form, paperless invoices."""
    session = session_of(request)
    canteen = context_of(request).canteen
    papers = await run(canteen.papers.of_household, session.actor, household_id)
    household = await run(canteen.families.get, session.actor, household_id)
    children = {child.id: child.display_name for child in household.children}
    return page(
        request,
        "espace-de-stockage.html",
        title="Espace de stockage",
        household=household,
        papers=papers,
        children=children,
        kinds=[kind for kind in PaperKind if kind.uploadable],
        used=size_fr(sum(p.size for p in papers)) if papers else "rien",
        quota=size_fr(canteen.papers.limits.household_quota),
        max_bytes=size_fr(canteen.papers.limits.max_bytes),
        done=_DONE.get(request.query_params.get("fait", "")),
    )


@post("/foyer/{household_id:str}/espace-de-stockage", include_in_schema=False)
async def upload(request: AnyRequest, household_id: FromPath[str]) -> Response[Any]:
    """Upload a paper from the page's form."""
    session = session_of(request)
    form = await form_of(request)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise InvalidInputError("choisissez le fichier à déposer", path="file")
    canteen = context_of(request).canteen
    content = await file.read(canteen.papers.limits.max_bytes + 1)
    fields = paper_fields(form, file)
    await run(canteen.papers.upload, session.actor, household_id, content=content, **fields)
    return redirect(request, f"/foyer/{household_id}/espace-de-stockage?fait=depose")


@post("/foyer/{household_id:str}/facture-dematerialisee", include_in_schema=False)
async def paperless(request: AnyRequest, household_id: FromPath[str]) -> Response[Any]:
    """Consent to paperless invoices, or withdraw it."""
    session = session_of(request)
    form = await form_of(request)
    service = context_of(request).canteen.paperless
    consent = form.get("choix") == "email"
    await run(service.consent if consent else service.revoke, session.actor, household_id)
    done = "adhesion" if consent else "courrier"
    return redirect(request, f"/foyer/{household_id}/espace-de-stockage?fait={done}")


@post("/foyer/{household_id:str}/adresse", include_in_schema=False)
async def postal_address(request: AnyRequest, household_id: FromPath[str]) -> Response[Any]:
    """Record the postal address paper invoices are sent to."""
    session = session_of(request)
    form = await form_of(request)
    address = PostalAddress(
        street=form_field(form, "street") or "",
        postcode=form_field(form, "postcode") or "",
        city=form_field(form, "city") or "",
        complement=form_field(form, "complement"),
    )
    canteen = context_of(request).canteen
    await run(canteen.paperless.set_postal_address, session.actor, household_id, address)
    return redirect(request, f"/foyer/{household_id}/espace-de-stockage?fait=adresse")


@get("/gestion/documents", include_in_schema=False)
async def review(request: AnyRequest) -> Response[str]:
    """Papers waiting for review, oldest first, with accept / reject."""
    actor = staff_of(request)
    canteen = context_of(request).canteen
    pending = await run(canteen.papers.to_review, actor)
    quotient_from, billed_until = (
        iso_day(text, name) if (text := request.query_params.get(name)) else None
        for name in ("qf", "facture")
    )
    return page(
        request,
        "gestion-documents.html",
        title="Documents à examiner",
        pending=pending,
        done=request.query_params.get("fait"),
        quotient_from=quotient_from,
        billed_until=billed_until,
    )


@post("/gestion/documents/{document_id:str}", include_in_schema=False)
async def decide(request: AnyRequest, document_id: FromPath[str]) -> Response[Any]:
    """Accept (the paper is applied) or reject (with a reason) a paper; the family is
    e-mailed."""
    actor = staff_of(request)
    accepting, reason = review_of(await form_of(request))
    canteen = context_of(request).canteen
    if accepting:
        outcome = await run(canteen.papers.accept, actor, document_id)
        # An attestation CAF: the page says from when its quotient applies (and why not from
        # the paper's date when days after it were already invoiced).
        dated = {"qf": outcome.quotient_from, "facture": outcome.billed_until}
        query = "".join(f"&{name}={day.isoformat()}" for name, day in dated.items() if day)
        return redirect(request, f"/gestion/documents?fait=accepte{query}")
    await run(canteen.papers.reject, actor, document_id, reason)
    return redirect(request, "/gestion/documents?fait=refuse")


HANDLERS = [my_space, space, upload, paperless, postal_address, review, decide]
