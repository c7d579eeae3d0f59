"""After a billing run: invoices e-mailed (PDF attached) to paperless households, printed for
the others.

:func:`deliver_invoices` asks the facade how each issued invoice travels
(:meth:`~canteen_core.services.paperless.PaperlessService.deliveries`), renders each PDF, queues
the e-mail of every paperless household with its PDF attached
(:meth:`~canteen_core.services.paperless.PaperlessService.email_invoice`, through the outbox),
and renders **one print batch** for the mail room: every other invoice, one after the other,
sorted by postal address (postcode, city, street), each starting on a new page whose address
window shows the payer and the address. :func:`render_print_batch` draws that batch alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import attrs

from canteen_adapters.documents._layout import DocumentPDF, check_issuer, fr_date
from canteen_adapters.documents.pdf import PaymentOptions, draw_invoice, render_invoice_pdf
from canteen_core.config.deployment import IssuerSettings
from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import BillingMode, Invoice
from canteen_core.services import Canteen
from canteen_core.services.paperless import InvoiceDeliveries

__all__ = [
    "InvoiceDelivery",
    "deliver_invoices",
    "deliver_month",
    "month_deliveries",
    "render_print_batch",
]

_Delivered = tuple[Invoice, Household]


class _BatchPDF(DocumentPDF):
    """A print batch: pages numbered within each letter ("Page 2"), not across the batch."""

    letter_first_page = 1

    def footer(self) -> None:
        self.set_y(-15)
        self.font(7.5)
        self.cell(0, 5, f"{self._footer_text} – Page {self.page_no() - self.letter_first_page + 1}")


def render_print_batch(
    items: Sequence[tuple[Invoice, Household]],
    *,
    issuer: IssuerSettings,
    payment: PaymentOptions | None = None,
) -> bytes:
    """One PDF of ``items`` in the order given (sort them with
    :meth:`~canteen_core.services.paperless.PaperlessService.deliveries`): each invoice starts
    on a new page, its payer and postal address in the envelope window."""
    if not items:
        raise InvalidInputError("aucune facture à imprimer", path="items")
    settings = check_issuer(issuer)
    first = items[0][0]
    pdf = _BatchPDF(
        title=f"Factures à imprimer – {first.label}",
        footer="",
        dated=first.issue_date,
        author=settings.name,
    )
    for index, (invoice, household) in enumerate(items):
        if index:
            pdf.add_page()
        pdf.letter_first_page = pdf.page_no()
        pdf._footer_text = (
            f"{settings.name} – Facture n° {invoice.number} du {fr_date(invoice.issue_date)}"
        )
        options = payment or PaymentOptions()
        draw_invoice(pdf, invoice, household, settings, None, options)
    return pdf.to_bytes()


@attrs.frozen(kw_only=True)
class InvoiceDelivery:
    """What :func:`deliver_invoices` did: invoices e-mailed (their numbers), invoices in the
    print batch (in print order), the batch itself, and households printed without an
    address (to fix before posting)."""

    emailed: tuple[str, ...] = ()
    printed: tuple[str, ...] = ()
    print_batch: bytes | None = attrs.field(default=None, repr=False)
    without_address: tuple[str, ...] = ()


def deliver_invoices(canteen: Canteen, actor: Actor, invoice_ids: Iterable[str]) -> InvoiceDelivery:
    """E-mail the PDF of each paperless household's invoice, and render the print batch of the
    others (``None`` when every invoice went by e-mail)."""
    return _deliver(canteen, actor, canteen.paperless.deliveries(actor, list(invoice_ids)))


def month_deliveries(canteen: Canteen, actor: Actor, month: date) -> InvoiceDeliveries:
    """How the post-paid invoices of the month starting ``month`` travel (e-mail or post),
    whichever run issued them."""
    households = [h.id for h in canteen.families.list_households(actor)]
    pages = canteen.billing.invoices_pages(actor, households)
    ids = [row.invoice_id for page in pages.values() for row in page.rows]
    deliveries = canteen.paperless.deliveries(actor, ids)

    def of_month(
        items: Iterable[tuple[Invoice, Household]],
    ) -> tuple[tuple[Invoice, Household], ...]:
        return tuple(
            (invoice, household)
            for invoice, household in items
            if invoice.mode is BillingMode.POSTPAID and invoice.period_start == month
        )

    return InvoiceDeliveries(
        by_email=of_month(deliveries.by_email), by_post=of_month(deliveries.by_post)
    )


def deliver_month(canteen: Canteen, actor: Actor, month: date) -> InvoiceDelivery:
    """:func:`deliver_invoices` for every post-paid invoice of the month starting ``month``:
    a month-end's last billing step. Safe to run again: an invoice already e-mailed is not
    queued twice (the outbox keeps one message per invoice), the batch is drawn anew."""
    return _deliver(canteen, actor, month_deliveries(canteen, actor, month))


def _deliver(canteen: Canteen, actor: Actor, deliveries: InvoiceDeliveries) -> InvoiceDelivery:
    deployment = canteen.deployment
    options = PaymentOptions.for_deployment(deployment)
    emailed = []
    for invoice, household in deliveries.by_email:
        pdf = render_invoice_pdf(
            invoice, household=household, issuer=deployment.issuer, payment=options
        )
        canteen.paperless.email_invoice(actor, invoice.id, pdf)
        emailed.append(invoice.number)
    batch = (
        render_print_batch(deliveries.by_post, issuer=deployment.issuer, payment=options)
        if deliveries.by_post
        else None
    )
    return InvoiceDelivery(
        emailed=tuple(emailed),
        printed=tuple(invoice.number for invoice, _ in deliveries.by_post),
        print_batch=batch,
        without_address=deliveries.without_address,
    )
