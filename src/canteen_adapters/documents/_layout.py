"""Shared page layout of canteen's PDF documents (private).

Every document is A4 portrait, set in DejaVu Sans (shipped in ``fonts/`` with its licence) so
accents, typographic apostrophes and "€" render whatever fonts the reader has installed. The
régie's identity is printed top left, a page footer names the document and numbers pages.
Output is deterministic: the PDF creation date is the document's own date, so rendering the same
document twice gives the same bytes (handy for archiving and for tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace

from canteen_core.config.deployment import IssuerSettings
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.money import Money

T = TypeVar("T")

FONT = "DejaVu"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# Colours (RGB): a sober dark blue for headings and table headers, light grey fills.
INK = (33, 37, 41)
ACCENT = (31, 73, 125)
MUTED = (108, 117, 125)
LIGHT = (234, 239, 246)
WHITE = (255, 255, 255)

MARGIN = 15.0
PAGE_WIDTH = 210.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN


def fr_date(day: date) -> str:
    """``09/06/2023``: the numeric French date printed on documents."""
    return f"{day:%d/%m/%Y}"


def fr_money(amount: Money) -> str:
    """``13,40 €`` (thin wrapper so every document formats money the same way)."""
    return amount.format_fr()


def _font_path(name: str) -> Path:
    path = Path(str(resources.files("canteen_adapters.documents") / "fonts" / name))
    if not path.is_file():
        raise ConfigurationError(
            f"the font file {name} is missing from canteen_adapters/documents/fonts; "
            "reinstall canteen"
        )
    return path


def check_issuer(issuer: object) -> IssuerSettings:
    """``issuer`` if it is :class:`IssuerSettings`, else :class:`InvalidInputError`."""
    if not isinstance(issuer, IssuerSettings):
        raise InvalidInputError(
            f"expected IssuerSettings, got {type(issuer).__name__}", path="issuer"
        )
    return issuer


def check_type(value: object, cls: type[T], path: str) -> T:
    """``value`` if it is a ``cls``, else :class:`InvalidInputError` naming what it got."""
    if not isinstance(value, cls):
        article = "an" if cls.__name__[0] in "AEIOU" else "a"
        got = type(value).__name__
        raise InvalidInputError(f"expected {article} {cls.__name__}, got {got}", path=path)
    return value


def check_date(value: object, path: str) -> date:
    """``value`` if it is a plain date (not a datetime), else :class:`InvalidInputError`."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInputError(f"expected a date, got {value!r}", path=path)
    return value


