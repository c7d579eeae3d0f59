"""The family's own household: dashboard, enrollments, requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, delete, get, patch
from litestar.params import FromPath, FromQuery, JSONBody

from canteen_adapters.web import convert
from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.convert_enrollment import enrollment_request_out
from canteen_adapters.web.routes._tags import FAMILY as TAGS
from canteen_adapters.web.schemas import (
    ContactBody,
    DashboardOut,
    EnrollmentOut,
    HouseholdOut,
    InvoicesSummary,
    PortalOut,
    RequestOut,
)
from canteen_core.domain.clock import PARIS
from canteen_core.domain.money import Money

__all__ = ["HANDLERS"]

#: How many requests the dashboard lists ("Dernières demandes").
LATEST_REQUESTS = 5


def last_login_text(web: Web, request: AnyRequest) -> tuple[str | None, datetime | None]:
    """``"Dernière connexion le 09/08/2023 à 17:58"`` (Europe/Paris): the login before the
    session's own (``"Première connexion"`` the first time)."""
    session = web.session(request)
    if session is None:
        return None, None
    previous = session.previous_login_at
    if previous is None:
        return "Première connexion", None
    local = previous.astimezone(PARIS)
    return f"Dernière connexion le {local:%d/%m/%Y} à {local:%H:%M}", previous


@get("/api/v1/households", tags=TAGS, sync_to_thread=True)
def my_households(request: AnyRequest, web: Web) -> list[HouseholdOut]:
    """The households the user may see (a family: its own)."""
    actor = web.actor(request)
    return [convert.household_out(h) for h in web.canteen.families.list_households(actor)]


@get("/api/v1/households/{household_id:str}/dashboard", tags=TAGS, sync_to_thread=True)
def dashboard(request: AnyRequest, web: Web, household_id: FromPath[str]) -> DashboardOut:
    """The dashboard in one call: greeting and last login, "Vous avez N facture(s) non
    réglée(s)" with the amount, the latest requests and their state, the co-representative,
    household members, enrollments, the portal's opening date."""
    actor = web.actor(request)
    canteen = web.canteen
    home = canteen.billing.household_home(actor, household_id)  # one transaction
    page = home.invoices
    requests = home.requests
    enrollment_requests = home.enrollment_requests
    household = home.household
    payer = household.payer
    text, at = last_login_text(web, request)
    unpaid = [row for row in page.rows if row.balance_due.is_positive]
    portal = canteen.deployment.portal
    return DashboardOut(
        household_id=household.id,
        greeting=f"Bonjour {payer.civility + ' ' if payer.civility else ''}{payer.last_name}.",
        last_login=text,
        last_login_at=at,
        invoices=InvoicesSummary(
            unpaid_count=len(unpaid),
            unpaid_amount=convert.money(Money.sum(row.balance_due for row in unpaid)),
            available_credit=convert.money(page.available_credit),
            summary=page.summary_fr,
        ),
        latest_requests=[
            convert.request_out(r)
            for r in sorted(requests, key=lambda r: r.requested_at, reverse=True)[:LATEST_REQUESTS]
        ],
        enrollment_requests=[
            enrollment_request_out(r) for r in enrollment_requests[:LATEST_REQUESTS]
        ],
        payer=convert.guardian_out(payer),
        co_representative=None
        if household.co_representative is None
        else convert.guardian_out(household.co_representative),
        members=[convert.child_out(child) for child in household.children],
        enrollments=[convert.enrollment_out(e, household) for e in home.enrollments],
        portal=PortalOut(
            name=portal.name or "Espace Restauration",
            opening_date=canteen.accounts.portal_opens_at,
            news=None,
        ),
    )


@get("/api/v1/households/{household_id:str}/enrollments", tags=TAGS, sync_to_thread=True)
def enrollments(request: AnyRequest, web: Web, household_id: FromPath[str]) -> list[EnrollmentOut]:
    """The children's enrollments ("Modifier les réservations" leads to their grids)."""
    actor = web.actor(request)
    view = web.canteen.families.dashboard(actor, household_id)
    return [convert.enrollment_out(e, view.household) for e in view.enrollments]


@get("/api/v1/households/{household_id:str}/requests", tags=TAGS, sync_to_thread=True)
def requests(
    request: AnyRequest,
    web: Web,
    household_id: FromPath[str],
    status: FromQuery[str | None] = None,
) -> list[RequestOut]:
    """The household's late-change requests (``status=pending``: awaiting instruction)."""
    actor = web.actor(request)
    found = web.canteen.reservations.requests(actor, household_id=household_id, status=status)
    return [convert.request_out(r) for r in found]


@delete("/api/v1/requests/{request_id:str}", tags=TAGS, status_code=200, sync_to_thread=True)
def withdraw(request: AnyRequest, web: Web, request_id: FromPath[str]) -> RequestOut:
    """Withdraw one's pending request."""
    actor = web.actor(request)
    return convert.request_out(web.canteen.reservations.withdraw(actor, request_id))


class ProfileController(Controller):
    """The household's profile (read, change contact details)."""

    path = "/api/v1/households/{household_id:str}/profile"
    tags = TAGS

    @get(sync_to_thread=True)
    def profile(self, request: AnyRequest, web: Web, household_id: FromPath[str]) -> HouseholdOut:
        """The household's guardians (login e-mail, contact details) and children."""
        actor = web.actor(request)
        return convert.household_out(web.canteen.families.get(actor, household_id))

    @patch(sync_to_thread=True)
    def update_profile(
        self,
        request: AnyRequest,
        web: Web,
        household_id: FromPath[str],
        data: JSONBody[ContactBody],
    ) -> HouseholdOut:
        """Change a guardian's e-mail or civility (the payer)."""
        actor = web.actor(request)
        household = web.canteen.families.update_contact(
            actor, household_id, data.guardian_id, email=data.email, civility=data.civility
        )
        return convert.household_out(household)


HANDLERS: list[Any] = [
    ProfileController,
    my_households,
    dashboard,
    enrollments,
    requests,
    withdraw,
]
