"""Documents on request ("Édition de documents"): the yearly payment certificate, the
attendance certificate of a period, the account statement (PDFs made when asked), a child's
bookings as an ``.ics`` calendar, and where an online payment stands after the provider."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Response, get
from litestar.params import FromPath, FromQuery

from canteen_adapters.web import convert
from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.papers_schemas import DocumentOut, PaymentReturnOut
from canteen_adapters.web.problems import Problem
from canteen_adapters.web.routes._files import PDF, attachment, file_route
from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import InvalidInputError
from canteen_core.services import Canteen
from canteen_core.services.documents import (
    ATTENDANCE_CERTIFICATE,
    PAYMENT_CERTIFICATE,
    OfferedDocument,
)
from canteen_core.services.payments import OnlinePaymentStatus

__all__ = [
    "HANDLERS",
    "attendance_certificate_pdf",
    "document_url",
    "payment_certificate_pdf",
    "payment_message",
    "payment_return_out",
    "reservations_calendar",
    "statement_pdf",
]

TAGS = ["Documents"]
ICALENDAR = "text/calendar"


def document_url(household_id: str, document: OfferedDocument) -> str:
    """Where ``document`` is downloaded."""
    base = f"/api/v1/households/{household_id}"
    if document.kind == PAYMENT_CERTIFICATE:
        return f"{base}/payment-certificates/{document.year}"
    if document.kind == ATTENDANCE_CERTIFICATE:
        return f"{base}/attendance-certificate?start={document.start}&end={document.end}"
    return f"{base}/statement/pdf"


def payment_certificate_pdf(canteen: Canteen, actor: Actor, household_id: str, year: int) -> bytes:
    """The "Attestation de paiement" of ``year`` (payments received up to today for the
    current year)."""
    from canteen_adapters.documents import render_payment_certificate

    account = canteen.documents.household_account(actor, household_id)
    household = canteen.families.get(actor, household_id)
    today = canteen.context.clock.now().astimezone(PARIS).date()
    if not 2000 <= year <= today.year:
        raise InvalidInputError(f"année invalide {year} : de 2000 à {today.year}", path="year")
    issued = today if year == today.year else date(year, 12, 31)
    return render_payment_certificate(
        account, household=household, issuer=canteen.deployment.issuer, year=year, issued_on=issued
    )


def attendance_certificate_pdf(
    canteen: Canteen, actor: Actor, household_id: str, start: date, end: date
) -> bytes:
    """The "Attestation de présence" from ``start`` to ``end``."""
    from canteen_adapters.documents.on_request import render_attendance_certificate

    certificate = canteen.documents.attendance_certificate(actor, household_id, start, end)
    return render_attendance_certificate(certificate, issuer=canteen.deployment.issuer)


def statement_pdf(canteen: Canteen, actor: Actor, household_id: str) -> bytes:
    """The "Relevé de compte" as of today."""
    from canteen_adapters.documents.on_request import render_account_statement

    statement = canteen.billing.statement(actor, household_id)
    household = canteen.families.get(actor, household_id)
    today = canteen.context.clock.now().astimezone(PARIS).date()
    return render_account_statement(
        statement, household=household, issuer=canteen.deployment.issuer, issued_on=today
    )


def reservations_calendar(
    canteen: Canteen, actor: Actor, household_id: str, child_id: str, host: str
) -> tuple[bytes, str]:
    """The child's booked days as iCalendar bytes, and a file name."""
    from canteen_adapters.documents import reservations_ics

    view = canteen.families.dashboard(actor, household_id)
    child = next((c for c in view.household.children if c.id == child_id), None)
    if child is None:
        raise Problem(404, "not-found", "Introuvable", "Cet enfant n'est pas dans ce foyer.")
    pairs = [
        (enrollment, canteen.reservations.book_of(actor, enrollment.id))
        for enrollment in view.enrollments_of(child_id)
    ]
    data = reservations_ics(child, pairs, generated_at=canteen.context.clock.now(), uid_domain=host)
    return data, f"reservations-{child.first_name}.ics".replace(" ", "-")


def payment_message(status: OnlinePaymentStatus, provider_result: str | None) -> str:
    """What the family reads when back from the provider (French)."""
    amount = status.amount.format_fr()
    if status.credited:
        return f"Votre paiement de {amount} est enregistré pour la facture {status.invoice_number}."
    if provider_result in {"refused", "cancelled"}:
        return (
            f"Le paiement de {amount} n'a pas abouti (facture {status.invoice_number}) : "
            "aucun montant n'a été débité ; vous pouvez réessayer."
        )
    return (
        f"Paiement de {amount} pour la facture {status.invoice_number} en cours de confirmation "
        "par le prestataire : la facture sera marquée réglée dès sa confirmation."
    )


