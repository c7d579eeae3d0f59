"""The pages of the yearly campaigns: "Réinscription et quotient familial" for families (what
an open campaign asks, each child confirmed or not), "Campagnes" in the back office (who
answered, remind, close)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.common import form_of, page, run, session_of, staff_of
from canteen_adapters.web.pages.render import context_of, redirect
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import WEEKDAY_NAMES_FR
from canteen_core.domain.errors import InvalidInputError

__all__ = ["HANDLERS"]

#: The weekdays a family may tick (Monday to Friday).
WEEKDAYS = tuple(enumerate(WEEKDAY_NAMES_FR[:5]))


def _household_values(request: AnyRequest, actor: Actor, household_id: str) -> Any:
    canteen = context_of(request).canteen
    household = canteen.families.get(actor, household_id)
    names = {child.id: child.display_name for child in household.children}
    return {
        "household": household,
        "campaigns": canteen.campaigns.of_household(actor, household_id),
        "names": names,
        "weekdays": WEEKDAYS,
    }


@get("/foyer/{household_id:str}/campagnes", include_in_schema=False)
async def household_page(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """What the open campaigns ask the household: its attestation CAF, each child's
    re-enrollment (confirm with the days to book, or not)."""
    session = session_of(request)
    values = await run(_household_values, request, session.actor, household_id)
    return page(
        request,
        "campagnes.html",
        title="Réinscription et quotient familial",
        done=request.query_params.get("fait"),
        **values,
    )


def _days(values: list[str]) -> list[int]:
    try:
        return [int(value) for value in values]
    except ValueError:
        raise InvalidInputError("jour de la semaine invalide", path="weekdays") from None


@post("/foyer/{household_id:str}/campagnes/{answer_id:str}", include_in_schema=False)
async def answer(
    request: AnyRequest, household_id: FromPath[str], answer_id: FromPath[str]
) -> Response[Any]:
    """Confirm a child's re-enrollment with the ticked days, or decline it."""
    session = session_of(request)
    form = await form_of(request)
    service = context_of(request).canteen.campaigns
    if form.get("decision") == "confirmer":
        days = _days([str(v) for v in form.getall("weekdays", [])])
        await run(service.confirm, session.actor, answer_id, weekdays=days or None, book=bool(days))
        return redirect(request, f"/foyer/{household_id}/campagnes?fait=confirmee")
    await run(service.decline, session.actor, answer_id)
    return redirect(request, f"/foyer/{household_id}/campagnes?fait=refusee")


def _staff_values(request: AnyRequest, actor: Actor) -> Any:
    service = context_of(request).canteen.campaigns
    return [service.progress(actor, c.id) for c in service.list_campaigns(actor)]


@get("/gestion/campagnes", include_in_schema=False)
async def staff_page(request: AnyRequest) -> Response[str]:
    """The campaigns with where each stands; remind or close the open ones."""
    actor = staff_of(request)
    rows = await run(_staff_values, request, actor)
    return page(
        request,
        "gestion-campagnes.html",
        title="Campagnes",
        rows=rows,
        done=request.query_params.get("fait"),
    )


@post("/gestion/campagnes/{campaign_id:str}", include_in_schema=False)
async def staff_action(request: AnyRequest, campaign_id: FromPath[str]) -> Response[Any]:
    """Remind the households still awaited, or close the campaign."""
    actor = staff_of(request)
    form = await form_of(request)
    service = context_of(request).canteen.campaigns
    if form.get("action") == "cloturer":
        await run(service.close, actor, campaign_id)
        return redirect(request, "/gestion/campagnes?fait=close")
    await run(service.remind, actor, campaign_id)
    return redirect(request, "/gestion/campagnes?fait=relance")


HANDLERS = [household_page, answer, staff_page, staff_action]
