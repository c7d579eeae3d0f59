"""Documents: invoice and credit-note PDFs, the yearly payment certificate, the .ics export.

PDFs are read back with pypdf's text extraction: what a family (or a screen reader, or a mail
indexer) gets out of the file is what is asserted, not how it is drawn.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar
from pypdf import PdfReader

from _calendars import ALBAN, ARIELLE, CALENDAR, HOUSEHOLD, OTHER, OTHER_CHILD, enrollment
from canteen_adapters.documents import (
    PaymentCertificate,
    PaymentOptions,
    render_credit_note_pdf,
    render_invoice_pdf,
    render_payment_certificate,
    reservations_ics,
)
from canteen_adapters.documents.certificate import CREDIT_SHARE_LABEL, _split
from canteen_core.config.deployment import Deployment, IssuerSettings, parse_deployment
from canteen_core.domain.calendar import Period
from canteen_core.domain.charging import DayFacts
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.families import Child, Guardian, Household
from canteen_core.domain.invoice_runs import invoice_prepaid_basket, prepaid_cancellation_credit
from canteen_core.domain.invoicing import (
    CREDIT_NOTE_PREFIX,
    DueDateRule,
    Invoice,
    InvoiceTerms,
    NumberSequence,
)
from canteen_core.domain.ledger import HouseholdAccount, Payment, Refund
from canteen_core.domain.mandates import DirectDebitMandate
from canteen_core.domain.money import Money
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import FlatPricing, TariffBook, TariffCategory, TariffGrid

ISSUER = IssuerSettings(
    name="Régie de restauration scolaire de Ronde",
    code="RONDE",
    siret="21750001600019",
    address="Hôtel de ville\n1 place de la Mairie\n75000 Ronde",
    email="cantine@ronde.fr",
    phone="01 23 45 67 89",
)
FLAT_335 = TariffBook(
    grids=(
        TariffGrid(
            id="flat",
            service_id="rs",
            valid_from=date(2023, 1, 1),
            prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of("3.35")},
        ),
    )
)
SEPTEMBER = [date(2023, 9, d) for d in (4, 5, 7, 8, 11, 12, 14, 15, 18, 19, 21, 22, 25, 26, 28, 29)]
ISSUED_AT = datetime(2023, 6, 9, 7, 30, tzinfo=UTC)  # 09/06/2023 in Paris


def basket_invoice(
    household: Household = HOUSEHOLD,
    children: tuple[Child, ...] = (ALBAN,),
    days: list[date] = SEPTEMBER[:4],
    *,
    last_used: int = 0,
) -> Invoice:
    """The seed's prepaid invoice: SEPTEMBRE 2023, issued and due 09/06/2023 (4 x 3,35 €)."""
    bookings = [
        DayFacts(
            child_id=child.id,
            household_id=household.id,
            enrollment_id=f"e-{child.id}",
            service_id="rs",
            day=day,
            booked=True,
            present=None,
        )
        for child in children
        for day in days
    ]
    result = invoice_prepaid_basket(
        issuer_id="RONDE",
        basket_id=f"basket-{last_used}",
        household=household,
        bookings=bookings,
        tariffs=FLAT_335,
        sequence=NumberSequence(issuer_id="RONDE", year=2023, last_used=last_used),
        issued_at=ISSUED_AT,
        terms=InvoiceTerms(due=DueDateRule.days_after_issue(0)),
        service_names={"rs": "Restauration scolaire"},
    )
    assert result.invoice is not None
    return result.invoice


