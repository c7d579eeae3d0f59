"""The back office's pages: requests to instruct, roll call, headcounts, billing run,
household search. Family accounts get the "Accès refusé" page on each."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from canteen_adapters.web import convert
from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.common import (
    form_of,
    page,
    parse_day,
    review_of,
    run,
    sites_of,
    staff_of,
)
from canteen_adapters.web.pages.render import context_of, redirect
from canteen_adapters.web.pages.roll_call import day_of_site, stays_of_form
from canteen_core.domain.invoicing import BillingMode

__all__ = ["HANDLERS"]


@get("/gestion", include_in_schema=False)
async def back_office(request: AnyRequest) -> Response[str]:
    """Requests awaiting instruction, oldest first, with approve / reject."""
    actor = staff_of(request)
    canteen = context_of(request).canteen
    pending = await run(canteen.reservations.pending_requests, actor)
    pairs = [(r.household_id, r.child_id) for r in pending]
    names = await run(convert.people_names, canteen, actor, pairs) if pairs else {}
    return page(
        request,
        "gestion.html",
        title="Gestion",
        pending=pending,
        names=names,
        done=request.query_params.get("fait"),
    )


@post("/gestion/demandes/{request_id:str}", include_in_schema=False)
async def decide(request: AnyRequest, request_id: FromPath[str]) -> Response[Any]:
    """Approve or reject a request (the family is e-mailed)."""
    actor = staff_of(request)
    approve, reason = review_of(await form_of(request))
    canteen = context_of(request).canteen
    await run(
        canteen.reservations.decide, actor, request_id, approve=approve, reason=reason or None
    )
    return redirect(request, "/gestion?fait=" + ("acceptee" if approve else "refusee"))


@get("/gestion/appel", include_in_schema=False)
async def roll_call_page(request: AnyRequest) -> Response[str]:
    """The roll call of a site and day (a row per child and activity, arrival and departure
    for the activities billed by the hour or half-hour), its allergy flags and waiting lists."""
    actor = staff_of(request)
    today = context_of(request).canteen.context.clock.now().date()
    sites, site = await run(sites_of, request, actor, request.query_params.get("site"))
    day = parse_day(request.query_params.get("jour"), today, path="day")
    canteen = context_of(request).canteen
    found = await run(day_of_site, canteen, actor, site, day) if site else None
    return page(
        request,
        "appel.html",
        title="Appel",
        sites=sites,
        site=site,
        day=day,
        rows=found.rows if found else (),
        flags=found.flags if found else (),
        waiting=found.waiting if found else (),
        saved=request.query_params.get("enregistre") == "1",
    )


@post("/gestion/appel", include_in_schema=False)
async def record_roll_call(request: AnyRequest) -> Response[Any]:
    """Record the roll call with the arrival and departure entered (all or nothing)."""
    actor = staff_of(request)
    form = await form_of(request)
    day = parse_day(str(form.get("jour", "")), date.min, path="day")
    presences = {
        key.removeprefix("presence-"): str(value)
        for key, value in form.multi_items()
        if key.startswith("presence-")
    }
    stays = stays_of_form(form.multi_items(), presences)
    await run(context_of(request).canteen.attendance.roll_call, actor, day, presences, stays=stays)
    return redirect(request, f"/gestion/appel?site={form.get('site', '')}&jour={day}&enregistre=1")


@get("/gestion/effectifs", include_in_schema=False)
async def headcounts(request: AnyRequest) -> Response[str]:
    """Meals to cook per day at a site, by diet, and PAI baskets."""
    actor = staff_of(request)
    canteen = context_of(request).canteen
    today = canteen.context.clock.now().date()
    sites, site = await run(sites_of, request, actor, request.query_params.get("site"))
    start = parse_day(request.query_params.get("du"), today, path="day")
    end = parse_day(request.query_params.get("au"), start, path="day")
    counts = await run(canteen.kitchen.headcounts, actor, site, start, end) if site else []
    return page(
        request,
        "effectifs.html",
        title="Effectifs",
        sites=sites,
        site=site,
        start=start,
        end=end,
        counts=counts,
    )


@get("/gestion/facturation", include_in_schema=False)
async def billing_page(request: AnyRequest) -> Response[str]:
    """The billing run's form."""
    staff_of(request)
    return page(request, "facturation.html", title="Facturation", report=None, period="")


@post("/gestion/facturation", include_in_schema=False)
async def billing_run(request: AnyRequest) -> Response[str]:
    """Bill a month in the deployment's mode (re-running never invoices twice)."""
    actor = staff_of(request)
    form = await form_of(request)
    period = str(form.get("period", "")).strip()
    billing = context_of(request).canteen.billing
    report = await run(billing.run_month, actor, period)
    return page(
        request,
        "facturation.html",
        title="Facturation",
        report=report,
        period=period,
        # A prepaid run's credit notes are the days cancelled in time (``canteen bill`` too).
        prepaid=billing.mode is BillingMode.PREPAID,
    )


@get("/gestion/foyers", include_in_schema=False)
async def households(request: AnyRequest) -> Response[str]:
    """Household search (id, guardian or child name, e-mail)."""
    actor = staff_of(request)
    query = (request.query_params.get("q") or "").strip()
    found = (
        await run(convert.search_households, context_of(request).canteen, actor, query)
        if query
        else []
    )
    return page(request, "foyers.html", title="Foyers", query=query, found=found)


@get("/gestion/foyers/{household_id:str}", include_in_schema=False)
async def household(request: AnyRequest, household_id: FromPath[str]) -> Response[str]:
    """A household's page: guardians, children, invoices, papers (the signed SEPA mandate
    among them)."""
    actor = staff_of(request)
    canteen = context_of(request).canteen
    found = await run(canteen.families.get, actor, household_id)
    invoices = await run(canteen.billing.invoices_page, actor, household_id)
    papers = await run(canteen.papers.of_household, actor, household_id)
    return page(
        request, "foyer.html", title="Foyer", household=found, invoices=invoices, papers=papers
    )


HANDLERS = [
    back_office,
    decide,
    roll_call_page,
    record_roll_call,
    headcounts,
    billing_page,
    billing_run,
    households,
    household,
]
