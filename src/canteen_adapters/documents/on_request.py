"""Documents a family prints on request: the attendance certificate and the account statement.

:func:`render_attendance_certificate` prints an
:class:`~canteen_core.services.documents.AttendanceCertificate` ("Attestation de présence": the
meals each child was billed over a period and the presences at the roll calls taken);
:func:`render_account_statement` prints a
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

__all__ = ["ATTENDANCE_NOTE_FR", "render_account_statement", "render_attendance_certificate"]

_KINDS_FR = {
    "invoice": "Facture",
    "credit_note": "Avoir",
    "payment": "Règlement",
    "payment_rejected": "Règlement rejeté",
    "refund": "Remboursement",
}


def _days_text(days: tuple[date, ...]) -> str:
    return ", ".join(f"{day:%d/%m}" for day in days)


#: How the certificate says what each count is (printed under the table).
ATTENDANCE_NOTE_FR = (
    "Repas et jours facturés : ceux portés sur les factures de la période, déduction faite "
    "des avoirs qui les annulent ; un repas réservé et non décommandé est facturé même en cas "
    "d'absence non justifiée. Présences à l'appel : relevées par le personnel, les seuls jours "
    "où un appel a été fait."
)


def render_attendance_certificate(
    certificate: AttendanceCertificate,
    *,
    issuer: IssuerSettings,
    place: str | None = None,
    signatory: str = "le responsable du service de restauration scolaire",
) -> bytes:
    """The "Attestation de présence" as PDF bytes: per child, service and site, the meals
    (or days) billed over the period and the presences at the roll call where one was taken
    ("pas d'appel" otherwise, never "0 jour"), then the days themselves and what each count
    means (:data:`ATTENDANCE_NOTE_FR`). A period with nothing billed nor called gives a
    certificate saying so. :class:`InvalidInputError` for something else than the
    certificate or issuer settings."""
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
        f"Je soussigné(e), {signatory}, {settings.name}, atteste que les repas et jours "
        f"d'accueil ci-dessous ont été facturés {period} pour les enfants du foyer n° "
        f"{certificate.household_id} ({certificate.payer_name}), et que ces enfants ont été "
        "présents à l'appel les jours indiqués, lorsqu'un appel a été fait :"
    )
    pdf.heading("Par enfant")
    if certificate.lines:
        pdf.data_table(
            ("Enfant", "Né(e) le", "Prestation et site", "Facturés", "Présences à l'appel"),
            [
                (
                    line.child_name,
                    fr_date(line.birth_date) if line.birth_date else "",
                    f"{line.service_name} – {line.site_name}",
                    line.billed_fr,
                    line.presence_fr,
                )
                for line in certificate.lines
            ],
            widths=(36.0, 22.0, 60.0, 24.0, 38.0),
            aligns=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
        )
        pdf.heading("Détail des jours")
        for line in certificate.lines:
            pdf.line_of_text(f"{line.child_name} – {line.service_name}", size=9, bold=True)
            what = "Repas facturés" if line.meal else "Jours facturés"
            pdf.line_of_text(f"{what} : {_days_text(line.billed_days) or 'aucun'}", size=8.5)
            if line.roll_call_days:
                present = _days_text(line.days) or "aucun jour"
                pdf.line_of_text(f"Présent(e) à l'appel : {present}", size=8.5)
            else:
                pdf.line_of_text("Présences : aucun appel enregistré sur la période", size=8.5)
            pdf.ln(1)
        pdf.ln(2)
        pdf.line_of_text(ATTENDANCE_NOTE_FR, size=8)
    else:
        pdf.line_of_text("Aucun repas facturé ni appel enregistré sur la période.")
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