def _year(text: str) -> int:
    if not text.isdigit() or len(text) != 4:
        raise InvalidInputError(f"année invalide « {text[:10]} » (AAAA)", path="year")
    return int(text)


@get("/api/v1/households/{household_id:str}/documents", tags=TAGS, sync_to_thread=True)
def documents(request: AnyRequest, web: Web, household_id: FromPath[str]) -> list[DocumentOut]:
    """ "Édition de documents": the documents the family may print, each made when asked and
    dated that day, with its download URL (the attendance certificate takes any period with
    ``start`` and ``end``)."""
    actor = web.actor(request)
    offered = web.canteen.documents.documents_on_request(actor, household_id)
    return [convert.body(DocumentOut, d, url=document_url(household_id, d)) for d in offered]


@file_route(
    "/api/v1/households/{household_id:str}/payment-certificates/{year:str}",
    tags=TAGS,
    media_type=PDF,
)
def payment_certificate(
    request: AnyRequest, web: Web, household_id: FromPath[str], year: FromPath[str]
) -> Response[bytes]:
    """The yearly payment certificate ("Attestation de paiement", PDF): payments received in
    the year net of refunds, per child, CESU apart."""
    actor = web.actor(request)
    number = _year(year)
    data = payment_certificate_pdf(web.canteen, actor, household_id, number)
    return attachment(data, f"attestation-paiement-{number}-{household_id}.pdf", PDF)


@file_route(
    "/api/v1/households/{household_id:str}/attendance-certificate", tags=TAGS, media_type=PDF
)
def attendance_certificate(
    request: AnyRequest,
    web: Web,
    household_id: FromPath[str],
    start: FromQuery[date],
    end: FromQuery[date],
) -> Response[bytes]:
    """The attendance certificate ("Attestation de présence", PDF) of a period: the days each
    child was marked present."""
    actor = web.actor(request)
    data = attendance_certificate_pdf(web.canteen, actor, household_id, start, end)
    return attachment(data, f"attestation-presence-{start}-{end}-{household_id}.pdf", PDF)


@file_route("/api/v1/households/{household_id:str}/statement/pdf", tags=TAGS, media_type=PDF)
def statement_document(
    request: AnyRequest, web: Web, household_id: FromPath[str]
) -> Response[bytes]:
    """The household's account statement ("Relevé de compte", PDF) as of today."""
    actor = web.actor(request)
    data = statement_pdf(web.canteen, actor, household_id)
    return attachment(data, f"releve-de-compte-{household_id}.pdf", PDF)


@file_route(
    "/api/v1/households/{household_id:str}/children/{child_id:str}/reservations.ics",
    tags=TAGS,
    media_type=ICALENDAR,
)
def child_calendar(
    request: AnyRequest,
    web: Web,
    household_id: FromPath[str],
    child_id: FromPath[str],
) -> Response[bytes]:
    """The child's booked meals as an iCalendar file (RFC 5545): one all-day event per booked
    day (a school day is a date, not an instant), ``DTSTAMP`` in UTC, ``X-WR-TIMEZONE``
    Europe/Paris, stable UIDs so a new import updates instead of duplicating."""
    actor = web.actor(request)
    host = web.public_url(request).split("://", 1)[-1].split("/", 1)[0] or "canteen"
    data, name = reservations_calendar(web.canteen, actor, household_id, child_id, host)
    return attachment(data, name, ICALENDAR)


@get(
    "/api/v1/payments/{provider:str}/{transaction_id:str}",
    tags=["Factures"],
    sync_to_thread=True,
)
def payment_status(
    request: AnyRequest,
    web: Web,
    provider: FromPath[str],
    transaction_id: FromPath[str],
) -> PaymentReturnOut:
    """Where an online payment stands (for the page the payer returns to): credited once the
    provider's signed notification arrived, otherwise awaiting it. Reading it never credits."""
    actor = web.actor(request)
    status = web.canteen.payments.online_payment_status(actor, provider, transaction_id)
    return payment_return_out(status, None)


def payment_return_out(
    status: OnlinePaymentStatus, provider_result: str | None
) -> PaymentReturnOut:
    """A payment's state as JSON."""
    return convert.body(
        PaymentReturnOut,
        status,
        provider_result=provider_result,
        message=payment_message(status, provider_result),
    )


HANDLERS: list[Any] = [
    documents,
    payment_certificate,
    attendance_certificate,
    statement_document,
    child_calendar,
    payment_status,
]
