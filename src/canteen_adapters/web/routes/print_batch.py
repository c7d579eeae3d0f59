"""The billing run's mail: the new invoices delivered (paperless households by e-mail, PDF
attached) and the print batch of the others, which staff download.

The batch is not kept: it is drawn again when asked, from the month's post-paid invoices of the
households without paperless consent (sorted by postal address, as the run's), so the download
always matches what the families' accounts say.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from litestar import Response
from litestar.params import FromPath

from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.problems import Problem
from canteen_adapters.web.routes._files import attachment, file_route
from canteen_adapters.web.routes._tags import STAFF as TAGS
from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import InvalidInputError
from canteen_core.services import Canteen

if TYPE_CHECKING:
    from canteen_adapters.documents.print_batch import InvoiceDelivery

__all__ = ["HANDLERS", "deliver_run", "period_start", "print_batch_url"]

PDF = "application/pdf"


def period_start(period: str) -> date:
    """The first day of ``period`` (``2023-10``); French :class:`InvalidInputError` otherwise."""
    try:
        year, month = (int(part) for part in period.split("-"))
        if not 2000 <= year <= 2100 or len(period) != 7:
            raise ValueError(period)
        return date(year, month, 1)
    except ValueError:
        raise InvalidInputError(
            f"mois invalide « {period[:20]} » : écrivez 2023-10", path="period"
        ) from None


def print_batch_url(period: str) -> str:
    """Where staff download the print batch of ``period``."""
    return f"/api/v1/staff/billing-runs/{period}/print-batch"


def deliver_run(canteen: Canteen, actor: Actor, invoice_ids: list[str]) -> InvoiceDelivery:
    """E-mail the new invoices of paperless households and draw the others' print batch
    (:func:`~canteen_adapters.documents.print_batch.deliver_invoices`)."""
    from canteen_adapters.documents.print_batch import deliver_invoices

    return deliver_invoices(canteen, actor, invoice_ids)


def render_period_batch(canteen: Canteen, actor: Actor, period: str) -> bytes:
    """The print batch of ``period``'s post-paid invoices for the households without paperless
    consent; 404 when there is none."""
    from canteen_adapters.documents.pdf import PaymentOptions
    from canteen_adapters.documents.print_batch import month_deliveries, render_print_batch

    items = month_deliveries(canteen, actor, period_start(period)).by_post
    if not items:
        raise Problem(404, "not-found", "Introuvable", f"Aucune facture à imprimer pour {period}.")
    options = PaymentOptions.for_deployment(canteen.deployment)
    return render_print_batch(items, issuer=canteen.deployment.issuer, payment=options)


@file_route("/api/v1/staff/billing-runs/{period:str}/print-batch", tags=TAGS, media_type=PDF)
def print_batch(request: AnyRequest, web: Web, period: FromPath[str]) -> Response[bytes]:
    """Download the print batch of a month's post-paid invoices: one PDF for the mail room,
    the invoices of the households without paperless consent sorted by postal address, each
    starting on a new page with the address in the envelope window (finance, admin)."""
    actor = web.staff_actor(request)
    data = render_period_batch(web.canteen, actor, period)
    return attachment(data, f"factures-a-imprimer-{period}.pdf", PDF)


HANDLERS: list[Any] = [print_batch]
