"""The commune's back office: requests to instruct, roll calls, closures, headcounts,
billing, reminders, household search. Family accounts get 403 on every route here."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from litestar import Controller, get, put
from litestar.params import FromPath, FromQuery, JSONBody

from canteen_adapters.web import convert
from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.routes._actions import action
from canteen_adapters.web.routes._dates import parse_day
from canteen_adapters.web.routes._tags import STAFF as TAGS
from canteen_adapters.web.routes.print_batch import HANDLERS as PRINT_BATCH_HANDLERS
from canteen_adapters.web.routes.print_batch import deliver_run, print_batch_url
from canteen_adapters.web.schemas import (
    DecisionBody,
    HouseholdOut,
    RequestOut,
)
from canteen_adapters.web.schemas_office import (
    BillingRunBody,
    BillingRunOut,
    ClosureBody,
    ClosureOut,
    HeadcountOut,
    RegularisationNoteOut,
    RemindersBody,
    RemindersOut,
    RollCallBody,
    RollCallOut,
    UnbilledOut,
)
from canteen_core.domain.calendar import Period
from canteen_core.domain.errors import InvalidInputError

__all__ = ["HANDLERS"]

_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@get("/api/v1/staff/requests", tags=TAGS, sync_to_thread=True)
def pending_requests(
    request: AnyRequest, web: Web, site_id: FromQuery[str | None] = None
) -> list[RequestOut]:
    """Late-change requests awaiting instruction, oldest first (optionally of one site)."""
    actor = web.staff_actor(request)
    found = web.canteen.reservations.pending_requests(actor, site_id=site_id)
    return [convert.request_out(r) for r in found]


@action("/api/v1/staff/requests/{request_id:str}/decision", tags=TAGS)
def decide(
    request: AnyRequest,
    web: Web,
    request_id: FromPath[str],
    data: JSONBody[DecisionBody],
) -> RequestOut:
    """Approve (the change is applied) or reject (a reason the family reads) a request; the
    family is e-mailed."""
    actor = web.staff_actor(request)
    decided = web.canteen.reservations.decide(
        actor, request_id, approve=data.approve, reason=data.reason
    )
    return convert.request_out(decided)


@action("/api/v1/staff/sites/{site_id:str}/closures", tags=TAGS)
def close_site(
    request: AnyRequest, web: Web, site_id: FromPath[str], data: JSONBody[ClosureBody]
) -> ClosureOut:
    """Close a site over a period (strike, works): its bookings are cancelled. ``billed``
    says which days already invoiced it cancels: the next billing run credits them. Over
    such days the closure is refused (422) unless ``credit_billed`` confirms it, as
    ``canteen sites close --credit-billed`` and the "Fermetures" page ask."""
    actor = web.staff_actor(request)
    period = Period(name=data.name, first_day=data.first_day, last_day=data.last_day)
    closure = web.canteen.catalog.add_closure(
        actor, site_id, period, credit_billed=data.credit_billed
    )
    return convert.closure_out(closure)


@get("/api/v1/staff/sites/{site_id:str}/headcounts", tags=TAGS, sync_to_thread=True)
def headcounts(
    request: AnyRequest,
    web: Web,
    site_id: FromPath[str],
    start: FromQuery[date],
    end: FromQuery[date],
) -> list[HeadcountOut]:
    """Meals to cook per day at the site, by diet, and PAI baskets."""
    actor = web.staff_actor(request)
    counts = web.canteen.kitchen.headcounts(actor, site_id, start, end)
    return [
        convert.body(
            HeadcountOut,
            count,
            site_id=site_id,
            meals={diet.value: n for diet, n in count.meals.items()},
        )
        for count in counts
    ]


@action("/api/v1/staff/billing-runs", tags=TAGS)
def billing_run(request: AnyRequest, web: Web, data: JSONBody[BillingRunBody]) -> BillingRunOut:
    """Bill a month in the deployment's mode (re-running never invoices twice): post-paid,
    the month's attendance; prepaid, each household's basket of the month (days booked and not
    invoiced yet, after crediting the days cancelled in time), a month to come included. Then
    deliver the new invoices: e-mailed (PDF attached) to paperless households, and for the
    others one print batch sorted by postal address, downloaded at ``print_batch_url``."""
    actor = web.staff_actor(request)
    match = _PERIOD.fullmatch(data.period)
    if match is None or not 2000 <= int(match.group(1)) <= 2100:
        # The facade raises a bare ValueError for far years (9999-12): refused here.
        raise InvalidInputError(
            f"mois invalide « {data.period[:20]} » : écrivez 2023-10", path="period"
        )
    report = web.canteen.billing.run_month(actor, data.period)
    issued = [item.invoice_id for item in report.issued]
    delivery = deliver_run(web.canteen, actor, issued) if issued else None
    printed = delivery is not None and delivery.print_batch is not None
    return convert.body(
        BillingRunOut,
        report,
        issued=report.count,
        already_billed=len(report.already_billed),
        conflicts=len(report.conflicts),
        without_charges=len(report.without_charges),
        emailed=0 if delivery is None else len(delivery.emailed),
        printed=0 if delivery is None else len(delivery.printed),
        without_address=[] if delivery is None else list(delivery.without_address),
        print_batch_url=print_batch_url(data.period) if printed else None,
        skipped=[convert.body(UnbilledOut, item) for item in report.skipped],
        credit_notes=[convert.body(RegularisationNoteOut, note) for note in report.credit_notes],
        credited=convert.money(report.credited),
    )


@action("/api/v1/staff/reminders", tags=TAGS)
def reminders(request: AnyRequest, web: Web, data: JSONBody[RemindersBody]) -> RemindersOut:
    """Send the payment reminders due (each invoice and level at most once)."""
    actor = web.staff_actor(request)
    report = web.canteen.billing.run_reminders(actor, today=data.today)
    return RemindersOut(
        reminders=len(report.sent), households=report.households, messages=report.messages
    )


@get("/api/v1/staff/households", tags=TAGS, sync_to_thread=True)
def search_households(request: AnyRequest, web: Web, q: FromQuery[str] = "") -> list[HouseholdOut]:
    """Households whose id, guardian or child name or e-mail contains ``q`` (first 50)."""
    actor = web.staff_actor(request)
    found = convert.search_households(web.canteen, actor, q)
    return [convert.household_out(household) for household in found]


class RollCallController(Controller):
    """The roll call of a site and day (read, record)."""

    path = "/api/v1/staff/sites/{site_id:str}/roll-calls/{day:str}"
    tags = TAGS

    @get(sync_to_thread=True)
    def roll_call(
        self, request: AnyRequest, web: Web, site_id: FromPath[str], day: FromPath[str]
    ) -> RollCallOut:
        """The children enrolled at the site that day, booked or not, with what was recorded."""
        actor = web.staff_actor(request)
        return convert.roll_call_out(web.canteen, actor, site_id, parse_day(day))

    @put(sync_to_thread=True)
    def record_roll_call(
        self,
        request: AnyRequest,
        web: Web,
        site_id: FromPath[str],
        day: FromPath[str],
        data: JSONBody[RollCallBody],
    ) -> RollCallOut:
        """Record the roll call (enrollment id -> ``present``/``absent``, with ``stays``:
        arrival and departure where the activity counts them), all or nothing."""
        actor = web.staff_actor(request)
        when = parse_day(day)
        stays = (
            None
            if data.stays is None
            else {key: (stay.arrival, stay.departure) for key, stay in data.stays.items()}
        )
        web.canteen.attendance.roll_call(actor, when, data.presences, stays=stays)
        return convert.roll_call_out(web.canteen, actor, site_id, when)


HANDLERS: list[Any] = [
    RollCallController,
    pending_requests,
    decide,
    close_site,
    headcounts,
    billing_run,
    reminders,
    search_households,
    *PRINT_BATCH_HANDLERS,
]
