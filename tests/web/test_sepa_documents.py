"""SEPA adhesion and "Mes prélèvements", the staff's debit file, documents on request, the
.ics of a child's bookings and the PayFiP return, over HTTP on the demo's SQLite deployment
(with a ``[payment.sepa]`` table added)."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from litestar.testing import TestClient
from lxml import etree
from pypdf import PdfReader

from canteen_adapters.cli.demo import ADMIN, FINANCE, SHOWN_AT
from canteen_adapters.web import WebSettings, create_app
from canteen_core.domain.attendance import Presence
from canteen_core.domain.clock import PARIS, FixedClock
from canteen_core.services import Canteen

from .conftest import NEW_PASSWORD, Deployment, Template
from .test_family import bill_october

IBAN = "FR76 3000 6000 0112 3456 7890 189"
SEPA = """
[payment.sepa]
creditor_name = "Régie de restauration scolaire de Ronde"
creditor_iban = "FR7630004000031234567890143"
creditor_id = "FR72ZZZ123456"
output_dir = "sepa"
pre_notification_days = 5
"""
HOUSEHOLD = "/api/v1/households/CONCERTO"


@pytest.fixture
def sepa(template: Template, tmp_path: Path) -> Iterator[Deployment]:
    """The demo with direct debit configured (files kept under ``sepa/``)."""
    folder = tmp_path / "deployment"
    shutil.copytree(template.folder, folder)
    with (folder / "canteen.toml").open("a", encoding="utf-8") as config:
        config.write(SEPA)
    clock = FixedClock(SHOWN_AT)
    canteen = Canteen.open(folder / "canteen.toml", clock=clock)
    app = create_app(canteen, WebSettings(public_url="https://famille.ronde.example"))
    deployment = Deployment(
        canteen=canteen, clock=clock, app=app, client=TestClient(app), template=template
    )
    with deployment.client:
        yield deployment
    canteen.close()


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def sign(web: Deployment, csrf: str, **body: Any) -> Any:
    payload = {"iban": IBAN, "accept": True, **body}
    return web.client.post(f"{HOUSEHOLD}/mandates", json=payload, headers={"X-CSRF-Token": csrf})


def test_signing_a_mandate_checks_every_field_in_french(sepa: Deployment) -> None:
    csrf = sepa.activate(sepa.template.concerto)
    for body, field, words in (
        ({"iban": "FR76 3000 6000 0112 3456 7890 188"}, "iban", "clé de contrôle incorrecte"),
        ({"iban": "FR76 3000 6000 0112 3456 7890 18"}, "iban", "invalide"),
        ({"iban": "   "}, "iban", "indiquez l'IBAN"),
        ({"accept": False}, "accept", "cochez l'autorisation"),
        ({"bic": "NOTABIC!"}, "bic", "BIC"),
        ({"holder": "X" * 71}, "holder", "70 caractères"),
    ):
        refused = sign(sepa, csrf, **body)
        assert refused.status_code == 422, body
        assert refused.json()["field"] == field
        assert words in refused.json()["detail"]
    assert sepa.client.get(f"{HOUSEHOLD}/mandates").json() == []
    signed = sign(sepa, csrf, holder="Claire CONCERTO", bic="BNPAFRPP")
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert body["iban"] == "FR76 **** **** **** **** ***0 189"
    assert body["holder"] == "Claire CONCERTO"
    assert body["status_label"] == "Actif"
    assert body["signed_on"] == "2023-10-06"
    again = sign(sepa, csrf)
    assert again.status_code == 422
    assert "déjà un mandat" in again.json()["detail"]
    listed = sepa.client.get(f"{HOUSEHOLD}/mandates").json()
    assert [m["reference"] for m in listed] == [body["reference"]]
    # Stored unmasked and checked, through the facade.
    (mandate,) = sepa.canteen.payments.mandates(FINANCE, "CONCERTO")
    assert mandate.iban == IBAN.replace(" ", "")


def test_the_signed_authorization_is_filed_with_the_mandate(sepa: Deployment) -> None:
    csrf = sepa.activate(sepa.template.concerto)
    body = sign(sepa, csrf, holder="Claire CONCERTO").json()
    paper_id = body["authorization_id"]
    assert paper_id
    assert sepa.client.get(f"{HOUSEHOLD}/mandates").json()[0]["authorization_id"] == paper_id
    # "Mes prélèvements" links the same signed authorization.
    (entry,) = sepa.client.get(f"{HOUSEHOLD}/direct-debits").json()["mandates"]
    assert entry["mandate"]["authorization_id"] == paper_id
    (listed,) = sepa.client.get(f"{HOUSEHOLD}/papers").json()["documents"]
    assert (listed["id"], listed["kind"], listed["status"]) == (paper_id, "mandat_sepa", "accepted")
    assert listed["kind_label"] == "Mandat de prélèvement SEPA signé"
    pdf = sepa.client.get(f"/api/v1/papers/{paper_id}/file")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"].startswith("application/pdf")
    text = text_of(pdf.content)
    assert body["reference"] in text
    assert "FR76 **** **** **** **** ***0 189" in text
    assert "FR72ZZZ123456" in text
    assert "Claire CONCERTO" in text
    # Families never upload one.
    refused = sepa.client.post(
        f"{HOUSEHOLD}/papers",
        data={"kind": "mandat_sepa", "issued_on": "2023-10-06"},
        files={"file": ("mandat.pdf", pdf.content, "application/pdf")},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 422
    assert "ne se dépose pas" in refused.json()["detail"]
    revoked = sepa.client.post(
        f"{HOUSEHOLD}/mandates/active/revocation",
        json={"final_collection": False},
        headers={"X-CSRF-Token": csrf},
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["authorization_id"] == paper_id
    assert "MANDAT RÉVOQUÉ LE 06/10/2023" in text_of(
        sepa.client.get(f"/api/v1/papers/{paper_id}/file").content
    )
    # Staff read it; another family does not.
    sepa.logout()
    sepa.activate(sepa.template.other)
    assert sepa.client.get(f"/api/v1/papers/{paper_id}/file").status_code == 404
    sepa.logout()
    sepa.activate(sepa.template.staff)
    assert sepa.client.get(f"/api/v1/papers/{paper_id}/file").status_code == 200


def test_the_schedule_follows_a_debit_from_forecast_to_return(sepa: Deployment) -> None:
    sepa.activate(sepa.template.staff)
    sepa.logout()
    csrf = sepa.activate(sepa.template.concerto)
    assert sign(sepa, csrf).status_code == 201
    invoice_id = bill_october(sepa)  # 02/11/2023: October's invoice, unpaid
    invoice = sepa.canteen.billing.invoice(FINANCE, invoice_id).invoice
    schedule = sepa.client.get(f"{HOUSEHOLD}/direct-debits").json()
    assert schedule["today"] == "2023-11-02"
    assert schedule["earliest_collection"] == "2023-11-07"  # 5 days, next business day
    (entry,) = schedule["mandates"]
    (forecast,) = entry["upcoming"]
    assert forecast["invoice_id"] == invoice_id
    assert forecast["amount"] == str(invoice.total.amount)
    assert forecast["announced"] is False
    expected = max(date(2023, 11, 7), invoice.due_date)
    assert date.fromisoformat(forecast["collection_date"]) >= expected
    assert entry["pre_notifications"] == []
    assert entry["past"] == []

    # Staff produce the file; the family is pre-notified.
    sepa.logout()
    staff = sepa.login(sepa.template.staff.username, NEW_PASSWORD)
    run = sepa.client.post(
        "/api/v1/staff/direct-debit-runs",
        json={"collection_date": "2023-11-09"},
        headers={"X-CSRF-Token": staff},
    )
    assert run.status_code == 200, run.text
    report = run.json()
    assert report["count"] >= 1
    assert report["file_url"]
    xml = sepa.client.get(report["file_url"])
    assert xml.status_code == 200
    document = etree.fromstring(xml.content)
    ids = document.xpath("//*[local-name()='EndToEndId']/text()")
    assert invoice.number in ids
    escape = sepa.client.get("/api/v1/staff/direct-debit-runs/..%2Fcanteen.toml/file")
    assert escape.status_code == 404
    assert sepa.client.get("/api/v1/staff/direct-debit-runs/NOPE/file").status_code == 404

    sepa.logout()
    sepa.login(sepa.template.concerto.username, NEW_PASSWORD)
    (entry,) = sepa.client.get(f"{HOUSEHOLD}/direct-debits").json()["mandates"]
    (announced,) = entry["upcoming"]
    assert announced["announced"] is True
    assert announced["collection_date"] == "2023-11-09"
    assert announced["invoice_number"] == invoice.number
    (notice,) = entry["pre_notifications"]
    assert notice["collection_date"] == "2023-11-09"
    assert notice["status"] == "queued"
    assert notice["recipients"]
    # Until the collection date the invoice is not paid: the debit is scheduled.
    detail = sepa.client.get(f"/api/v1/invoices/{invoice_id}").json()
    assert detail["status"] == "debit_scheduled"
    assert detail["status_label"] == "Prélèvement prévu le 09/11/2023"
    assert detail["scheduled_on"] == "2023-11-09"
    assert detail["balance_due"] == str(invoice.total.amount)
    # The e-mail goes out; after the collection date the debit is past; the bank returns it.
    sepa.canteen.accounts.send_outbox(ADMIN)
    sepa.clock.set(datetime(2023, 11, 20, 9, 0, tzinfo=PARIS))
    sepa.canteen.payments.record_debit_returns(
        FINANCE, [invoice.number], rejected_on=date(2023, 11, 16)
    )
    (entry,) = sepa.client.get(f"{HOUSEHOLD}/direct-debits").json()["mandates"]
    (past,) = entry["past"]
    assert past == {
        "invoice_id": invoice_id,
        "invoice_number": invoice.number,
        "amount": announced["amount"],
        "collection_date": "2023-11-09",
        "returned_on": "2023-11-16",
        "reason_code": None,
        "reason_label": None,
    }
    assert entry["pre_notifications"][0]["status"] == "sent"
    assert entry["pre_notifications"][0]["sent_at"]
    # The reopened invoice is forecast again for the next run.
    assert [d["invoice_id"] for d in entry["upcoming"]] == [invoice_id]
    assert entry["upcoming"][0]["announced"] is False


def test_documents_on_request_are_real_pdfs(family: tuple[Deployment, str]) -> None:
    web, _ = family
    offered = web.client.get(f"{HOUSEHOLD}/documents").json()
    assert [d["kind"] for d in offered] == [
        "statement",
        "attendance-certificate",
        "payment-certificate",
    ]
    assert {d["dated"] for d in offered} == {"2023-10-06"}
    by_kind = {d["kind"]: d for d in offered}
    certificate = web.client.get(by_kind["payment-certificate"]["url"])
    assert certificate.status_code == 200
    assert certificate.headers["content-type"] == "application/pdf"
    text = text_of(certificate.content)
    assert "ATTESTATION DE PAIEMENT" in text
    statement = web.canteen.billing.statement(FINANCE, "CONCERTO")
    assert statement.received.format_fr() in text
    for day in (date(2023, 10, 2), date(2023, 10, 5)):
        web.canteen.attendance.roll_call(ADMIN, day, {"CONCERTO-alban-rs": "present"})
    start, end = date(2023, 9, 1), date(2023, 10, 6)
    present = [
        r
        for r in web.canteen.attendance.records(
            FINANCE, start=start, end=end, household_id="CONCERTO"
        )
        if r.presence is Presence.PRESENT
    ]
    assert present
    attendance = web.client.get(by_kind["attendance-certificate"]["url"])
    assert attendance.status_code == 200
    text = text_of(attendance.content)
    assert "ATTESTATION DE PRÉSENCE" in text
    flat = " ".join(text.split())
    (line,) = web.canteen.documents.attendance_certificate(FINANCE, "CONCERTO", start, end).lines
    assert line.count == len(present)
    assert line.billed > 0  # September's Mondays, billed on 2 October
    assert line.billed_fr in flat
    assert line.presence_fr in flat
    assert "Repas facturés :" in flat
    assert "02/10, 05/10" in text
    pdf = web.client.get(by_kind["statement"]["url"])
    text = text_of(pdf.content)
    assert "RELEVÉ DE COMPTE" in text
    assert "Reste à payer" in text
    for url, field in (
        (f"{HOUSEHOLD}/payment-certificates/1999", "year"),
        (f"{HOUSEHOLD}/payment-certificates/2024", "year"),
        (f"{HOUSEHOLD}/payment-certificates/20x3", "year"),
        (f"{HOUSEHOLD}/attendance-certificate?start=2023-10-01&end=2023-09-01", "end"),
        (f"{HOUSEHOLD}/attendance-certificate?start=2023-11-01&end=2023-11-30", "start"),
        (f"{HOUSEHOLD}/attendance-certificate?start=2020-01-01&end=2023-09-30", "end"),
    ):
        refused = web.client.get(url)
        assert refused.status_code == 422, url
        assert refused.json()["field"] == field


def test_the_calendar_of_a_childs_bookings(family: tuple[Deployment, str]) -> None:
    web, _ = family
    response = web.client.get(f"{HOUSEHOLD}/children/concerto-alban/reservations.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    book = web.canteen.reservations.book_of(FINANCE, "CONCERTO-alban-rs")
    enrollment = web.canteen.enrollments.get(FINANCE, "CONCERTO-alban-rs")
    booked = [d for d in book.booked_days(None, None) if enrollment.is_bookable(d)]
    assert [e.decoded("dtstart") for e in events] == booked
    first = events[0]
    assert first.decoded("dtend") - first.decoded("dtstart") == timedelta(days=1)
    assert first.decoded("dtstamp") == SHOWN_AT  # UTC instant of "now"
    assert str(first["uid"]).endswith("@famille.ronde.example")
    assert calendar["x-wr-timezone"] == "Europe/Paris"
    assert web.client.get(f"{HOUSEHOLD}/children/nobody/reservations.ics").status_code == 404


def test_another_household_gets_nothing(web: Deployment) -> None:
    csrf = web.activate(web.template.other)
    headers = {"X-CSRF-Token": csrf}
    for url in (
        f"{HOUSEHOLD}/mandates",
        f"{HOUSEHOLD}/direct-debits",
        f"{HOUSEHOLD}/documents",
        f"{HOUSEHOLD}/payment-certificates/2023",
        f"{HOUSEHOLD}/attendance-certificate?start=2023-09-01&end=2023-09-30",
        f"{HOUSEHOLD}/statement/pdf",
        f"{HOUSEHOLD}/children/concerto-alban/reservations.ics",
        "/foyer/CONCERTO/prelevement",
        "/foyer/CONCERTO/documents",
    ):
        response = web.client.get(url)
        assert response.status_code in {403, 404}, url
        assert "Alban" not in response.text
    refused = web.client.post(
        f"{HOUSEHOLD}/mandates", json={"iban": IBAN, "accept": True}, headers=headers
    )
    assert refused.status_code == 403
    assert web.canteen.payments.mandates(FINANCE, "CONCERTO") == []
    for method, url in (
        ("POST", "/api/v1/staff/direct-debit-runs"),
        ("GET", "/api/v1/staff/direct-debit-runs/X/file"),
        ("GET", "/gestion/fermetures"),
        ("GET", "/gestion/prelevements"),
        ("GET", "/gestion/relances"),
    ):
        response = web.client.request(method, url, json={}, headers=headers)
        assert response.status_code == 403, url


def test_payment_return_reads_and_never_credits(web: Deployment) -> None:
    web.activate(web.template.other)
    web.logout()
    csrf = web.activate(web.template.concerto)
    invoice_id = bill_october(web)
    start = web.client.post(
        f"/api/v1/invoices/{invoice_id}/payments",
        json={"provider": "payzen"},
        headers={"X-CSRF-Token": csrf},
    ).json()
    transaction = start["transaction_id"]
    status = web.client.get(f"/api/v1/payments/payzen/{transaction}")
    assert status.status_code == 200
    body = status.json()
    assert body["credited"] is False
    assert body["invoice_id"] == invoice_id
    assert "en cours de confirmation" in body["message"]
    page = web.client.get(f"/paiement/retour/payzen?refdet={transaction}&resultrans=P")
    assert page.status_code == 200
    assert "en cours de confirmation" in page.text
    assert web.client.get(f"/api/v1/invoices/{invoice_id}").json()["paid"] == "0.00"
    assert web.client.get("/api/v1/payments/payzen/UNKNOWN1").status_code == 404
    # PayFiP's browser return lands on the page with its (unsigned) result: shown, not trusted.
    refused = web.client.get(f"/paiement/retour/payzen?refdet={transaction}&resultrans=A")
    assert "pas abouti" in refused.text
    assert web.client.get(f"/api/v1/invoices/{invoice_id}").json()["paid"] == "0.00"
    # Another family cannot read it.
    web.logout()
    web.login(web.template.other.username, NEW_PASSWORD)
    assert web.client.get(f"/api/v1/payments/payzen/{transaction}").status_code == 403


def test_the_family_pages(sepa: Deployment) -> None:
    csrf = sepa.activate(sepa.template.concerto)
    page = sepa.client.get("/foyer/CONCERTO/prelevement")
    assert page.status_code == 200
    assert "Adhérer au prélèvement automatique" in page.text
    assert 'href="/foyer/CONCERTO/prelevement"' in page.text  # the menu links it
    refused = sepa.client.post(
        "/foyer/CONCERTO/prelevement",
        data={"csrf_token": csrf, "iban": "FR76 3000 6000 0112 3456 7890 188", "accept": "oui"},
    )
    assert refused.status_code == 422
    assert "clé de contrôle incorrecte" in refused.text
    assert 'aria-invalid="true"' in refused.text
    no_token = sepa.client.post("/foyer/CONCERTO/prelevement", data={"iban": IBAN, "accept": "oui"})
    assert no_token.status_code == 403
    done = sepa.client.post(
        "/foyer/CONCERTO/prelevement",
        data={"csrf_token": csrf, "iban": IBAN, "holder": "Claire CONCERTO", "accept": "oui"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "mandat de prélèvement SEPA est signé" in done.text
    assert "Adhérer" not in done.text
    assert "FR76 **** **** **** **** ***0 189" in done.text
    documents = sepa.client.get("/foyer/CONCERTO/documents")
    assert documents.status_code == 200
    assert "Attestation de paiement 2023" in documents.text
    assert "/api/v1/households/CONCERTO/payment-certificates/2023" in documents.text


def test_the_staff_pages(sepa: Deployment) -> None:
    csrf = sepa.activate(sepa.template.staff)
    closures = sepa.client.get("/gestion/fermetures")
    assert closures.status_code == 200
    assert "Vacances" not in closures.text  # site closures only, not holidays
    added = sepa.client.post(
        "/gestion/fermetures",
        data={"csrf_token": csrf, "site": "ronde", "name": "Grève", "du": "2023-10-16"},
    )
    assert added.status_code == 200
    assert "Fermeture enregistrée" in added.text
    assert "Grève" in added.text
    assert "16/10/2023" in added.text
    enrollment = sepa.canteen.enrollments.get(FINANCE, "CONCERTO-alban-rs")
    assert not enrollment.is_bookable(date(2023, 10, 16))
    bad = sepa.client.post(
        "/gestion/fermetures",
        data={"csrf_token": csrf, "site": "ronde", "name": "Travaux", "du": "16/10/2023"},
    )
    assert bad.status_code == 422
    assert "date du premier jour invalide" in bad.text
    sepa.canteen.payments.sign_mandate(ADMIN, "H000001", iban=IBAN)
    sepa.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    sepa.canteen.billing.run_postpaid(FINANCE, "2023-10")
    form = sepa.client.get("/gestion/prelevements")
    assert 'value="2023-11-07"' in form.text
    too_soon = sepa.client.post(
        "/gestion/prelevements", data={"csrf_token": csrf, "date": "2023-11-03"}
    )
    assert too_soon.status_code == 422
    assert "la date la plus proche possible est le 07/11/2023" in too_soon.text
    produced = sepa.client.post("/gestion/prelevements", data={"csrf_token": csrf})
    assert produced.status_code == 200, produced.text
    assert "Télécharger le fichier pain.008" in produced.text
    link = re.search(r'href="(/api/v1/staff/direct-debit-runs/[^"]+/file)"', produced.text)
    assert link is not None
    assert b"pain.008.001.02" in sepa.client.get(link.group(1)).content
    reminders = sepa.client.post("/gestion/relances", data={"csrf_token": csrf})
    assert reminders.status_code == 200
    assert "relance(s) pour" in reminders.text


NEW_IBAN = "FR14 2004 1010 0505 0001 3M02 606"


def test_the_family_changes_its_iban_then_revokes_its_mandate_on_the_page(
    sepa: Deployment,
) -> None:
    csrf = sepa.activate(sepa.template.concerto)
    no_mandate = sepa.client.post(
        "/foyer/CONCERTO/prelevement/revocation", data={"csrf_token": csrf, "confirm": "oui"}
    )
    assert no_mandate.status_code == 404
    assert "pas de mandat de prélèvement actif" in no_mandate.text
    sepa.client.post(
        "/foyer/CONCERTO/prelevement",
        data={"csrf_token": csrf, "iban": IBAN, "accept": "oui"},
    )
    page = sepa.client.get("/foyer/CONCERTO/prelevement")
    assert "Changer de compte bancaire" in page.text
    assert "Arrêter le prélèvement automatique" in page.text
    no_token = sepa.client.post("/foyer/CONCERTO/prelevement/iban", data={"new_iban": NEW_IBAN})
    assert no_token.status_code == 403
    bad = sepa.client.post(
        "/foyer/CONCERTO/prelevement/iban",
        data={"csrf_token": csrf, "new_iban": "FR76 3000 6000 0112 3456 7890 188"},
    )
    assert bad.status_code == 422
    assert "clé de contrôle incorrecte" in bad.text
    assert 'id="new_iban" name="new_iban" value="FR76 3000 6000 0112 3456 7890 188"' in bad.text
    changed = sepa.client.post(
        "/foyer/CONCERTO/prelevement/iban",
        data={"csrf_token": csrf, "new_iban": NEW_IBAN},
        follow_redirects=True,
    )
    assert changed.status_code == 200
    assert "Vos coordonnées bancaires sont modifiées" in changed.text
    assert "FR14 **** **** **** **** ***2 606" in changed.text
    unconfirmed = sepa.client.post(
        "/foyer/CONCERTO/prelevement/revocation", data={"csrf_token": csrf}
    )
    assert unconfirmed.status_code == 422
    assert "cochez la case de confirmation" in unconfirmed.text
    revoked = sepa.client.post(
        "/foyer/CONCERTO/prelevement/revocation",
        data={"csrf_token": csrf, "confirm": "oui"},
        follow_redirects=True,
    )
    assert "Votre mandat est révoqué" in revoked.text
    assert "Révoqué" in revoked.text
    assert "Adhérer au prélèvement automatique" in revoked.text  # may sign again
    (mandate,) = sepa.canteen.payments.mandates(FINANCE, "CONCERTO")
    assert mandate.iban == NEW_IBAN.replace(" ", "")
    assert not mandate.collectable


def test_the_api_changes_the_iban_and_revokes(sepa: Deployment) -> None:
    csrf = sepa.activate(sepa.template.concerto)
    headers = {"X-CSRF-Token": csrf}
    url = f"{HOUSEHOLD}/mandates/active"
    missing = sepa.client.post(f"{url}/iban", json={"iban": NEW_IBAN}, headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "ce foyer n'a pas de mandat de prélèvement actif"
    assert sign(sepa, csrf).status_code == 201
    empty = sepa.client.post(f"{url}/iban", json={"iban": " "}, headers=headers)
    assert empty.status_code == 422
    assert empty.json()["field"] == "iban"
    changed = sepa.client.post(f"{url}/iban", json={"iban": NEW_IBAN}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["iban"] == "FR14 **** **** **** **** ***2 606"
    no_csrf = sepa.client.post(f"{url}/revocation", json={})
    assert no_csrf.status_code == 403
    never_collected = sepa.client.post(
        f"{url}/revocation", json={"final_collection": True}, headers=headers
    )
    assert never_collected.status_code == 422
    assert "jamais été prélevé" in never_collected.json()["detail"]
    revoked = sepa.client.post(f"{url}/revocation", json={}, headers=headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    again = sepa.client.post(f"{url}/revocation", json={}, headers=headers)
    assert again.status_code == 404
    sepa.logout()
    other = {"X-CSRF-Token": sepa.activate(sepa.template.other)}
    for action, body in (("iban", {"iban": NEW_IBAN}), ("revocation", {})):
        refused = sepa.client.post(f"{url}/{action}", json=body, headers=other)
        assert refused.status_code == 403, action


def test_paying_online_offers_only_the_online_providers(template: Template, tmp_path: Path) -> None:
    """A deployment with ``[payment.sepa]`` and ``[payment.manual]`` (as in the deployment
    guide's example): "Payer" uses PayZen, and neither table is offered for paying online."""
    folder = tmp_path / "deployment"
    shutil.copytree(template.folder, folder)
    with (folder / "canteen.toml").open("a", encoding="utf-8") as config:
        config.write(SEPA + '\n[payment.manual]\naccepted_methods = ["cash", "cheque"]\n')
    clock = FixedClock(SHOWN_AT)
    canteen = Canteen.open(folder / "canteen.toml", clock=clock)
    app = create_app(canteen, WebSettings(public_url="https://famille.ronde.example"))
    web = Deployment(
        canteen=canteen, clock=clock, app=app, client=TestClient(app), template=template
    )
    with web.client:
        csrf = web.activate(template.concerto)
        invoice_id = bill_october(web)
        for provider in ("sepa", "manual"):
            refused = web.client.post(
                f"/api/v1/invoices/{invoice_id}/payments",
                json={"provider": provider},
                headers={"X-CSRF-Token": csrf},
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["field"] == "provider"
            assert refused.json()["detail"].endswith("(possibles : payzen)")
        listed = web.client.get("/foyer/CONCERTO/factures")
        assert '<input type="hidden" name="provider" value="payzen">' in listed.text
        paying = web.client.post(
            f"/factures/{invoice_id}/payer", data={"csrf_token": csrf, "provider": "payzen"}
        )
        assert paying.status_code == 200, paying.text
        assert "https://secure.payzen.eu/vads-payment/" in paying.text
    canteen.close()


def test_the_invoice_pdf_says_how_to_pay_as_the_deployment_offers(sepa: Deployment) -> None:
    """The PDF a family downloads from "Mes factures" names online payment and direct debit
    (not only the counter), then, once a mandate is signed, the date of its debit."""
    csrf = sepa.activate(sepa.template.concerto)
    invoice_id = bill_october(sepa)
    before = text_of(sepa.client.get(f"/api/v1/invoices/{invoice_id}/pdf").content)
    assert "Paiement en ligne par carte bancaire (PayZen)" in before
    assert "adhérez au prélèvement automatique" in before
    assert "Espèces ou chèque à la régie" in before
    assert sign(sepa, csrf).status_code == 201
    (entry,) = sepa.client.get(f"{HOUSEHOLD}/direct-debits").json()["mandates"]
    (debit,) = [d for d in entry["upcoming"] if d["invoice_id"] == invoice_id]
    day = date.fromisoformat(debit["collection_date"])
    after = " ".join(text_of(sepa.client.get(f"/api/v1/invoices/{invoice_id}/pdf").content).split())
    assert "Vous avez adhéré au prélèvement automatique" in after
    assert f"sera prélevé le {day:%d/%m/%Y}" in after
    assert "Espèces ou chèque à la régie" not in after


def test_no_mandate_is_offered_or_signed_without_payment_sepa(web: Deployment) -> None:
    """Walkthrough: the demo has no ``[payment.sepa]``, yet the family could sign a mandate
    nothing would ever collect. The page does not offer the signature (it says why), and the
    API and the page's form refuse it in French; nothing is stored."""
    csrf = web.activate(web.template.concerto)
    shown = web.client.get("/foyer/CONCERTO/prelevement")
    assert shown.status_code == 200, shown.text
    assert "Signer le mandat" not in shown.text
    assert "Adhérer au prélèvement automatique" not in shown.text
    assert "pas proposé sur ce portail" in shown.text
    refused = web.client.post(
        f"{HOUSEHOLD}/mandates",
        json={"iban": IBAN, "accept": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "pas proposé sur ce portail" in refused.json()["detail"]
    posted = web.client.post(
        "/foyer/CONCERTO/prelevement",
        data={"csrf_token": csrf, "iban": IBAN, "accept": "oui"},
    )
    assert posted.status_code == 422, posted.text
    assert posted.text.count("pas proposé sur ce portail") == 1
    assert "Signer le mandat" not in posted.text
    assert web.canteen.payments.mandates(FINANCE, "CONCERTO") == []
    assert not [
        p for p in web.canteen.papers.of_household(ADMIN, "CONCERTO") if p.kind == "mandat_sepa"
    ]


def test_the_attendance_certificate_states_meals_billed_without_a_roll_call() -> None:
    """Walkthrough: "présents 0 jour(s)" for a child billed 4 meals, as nobody took the roll
    call. The PDF states the meals billed and says there was no roll call."""
    from canteen_adapters.documents.on_request import render_attendance_certificate
    from canteen_core.config.deployment import IssuerSettings
    from canteen_core.services.documents import AttendanceCertificate, AttendanceLine

    days = (date(2023, 9, 4), date(2023, 9, 5), date(2023, 9, 7), date(2023, 9, 8))
    line = AttendanceLine(
        child_id="alban",
        child_name="Alban CONCERTO",
        birth_date=date(2015, 3, 2),
        service_name="Restauration scolaire",
        site_name="École élémentaire Ronde",
        days=(),
        billed_days=days,
    )
    certificate = AttendanceCertificate(
        household_id="CONCERTO",
        payer_name="Madame CONCERTO",
        start=date(2023, 9, 1),
        end=date(2023, 9, 30),
        issued_on=date(2023, 10, 6),
        lines=(line,),
    )
    issuer = IssuerSettings(name="Régie de restauration scolaire de Ronde", code="RONDE")
    flat = " ".join(text_of(render_attendance_certificate(certificate, issuer=issuer)).split())
    assert "4 repas" in flat
    assert "pas d'appel" in flat
    assert "Repas facturés : 04/09, 05/09, 07/09, 08/09" in flat
    assert "aucun appel enregistré" in flat
    assert "0 jour" not in flat
