"""Invoice and credit-note PDFs, in French, as the family receives them.

:func:`render_invoice_pdf` prints an issued :class:`~canteen_core.domain.invoicing.Invoice`: the
régie
(issuer), the payer, the references (number, issue date, due date, billed period), one table row
per invoice line with the days it bills, the total and, when the caller passes the invoice's
ledger state, what was already paid and what is left to pay. A "Comment régler" section says how
to pay, naming only the means the deployment offers (:meth:`PaymentOptions.for_deployment`):
online on the family portal from the payment-open date, by direct debit (with the household's
mandate when it has one) and in cash or by cheque at the régie, followed by a payment slip to
detach. :func:`render_credit_note_pdf` prints an
:class:`~canteen_core.domain.invoicing.CreditNote` (avoir).

Both return the PDF as ``bytes``; writing a file or attaching it to an email is the caller's job.
They never change anything, and refuse inconsistent input (an invoice of another household or
régie, a ledger state of another invoice, a foreign mandate) with
:class:`~canteen_core.domain.errors.InvalidInputError` before drawing anything.

>>> pdf = render_invoice_pdf(invoice, household=household, issuer=issuer)  # doctest: +SKIP
>>> Path("facture.pdf").write_bytes(pdf)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from fpdf.enums import Align, XPos, YPos

from canteen_adapters.documents._layout import (
    ACCENT,
    MARGIN,
    PAGE_WIDTH,
    DocumentPDF,
    check_issuer,
    check_type,
    fr_date,
    fr_money,
)
from canteen_adapters.documents.payment_options import (
    PaymentOptions,
    check_payment_options,
    draw_how_to_pay,
    draw_payment_slip,
)
from canteen_core.config.deployment import IssuerSettings
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import CreditNote, Invoice, InvoiceLine
from canteen_core.domain.ledger import InvoiceState, InvoiceStatus
from canteen_core.domain.money import Money

__all__ = ["PaymentOptions", "draw_invoice", "render_credit_note_pdf", "render_invoice_pdf"]


# -- checks ----------------------------------------------------------------------------------


def _check_household(household: object, household_id: str, what: str) -> Household:
    household = check_type(household, Household, "household")
    if household.id != household_id:
        raise InvalidInputError(
            f"{what} belongs to household {household_id!r}, not {household.id!r}",
            path="household",
        )
    return household


def _check_issuer_of(issuer: object, issuer_id: str, what: str) -> IssuerSettings:
    settings = check_issuer(issuer)
    # Invoices are numbered per régie code: printing another régie's header would be a forgery.
    if settings.code != issuer_id:
        raise InvalidInputError(
            f"{what} was issued by {issuer_id!r}, not by the régie {settings.code!r}",
            path="issuer",
        )
    return settings


def _check_invoice(invoice: object) -> Invoice:
    if isinstance(invoice, CreditNote):
        raise InvalidInputError(
            "a credit note is not an invoice; print it with render_credit_note_pdf",
            path="invoice",
        )
    if not isinstance(invoice, Invoice):
        raise InvalidInputError(
            f"expected an issued Invoice, got {type(invoice).__name__}", path="invoice"
        )
    return invoice


def _check_state(state: object, invoice: Invoice) -> InvoiceState | None:
    if state is None:
        return None
    state = check_type(state, InvoiceState, "state")
    if state.invoice != invoice:
        raise InvalidInputError(
            f"the ledger state is that of invoice {state.invoice.number}, not {invoice.number}",
            path="state",
        )
    return state


# -- pieces ----------------------------------------------------------------------------------


def _child_label(line: InvoiceLine, household: Household) -> str:
    if line.child_name:
        return line.child_name
    if line.child_id and household.has_child(line.child_id):
        return household.child(line.child_id).display_name
    return "—"


def _days_text(days: Sequence[date]) -> str:
    return "Jours : " + ", ".join(f"{day:%d/%m}" for day in days)


def _line_rows(lines: Iterable[InvoiceLine], household: Household) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for line in lines:
        text = line.description if not line.days else f"{line.description}\n{_days_text(line.days)}"
        rows.append(
            (
                _child_label(line, household),
                text,
                str(line.quantity),
                fr_money(line.unit_price),
                fr_money(line.amount),
            )
        )
    return rows


_LINE_HEADINGS = ("Enfant", "Désignation", "Qté", "Prix unitaire", "Montant")
_LINE_WIDTHS = (36.0, 82.0, 12.0, 27.0, 23.0)
_LINE_ALIGNS = ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")


def _title_block(pdf: DocumentPDF, title: str, subtitle: str) -> None:
    x = PAGE_WIDTH / 2 + 10
    width = PAGE_WIDTH - MARGIN - x
    pdf.set_xy(x, MARGIN)
    pdf.font(22, bold=True, color=ACCENT)
    pdf.cell(width, 10, title, align=Align.R, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.font(11, bold=True)
    pdf.cell(width, 6, subtitle, align=Align.R, new_x=XPos.LEFT, new_y=YPos.NEXT)


def _payer_lines(invoice: Invoice, household: Household) -> list[tuple[str, bool]]:
    payer = invoice.payer_name or household.payer.display_name
    lines = [("Payeur", False), (payer, True)]
    if household.postal_address is not None:
        # The address as the envelope window shows it (the payer's name is the line above).
        lines.extend((line, False) for line in household.postal_address.lines(payer)[1:])
    children = sorted({_child_label(line, household) for line in invoice.lines} - {"—"})
    if children:
        lines.append(
            (("Enfants : " if len(children) > 1 else "Enfant : ") + ", ".join(children), False)
        )
    lines.append((f"Foyer n° {household.id}", False))
    return lines


def _payer_box(pdf: DocumentPDF, top: float, invoice: Invoice, household: Household) -> float:
    # Right column, flush with the right margin (where a window envelope shows the address).
    x = PAGE_WIDTH / 2 + 10
    return pdf.box(x, top, PAGE_WIDTH - MARGIN - x, _payer_lines(invoice, household))


def _status_text(state: InvoiceState | None) -> str | None:
    if state is None:
        return None
    return state.status_label_fr


#: Statuses for which the invoice prints no payment instructions.
_SETTLED = frozenset({InvoiceStatus.PAID, InvoiceStatus.CANCELLED})


# -- invoice ---------------------------------------------------------------------------------


def render_invoice_pdf(
    invoice: Invoice,
    *,
    household: Household,
    issuer: IssuerSettings,
    state: InvoiceState | None = None,
    payment: PaymentOptions | None = None,
) -> bytes:
    """The invoice as a French PDF ("Facture"), returned as bytes.

    ``household`` is the invoice's household (payer and children names), ``issuer`` the régie
    whose code numbered it (``issuer.code == invoice.issuer_id``). ``state``, the invoice's
    :class:`~canteen_core.domain.ledger.InvoiceState` from the household account, adds what was
    paid or
    credited, the balance due and the status; without it the invoice is printed as issued
    (nothing paid yet). ``payment`` says how the family may pay (:class:`PaymentOptions`;
    default: cash or cheque at the régie only; :meth:`PaymentOptions.for_deployment` adds
    what the deployment offers). Paid and
    cancelled invoices print their status instead of payment instructions.

    Raises :class:`~canteen_core.domain.errors.InvalidInputError` for anything but an issued
    :class:`~canteen_core.domain.invoicing.Invoice` (a credit note included: see
    :func:`render_credit_note_pdf`), a household or régie the invoice does not belong to, a
    ledger state of another invoice or a mandate of another household.
    """
    invoice = _check_invoice(invoice)
    household = _check_household(household, invoice.household_id, f"invoice {invoice.number}")
    settings = _check_issuer_of(issuer, invoice.issuer_id, f"invoice {invoice.number}")
    current = _check_state(state, invoice)
    options = check_payment_options(payment, household)

    pdf = DocumentPDF(
        title=f"Facture {invoice.number} – {invoice.label}",
        footer=f"{settings.name} – Facture n° {invoice.number} du {fr_date(invoice.issue_date)}",
        dated=invoice.issue_date,
        author=settings.name,
    )
    draw_invoice(pdf, invoice, household, settings, current, options)
    return pdf.to_bytes()


def _head(
    pdf: DocumentPDF,
    settings: IssuerSettings,
    title: tuple[str, str],
    references: list[tuple[str, bool]],
    invoice: Invoice,
    household: Household,
) -> None:
    """The régie and the ``(title, subtitle)`` at the top, then the document's ``references``
    beside the payer's box; drawing goes on below them."""
    below_issuer = pdf.issuer_block(settings)
    _title_block(pdf, *title)
    top = max(below_issuer, 42.0) + 6
    bottom = pdf.box(MARGIN, top, 85, references)
    bottom = max(bottom, _payer_box(pdf, top, invoice, household))
    pdf.set_xy(MARGIN, bottom + 4)


