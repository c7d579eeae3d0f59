"""Enrollment requests ("Inscription à la restauration scolaire") and the household's
tariffs with why: families ask and read, staff accept or refuse."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, delete, get
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.convert import arguments
from canteen_adapters.web.convert_enrollment import (
    enrollment_request_out,
    offer_out,
    tariffs_out,
)
from canteen_adapters.web.routes._actions import action, creation
from canteen_adapters.web.routes._tags import FAMILY, STAFF
from canteen_adapters.web.schemas import DecisionBody
from canteen_adapters.web.schemas_enrollment import (
    EnrollmentRequestBody,
    EnrollmentRequestOut,
    OfferOut,
    TariffsOut,
)

__all__ = ["HANDLERS"]


@get("/api/v1/enrollment-offers", tags=FAMILY, sync_to_thread=True)
def offers(request: AnyRequest, web: Web) -> list[OfferOut]:
    """The services a family may ask to enroll a child in, by site."""
    actor = web.actor(request)
    return [offer_out(o) for o in web.canteen.enrollment_requests.offers(actor)]


class HouseholdRequestsController(Controller):
    """A household's enrollment requests: list them (GET), ask for one (POST)."""

    path = "/api/v1/households/{household_id:str}/enrollment-requests"
    tags = FAMILY

    @get(sync_to_thread=True)
    def list_requests(
        self, request: AnyRequest, web: Web, household_id: FromPath[str]
    ) -> list[EnrollmentRequestOut]:
        """The household's enrollment requests, newest first, with their state."""
        actor = web.actor(request)
        found = web.canteen.enrollment_requests.of_household(actor, household_id)
        return [enrollment_request_out(r) for r in found]

    @creation()
    def submit(
        self,
        request: AnyRequest,
        web: Web,
        household_id: FromPath[str],
        data: JSONBody[EnrollmentRequestBody],
    ) -> EnrollmentRequestOut:
        """Ask to enroll a child of the household ("Inscription à la restauration scolaire").

        Refused (nothing stored) for a child not in the household (404), a service not offered
        at the site, a school year other than the current or next one or a weekday the
        service does not run (422), a pending
        request for the same child, service and year, or a child already enrolled (409).
        """
        actor = web.actor(request)
        asked = web.canteen.enrollment_requests.submit(actor, household_id, **arguments(data))
        return enrollment_request_out(asked)


@delete(
    "/api/v1/enrollment-requests/{request_id:str}",
    tags=FAMILY,
    status_code=HTTP_200_OK,
    sync_to_thread=True,
)
def withdraw(request: AnyRequest, web: Web, request_id: FromPath[str]) -> EnrollmentRequestOut:
    """Withdraw one's pending enrollment request."""
    actor = web.actor(request)
    return enrollment_request_out(web.canteen.enrollment_requests.withdraw(actor, request_id))


@get("/api/v1/households/{household_id:str}/tariffs", tags=FAMILY, sync_to_thread=True)
def tariffs(
    request: AnyRequest,
    web: Web,
    household_id: FromPath[str],
    school_year: FromQuery[int | None] = None,
    on: FromQuery[date | None] = None,
) -> TariffsOut:
    """ "Tarification": the commune's grids for the school year and each enrolled child's
    price per meal, with why (family quotient bracket, category, sibling rule...)."""
    actor = web.actor(request)
    found = web.canteen.billing.household_tariffs(
        actor, household_id, school_year=school_year, on=on
    )
    return tariffs_out(found)


@get("/api/v1/staff/enrollment-requests", tags=STAFF, sync_to_thread=True)
def pending(request: AnyRequest, web: Web) -> list[EnrollmentRequestOut]:
    """Enrollment requests awaiting instruction, oldest first."""
    actor = web.staff_actor(request)
    return [enrollment_request_out(r) for r in web.canteen.enrollment_requests.pending(actor)]


@action("/api/v1/staff/enrollment-requests/{request_id:str}/decision", tags=STAFF)
def decide(
    request: AnyRequest,
    web: Web,
    request_id: FromPath[str],
    data: JSONBody[DecisionBody],
) -> EnrollmentRequestOut:
    """Accept (the enrollment is made, with every check of an enrollment) or refuse (a reason
    the family reads) an enrollment request; the family is e-mailed."""
    actor = web.staff_actor(request)
    service = web.canteen.enrollment_requests
    if data.approve:
        decided = service.accept(actor, request_id, note=data.reason)
    else:
        decided = service.refuse(actor, request_id, reason=data.reason or "")
    return enrollment_request_out(decided)


HANDLERS: list[Any] = [HouseholdRequestsController, offers, withdraw, tariffs, pending, decide]
