"""The portal's menu page (a site's menus of a week, with the allergens of each dish) and the
grid's "Accepter la place" button (a place offered from a waiting list)."""

from __future__ import annotations

from datetime import timedelta

from litestar import Response, get, post
from litestar.params import FromPath

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.common import form_of, page, parse_day, run, session_of
from canteen_adapters.web.pages.render import context_of, redirect
from canteen_core.domain.menus import week_of

__all__ = ["HANDLERS"]


@get("/menus/{site_id:str}", include_in_schema=False)
async def menus_page(request: AnyRequest, site_id: FromPath[str]) -> Response[str]:
    """The site's menus of the week of ``date`` (``AAAA-MM-JJ``, default today)."""
    session = session_of(request)
    canteen = context_of(request).canteen
    today = canteen.context.clock.now().date()
    monday = week_of(parse_day(request.query_params.get("date"), today, path="date"))
    site = await run(canteen.catalog.site, session.actor, site_id)
    menu = await run(canteen.menus.week, session.actor, site_id, monday)
    return page(
        request,
        "menus.html",
        title="Menus",
        site_name=site.site.name,
        monday=monday,
        previous=monday - timedelta(weeks=1),
        following=monday + timedelta(weeks=1),
        menu=menu,
    )


@post("/liste-attente/{entry_id:str}/accepter", include_in_schema=False)
async def accept_place(request: AnyRequest, entry_id: FromPath[str]) -> Response[None]:
    """Accept the place offered (the grid's button): the day is booked, back to the grid."""
    session = session_of(request)
    await form_of(request)  # the grid's form, with its CSRF token
    canteen = context_of(request).canteen
    entry = await run(canteen.capacity.accept, session.actor, entry_id)
    return redirect(
        request, f"/reservations/{entry.enrollment_id}?vue=mois&date={entry.day.isoformat()}"
    )


HANDLERS = [menus_page, accept_place]
