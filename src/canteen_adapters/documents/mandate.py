"""The signed SEPA direct-debit authorization ("Mandat de prélèvement SEPA") as a PDF.

:func:`render_mandate_authorization` draws a
:class:`~canteen_core.domain.mandate_authorization.MandateAuthorization`: the unique mandate
reference (RUM), the SEPA legal mention, the creditor (name, identifier ICS, address), the
debtor (name, postal address, IBAN masked but for its country, check digits and last four
characters, BIC), the payment type, the date and place of the online signature and, once they
happen, the change of account and the revocation. Same page furniture as the invoices
(:mod:`._layout`); deterministic bytes for a given authorization.

The module is also the built-in plugin of the ``canteen_render_mandate_authorization`` hook:
``canteen.payments`` files the PDF in the household's document space when a family signs.
"""

from __future__ import annotations

from fpdf.enums import Align

from canteen_adapters.documents._layout import MARGIN, DocumentPDF, check_type, fr_date
from canteen_core.config.hookspecs import hookimpl
from canteen_core.domain.clock import PARIS
from canteen_core.domain.mandate_authorization import MandateAuthorization, masked_iban
from canteen_core.domain.mandates import MandateStatus

__all__ = ["canteen_render_mandate_authorization", "render_mandate_authorization"]

_TITLE = "Mandat de prélèvement SEPA"


def _fields(pdf: DocumentPDF, rows: list[tuple[str, str]]) -> None:
    """``label : value`` rows, the label in bold on a fixed column."""
    for label, value in rows:
        pdf.set_x(MARGIN)
        pdf.font(9.5, bold=True)
        pdf.cell(62, 5.5, label)
        pdf.line_of_text(value, size=9.5, height=5.5)


def render_mandate_authorization(authorization: MandateAuthorization) -> bytes:
    """The authorization as PDF bytes (French); :class:`InvalidInputError` for anything but a
    :class:`MandateAuthorization`."""
    authorization = check_type(authorization, MandateAuthorization, "authorization")
    mandate = authorization.mandate
    signed_at = authorization.signed_at.astimezone(PARIS)
    pdf = DocumentPDF(
        title=f"{_TITLE} {mandate.reference}",
        footer=f"{authorization.creditor_name} – {_TITLE} – RUM {mandate.reference}",
        dated=mandate.signed_on,
        author=authorization.creditor_name,
    )
    pdf.line_of_text(_TITLE.upper(), size=18, bold=True, align=Align.C, height=9)
    pdf.line_of_text(
        f"Référence unique du mandat (RUM) : {mandate.reference}",
        size=11,
        bold=True,
        align=Align.C,
        height=7,
    )
    pdf.ln(3)
    pdf.line_of_text(authorization.legal_mention, size=9, height=4.6)

    pdf.heading("Créancier")
    creditor = [("Nom", authorization.creditor_name)]
    creditor.append(
        (
            "Identifiant créancier SEPA (ICS)",
            authorization.creditor_identifier or "communiqué avec le premier avis de prélèvement",
        )
    )
    if authorization.creditor_address:
        creditor.append(("Adresse", " ".join(authorization.creditor_address.split())))
    _fields(pdf, creditor)

    pdf.heading("Débiteur")
    debtor = [("Titulaire du compte", mandate.debtor_name)]
    address = authorization.debtor_address
    if address is not None:
        debtor.append(("Adresse", ", ".join(address.lines(mandate.debtor_name)[1:])))
    debtor.append(("IBAN", masked_iban(mandate.iban)))
    debtor.append(("BIC", mandate.bic or "non indiqué"))
    _fields(pdf, debtor)

    pdf.heading("Paiement")
    _fields(
        pdf,
        [
            ("Type de paiement", authorization.payment_type_fr),
            ("Foyer", f"n° {mandate.household_id}"),
        ],
    )

    pdf.heading("Signature")
    where = f"à {authorization.place} (en ligne), " if authorization.place else "en ligne, "
    _fields(pdf, [("Signé", f"{where}le {fr_date(mandate.signed_on)} à {signed_at:%H:%M}")])
    pdf.line_of_text(
        "Mandat signé en ligne sur le portail famille : le titulaire a saisi ses coordonnées "
        "bancaires et coché la case « En signant ce mandat, j'autorise… ».",
        size=8.5,
        height=4.4,
    )
    if mandate.amendment is not None:
        pdf.heading("Modification")
        previous = mandate.amendment.original_iban
        detail = f" (ancien IBAN : {masked_iban(previous)})" if previous else ""
        pdf.line_of_text(
            f"Coordonnées bancaires modifiées le {fr_date(mandate.amendment.changed_on)}"
            f"{detail} ; la référence du mandat ne change pas.",
            size=9.5,
        )
    if mandate.revoked_on is not None:
        pdf.heading("Révocation")
        final = (
            " ; un dernier prélèvement reste présenté"
            if mandate.status is MandateStatus.FINAL_PENDING
            else " ; plus aucun prélèvement ne sera présenté"
        )
        pdf.line_of_text(
            f"MANDAT RÉVOQUÉ LE {fr_date(mandate.revoked_on)}{final}.", size=10.5, bold=True
        )
    pdf.ln(4)
    pdf.line_of_text(
        "Pour votre sécurité, l'IBAN complet n'est pas imprimé ; le créancier le conserve avec "
        "le mandat. À conserver.",
        size=8,
    )
    return pdf.to_bytes()


@hookimpl
def canteen_render_mandate_authorization(authorization: MandateAuthorization) -> bytes:
    """The built-in drawing of the signed authorization (:func:`render_mandate_authorization`)."""
    return render_mandate_authorization(authorization)
