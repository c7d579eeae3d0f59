"""Back-office pages for closures and collections: site closures (list, add), the
direct-debit file (run, download the pain.008) and payment reminders (run, list sent).
Family accounts get the "Accès refusé" page on each."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Response, get, post

from canteen_adapters.web.context import AnyRequest
from canteen_adapters.web.pages.common import (
    Refusal,
    form_of,
    page,
    run,
    sites_of,
    staff_of,
)
from canteen_adapters.web.pages.render import context_of
from canteen_adapters.web.problems import Problem
from canteen_adapters.web.routes.sepa import run_direct_debit
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import Period
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import CanteenError, InvalidInputError
from canteen_core.services.catalog import BilledClosureError
from canteen_core.services.payments.debit_schedule import earliest_collection_date

__all__ = ["HANDLERS"]

#: At most this many reminders are listed (newest first).
REMINDERS_SHOWN = 200


def _date(text: str, path: str, label: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(
            f"date du {label} invalide « {text[:20]} » : écrivez AAAA-MM-JJ", path=path
        ) from None


def _closures(request: AnyRequest, actor: Actor) -> list[tuple[str, Period]]:
    """(site name, closure) of every site, by first day: read from the enrollments'
    calendars, where site closures are kept."""
    canteen = context_of(request).canteen
    found: dict[tuple[str, Period], str] = {}
    for enrollment in canteen.enrollments.list_enrollments(actor):
        for period in enrollment.calendar.site_closures:
            found.setdefault((enrollment.site.id, period), enrollment.site.name)
    return sorted(
        ((name, period) for (_, period), name in found.items()),
        key=lambda item: (item[1].first_day, item[0]),
    )


async def _closures_page(
    request: AnyRequest,
    actor: Actor,
    *,
    refusal: Refusal | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
    confirm_billed: bool = False,
) -> Response[str]:
    sites, site = await run(sites_of, request, actor, (form or {}).get("site"))
    closures = await run(_closures, request, actor)
    return page(
        request,
        "fermetures.html",
        refusal=refusal,
        title="Fermetures",
        sites=sites,
        site=site,
        closures=closures,
        done=done,
        form=form or {},
        confirm_billed=confirm_billed,
    )


@get("/gestion/fermetures", include_in_schema=False)
async def closures(request: AnyRequest) -> Response[str]:
    """The sites' closures (strike, works) and the form to add one."""
    return await _closures_page(request, staff_of(request))


@post("/gestion/fermetures", include_in_schema=False)
async def add_closure(request: AnyRequest) -> Response[str]:
    """Close a site over a period: its bookings on those days are cancelled. Over days
    already invoiced it is refused with how many the next billing run would credit, and the
    form asks to confirm (a closure cannot be undone)."""
    actor = staff_of(request)
    form = await form_of(request)
    values = {name: str(form.get(name, "")).strip() for name in ("site", "name", "du", "au")}
    credit_billed = str(form.get("credit_billed", "")) == "oui"
    canteen = context_of(request).canteen
    try:
        if not values["name"]:
            raise InvalidInputError("indiquez le motif de la fermeture", path="name")
        first = _date(values["du"], "du", "premier jour")
        last = _date(values["au"] or values["du"], "au", "dernier jour")
        period = Period(name=values["name"], first_day=first, last_day=last)
        closure = await run(
            canteen.catalog.add_closure,
            actor,
            values["site"],
            period,
            credit_billed=credit_billed,
        )
    except CanteenError as error:
        refusal = Refusal.of(request, error)
        return await _closures_page(
            request,
            actor,
            refusal=refusal,
            form=values,
            confirm_billed=isinstance(error, BilledClosureError),
        )
    done = (
        f"Fermeture enregistrée : {closure.cancelled_count} réservation(s) annulée(s) "
        f"pour {len(closure.cancelled)} inscription(s)."
    )
    if closure.billed.count:
        done = f"{done} {closure.billed.summary_fr}."
    return await _closures_page(request, actor, done=done)


@get("/gestion/prelevements", include_in_schema=False)
async def debit_file(request: AnyRequest) -> Response[str]:
    """The direct-debit run's form (collection date, the earliest by default)."""
    staff_of(request)
    canteen = context_of(request).canteen
    today = canteen.context.clock.now().astimezone(PARIS).date()
    earliest = earliest_collection_date(canteen.deployment, today)
    return page(
        request,
        "prelevements.html",
        title="Prélèvements",
        report=None,
        day=earliest,
        configured=canteen.payments.offers_direct_debit(),
    )


@post("/gestion/prelevements", include_in_schema=False)
async def run_debit_file(request: AnyRequest) -> Response[str]:
    """Produce the pain.008 file; the report with its download link."""
    actor = staff_of(request)
    form = await form_of(request)
    canteen = context_of(request).canteen
    text = str(form.get("date", "")).strip()
    try:
        day = _date(text, "date", "prélèvement") if text else None
        report = await run(run_direct_debit, canteen, actor, day)
    except (CanteenError, Problem) as error:
        refusal = Refusal.of(request, error)
        return page(
            request,
            "prelevements.html",
            refusal=refusal,
            title="Prélèvements",
            report=None,
            day=text,
            configured=canteen.payments.offers_direct_debit(),
        )
    return page(
        request,
        "prelevements.html",
        title="Prélèvements",
        report=report,
        day=report.collection_date,
        configured=True,
    )


async def _reminders_page(request: AnyRequest, actor: Actor, report: Any = None) -> Response[str]:
    billing = context_of(request).canteen.billing
    sent = await run(billing.sent_reminders, actor, limit=REMINDERS_SHOWN)
    return page(request, "relances.html", title="Relances", report=report, sent=sent)


@get("/gestion/relances", include_in_schema=False)
async def reminders(request: AnyRequest) -> Response[str]:
    """The reminders sent (newest first) and the button that sends those due."""
    return await _reminders_page(request, staff_of(request))


@post("/gestion/relances", include_in_schema=False)
async def run_reminders(request: AnyRequest) -> Response[str]:
    """Send the reminders due today (each invoice and level at most once)."""
    actor = staff_of(request)
    await form_of(request)
    report = await run(context_of(request).canteen.billing.run_reminders, actor)
    return await _reminders_page(request, actor, report)


HANDLERS = [closures, add_closure, debit_file, run_debit_file, reminders, run_reminders]