def _lines_table(pdf: DocumentPDF, lines: Iterable[InvoiceLine], household: Household) -> None:
    """The table of an invoice's or credit note's lines."""
    pdf.data_table(
        _LINE_HEADINGS, _line_rows(lines, household), widths=_LINE_WIDTHS, aligns=_LINE_ALIGNS
    )
    pdf.ln(3)


def draw_invoice(
    pdf: DocumentPDF,
    invoice: Invoice,
    household: Household,
    settings: IssuerSettings,
    current: InvoiceState | None,
    options: PaymentOptions,
) -> None:
    """Draw a checked invoice from the current page of ``pdf`` on (what
    :func:`render_invoice_pdf` prints; a print batch draws many into one document)."""
    references = [
        (f"Facture n° {invoice.number}", True),
        (f"Date de facture : {fr_date(invoice.issue_date)}", False),
        (f"À régler avant le : {fr_date(invoice.due_date)}", True),
        (f"Période : du {fr_date(invoice.period_start)} au {fr_date(invoice.period_end)}", False),
    ]
    _head(pdf, settings, ("FACTURE", invoice.label), references, invoice, household)

    pdf.heading(f"Détail de la facture – {invoice.label}")
    _lines_table(pdf, invoice.lines, household)

    amounts: list[tuple[str, str, bool]] = [("Montant total", fr_money(invoice.total), True)]
    balance = invoice.total
    if current is not None:
        if current.credited.is_positive:
            amounts.append(("Avoirs", f"- {fr_money(current.credited)}", False))
        amounts.append(("Déjà réglé", f"- {fr_money(current.paid)}", False))
        balance = (
            current.balance_due if current.balance_due.is_positive else Money.zero(invoice.currency)
        )
        amounts.append(("Reste à payer", fr_money(balance), True))
    pdf.amount_rows(amounts)

    status = _status_text(current)
    if status is not None:
        pdf.ln(1)
        pdf.line_of_text(status, size=9.5, bold=True, color=ACCENT, align=Align.R)

    if current is not None and current.status in _SETTLED:
        pdf.ln(2)
        pdf.line_of_text(
            "Cette facture a été annulée par avoir : vous n'avez rien à régler."
            if current.status is InvoiceStatus.CANCELLED
            else "Cette facture est entièrement réglée. Merci.",
            size=9.5,
        )
    else:
        draw_how_to_pay(pdf, invoice, settings, options)
        if options.counter and not (options.mandate is not None and options.mandate.collectable):
            draw_payment_slip(pdf, invoice, household, fr_money(balance))


