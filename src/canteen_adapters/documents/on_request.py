"""Documents a family prints on request: the attendance certificate and the account statement.

:func:`render_attendance_certificate` prints an
:class:`~canteen_core.services.documents.AttendanceCertificate` ("Attestation de présence": days
each child was seen at the canteen over a period); :func:`render_account_statement` prints a
:class:`~canteen_core.domain.ledger.Statement` ("Relevé de compte": invoices, credit notes,
payments, returned payments and refunds with the running balance). The yearly payment
certificate is :func:`~canteen_adapters.documents.certificate.render_payment_certificate`. Same
page layout as the invoices (:mod:`._layout`); deterministic bytes for a given date.
"""

from __future__ import annotations

from datetime import date

from fpdf.enums import Align

from canteen_adapters.documents._layout import (
    check_date,
    check_issuer,
    check_type,
    fr_date,
    fr_money,
    household_document,
)
from canteen_core.config.deployment import IssuerSettings
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Household
from canteen_core.domain.ledger import Statement
from canteen_core.domain.money import Money
from canteen_core.services.documents import AttendanceCertificate

__all__ = ["render_account_statement", "render_attendance_certificate"]

_KINDS_FR = {
    "invoice": "Facture",
    "credit_note": "Avoir",
    "payment": "Règlement",
    "payment_rejected": "Règlement rejeté",
    "refund": "Remboursement",
}


def _days_text(days: tuple[date, ...]) -> str:
    return ", ".join(f"{day:%d/%m}" for day in days)


def render_attendance_certificate(
    certificate: AttendanceCertificate,
    *,
    issuer: IssuerSettings,
    place: str | None = None,
    signatory: str = "le responsable du service de restauration scolaire",
) -> bytes:
    """The "Attestation de présence" as PDF bytes: per child, service and site, the number of
    days present and the days themselves. A period without presence gives a certificate of
    zero days. :class:`InvalidInputError` for something else than the certificate or issuer
    settings."""
    certificate = check_type(certificate, AttendanceCertificate, "certificate")
    settings = check_issuer(issuer)
    period = f"du {fr_date(certificate.start)} au {fr_date(certificate.end)}"
    pdf = household_document(
        settings,
        kind="Attestation de présence",
        heading="ATTESTATION DE PRÉSENCE",
        household_id=certificate.household_id,
        payer_name=certificate.payer_name,
        dated=certificate.issued_on,
        footer_detail=f" {period}",
    )
    pdf.line_of_text(f"Période {period}", size=11, bold=True, align=Align.C, height=6)
    pdf.ln(6)
    pdf.statement(
        f"Je soussigné(e), {signatory}, {settings.name}, atteste que les enfants du foyer n° "
        f"{certificate.household_id} ({certificate.payer_name}) ont été présents "
        f"{certificate.total_days} jour(s) {period}, selon les appels enregistrés :"
    )
    pdf.heading("Présences par enfant")
    if certificate.lines:
        pdf.data_table(
            ("Enfant", "Né(e) le", "Prestation et site", "Jours"),
            [
                (
                    line.child_name,
                    fr_date(line.birth_date) if line.birth_date else "",
                    f"{line.service_name} – {line.site_name}",
                    str(line.count),
                )
                for line in certificate.lines
            ],
            widths=(50.0, 25.0, 85.0, 20.0),
            aligns=("LEFT", "LEFT", "LEFT", "RIGHT"),
        )
        pdf.heading("Détail des jours de présence")
        for line in certificate.lines:
            pdf.line_of_text(f"{line.child_name} – {line.service_name}", size=9, bold=True)
            pdf.line_of_text(_days_text(line.days), size=8.5)
            pdf.ln(1)
    else:
        pdf.line_of_text("Aucune présence enregistrée sur la période.")
    pdf.signature(certificate.issued_on, place=place, signatory=signatory)
    return pdf.to_bytes()


def render_account_statement(
    statement: Statement,
    *,
    household: Household,
    issuer: IssuerSettings,
    issued_on: date,
) -> bytes:
    """The household's "Relevé de compte" as PDF bytes: every entry with its debit, credit
    and running balance, then the totals and what is left to pay (or the credit).
    :class:`InvalidInputError` for a statement of another household or bad arguments."""
    statement = check_type(statement, Statement, "statement")
    if not isinstance(household, Household) or household.id != statement.household_id:
        raise InvalidInputError("the statement is not this household's", path="household")
    settings = check_issuer(issuer)
    check_date(issued_on, "issued_on")
    pdf = household_document(
        settings,
        kind="Relevé de compte",
        heading="RELEVÉ DE COMPTE",
        household_id=household.id,
        payer_name=household.payer.display_name,
        dated=issued_on,
        footer_detail=f" au {fr_date(issued_on)}",
    )
    pdf.line_of_text(f"Au {fr_date(issued_on)}", size=11, bold=True, align=Align.C, height=6)
    pdf.heading("Opérations")
    balance = Money.zero(statement.invoiced.currency)
    rows = []
    for entry in statement.entries:
        balance = balance + entry.debit - entry.credit
        rows.append(
            (
                fr_date(entry.day),
                _KINDS_FR.get(entry.kind, entry.kind),
                f"{entry.label} ({entry.reference})" if entry.reference else entry.label,
                fr_money(entry.debit) if entry.debit.is_positive else "",
                fr_money(entry.credit) if entry.credit.is_positive else "",
                fr_money(balance),
            )
        )
    if rows:
        pdf.data_table(
            ("Date", "Opération", "Libellé", "Débit", "Crédit", "Solde"),
            rows,
            widths=(20.0, 27.0, 61.0, 24.0, 24.0, 24.0),
            aligns=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        )
    else:
        pdf.line_of_text("Aucune opération sur ce compte.")
    pdf.ln(3)
    totals = [
        ("Total facturé", fr_money(statement.invoiced), False),
        ("Avoirs", fr_money(statement.credited), False),
        ("Règlements reçus", fr_money(statement.received), False),
    ]
    if statement.refunded.is_positive:
        totals.append(("Remboursements", fr_money(statement.refunded), False))
    totals.append(("Reste à payer", fr_money(statement.balance_due), True))
    if statement.available_credit.is_positive:
        totals.append(("Crédit disponible", fr_money(statement.available_credit), True))
    pdf.amount_rows(totals)
    return pdf.to_bytes()
