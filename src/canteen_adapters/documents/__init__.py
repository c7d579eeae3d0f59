"""Documents for families: invoice and credit-note PDFs, payment certificates, iCalendar exports.

- :mod:`canteen_adapters.documents.pdf`: :func:`~canteen_adapters.documents.pdf.render_invoice_pdf`
  (a French "Facture" with the régie, the payer, the lines, the total, the due date and how to
  pay: PayZen online from the payment-open date, direct debit, cash or cheque at the régie) and
  :func:`~canteen_adapters.documents.pdf.render_credit_note_pdf` ("Avoir"); the means of
  payment an invoice prints are in :mod:`canteen_adapters.documents.payment_options`.
- :mod:`canteen_adapters.documents.certificate`:
  :func:`~canteen_adapters.documents.certificate.render_payment_certificate`, the yearly
  "Attestation de paiement" of a household (payments received, per child, CESU part).
- :mod:`canteen_adapters.documents.on_request`: the "Attestation de présence" of a period and the
  "Relevé de compte" (:func:`~canteen_adapters.documents.on_request.render_attendance_certificate`,
  :func:`~canteen_adapters.documents.on_request.render_account_statement`).
- :mod:`canteen_adapters.documents.ics`:
  :func:`~canteen_adapters.documents.ics.reservations_ics`, a child's booked days as an
  ``.ics`` calendar (one all-day event per day, stable UIDs).

Every function takes domain values and returns ``bytes``; writing files, attaching them to
emails or serving them over HTTP is the caller's job (the CLI, a portal). Nothing is stored or
changed. Bad input raises :class:`~canteen_core.domain.errors.InvalidInputError` before any output.

These modules need the ``documents`` extra (``pip install canteen[documents]``: fpdf2 and
icalendar). PDFs embed DejaVu Sans, shipped in ``fonts/`` with its licence
(``fonts/LICENSE-DejaVu.txt``), so accents and "€" render on every reader.
"""

try:
    from canteen_adapters.documents.certificate import (
        PaymentCertificate,
        render_payment_certificate,
    )
    from canteen_adapters.documents.ics import reservations_ics
    from canteen_adapters.documents.pdf import (
        PaymentOptions,
        render_credit_note_pdf,
        render_invoice_pdf,
    )
except ModuleNotFoundError as error:  # pragma: no cover - depends on the installed extras
    if error.name in {"fpdf", "icalendar"}:
        raise ModuleNotFoundError(
            f"canteen's documents need the 'documents' extra: pip install 'canteen[documents]' "
            f"({error})",
            name=error.name,
        ) from error
    raise

__all__ = [
    "PaymentCertificate",
    "PaymentOptions",
    "render_credit_note_pdf",
    "render_invoice_pdf",
    "render_payment_certificate",
    "reservations_ics",
]