def pdf_text(data: bytes) -> str:
    """Every page's extracted text, with line breaks and runs of spaces made single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


# -- invoice ---------------------------------------------------------------------------------


def test_seed_invoice_pdf_reads_back_in_french() -> None:
    invoice = basket_invoice()
    data = render_invoice_pdf(
        invoice,
        household=HOUSEHOLD,
        issuer=ISSUER,
        payment=PaymentOptions(
            portal_url="https://famille.ronde.fr", online_provider="PayZen", direct_debit=True
        ),
    )
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in (
        "FACTURE",
        "SEPTEMBRE 2023",
        "Facture n° 2023-000001",
        "Madame CONCERTO Maman",
        "Alban CONCERTO",
        "Date de facture : 09/06/2023",
        "À régler avant le : 09/06/2023",
        "du 01/09/2023 au 30/09/2023",
        "13,40 €",
        "3,35 €",
        "Régie de restauration scolaire de Ronde",
        "SIRET : 217 500 016 00019",
        "PayZen",
        "disponible à partir du 09/06/2023",
        "https://famille.ronde.fr",
        "Prélèvement automatique",
        "Espèces ou chèque à la régie",
        "Talon à joindre",
    ):
        assert expected in text, expected
    assert "Jours : 04/09, 05/09, 07/09, 08/09" in text
    assert page_count(data) == 1


def deployment(extra: str = "") -> Deployment:
    return parse_deployment('[issuer]\nname = "Régie"\ncode = "RONDE"\n' + extra)


def test_invoice_pdf_names_only_the_means_of_payment_the_deployment_offers() -> None:
    # Issue 14, item 8: no card, direct debit nor portal on a deployment that has none.
    invoice = basket_invoice()
    bare = PaymentOptions.for_deployment(deployment())
    text = pdf_text(render_invoice_pdf(invoice, household=HOUSEHOLD, issuer=ISSUER, payment=bare))
    for absent in ("PayZen", "carte bancaire", "Prélèvement", "prélèvement", "espace famille"):
        assert absent not in text, absent
    assert "Espèces ou chèque à la régie" in text
    assert "Espèces ou chèque à la régie" in pdf_text(
        render_invoice_pdf(invoice, household=HOUSEHOLD, issuer=ISSUER)
    )
    full = PaymentOptions.for_deployment(
        deployment(
            '[portal]\nurl = "https://famille.ronde.fr"\n'
            '[payment.payzen]\nsite_id = "1"\n[payment.sepa]\ncreditor_name = "R"\n'
        )
    )
    assert (full.online_provider, full.direct_debit) == ("PayZen", True)
    text = pdf_text(render_invoice_pdf(invoice, household=HOUSEHOLD, issuer=ISSUER, payment=full))
    for present in ("PayZen", "https://famille.ronde.fr", "Prélèvement automatique"):
        assert present in text, present
    # Card payment without a portal has nowhere to happen: not printed.
    no_portal = PaymentOptions.for_deployment(deployment('[payment.payzen]\nsite_id = "1"\n'))
    text = pdf_text(
        render_invoice_pdf(invoice, household=HOUSEHOLD, issuer=ISSUER, payment=no_portal)
    )
    assert "PayZen" not in text


def test_invoice_pdf_prints_accented_payer_and_is_deterministic() -> None:
    payer = Guardian(id="g-eloise", first_name="Éloïse", last_name="Lefèvre", civility="Madame")
    child = Child(id="c-noe", first_name="Noé", last_name="Lefèvre", birth_date=date(2016, 5, 4))
    household = Household(id="h-lefevre", payer=payer, children=(child,))
    invoice = basket_invoice(household, (child,))
    first = render_invoice_pdf(invoice, household=household, issuer=ISSUER)
    text = pdf_text(first)
    assert "Madame LEFÈVRE Éloïse" in text
    assert "Noé LEFÈVRE" in text
    # Same input, same bytes: archives and caches can rely on it.
    assert render_invoice_pdf(invoice, household=household, issuer=ISSUER) == first


def test_invoice_pdf_with_ledger_state() -> None:
    invoice = basket_invoice()
    account = HouseholdAccount.empty(HOUSEHOLD.id).add_invoice(invoice)
    partly = account.record_payment(
        Payment.of(
            id="p1",
            household_id=HOUSEHOLD.id,
            amount="5.00",
            method="cash",
            received_on=date(2023, 6, 12),
        )
    )
    text = pdf_text(
        render_invoice_pdf(
            invoice,
            household=HOUSEHOLD,
            issuer=ISSUER,
            state=partly.invoice_state(invoice.id),
        )
    )
    assert "Déjà réglé" in text
    assert "- 5,00 €" in text
    assert "Reste à payer" in text
    assert "8,40 €" in text
    assert "Facture partiellement réglée" in text
    assert "Comment régler cette facture" in text

    paid = partly.record_payment(
        Payment.of(
            id="p2",
            household_id=HOUSEHOLD.id,
            amount="8.40",
            method="card",
            received_on=date(2023, 6, 13),
        )
    )
    text = pdf_text(
        render_invoice_pdf(
            invoice, household=HOUSEHOLD, issuer=ISSUER, state=paid.invoice_state(invoice.id)
        )
    )
    assert "Facture réglée" in text
    assert "0,00 €" in text
    assert "entièrement réglée" in text
    assert "Comment régler" not in text
    assert "Talon" not in text


def test_invoice_pdf_of_a_household_paying_by_direct_debit() -> None:
    invoice = basket_invoice()
    mandate = DirectDebitMandate(
        reference="RONDE-H-CONCERTO-1",
        household_id=HOUSEHOLD.id,
        debtor_name="Maman Concerto",
        iban="FR7630006000011234567890189",
        signed_on=date(2023, 5, 2),
    )
    text = pdf_text(
        render_invoice_pdf(
            invoice,
            household=HOUSEHOLD,
            issuer=ISSUER,
            payment=PaymentOptions(mandate=mandate, debit_on=date(2023, 6, 20)),
        )
    )
    assert "prélevé le 20/06/2023" in text
    assert "RONDE-H-CONCERTO-1" in text
    assert "FR76 **** **** 0189" in text
    assert "FR7630006000011234567890189" not in text  # never print a whole IBAN
    assert "PayZen" not in text  # one way to pay, not two
    assert "Talon" not in text


def test_long_invoice_breaks_pages_with_numbered_footers() -> None:
    invoice = basket_invoice(children=(ALBAN, ARIELLE), days=SEPTEMBER)
    many = attrs.evolve(
        invoice,
        lines=invoice.lines * 12,
        total=invoice.total * 12,
    )
    data = render_invoice_pdf(many, household=HOUSEHOLD, issuer=ISSUER)
    pages = page_count(data)
    assert pages >= 2
    text = pdf_text(data)
    assert f"Page {pages}/{pages}" in text
    assert (invoice.total * 12).format_fr() in text
    assert "Talon à joindre" in text


def test_invoice_pdf_bad_input() -> None:
    invoice = basket_invoice()
    note, _ = prepaid_cancellation_credit(
        invoice,
        cancelled=[(ALBAN.id, "rs", SEPTEMBER[0])],
        sequence=NumberSequence.first("RONDE", 2023, prefix=CREDIT_NOTE_PREFIX),
        issue_date=date(2023, 8, 30),
    )
    other_invoice = basket_invoice(last_used=7)
    other_state = (
        HouseholdAccount.empty(HOUSEHOLD.id)
        .add_invoice(other_invoice)
        .invoice_state(other_invoice.id)
    )
    foreign_mandate = DirectDebitMandate(
        reference="RONDE-OTHER-1",
        household_id="h-martin",
        debtor_name="Jeanne Martin",
        iban="FR7630006000011234567890189",
        signed_on=date(2023, 5, 2),
    )
    stranger = Household(
        id="h-stranger",
        payer=Guardian(id="g-x", first_name="Jean", last_name="Dupont"),
    )
    cases: list[tuple[dict[str, object], str]] = [
        ({"invoice": note}, "invoice"),
        ({"invoice": {"number": "2023-000001"}}, "invoice"),
        ({"household": stranger}, "household"),
        ({"household": "h-concerto"}, "household"),
        ({"issuer": attrs.evolve(ISSUER, code="AUTRE")}, "issuer"),
        ({"issuer": {"name": "Régie"}}, "issuer"),
        ({"state": other_state}, "state"),
        ({"payment": PaymentOptions(mandate=foreign_mandate)}, "payment.mandate"),
        ({"payment": "PayZen"}, "payment"),
    ]
    base: dict[str, object] = {"invoice": invoice, "household": HOUSEHOLD, "issuer": ISSUER}
    for change, path in cases:
        arguments = {**base, **change}
        document = arguments.pop("invoice")
        with pytest.raises(InvalidInputError) as caught:
            render_invoice_pdf(document, **arguments)  # type: ignore[arg-type]
        assert caught.value.path == path, change
    # Payment options are checked when built.
    with pytest.raises(InvalidInputError, match="debit_on"):
        PaymentOptions(debit_on=datetime(2023, 6, 20, tzinfo=UTC))
    with pytest.raises(InvalidInputError, match="portal_url"):
        PaymentOptions(portal_url="  ")
    # There is no such thing as an invoice without lines (or a draft): the core refuses them,
    # so the renderer only ever sees issued, numbered invoices.
    with pytest.raises(InvalidInputError, match="sans lignes"):
        attrs.evolve(invoice, lines=())


def test_credit_note_pdf() -> None:
    invoice = basket_invoice()
    note, _ = prepaid_cancellation_credit(
        invoice,
        cancelled=[(ALBAN.id, "rs", SEPTEMBER[0]), (ALBAN.id, "rs", SEPTEMBER[1])],
        sequence=NumberSequence.first("RONDE", 2023, prefix=CREDIT_NOTE_PREFIX),
        issue_date=date(2023, 8, 30),
    )
    text = pdf_text(
        render_credit_note_pdf(note, invoice=invoice, household=HOUSEHOLD, issuer=ISSUER)
    )
    for expected in (
        "AVOIR",
        "Avoir n° AV-2023-000001",
        "Date de l'avoir : 30/08/2023",
        "Facture n° 2023-000001 du 09/06/2023",
        "Annulation dans les délais",
        "6,70 €",
        "Madame CONCERTO Maman",
    ):
        assert expected in text, expected
    # Once credit notes cover the whole invoice, reprinting it says there is nothing to pay.
    rest, _ = prepaid_cancellation_credit(
        invoice,
        cancelled=[(ALBAN.id, "rs", day) for day in SEPTEMBER[2:4]],
        sequence=NumberSequence(
            issuer_id="RONDE", year=2023, last_used=1, prefix=CREDIT_NOTE_PREFIX
        ),
        issue_date=date(2023, 8, 31),
        previous=[note],
    )
    account = HouseholdAccount.empty(HOUSEHOLD.id).add_invoice(invoice)
    account = account.add_credit_note(note).add_credit_note(rest)
    text = pdf_text(
        render_invoice_pdf(
            invoice, household=HOUSEHOLD, issuer=ISSUER, state=account.invoice_state(invoice.id)
        )
    )
    assert "Facture annulée" in text
    assert "Avoirs - 13,40 €" in text
    assert "annulée par avoir : vous n'avez rien à régler" in text
    assert "Comment régler" not in text
    with pytest.raises(InvalidInputError) as caught:
        render_credit_note_pdf(
            note, invoice=basket_invoice(last_used=3), household=HOUSEHOLD, issuer=ISSUER
        )
    assert caught.value.path == "invoice"
    with pytest.raises(InvalidInputError) as caught:
        render_credit_note_pdf(invoice, invoice=invoice, household=HOUSEHOLD, issuer=ISSUER)  # type: ignore[arg-type]
    assert caught.value.path == "note"


# -- payment certificate ---------------------------------------------------------------------


def _account_2023() -> tuple[HouseholdAccount, Invoice, Invoice]:
    """Two invoices (Alban alone; Alban and Arielle) and payments across 2023 and 2024."""
    june = basket_invoice()  # 13,40 € for Alban
    both = basket_invoice(children=(ALBAN, ARIELLE), days=SEPTEMBER[4:6], last_used=1)  # 13,40 €
    account = HouseholdAccount.empty(HOUSEHOLD.id).add_invoice(june).add_invoice(both)

    def pay(pid: str, amount: str, method: str, day: date, reference: str | None = None) -> None:
        nonlocal account
        account = account.record_payment(
            Payment.of(
                id=pid,
                household_id=HOUSEHOLD.id,
                amount=amount,
                method=method,
                received_on=day,
                reference=reference,
            )
        )

    pay("p-card", "13.40", "card", date(2023, 6, 10), "PZ-000123")  # pays the June invoice
    pay("p-debit", "10.00", "direct_debit", date(2023, 7, 5))  # bounces
    account = account.reject_payment("p-debit", rejected_on=date(2023, 7, 12))
    pay("p-cesu", "20.00", "cesu", date(2023, 9, 1), "CESU 42")  # 13,40 € + 6,60 € credit
    account = account.refund(
        Refund(
            id="r1",
            household_id=HOUSEHOLD.id,
            amount=Money.of("2.00"),
            refunded_on=date(2023, 12, 1),
        )
    )
    pay("p-2024", "3.00", "cash", date(2024, 1, 3))
    return account, june, both


def test_payment_certificate_amounts() -> None:
    account, _, _ = _account_2023()
    certificate = PaymentCertificate.from_account(account, household=HOUSEHOLD, year=2023)
    assert certificate.received == Money.of("33.40")  # the rejected debit and 2024 cash excluded
    assert certificate.refunded == Money.of("2.00")
    assert certificate.total == Money.of("31.40")
    assert certificate.cesu == Money.of("20.00")
    assert [p.label for p in certificate.payments] == [
        "Carte bancaire (paiement en ligne)",
        "CESU",
    ]
    shares = {share.name: share.amount for share in certificate.shares}
    # The second invoice bills Alban and Arielle 6,70 € each: the CESU payment is split so.
    assert shares == {
        "Alban CONCERTO": Money.of("20.10"),
        "Arielle CONCERTO": Money.of("6.70"),
        CREDIT_SHARE_LABEL: Money.of("6.60"),
    }
    assert Money.sum(shares.values()) == certificate.received
    assert certificate.shares[0].birth_date == ALBAN.birth_date

    partial = PaymentCertificate.from_account(
        account, household=HOUSEHOLD, year=2023, as_of=date(2023, 8, 31)
    )
    assert partial.total == Money.of("13.40")
    assert partial.period_end == date(2023, 8, 31)


def test_payment_certificate_pdf() -> None:
    account, _, _ = _account_2023()
    data = render_payment_certificate(
        account,
        household=HOUSEHOLD,
        issuer=ISSUER,
        year=2023,
        issued_on=date(2024, 1, 15),
        place="Ronde",
    )
    text = pdf_text(data)
    for expected in (
        "ATTESTATION DE PAIEMENT",
        "Année 2023",
        "Madame CONCERTO Maman",
        "a réglé la somme de 31,40 €",
        "entre le 01/01/2023 et le 31/12/2023",
        "(CESU) : 20,00 €",
        "Alban CONCERTO",
        "02/03/2015",
        "Arielle CONCERTO",
        "PZ-000123",
        "- 2,00 €",
        "Total réglé en 2023",
        "Fait à Ronde, le 15/01/2024",
    ):
        assert expected in text, expected
    assert "3,00 €" not in text  # paid in 2024
    assert "10,00 €" not in text  # rejected

    current_year = pdf_text(
        render_payment_certificate(
            account, household=HOUSEHOLD, issuer=ISSUER, year=2023, issued_on=date(2023, 8, 31)
        )
    )
    assert "règlements reçus du 01/01/2023 au 31/08/2023" in current_year
    assert "13,40 €" in current_year


def test_payment_certificate_of_a_household_that_paid_nothing() -> None:
    text = pdf_text(
        render_payment_certificate(
            HouseholdAccount.empty(HOUSEHOLD.id),
            household=HOUSEHOLD,
            issuer=ISSUER,
            year=2023,
            issued_on=date(2024, 1, 2),
        )
    )
    assert "a réglé la somme de 0,00 €" in text
    assert "Aucun règlement reçu sur la période." in text


def test_payment_certificate_bad_input() -> None:
    account, _, _ = _account_2023()
    base: dict[str, object] = {
        "household": HOUSEHOLD,
        "issuer": ISSUER,
        "year": 2023,
        "issued_on": date(2024, 1, 15),
    }
    cases: list[tuple[object, dict[str, object], str]] = [
        (HouseholdAccount.empty("h-martin"), {}, "household"),
        ("not an account", {}, "account"),
        (account, {"year": "2023"}, "year"),
        (account, {"year": True}, "year"),
        (account, {"issued_on": date(2022, 12, 31)}, "issued_on"),
        (account, {"issued_on": datetime(2024, 1, 15, tzinfo=UTC)}, "issued_on"),
        (account, {"issuer": "Régie"}, "issuer"),
        (account, {"signatory": " "}, "signatory"),
        (account, {"place": 75}, "place"),
    ]
    for subject, change, path in cases:
        with pytest.raises(InvalidInputError) as caught:
            render_payment_certificate(subject, **{**base, **change})  # type: ignore[arg-type]
        assert caught.value.path == path, change


@given(
    cents=st.integers(min_value=1, max_value=10**7),
    weights=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=6),
)
def test_split_is_exact_and_proportional(cents: int, weights: list[int]) -> None:
    amount = Money(Decimal(cents) / 100)
    keyed: dict[str | None, Money] = {
        f"c{i}": Money(Decimal(w) / 100) for i, w in enumerate(weights)
    }
    parts = _split(amount, keyed)
    assert Money.sum(parts.values()) == amount
    total = sum(weights)
    for key, part in parts.items():
        exact = Decimal(cents) * weights[int(str(key)[1:])] / total
        assert abs(part.amount * 100 - exact) < 1  # within a cent of the exact share


@given(
    payments=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=5000),  # cents
            st.sampled_from(["card", "direct_debit", "cash", "cheque", "cesu"]),
            st.dates(min_value=date(2022, 12, 1), max_value=date(2024, 1, 31)),
            st.booleans(),  # rejected a week later
        ),
        max_size=8,
    )
)
def test_certificate_shares_always_add_up_to_what_was_received(
    payments: list[tuple[int, str, date, bool]],
) -> None:
    account = (
        HouseholdAccount.empty(HOUSEHOLD.id)
        .add_invoice(basket_invoice())
        .add_invoice(basket_invoice(children=(ALBAN, ARIELLE), days=SEPTEMBER[4:6], last_used=1))
    )
    for index, (cents, method, day, rejected) in enumerate(payments):
        payment_id = f"p{index}"
        account = account.record_payment(
            Payment.of(
                id=payment_id,
                household_id=HOUSEHOLD.id,
                amount=Decimal(cents) / 100,
                method=method,
                received_on=day,
            )
        )
        if rejected:
            account = account.reject_payment(payment_id, rejected_on=day + timedelta(days=7))
    certificate = PaymentCertificate.from_account(account, household=HOUSEHOLD, year=2023)
    expected = [
        Decimal(cents) / 100
        for cents, _, day, rejected in payments
        if day.year == 2023 and not rejected
    ]
    assert certificate.received == Money(sum(expected, Decimal(0)))
    assert certificate.total == certificate.received  # no refund here
    assert Money.sum(share.amount for share in certificate.shares) == certificate.received
    assert all(share.amount.is_positive for share in certificate.shares)


# -- iCalendar -------------------------------------------------------------------------------

GENERATED = datetime(2023, 9, 1, 18, 0, tzinfo=UTC)


def _events(data: bytes) -> list[dict[str, object]]:
    calendar = Calendar.from_ical(data)
    return [
        {
            "uid": str(event["UID"]),
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "summary": str(event["SUMMARY"]),
            "location": str(event["LOCATION"]),
        }
        for event in calendar.walk("VEVENT")
    ]


def test_reservations_ics_one_all_day_event_per_booked_day() -> None:
    lunch = enrollment()
    days = SEPTEMBER[:6]
    book = ReservationBook.from_days(lunch.id, lunch.start, days)
    data = reservations_ics(ALBAN, [(lunch, book)], generated_at=GENERATED, uid_domain="ronde.fr")
    calendar = Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "Réservations – Alban CONCERTO"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Paris"
    events = _events(data)
    assert [e["start"] for e in events] == days
    for event in events:
        start = event["start"]
        assert type(start) is date  # all-day: a date, not a datetime
        assert event["end"] == start + timedelta(days=1)
        assert event["summary"] == "Repas – Restauration scolaire"
        assert event["location"] == "École élémentaire Ronde"
    first = Calendar.from_ical(data).walk("VEVENT")[0]
    assert first.decoded("DTSTAMP") == GENERATED
    assert str(first["UID"]) == f"{lunch.id}-20230904@ronde.fr"
    assert len({e["uid"] for e in events}) == len(events)

    # UIDs are stable: a later export after cancelling a day keeps the others' UIDs.
    later = reservations_ics(
        ALBAN,
        [(lunch, book.with_day(days[2], booked=False))],
        generated_at=GENERATED + timedelta(days=3),
        uid_domain="ronde.fr",
    )
    again = _events(later)
    assert {e["uid"] for e in again} == {e["uid"] for e in events} - {
        f"{lunch.id}-20230907@ronde.fr"
    }


def test_reservations_ics_window_closures_and_empty() -> None:
    strike = Period(name="Grève", first_day=SEPTEMBER[1], last_day=SEPTEMBER[1])
    lunch = enrollment(calendar=CALENDAR.with_closures(strike))
    book = ReservationBook.from_days(lunch.id, lunch.start, SEPTEMBER[:8])
    events = _events(
        reservations_ics(
            ALBAN,
            [(lunch, book)],
            start=SEPTEMBER[1],
            end=SEPTEMBER[5],
            generated_at=GENERATED,
            calendar_name="Cantine d'Alban",
            summary="Cantine de {child}",
        )
    )
    # The strike day is left out: it was booked, but no meal is served.
    assert [e["start"] for e in events] == [SEPTEMBER[2], SEPTEMBER[3], SEPTEMBER[4], SEPTEMBER[5]]
    assert {e["summary"] for e in events} == {"Cantine de Alban"}
    empty = reservations_ics(ALBAN, [], generated_at=GENERATED)
    assert _events(empty) == []
    assert b"BEGIN:VCALENDAR" in empty


def test_reservations_ics_bad_input() -> None:
    lunch = enrollment()
    book = ReservationBook.from_days(lunch.id, lunch.start, SEPTEMBER[:2])
    zoe = enrollment(child_id=OTHER_CHILD.id, household=OTHER)
    zoe_book = ReservationBook.from_days(zoe.id, zoe.start, SEPTEMBER[:2])
    cases: list[tuple[object, dict[str, object], str]] = [
        ([(zoe, zoe_book)], {}, "bookings[0][0]"),
        ([(lunch, zoe_book)], {}, "bookings[0][1]"),
        ([(lunch, book), (lunch, book)], {}, "bookings[1]"),
        ([lunch], {}, "bookings[0]"),
        ((lunch, book), {}, "bookings"),
        ([(lunch, book)], {"generated_at": datetime(2023, 9, 1, 18, 0)}, "generated_at"),
        ([(lunch, book)], {"start": SEPTEMBER[3], "end": SEPTEMBER[1]}, "end"),
        ([(lunch, book)], {"start": "2023-09-01"}, "start"),
        ([(lunch, book)], {"summary": "Repas {menu}"}, "summary"),
        ([(lunch, book)], {"uid_domain": "ronde fr"}, "uid_domain"),
    ]
    for bookings, change, path in cases:
        with pytest.raises(InvalidInputError) as caught:
            reservations_ics(ALBAN, bookings, **change)  # type: ignore[arg-type]
        assert caught.value.path == path, (bookings, change)
    with pytest.raises(InvalidInputError) as caught:
        reservations_ics(HOUSEHOLD, [(lunch, book)])  # type: ignore[arg-type]
    assert caught.value.path == "child"
