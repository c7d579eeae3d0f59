"""The French PDF summary of a household's RGPD export: each category of data held, its
purpose, its retention and how many records the export holds."""

from __future__ import annotations

from canteen_adapters.documents._layout import CONTENT_WIDTH, DocumentPDF, fr_date
from canteen_core.config.deployment import IssuerSettings
from canteen_core.domain.clock import PARIS
from canteen_core.services.privacy import HouseholdExport

__all__ = ["render_export_summary_pdf"]


def render_export_summary_pdf(export: HouseholdExport, issuer: IssuerSettings) -> bytes:
    """ "Vos données personnelles": the export's categories as a French PDF (bytes)."""
    day = export.exported_at.astimezone(PARIS).date()
    pdf = DocumentPDF(
        title=f"Données personnelles du foyer {export.household_id}",
        footer=f"{issuer.name} – Données personnelles – foyer n° {export.household_id}",
        dated=day,
        author=issuer.name,
    )
    pdf.issuer_block(issuer)
    pdf.ln(8)
    pdf.line_of_text("VOS DONNÉES PERSONNELLES", size=16, bold=True, height=8)
    pdf.line_of_text(
        f"Foyer n° {export.household_id} – relevé établi le {fr_date(day)}", size=10, height=6
    )
    pdf.ln(2)
    pdf.line_of_text(
        "Ce document résume les données que la régie détient sur votre foyer, pourquoi elle "
        "les détient et combien de temps elle les conserve. Le fichier JSON joint contient "
        "chacune de ces données, dans un format lisible par une machine (droit d'accès et "
        "droit à la portabilité, articles 15 et 20 du RGPD).",
        size=9,
    )
    pdf.heading("Catégories de données")
    rows = [
        (category.label, category.purpose, category.retention, str(count))
        for category, count in export.categories
    ]
    widths = (CONTENT_WIDTH * 0.33, CONTENT_WIDTH * 0.3, CONTENT_WIDTH * 0.27)
    pdf.data_table(
        ("Données", "Finalité", "Durée de conservation", "Nombre"),
        rows,
        widths=(*widths, CONTENT_WIDTH - sum(widths)),
        aligns=("LEFT", "LEFT", "LEFT", "RIGHT"),
    )
    pdf.ln(4)
    pdf.line_of_text(
        "Vous pouvez demander la rectification ou l'effacement de vos données auprès de la "
        "régie. Les factures, avoirs et paiements sont conservés dix ans avec le nom du "
        "payeur, même après un effacement (obligation comptable).",
        size=9,
    )
    return pdf.to_bytes()
