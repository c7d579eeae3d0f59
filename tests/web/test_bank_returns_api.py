"""Staff load the bank's return file over HTTP; the family reads the return and its reason on
"Mes prélèvements" (the demo's SQLite deployment with ``[payment.sepa]``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from canteen_adapters.cli.demo import FINANCE
from canteen_core.domain.clock import PARIS
from services._bank_files import camt054

from .conftest import NEW_PASSWORD, Deployment
from .test_family import bill_october
from .test_sepa_documents import HOUSEHOLD, sepa, sign  # noqa: F401  (fixture)

RETURNS = "/api/v1/staff/direct-debit-returns"


def test_staff_load_a_return_file_and_the_family_sees_why(sepa: Deployment) -> None:  # noqa: F811
    sepa.activate(sepa.template.staff)
    sepa.logout()
    csrf = sepa.activate(sepa.template.concerto)
    assert sign(sepa, csrf).status_code == 201
    invoice_id = bill_october(sepa)
    invoice = sepa.canteen.billing.invoice(FINANCE, invoice_id).invoice
    sepa.logout()
    staff = sepa.login(sepa.template.staff.username, NEW_PASSWORD)
    headers = {"X-CSRF-Token": staff, "Content-Type": "application/xml"}
    run = sepa.client.post(
        "/api/v1/staff/direct-debit-runs",
        json={"collection_date": "2023-11-09"},
        headers={"X-CSRF-Token": staff},
    )
    assert run.status_code == 200, run.text
    sepa.clock.set(datetime(2023, 11, 20, 9, 0, tzinfo=PARIS))
    data = camt054(
        "NTF-20231116", [(invoice.number, "AM04", invoice.total.amount)], booked=date(2023, 11, 16)
    )

    refused = sepa.client.post(RETURNS, content=b"<oops", headers=headers)
    assert refused.status_code == 422
    assert refused.json()["field"] == "file"
    assert "n'est pas un XML valide (ligne 1)" in refused.json()["detail"]
    unknown = camt054("NTF-X", [("2099-000001", "AM04", Decimal("1.00"))])
    refused = sepa.client.post(RETURNS, content=unknown, headers=headers)
    assert refused.status_code == 422
    assert "2099-000001" in refused.json()["detail"]
    as_json = sepa.client.post(RETURNS, json={"file": "x"}, headers={"X-CSRF-Token": staff})
    assert as_json.status_code == 422
    assert "application/xml" in as_json.json()["detail"]
    assert sepa.canteen.billing.invoice(FINANCE, invoice_id).balance_due.is_zero

    loaded = sepa.client.post(RETURNS, content=data, headers=headers)
    assert loaded.status_code == 200, loaded.text
    body = loaded.json()
    assert (body["kind"], body["already_loaded"]) == ("camt.054", False)
    (returned,) = body["returns"]
    assert returned["invoice_ids"] == [invoice_id]
    assert (returned["reason_code"], returned["reason_label"]) == ("AM04", "provision insuffisante")
    assert "1 prélèvement rejeté" in body["message"]
    again = sepa.client.post(RETURNS, content=data, headers=headers).json()
    assert again["already_loaded"] is True
    assert again["returns"] == []
    assert "déjà chargé" in again["message"]
    assert sepa.canteen.billing.invoice(FINANCE, invoice_id).balance_due == invoice.total

    sepa.logout()
    csrf = sepa.login(sepa.template.concerto.username, NEW_PASSWORD)
    (entry,) = sepa.client.get(f"{HOUSEHOLD}/direct-debits").json()["mandates"]
    (past,) = entry["past"]
    assert (past["returned_on"], past["reason_code"], past["reason_label"]) == (
        "2023-11-16",
        "AM04",
        "provision insuffisante",
    )
    family = sepa.client.post(
        RETURNS, content=data, headers={"X-CSRF-Token": csrf, "Content-Type": "application/xml"}
    )
    assert family.status_code == 403