# -- credit note -----------------------------------------------------------------------------


def render_credit_note_pdf(
    note: CreditNote,
    *,
    invoice: Invoice,
    household: Household,
    issuer: IssuerSettings,
) -> bytes:
    """A credit note (avoir) as a French PDF, returned as bytes.

    ``invoice`` is the invoice the note corrects (its number and date are printed). Raises
    :class:`~canteen_core.domain.errors.InvalidInputError` when ``note`` is not a
    :class:`~canteen_core.domain.invoicing.CreditNote`, when it does not credit ``invoice``, or when
    household or régie do not match.
    """
    note = check_type(note, CreditNote, "note")
    invoice = _check_invoice(invoice)
    if note.invoice_id != invoice.id:
        raise InvalidInputError(
            f"credit note {note.number} corrects invoice {note.invoice_id!r}, not {invoice.id!r}",
            path="invoice",
        )
    household = _check_household(household, note.household_id, f"credit note {note.number}")
    settings = _check_issuer_of(issuer, note.issuer_id, f"credit note {note.number}")

    pdf = DocumentPDF(
        title=f"Avoir {note.number}",
        footer=f"{settings.name} – Avoir n° {note.number} du {fr_date(note.issue_date)}",
        dated=note.issue_date,
        author=settings.name,
    )
    references = [
        (f"Avoir n° {note.number}", True),
        (f"Date de l'avoir : {fr_date(note.issue_date)}", False),
        (f"Facture n° {invoice.number} du {fr_date(invoice.issue_date)}", False),
        (f"Montant de la facture : {fr_money(invoice.total)}", False),
    ]
    title = ("AVOIR", f"sur la facture {invoice.label}")
    _head(pdf, settings, title, references, invoice, household)
    pdf.heading("Motif")
    pdf.line_of_text(note.reason)
    pdf.heading("Détail de l'avoir")
    _lines_table(pdf, note.lines, household)
    pdf.amount_rows([("Montant de l'avoir", fr_money(note.total), True)])
    pdf.ln(3)
    pdf.line_of_text(
        f"Ce montant est déduit de la facture n° {invoice.number}. Si elle était déjà réglée, il "
        "est porté au crédit de votre compte famille et imputé sur vos prochaines factures, ou "
        "remboursé sur demande auprès de la régie."
    )
    return pdf.to_bytes()
