"""The family's "Prélèvement" page (SEPA adhesion, mandates, "Mes prélèvements"), its
"Édition de documents" page, and the page a payer returns to from the payment provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from litestar import Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath

from canteen_adapters.payment.payfip import RESULT_OUTCOMES
from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.common import (
    Refusal,
    form_of,
    household_page,
    page,
    run,
    session_of,
)
from canteen_adapters.web.pages.render import context_of, redirect
from canteen_adapters.web.routes.documents import document_url, payment_message
from canteen_adapters.web.routes.sepa import (
    STATUS_FR,
    authorization_of,
    authorizations,
    change_iban,
    masked_iban,
    sign_mandate,
)
from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import CanteenError, InvalidInputError
from canteen_core.domain.mandates import DirectDebitMandate
from canteen_core.services import Canteen
from canteen_core.services.payments.mandates import NOT_OFFERED_FR

__all__ = ["HANDLERS"]

#: How a pre-notification's delivery reads.
NOTICE_FR = {
    "sent": "Envoyé",
    "queued": "En cours d'envoi",
    "failed": "Non distribué",
    "unknown": "Non retrouvé",
}


#: A change of the active mandate, from the posted form (blocking).
MandateChange = Callable[[Canteen, Actor, FormMultiDict], DirectDebitMandate]
#: The confirmation shown after a change of the mandate (``?fait=...``).
DONE_FR = {
    "iban": "Vos coordonnées bancaires sont modifiées : les prochains prélèvements seront "
    "présentés sur le nouveau compte.",
    "revocation": "Votre mandat est révoqué : vos prochaines factures ne seront plus "
    "prélevées ; réglez-les en ligne ou auprès de la régie.",
}


async def _debit_page(
    request: AnyRequest,
    household_id: str,
    *,
    refusal: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response[str]:
    session = session_of(request)
    canteen = context_of(request).canteen
    schedule = await run(canteen.payments.debit_schedule, session.actor, household_id)
    filed = await run(authorizations, canteen, session.actor, household_id)
    return await household_page(
        request,
        household_id,
        "prelevement.html",
        refusal=refusal,
        title="Prélèvement",
        schedule=schedule,
        active=any(entry.mandate.collectable for entry in schedule.mandates),
        offered=canteen.payments.offers_direct_debit(),
        not_offered=NOT_OFFERED_FR,
        status_fr=STATUS_FR,
        notice_fr=NOTICE_FR,
        masked_iban=masked_iban,
        authorization={
            entry.mandate.reference: authorization_of(entry.mandate, filed)
            for entry in schedule.mandates
        },
        form=form or {},
        signed=request.query_params.get("signe") == "1",
        done=DONE_FR.get(request.query_params.get("fait") or ""),
    )


@get("/foyer/{household_id:str}/prelevement", include_in_schema=False)
async def direct_debit(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """ "Prélèvement": the adhesion form, the mandates and "Mes prélèvements"."""
    return await _debit_page(request, household_id)


@post("/foyer/{household_id:str}/prelevement", include_in_schema=False)
async def sign(request: AnyRequest, household_id: FromPath[str]) -> Response[Any]:
    """Sign the mandate; the form again with the reason when refused."""
    session = session_of(request)
    form = await form_of(request)
    values = {name: str(form.get(name, "")) for name in ("iban", "holder", "bic")}
    try:
        await run(
            sign_mandate,
            context_of(request).canteen,
            session.actor,
            household_id,
            iban=values["iban"],
            holder=values["holder"],
            bic=values["bic"],
            accept=form.get("accept") == "oui",
        )
    except CanteenError as error:
        refusal = Refusal.of(request, error)
        if refusal.status not in {409, 422}:
            raise
        return await _debit_page(request, household_id, refusal=refusal, form=values)
    return redirect(request, f"/foyer/{household_id}/prelevement?signe=1")


async def _mandate_change(
    request: AnyRequest, household_id: str, done: str, change: MandateChange
) -> Response[Any]:
    """Run ``change(canteen, actor, form)``; the page again with the French reason when
    refused, else back to it with the confirmation ``done``."""
    session = session_of(request)
    form = await form_of(request)
    values = {name: str(form.get(name, "")) for name in ("new_iban", "new_bic")}
    try:
        await run(change, context_of(request).canteen, session.actor, form)
    except CanteenError as error:
        refusal = Refusal.of(request, error)
        if refusal.status not in {404, 409, 422}:
            raise
        field = {"iban": "new_iban", "bic": "new_bic"}.get(refusal.field or "", refusal.field)
        refusal = attrs.evolve(refusal, field=field)
        return await _debit_page(request, household_id, refusal=refusal, form=values)
    return redirect(request, f"/foyer/{household_id}/prelevement?fait={done}")


@post("/foyer/{household_id:str}/prelevement/iban", include_in_schema=False)
async def new_iban(request: AnyRequest, household_id: FromPath[str]) -> Response[Any]:
    """Move the active mandate to another bank account."""

    def change(canteen: Canteen, actor: Actor, form: FormMultiDict) -> DirectDebitMandate:
        iban, bic = str(form.get("new_iban", "")), str(form.get("new_bic", ""))
        return change_iban(canteen, actor, household_id, iban=iban, bic=bic)

    return await _mandate_change(request, household_id, "iban", change)


@post("/foyer/{household_id:str}/prelevement/revocation", include_in_schema=False)
async def revoke(request: AnyRequest, household_id: FromPath[str]) -> Response[Any]:
    """Leave direct debit (the family ticks the confirmation first)."""

    def change(canteen: Canteen, actor: Actor, form: FormMultiDict) -> DirectDebitMandate:
        if form.get("confirm") != "oui":
            raise InvalidInputError(
                "cochez la case de confirmation pour révoquer le mandat", path="confirm"
            )
        return canteen.payments.revoke_mandate(actor, household_id)

    return await _mandate_change(request, household_id, "revocation", change)


@get("/foyer/{household_id:str}/documents", include_in_schema=False)
async def documents(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """ "Édition de documents": each document with its date and a download link; the
    attendance certificate for a period the family picks; a child's calendar (.ics)."""
    session = session_of(request)
    canteen = context_of(request).canteen
    offered = await run(canteen.documents.documents_on_request, session.actor, household_id)
    attendance = next(d for d in offered if d.start is not None)
    return await household_page(
        request,
        household_id,
        "documents.html",
        title="Édition de documents",
        documents=[(d, document_url(household_id, d)) for d in offered],
        attendance=attendance,
    )


@get("/paiement/retour/{provider:str}", include_in_schema=False)
async def payment_return(request: AnyRequest, provider: FromPath[str]) -> Response[str]:
    """Back from the provider: where the payment stands (recorded, or awaiting the provider's
    confirmation). Reads only: nothing is credited by a browser's return."""
    session = session_of(request)
    transaction = (request.query_params.get("refdet") or "").strip()
    if not transaction:
        raise InvalidInputError("référence de paiement manquante", path="refdet")
    claimed = RESULT_OUTCOMES.get((request.query_params.get("resultrans") or "").strip())
    canteen = context_of(request).canteen
    status = await run(canteen.payments.online_payment_status, session.actor, provider, transaction)
    return page(
        request,
        "retour-paiement.html",
        title="Paiement en ligne",
        payment=status,
        message=payment_message(status, None if claimed is None else claimed.value),
    )


HANDLERS = [direct_debit, sign, new_iban, revoke, documents, payment_return]
