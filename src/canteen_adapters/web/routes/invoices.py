"""Invoices ("MES FACTURES"), their PDF, online payment, the household account."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import attrs
from litestar import Response, get
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from canteen_adapters.web import convert
from canteen_adapters.web.callbacks_paths import notification_path
from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.routes._actions import creation
from canteen_adapters.web.routes._files import PDF, attachment, file_route
from canteen_adapters.web.schemas import (
    FormField,
    InvoiceOut,
    InvoiceRowOut,
    InvoicesOut,
    PaymentBody,
    PaymentStartOut,
    StatementOut,
)
from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.invoicing import Invoice
from canteen_core.services import Canteen

if TYPE_CHECKING:  # the documents extra (fpdf2) is imported when a PDF is asked for
    from canteen_adapters.documents.payment_options import PaymentOptions

__all__ = ["HANDLERS", "online_providers", "payment_options"]

TAGS = ["Factures"]


@get("/api/v1/households/{household_id:str}/invoices", tags=TAGS, sync_to_thread=True)
def invoices(request: AnyRequest, web: Web, household_id: FromPath[str]) -> InvoicesOut:
    """ "MES FACTURES": each invoice's date, due date ("À régler avant le"), what is left to
    pay, total, status, and whether (or from when) it can be paid online."""
    actor = web.actor(request)
    page = web.canteen.billing.invoices_page(actor, household_id)
    return convert.body(
        InvoicesOut,
        page,
        summary=page.summary_fr,
        invoices=[convert.body(InvoiceRowOut, row, id=row.invoice_id) for row in page.rows],
    )


@get("/api/v1/invoices/{invoice_id:str}", tags=TAGS, sync_to_thread=True)
def invoice(request: AnyRequest, web: Web, invoice_id: FromPath[str]) -> InvoiceOut:
    """One invoice with its lines, what was paid and what is left to pay."""
    actor = web.actor(request)
    return convert.invoice_out(web.canteen.billing.invoice(actor, invoice_id))


def payment_options(canteen: Canteen, actor: Actor, invoice: Invoice) -> PaymentOptions:
    """How the family may pay ``invoice``, as the e-mailed and printed invoices say it (online,
    direct-debit adhesion, counter), and with the household's mandate: the date its debit is
    presented (in a bank file already, or the next run's)."""
    from canteen_adapters.documents.payment_options import PaymentOptions

    deployment = canteen.deployment
    if "sepa" not in deployment.payment:
        return PaymentOptions.for_deployment(deployment)
    household_id = invoice.household_id
    mandate = next(
        (m for m in canteen.payments.mandates(actor, household_id) if m.collectable), None
    )
    if mandate is None:
        return PaymentOptions.for_deployment(deployment)
    schedule = canteen.payments.debit_schedule(actor, household_id)
    debit_on = next(
        (
            debit.collection_date
            for entry in schedule.mandates
            for debit in entry.upcoming
            if debit.invoice_id == invoice.id
        ),
        None,
    )
    return attrs.evolve(
        PaymentOptions.for_deployment(deployment, mandate=mandate), debit_on=debit_on
    )


@file_route("/api/v1/invoices/{invoice_id:str}/pdf", tags=TAGS, media_type=PDF, responses={})
def invoice_pdf(request: AnyRequest, web: Web, invoice_id: FromPath[str]) -> Response[bytes]:
    """The invoice as a PDF."""
    from canteen_adapters.documents.pdf import render_invoice_pdf

    actor = web.actor(request)
    state = web.canteen.billing.invoice(actor, invoice_id)
    household = web.canteen.families.get(actor, state.invoice.household_id)
    pdf = render_invoice_pdf(
        state.invoice,
        household=household,
        issuer=web.canteen.deployment.issuer,
        state=state,
        payment=payment_options(web.canteen, actor, state.invoice),
    )
    name = f"facture-{state.invoice.number}.pdf".replace("/", "-")
    return attachment(pdf, name, PDF)


IdempotencyKey = HeaderParameter(
    name="Idempotency-Key",
    required=False,
    max_length=200,
    description="Any unique string: a retry with the same key and body gets the first "
    "answer instead of starting a second payment.",
)


def online_providers(canteen: Canteen) -> list[str]:
    """The deployment's payment tables that take online payments (PayZen, PayFiP...), by
    name: ``[payment.sepa]`` and ``[payment.manual]`` are payment tables too, but a family
    cannot pay an invoice through them."""
    names = []
    for name in sorted(canteen.deployment.payment):
        try:
            canteen.payments.online_provider(name)
        except ConfigurationError:
            continue
        names.append(name)
    return names


@creation("/api/v1/invoices/{invoice_id:str}/payments", tags=TAGS)
def start_payment(
    request: AnyRequest,
    web: Web,
    invoice_id: FromPath[str],
    data: JSONBody[PaymentBody],
    idempotency_key: Annotated[str | None, IdempotencyKey] = None,
) -> Response[PaymentStartOut]:
    """Start paying the invoice's balance online: PayZen's form fields to post from the
    browser, or PayFiP's URL. Refused (422, French reason) when the invoice cannot be paid
    online now. Send an ``Idempotency-Key`` to make retries safe."""
    actor = web.actor(request)
    configured = online_providers(web.canteen)
    if data.provider not in configured:
        raise InvalidInputError(
            f"service de paiement inconnu « {data.provider[:30]} » (possibles : "
            + (", ".join(configured) or "aucun")
            + ")",
            path="provider",
        )
    base = web.public_url(request)
    return_url = data.return_url or f"{base}/factures"
    if not return_url.startswith(("https://", "http://")):
        raise InvalidInputError("adresse de retour invalide (http ou https)", path="return_url")
    fingerprint = web.idempotency.fingerprint(
        invoice_id, json.dumps(attrs.asdict(data), sort_keys=True)
    )

    def run() -> PaymentStartOut:
        start = web.canteen.payments.start_online_payment(
            actor,
            invoice_id,
            provider=data.provider,
            return_url=return_url,
            notification_url=base + notification_path(data.provider),
        )
        form = start.form
        return PaymentStartOut(
            provider=start.provider,
            transaction_id=start.transaction_id,
            reference=start.reference,
            amount=convert.money(start.amount),
            form_action=None if form is None else form.action_url,
            form_method=None if form is None else form.method,
            form_fields=[]
            if form is None
            else [FormField(name=name, value=value) for name, value in form.fields],
            redirect_url=start.redirect_url,
        )

    if idempotency_key is None:
        return Response(run(), status_code=HTTP_201_CREATED)
    with web.idempotency.lock(actor.user_id, idempotency_key):
        stored = web.idempotency.get(actor.user_id, idempotency_key, fingerprint)
        if stored is not None:
            status, body = stored
            return Response(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        out = run()
        web.idempotency.put(actor.user_id, idempotency_key, fingerprint, HTTP_201_CREATED, out)
        return Response(out, status_code=HTTP_201_CREATED)


@get("/api/v1/households/{household_id:str}/statement", tags=TAGS, sync_to_thread=True)
def statement(request: AnyRequest, web: Web, household_id: FromPath[str]) -> StatementOut:
    """The household account: invoices, credit notes, payments, refunds and the balance."""
    actor = web.actor(request)
    return convert.statement_out(web.canteen.billing.statement(actor, household_id))


HANDLERS = [invoices, invoice, invoice_pdf, start_payment, statement]