class DocumentPDF(FPDF):
    """An A4 page set with the canteen fonts, a footer and a few drawing helpers."""

    def __init__(self, *, title: str, footer: str, dated: date, author: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        for style, file_name in _FONT_FILES.items():
            self.add_font(FONT, style, str(_font_path(file_name)))
        self._footer_text = footer
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=22)
        self.set_title(title)
        self.set_author(author)
        self.set_creator("canteen")
        self.set_lang("fr-FR")
        # Deterministic output: the document's own date at noon in Paris, not "now".
        self.set_creation_date(datetime.combine(dated, time(12, 0), tzinfo=PARIS))
        self.alias_nb_pages()
        self.add_page()
        self.set_text_color(*INK)

    # -- page furniture ------------------------------------------------------------------

    def footer(self) -> None:
        """Document name on the left, ``Page n/N`` on the right."""
        self.set_y(-15)
        self.set_draw_color(*MUTED)
        self.line(MARGIN, self.get_y() - 1, PAGE_WIDTH - MARGIN, self.get_y() - 1)
        self.font(7.5, color=MUTED)
        self.cell(CONTENT_WIDTH / 2, 5, self._footer_text)
        self.cell(CONTENT_WIDTH / 2, 5, f"Page {self.page_no()}/{{nb}}", align=Align.R)

    # -- helpers -------------------------------------------------------------------------

    def font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        """Select DejaVu Sans at ``size`` points, bold or not, in ``color``."""
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*color)

    def statement(self, text: str) -> None:
        """A paragraph of what the document states or certifies, a little larger than the rest."""
        self.line_of_text(text, size=10, height=5.5)

    def line_of_text(
        self,
        text: str,
        *,
        size: float = 9,
        bold: bool = False,
        color: tuple[int, int, int] = INK,
        width: float = 0,
        height: float = 4.6,
        align: Align = Align.L,
    ) -> None:
        """One wrapped paragraph at the current position, then move below it."""
        self.font(size, bold=bold, color=color)
        self.multi_cell(
            width or CONTENT_WIDTH - (self.get_x() - MARGIN),
            height,
            text,
            align=align,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def issuer_block(self, issuer: IssuerSettings, *, width: float = 95) -> float:
        """The régie's name and contact details at the top left; returns the y below it."""
        self.set_xy(MARGIN, MARGIN)
        self.line_of_text(issuer.name, size=11, bold=True, color=ACCENT, width=width, height=5.5)
        details: list[str] = []
        if issuer.address:
            details.extend(part.strip() for part in issuer.address.splitlines() if part.strip())
        if issuer.phone:
            details.append(f"Tél. : {issuer.phone}")
        if issuer.email:
            details.append(f"Courriel : {issuer.email}")
        if issuer.siret:
            details.append(f"SIRET : {_spaced_siret(issuer.siret)}")
        for detail in details:
            self.line_of_text(detail, size=8.5, color=MUTED, width=width, height=4.2)
        return self.get_y()

    def heading(self, text: str, *, size: float = 10.5) -> None:
        """A section heading in the accent colour with a rule under it."""
        self.ln(3)
        self.line_of_text(text, size=size, bold=True, color=ACCENT, height=6)
        self.set_draw_color(*ACCENT)
        self.line(MARGIN, self.get_y(), PAGE_WIDTH - MARGIN, self.get_y())
        self.ln(1.5)

    def box(self, x: float, y: float, w: float, lines: Sequence[tuple[str, bool]]) -> float:
        """A light box at ``(x, y)`` holding ``(text, bold)`` lines; returns its bottom y."""
        height = 5.0 * len(lines) + 4
        self.set_fill_color(*LIGHT)
        self.set_draw_color(*LIGHT)
        self.rect(x, y, w, height, style="F")
        self.set_xy(x + 3, y + 2)
        for text, bold in lines:
            self.font(9.5, bold=bold)
            self.cell(w - 6, 5, text, new_x=XPos.LEFT, new_y=YPos.NEXT)
        return y + height

    def addressed(self, issuer: IssuerSettings, lines: Sequence[tuple[str, bool]]) -> float:
        """The régie top left and the family's box (``lines``) top right, as on the
        certificates; returns the y where the document's title goes."""
        below = self.issuer_block(issuer)
        x = PAGE_WIDTH / 2 + 10
        top = max(below, 42.0) + 6
        self.box(x, top, PAGE_WIDTH - MARGIN - x, lines)
        return top + 22

    def signature(self, issued_on: date, *, place: str | None, signatory: str) -> None:
        """The certificates' closing: "pour servir et valoir ce que de droit", then "Fait à
        …, le …" and the signatory, on the right half."""
        self.ln(6)
        self.line_of_text("Attestation délivrée pour servir et valoir ce que de droit.", size=10)
        self.ln(4)
        where = f"Fait à {place}, le " if place else "Fait le "
        self.set_x(PAGE_WIDTH / 2 + 10)
        self.statement(f"{where}{fr_date(issued_on)}")
        self.set_x(PAGE_WIDTH / 2 + 10)
        self.statement(signatory[:1].upper() + signatory[1:])

    def data_table(
        self,
        headings: Sequence[str],
        rows: Iterable[Sequence[str]],
        *,
        widths: Sequence[float],
        aligns: Sequence[str],
        size: float = 8.5,
    ) -> None:
        """A table with a dark header row, zebra-striped body and per-column alignment."""
        self.font(size)
        header = FontFace(emphasis="BOLD", color=WHITE, fill_color=ACCENT)
        options: dict[str, Any] = {
            "col_widths": tuple(widths),
            "width": sum(widths),
            "text_align": tuple(aligns),
            "headings_style": header,
            "cell_fill_color": LIGHT,
            "cell_fill_mode": "ROWS",
            "line_height": size * 0.55,
            "borders_layout": "HORIZONTAL_LINES",
            "padding": 1.2,
        }
        self.set_draw_color(*MUTED)
        with self.table(**options) as table:
            head = table.row()
            for text in headings:
                head.cell(text)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)

    def amount_rows(self, rows: Sequence[tuple[str, str, bool]], *, width: float = 85) -> None:
        """Right-aligned ``label  amount`` rows (totals); bold rows are boxed."""
        x = PAGE_WIDTH - MARGIN - width
        for label, amount, strong in rows:
            self.set_x(x)
            if strong:
                self.set_fill_color(*LIGHT)
            self.font(10 if strong else 9, bold=strong)
            self.cell(width - 32, 6.5, label, fill=strong, align=Align.L)
            self.cell(
                32, 6.5, amount, fill=strong, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )

    def to_bytes(self) -> bytes:
        """The finished document."""
        return bytes(self.output())


def household_document(
    issuer: IssuerSettings,
    *,
    kind: str,
    heading: str,
    household_id: str,
    payer_name: str,
    dated: date,
    footer_detail: str = "",
) -> DocumentPDF:
    """A document about one household (a certificate, a statement): titled ``kind``, the
    régie and the family's box at the top, ``heading`` centred below; drawing goes on from
    there."""
    pdf = DocumentPDF(
        title=f"{kind} – foyer {household_id}",
        footer=f"{issuer.name} – {kind}{footer_detail} – foyer n° {household_id}",
        dated=dated,
        author=issuer.name,
    )
    top = pdf.addressed(issuer, [(payer_name, True), (f"Foyer n° {household_id}", False)])
    pdf.set_xy(MARGIN, top)
    pdf.line_of_text(heading, size=18, bold=True, color=ACCENT, align=Align.C, height=9)
    return pdf


def _spaced_siret(siret: str) -> str:
    # French habit: SIREN in three groups, then the NIC (123 456 789 00012).
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
