"""The family's pages: "Mon tableau de bord", profile, "Mes factures" and online payment."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from canteen_adapters.web.callbacks_paths import notification_path
from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.convert import request_status_fr
from canteen_adapters.web.pages.common import form_of, household_page, page, run, session_of
from canteen_adapters.web.pages.render import context_of, redirect
from canteen_adapters.web.routes.invoices import online_providers
from canteen_core.domain.change_requests import RequestStatus
from canteen_core.domain.money import Money

__all__ = ["HANDLERS"]

#: How many requests the dashboard lists ("Dernières demandes").
LATEST_REQUESTS = 5
STATE_CLASS = {
    RequestStatus.PENDING: "pending",
    RequestStatus.APPROVED: "approved",
    RequestStatus.REJECTED: "rejected",
    RequestStatus.WITHDRAWN: "withdrawn",
}
ACTION_FR = {"book": "Réservation", "cancel": "Annulation"}


def _dashboard(request: AnyRequest, household_id: FromPath[str]) -> dict[str, Any]:
    session = session_of(request)
    canteen = context_of(request).canteen
    actor = session.actor
    view = canteen.families.dashboard(actor, household_id)
    invoices = canteen.billing.invoices_page(actor, household_id)
    found = canteen.reservations.requests(actor, household_id=household_id)
    asked = canteen.enrollment_requests.of_household(actor, household_id)[:LATEST_REQUESTS]
    household = view.household
    children = {child.id: child.first_name for child in household.children}
    latest = sorted(found, key=lambda r: r.requested_at, reverse=True)[:LATEST_REQUESTS]
    unpaid = [row for row in invoices.rows if row.balance_due.is_positive]
    payer = household.payer
    return {
        "household": household,
        "greeting": f"Bonjour {payer.civility + ' ' if payer.civility else ''}{payer.last_name}.",
        "last_login": session.previous_login_at,
        "unpaid": len(unpaid),
        "unpaid_amount": Money.sum(row.balance_due for row in unpaid),
        "requests": [
            {
                "child": children.get(r.child_id, r.child_id),
                "day": r.day,
                "action": ACTION_FR.get(r.action.value, r.action.value),
                "state": request_status_fr(r),
                "css": STATE_CLASS[r.status],
            }
            for r in latest
        ],
        "enrollment_requests": [
            {
                "child": children.get(r.child_id, r.child_id),
                "label": r.label_fr,
                "state": r.status_fr,
                "css": STATE_CLASS[r.status],
            }
            for r in asked
        ],
        "enrollments": [
            {
                "id": e.id,
                "label": f"{children.get(e.child_id, e.child_id)} - {e.label_fr}",
                "start": e.start,
                "end": e.end,
            }
            for e in view.enrollments
        ],
        # The sites where a child eats: their week's menus (a page otherwise linked nowhere).
        "menu_sites": sorted({(e.site.id, e.site.name) for e in view.enrollments}),
    }


@get("/foyer/{household_id:str}", include_in_schema=False)
async def dashboard(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """ "Mon tableau de bord"."""
    values = await run(_dashboard, request, household_id)
    changed = request.query_params.get("mot-de-passe") == "1"
    return page(
        request, "tableau-de-bord.html", title="Mon tableau de bord", changed=changed, **values
    )


@get("/foyer/{household_id:str}/profil", include_in_schema=False)
async def profile(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """The household's guardians, children and the login e-mail."""
    saved = request.query_params.get("enregistre") == "1"
    return await household_page(
        request, household_id, "profil.html", title="Mon profil", saved=saved
    )


@post("/foyer/{household_id:str}/profil", include_in_schema=False)
async def update_profile(request: AnyRequest, household_id: FromPath[str]) -> Response[Any]:
    """Change a guardian's e-mail."""
    session = session_of(request)
    form = await form_of(request)
    canteen = context_of(request).canteen
    await run(
        canteen.families.update_contact,
        session.actor,
        household_id,
        str(form.get("guardian_id", "")),
        email=str(form.get("email", "")).strip() or None,
    )
    return redirect(request, f"/foyer/{household_id}/profil?enregistre=1")


@get("/foyer/{household_id:str}/factures", include_in_schema=False)
async def invoices(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """ "Mes factures": date, "À régler avant le", "Reste à payer", "Montant total", PDF,
    "Payer"."""
    session = session_of(request)
    canteen = context_of(request).canteen
    invoices_page = await run(canteen.billing.invoices_page, session.actor, household_id)
    return await household_page(
        request,
        household_id,
        "factures.html",
        title="Mes factures",
        invoices=invoices_page,
        providers=online_providers(canteen),
        paid=request.query_params.get("paiement") is not None,
    )


@post("/factures/{invoice_id:str}/payer", include_in_schema=False)
async def pay(request: AnyRequest, invoice_id: FromPath[str]) -> Response[Any]:
    """Start paying online: a page whose form posts to the provider (PayZen), or the
    provider's page (PayFiP)."""
    session = session_of(request)
    form = await form_of(request)
    web = context_of(request)
    provider = str(form.get("provider", "payzen"))
    base = web.public_url(request)
    household = sorted(session.actor.household_ids)[0] if session.actor.household_ids else ""
    start = await run(
        web.canteen.payments.start_online_payment,
        session.actor,
        invoice_id,
        provider=provider,
        return_url=f"{base}/foyer/{household}/factures?paiement=retour",
        notification_url=base + notification_path(provider),
    )
    if start.form is None:
        if start.redirect_url is None:  # pragma: no cover - a provider gives one or the other
            return redirect(request, f"/foyer/{household}/factures")
        return Response(None, status_code=303, headers={"Location": start.redirect_url})
    action = start.form.action_url
    origin = "/".join(action.split("/")[:3])
    return page(
        request,
        "paiement.html",
        title="Paiement en ligne",
        start=start,
        form_action=origin,
        household_id_back=household,
    )


HANDLERS = [dashboard, profile, update_profile, invoices, pay]
