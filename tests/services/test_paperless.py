# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""Paperless invoices through the facade (memory, SQLite, PostgreSQL): consent dated and
revocable, a paperless household receives its invoice PDF by e-mail, the others are in one
print batch sorted by postal address, with the address in each first page's window."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import date

import pytest
from pypdf import PdfReader

from canteen_adapters.documents.print_batch import deliver_invoices
from canteen_adapters.mail._mime import build_email, parse_sender
from canteen_core.domain.attendance import Presence
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import InvalidInputError, NotAuthorizedError, RuleViolationError
from canteen_core.domain.paperless import PostalAddress

from ._billing_fixtures import (  # noqa: F401 - fixtures
    BILLING_DAY,
    any_billing_canteen,
    any_bworld,
    attend,
    book,
    september,
)
from ._world import ADMIN, CO_REP, FINANCE, OTHER, PAYER, World

CONCERTO_ADDRESS = PostalAddress(street="12 rue des Lilas", postcode="75020", city="Paris")
VOISINS_ADDRESS = PostalAddress(
    street="3 avenue Gambetta", postcode="75011", city="Paris", complement="Bâtiment B"
)


def _bill_september(world: World, clock: FixedClock) -> list[str]:
    canteen = world.canteen
    for enrollment in (world.alban, world.lea):
        days = september(enrollment)[:4]
        book(canteen, enrollment, days)
        attend(canteen, enrollment, dict.fromkeys(days, Presence.PRESENT))
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    return [issued.invoice_id for issued in report.issued]


def _messages(world: World, kind: str) -> list[object]:
    with world.canteen.context.storage.unit_of_work(read_only=True) as uow:
        return [r.message for r in uow.outbox.records() if r.message.kind == kind]


def test_paperless_household_gets_the_pdf_by_email_others_are_in_the_print_batch(
    any_bworld: World, clock: FixedClock
) -> None:
    world, canteen = any_bworld, any_bworld.canteen
    household = canteen.paperless.consent(PAYER, "concerto")
    assert household.is_paperless
    assert household.paperless is not None
    assert household.paperless.given_by == "maman"
    assert household.paperless.given_at == clock.now()
    canteen.paperless.set_postal_address(OTHER, "voisins", VOISINS_ADDRESS)
    canteen.paperless.set_postal_address(PAYER, "concerto", CONCERTO_ADDRESS)
    invoice_ids = _bill_september(world, clock)

    delivery = deliver_invoices(canteen, FINANCE, invoice_ids)
    [concerto_invoice] = [
        i
        for i in invoice_ids
        if canteen.billing.invoice(FINANCE, i).invoice.household_id == "concerto"
    ]
    concerto_number = canteen.billing.invoice(FINANCE, concerto_invoice).invoice.number
    assert delivery.emailed == (concerto_number,)
    assert len(delivery.printed) == 1
    assert delivery.without_address == ()

    # The paperless household: payer and co-representative, the PDF attached.
    messages = _messages(world, "invoice-pdf")
    assert {m.to_address for m in messages} == {"maman@concerto.fr", "papa@concerto.fr"}  # type: ignore[attr-defined]
    message = messages[0]
    [attachment] = message.attachments  # type: ignore[attr-defined]
    assert attachment.content_type == "application/pdf"
    assert attachment.content.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(attachment.content)).pages[0].extract_text()
    assert concerto_number in text
    assert "12 rue des Lilas" in text
    # As the mailer sends it: a multipart/mixed e-mail whose attachment is the PDF.
    mail = build_email(message, sender=parse_sender("cantine@ronde.fr"))  # type: ignore[arg-type]
    parsed = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
    [part] = list(parsed.iter_attachments())  # type: ignore[attr-defined]
    assert part.get_filename() == f"facture-{concerto_number}.pdf"
    assert part.get_content() == attachment.content

    # The print batch: Léa's household, its address in the window of the first page.
    assert delivery.print_batch is not None
    pages = PdfReader(io.BytesIO(delivery.print_batch)).pages
    first = pages[0].extract_text()
    assert "Bâtiment B" in first
    assert "3 avenue Gambetta" in first
    assert "75011 PARIS" in first
    assert delivery.printed[0] in first
    assert concerto_number not in "".join(page.extract_text() for page in pages)


def test_print_batch_is_sorted_by_postal_address_and_consent_is_revocable(
    any_bworld: World, clock: FixedClock
) -> None:
    world, canteen = any_bworld, any_bworld.canteen
    canteen.paperless.consent(PAYER, "concerto")
    revoked = canteen.paperless.revoke(PAYER, "concerto")
    assert not revoked.is_paperless
    assert revoked.paperless is not None
    assert revoked.paperless.revoked_at == clock.now()
    canteen.paperless.set_postal_address(PAYER, "concerto", CONCERTO_ADDRESS)  # 75020
    canteen.paperless.set_postal_address(ADMIN, "voisins", VOISINS_ADDRESS)  # 75011
    invoice_ids = _bill_september(world, clock)
    delivery = deliver_invoices(canteen, FINANCE, invoice_ids)
    assert delivery.emailed == ()
    assert _messages(world, "invoice-pdf") == []
    assert delivery.print_batch is not None
    reader = PdfReader(io.BytesIO(delivery.print_batch))
    texts = [page.extract_text() for page in reader.pages]
    voisins_page = next(i for i, t in enumerate(texts) if "75011 PARIS" in t)
    concerto_page = next(i for i, t in enumerate(texts) if "75020 PARIS" in t)
    assert voisins_page < concerto_page  # 75011 before 75020


def test_bad_input_is_refused_and_changes_nothing(any_bworld: World, clock: FixedClock) -> None:
    canteen = any_bworld.canteen
    with pytest.raises(NotAuthorizedError):
        canteen.paperless.consent(OTHER, "concerto")
    with pytest.raises(NotAuthorizedError):  # only the payer signs for the household
        canteen.paperless.consent(CO_REP, "concerto")
    with pytest.raises(InvalidInputError, match="code postal a 5 chiffres"):
        PostalAddress(street="1 rue X", postcode="7501", city="Paris")
    with pytest.raises(InvalidInputError, match="38 caractères"):
        PostalAddress(street="x" * 39, postcode="75011", city="Paris")
    invoice_ids = _bill_september(any_bworld, clock)
    with pytest.raises(RuleViolationError, match="n'a pas adhéré"):
        canteen.paperless.email_invoice(FINANCE, invoice_ids[0], b"%PDF-1.4 ...")
    canteen.paperless.consent(PAYER, "concerto")
    with pytest.raises(InvalidInputError, match="doit être un PDF"):
        canteen.paperless.email_invoice(FINANCE, invoice_ids[0], b"MZ\x90\x00")
    assert _messages(any_bworld, "invoice-pdf") == []
    assert canteen.families.get(ADMIN, "voisins").postal_address is None
    assert canteen.families.get(ADMIN, "concerto").paperless is not None
    assert date(2023, 10, 2) == clock.now().date()
