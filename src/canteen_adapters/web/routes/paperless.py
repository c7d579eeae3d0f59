"""Paperless invoices ("adhésion à la facture dématérialisée") and the postal address over HTTP.

The payer reads and changes the household's consent (dated, revocable) and its postal address,
where paper invoices are sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from litestar import get, put
from litestar.params import FromPath, JSONBody

from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.convert import body
from canteen_adapters.web.routes._tags import FAMILY as TAGS
from canteen_core.domain.families import Household
from canteen_core.domain.paperless import PostalAddress
from canteen_core.domain.policy import Action, authorize

__all__ = ["HANDLERS"]


@attrs.frozen(kw_only=True)
class PostalAddressBody:
    """A French postal address (38 characters a line at most, a 5-digit postcode)."""

    street: str = ""
    postcode: str = ""
    city: str = ""
    complement: str | None = None


@attrs.frozen(kw_only=True)
class PaperlessBody:
    """``consent``: true to receive invoices by e-mail (PDF attached), false to withdraw."""

    consent: bool = False


@attrs.frozen(kw_only=True)
class PaperlessOut:
    """The household's choice and where its paper invoices go."""

    household_id: str
    paperless: bool
    summary: str
    consent_given_at: datetime | None
    consent_revoked_at: datetime | None
    postal_address: PostalAddressBody | None


def paperless_out(household: Household) -> PaperlessOut:
    """The JSON of a household's paperless choice and address."""
    consent = household.paperless
    address = household.postal_address
    return PaperlessOut(
        household_id=household.id,
        paperless=household.is_paperless,
        summary=(
            "Vos factures vous sont envoyées par e-mail (PDF joint)."
            if household.is_paperless
            else "Vos factures vous sont envoyées par courrier."
        ),
        consent_given_at=None if consent is None else consent.given_at,
        consent_revoked_at=None if consent is None else consent.revoked_at,
        postal_address=None if address is None else body(PostalAddressBody, address),
    )


@get("/api/v1/households/{household_id:str}/paperless", tags=TAGS, sync_to_thread=True)
def paperless(request: AnyRequest, web: Web, household_id: FromPath[str]) -> PaperlessOut:
    """Whether invoices come by e-mail or by post, and the postal address."""
    return paperless_out(web.canteen.families.get(web.actor(request), household_id))


@put("/api/v1/households/{household_id:str}/paperless", tags=TAGS, sync_to_thread=True)
def set_paperless(
    request: AnyRequest,
    web: Web,
    household_id: FromPath[str],
    data: JSONBody[PaperlessBody],
) -> PaperlessOut:
    """Consent to paperless invoices (dated now), or withdraw the consent (the payer)."""
    actor = web.actor(request)
    service = web.canteen.paperless
    changed = (service.consent if data.consent else service.revoke)(actor, household_id)
    return paperless_out(changed)


@put("/api/v1/households/{household_id:str}/postal-address", tags=TAGS, sync_to_thread=True)
def set_postal_address(
    request: AnyRequest,
    web: Web,
    household_id: FromPath[str],
    data: JSONBody[PostalAddressBody],
) -> PaperlessOut:
    """Record the household's postal address (the payer), printed on paper invoices."""
    actor = web.actor(request)
    authorize(actor, Action.UPDATE_HOUSEHOLD, household_id=household_id)
    address = PostalAddress(
        street=data.street.strip(),
        postcode=data.postcode.strip(),
        city=data.city.strip(),
        complement=(data.complement or "").strip() or None,
    )
    return paperless_out(web.canteen.paperless.set_postal_address(actor, household_id, address))


HANDLERS: list[Any] = [paperless, set_paperless, set_postal_address]
