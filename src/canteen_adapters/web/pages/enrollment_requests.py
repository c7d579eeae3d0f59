"""The pages of enrollment requests and tariffs: "Inscription à la restauration scolaire" and
"Tarification" for families, "Demandes d'inscription" in the back office."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.common import (
    Refusal,
    form_of,
    page,
    review_of,
    run,
    session_of,
    staff_of,
)
from canteen_adapters.web.pages.render import context_of, redirect
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import WEEKDAY_NAMES_FR
from canteen_core.domain.errors import CanteenError, InvalidInputError

__all__ = ["HANDLERS"]

#: The fields of the request form.
FIELDS = ("child_id", "offer", "school_year", "category", "note")
#: The categories a family may ask for ("" : the usual price).
CATEGORIES = (("", "Tarif habituel"), ("pai", "Panier repas (PAI)"))


def _form_values(request: AnyRequest, actor: Actor, household_id: str) -> Any:
    canteen = context_of(request).canteen
    household = canteen.families.get(actor, household_id)
    requests = canteen.enrollment_requests.of_household(actor, household_id)
    offers = canteen.enrollment_requests.offers(actor)
    years = canteen.enrollment_requests.school_years
    names = {child.id: child.first_name for child in household.children}
    open_days = sorted({day for offer in offers for day in offer.service.open_weekdays})
    return {
        "household": household,
        "offers": offers,
        "weekday_choices": [(day, WEEKDAY_NAMES_FR[day].capitalize()) for day in open_days],
        "years": years,
        "categories": CATEGORIES,
        "requests": [{"item": r, "child": names.get(r.child_id, r.child_id)} for r in requests],
    }


@get("/foyer/{household_id:str}/inscription", include_in_schema=False)
async def enrollment_page(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """ "Inscription à la restauration scolaire": the form and the household's requests."""
    return await _form_page(request, household_id, dict.fromkeys(FIELDS, ""), [])


async def _form_page(
    request: AnyRequest,
    household_id: str,
    chosen: dict[str, str],
    weekdays: list[str],
    refusal: Refusal | None = None,
) -> Response[str]:
    """The form with what was ``chosen`` (after a ``refusal``), the household's requests."""
    values = await run(_form_values, request, session_of(request).actor, household_id)
    return page(
        request,
        "inscription.html",
        refusal=refusal,
        title="Inscription à la restauration scolaire",
        sent=request.query_params.get("envoyee") == "1",
        withdrawn=request.query_params.get("retiree") == "1",
        chosen=chosen,
        chosen_weekdays=weekdays,
        **values,
    )


def _year(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInputError("choisissez l'année scolaire", path="school_year") from None


def _weekdays(values: list[str]) -> list[int] | None:
    """The ticked weekdays (numbers, Monday = 0); ``None`` when none is ticked."""
    try:
        return [int(value) for value in values] or None
    except ValueError:
        raise InvalidInputError("jour de repas inconnu", path="weekdays") from None


@post("/foyer/{household_id:str}/inscription", include_in_schema=False)
async def submit(request: AnyRequest, household_id: FromPath[str]) -> Response[Any]:
    """Send the request; a refusal is shown on the form, which keeps what was chosen."""
    session = session_of(request)
    form = await form_of(request)
    canteen = context_of(request).canteen
    chosen = {key: str(form.get(key, "")) for key in FIELDS}
    weekdays = [str(day) for day in form.getall("weekdays", [])]
    service_id, _, site_id = chosen["offer"].partition("@")
    try:
        await run(
            canteen.enrollment_requests.submit,
            session.actor,
            household_id,
            chosen["child_id"],
            service_id=service_id,
            site_id=site_id,
            school_year=_year(chosen["school_year"]),
            tariff_category=chosen["category"] or None,
            note=chosen["note"].strip() or None,
            weekdays=_weekdays(weekdays),
        )
    except CanteenError as error:
        refusal = Refusal.of(request, error)
        if refusal.status in (401, 403):
            raise
        return await _form_page(request, household_id, chosen, weekdays, refusal)
    return redirect(request, f"/foyer/{household_id}/inscription?envoyee=1")


@post("/foyer/{household_id:str}/inscription/{request_id:str}/retirer", include_in_schema=False)
async def withdraw(
    request: AnyRequest, household_id: FromPath[str], request_id: FromPath[str]
) -> Response[Any]:
    """Withdraw a pending request."""
    session = session_of(request)
    await form_of(request)
    canteen = context_of(request).canteen
    await run(canteen.enrollment_requests.withdraw, session.actor, request_id)
    return redirect(request, f"/foyer/{household_id}/inscription?retiree=1")


@get("/foyer/{household_id:str}/tarification", include_in_schema=False)
async def tariffs_page(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """ "Tarification": the commune's grids and the family's price, explained."""
    session = session_of(request)
    canteen = context_of(request).canteen
    text = request.query_params.get("annee")
    year = _year(text) if text else None
    found = await run(
        canteen.billing.household_tariffs, session.actor, household_id, school_year=year
    )
    return page(request, "tarification.html", title="Tarification", tariffs=found)


def _pending(request: AnyRequest, actor: Actor) -> Any:
    canteen = context_of(request).canteen
    pending = canteen.enrollment_requests.pending(actor)
    names: dict[str, dict[str, str]] = {}
    rows = []
    for item in pending:
        if item.household_id not in names:
            household = canteen.families.get(actor, item.household_id)
            names[item.household_id] = {c.id: c.display_name for c in household.children}
        rows.append({"item": item, "child": names[item.household_id].get(item.child_id, "")})
    return rows


async def _staff_page(
    request: AnyRequest,
    actor: Actor,
    *,
    refusal: Refusal | None = None,
    error_for: str | None = None,
) -> Response[str]:
    rows = await run(_pending, request, actor)
    return page(
        request,
        "gestion-inscriptions.html",
        refusal=refusal,
        title="Demandes d'inscription",
        rows=rows,
        done=request.query_params.get("fait"),
        error_for=error_for,
    )


@get("/gestion/inscriptions", include_in_schema=False)
async def staff_page(request: AnyRequest) -> Response[str]:
    """Enrollment requests awaiting instruction, with accept / refuse."""
    return await _staff_page(request, staff_of(request))


@post("/gestion/inscriptions/{request_id:str}", include_in_schema=False)
async def decide(request: AnyRequest, request_id: FromPath[str]) -> Response[Any]:
    """Accept (the enrollment is made) or refuse (with a reason) a request; the family is
    e-mailed. A refused decision (no reason to refuse, request already decided...) is shown on
    the same page, next to the request."""
    actor = staff_of(request)
    accepting, reason = review_of(await form_of(request))
    service = context_of(request).canteen.enrollment_requests
    try:
        if accepting:
            await run(service.accept, actor, request_id, note=reason or None)
        else:
            await run(service.refuse, actor, request_id, reason=reason)
    except CanteenError as error:
        refusal = Refusal.of(request, error)
        if refusal.status in (401, 403, 404):
            raise
        return await _staff_page(request, actor, refusal=refusal, error_for=request_id)
    return redirect(request, f"/gestion/inscriptions?fait={'acceptee' if accepting else 'refusee'}")


HANDLERS = [enrollment_page, submit, withdraw, tariffs_page, staff_page, decide]
