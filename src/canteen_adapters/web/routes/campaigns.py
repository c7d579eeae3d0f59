"""Yearly campaigns over HTTP: families see what an open campaign asks them and confirm or
decline each child's re-enrollment; staff open a family-quotient campaign or the
re-enrollment, follow who answered, remind and close."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import FromPath, JSONBody, QueryParameter

from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.convert import arguments
from canteen_adapters.web.routes._actions import action, creation
from canteen_adapters.web.routes._tags import FAMILY, STAFF
from canteen_adapters.web.schemas_campaigns import (
    CampaignAnswerOut,
    CampaignOut,
    CampaignProgressOut,
    ConfirmationBody,
    HouseholdCampaignOut,
    QuotientCampaignBody,
    ReenrollmentBody,
    YearClosingOut,
    answer_out,
    campaign_out,
    household_campaign_out,
    progress_out,
    year_closing_out,
)

__all__ = ["HANDLERS"]


@get("/api/v1/households/{household_id:str}/campaigns", tags=FAMILY, sync_to_thread=True)
def household_campaigns(
    request: AnyRequest, web: Web, household_id: FromPath[str]
) -> list[HouseholdCampaignOut]:
    """The open campaigns asking the household something (its quotient, each child's
    re-enrollment), with its answers."""
    actor = web.actor(request)
    found = web.canteen.campaigns.of_household(actor, household_id)
    return [household_campaign_out(c) for c in found]


@action("/api/v1/campaign-answers/{answer_id:str}/confirmation", tags=FAMILY)
def confirm(
    request: AnyRequest, web: Web, answer_id: FromPath[str], data: JSONBody[ConfirmationBody]
) -> CampaignAnswerOut:
    """Confirm a child's enrollment next year, with the weekdays to book (until the
    deadline; another household's answer is 404)."""
    actor = web.actor(request)
    answer = web.canteen.campaigns.confirm(actor, answer_id, weekdays=data.weekdays, book=data.book)
    return answer_out(answer)


@action("/api/v1/campaign-answers/{answer_id:str}/refusal", tags=FAMILY)
def decline(request: AnyRequest, web: Web, answer_id: FromPath[str]) -> CampaignAnswerOut:
    """Say the child will not be re-enrolled next year (until the deadline)."""
    actor = web.actor(request)
    return answer_out(web.canteen.campaigns.decline(actor, answer_id))


@get("/api/v1/staff/campaigns", tags=STAFF, sync_to_thread=True)
def list_campaigns(request: AnyRequest, web: Web) -> list[CampaignOut]:
    """The campaigns the actor manages, newest first."""
    actor = web.staff_actor(request)
    return [campaign_out(c) for c in web.canteen.campaigns.list_campaigns(actor)]


@creation("/api/v1/staff/campaigns/quotient", tags=STAFF)
def open_quotient(
    request: AnyRequest, web: Web, data: JSONBody[QuotientCampaignBody]
) -> CampaignProgressOut:
    """Open a family-quotient campaign: households are asked (e-mail) for their attestation
    CAF by the deadline (422 for a deadline past or not before ``valid_from``, 409 when one
    exists for that day)."""
    actor = web.staff_actor(request)
    return progress_out(web.canteen.campaigns.open_quotient(actor, **arguments(data)))


@creation("/api/v1/staff/campaigns/reenrollment", tags=STAFF)
def open_reenrollment(
    request: AnyRequest, web: Web, data: JSONBody[ReenrollmentBody]
) -> CampaignProgressOut:
    """Open the re-enrollment for the next school year: each child enrolled this year is
    offered the same service (409 when it is open already)."""
    actor = web.staff_actor(request)
    return progress_out(web.canteen.campaigns.open_reenrollment(actor, **arguments(data)))


@get("/api/v1/staff/campaigns/{campaign_id:str}", tags=STAFF, sync_to_thread=True)
def progress(
    request: AnyRequest,
    web: Web,
    campaign_id: FromPath[str],
    answer_state: Annotated[str | None, QueryParameter(name="state")] = None,
) -> CampaignProgressOut:
    """A campaign and its answers (``state=awaiting``: who has not answered)."""
    actor = web.staff_actor(request)
    found = web.canteen.campaigns.progress(actor, campaign_id, state=answer_state)
    return progress_out(found)


@action("/api/v1/staff/campaigns/{campaign_id:str}/reminders", tags=STAFF)
def remind(request: AnyRequest, web: Web, campaign_id: FromPath[str]) -> list[CampaignAnswerOut]:
    """E-mail again the households that have not answered; the answers reminded."""
    actor = web.staff_actor(request)
    return [answer_out(a) for a in web.canteen.campaigns.remind(actor, campaign_id)]


@action("/api/v1/staff/campaigns/{campaign_id:str}/closure", tags=STAFF)
def close(request: AnyRequest, web: Web, campaign_id: FromPath[str]) -> CampaignProgressOut:
    """Close a campaign after its deadline (422 before): every answer settled; closing again
    does nothing more."""
    actor = web.staff_actor(request)
    return progress_out(web.canteen.campaigns.close(actor, campaign_id))


@get("/api/v1/staff/school-years/closings", tags=STAFF, sync_to_thread=True)
def year_closings(request: AnyRequest, web: Web) -> list[YearClosingOut]:
    """The closed school years, oldest first."""
    actor = web.staff_actor(request)
    return [year_closing_out(c) for c in web.canteen.campaigns.closed_years(actor)]


@action("/api/v1/staff/school-years/{school_year:str}/closure", tags=STAFF)
def close_year(request: AnyRequest, web: Web, school_year: FromPath[str]) -> YearClosingOut:
    """Close a school year (``2023-2024``) after its last day (422 before, 409 when closed
    already): no booking, roll call or enrollment change on its days any more; its unpaid
    invoices and credit are carried as they stand, counted in the answer."""
    actor = web.staff_actor(request)
    return year_closing_out(web.canteen.campaigns.close_year(actor, school_year))


HANDLERS: list[Any] = [
    household_campaigns,
    confirm,
    decline,
    list_campaigns,
    open_quotient,
    open_reenrollment,
    progress,
    year_closings,
    close_year,
    remind,
    close,
]
