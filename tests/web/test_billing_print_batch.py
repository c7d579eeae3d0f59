"""The staff billing route delivers the new invoices: e-mailed to paperless households, and a
print batch of the others that staff download (the demo's SQLite deployment)."""

from __future__ import annotations

import io
from datetime import datetime

from pypdf import PdfReader

from canteen_adapters.cli.demo import ADMIN, FINANCE
from canteen_core.domain.clock import PARIS

from .conftest import NEW_PASSWORD, Deployment
from .test_staff import staff_session

RUNS = "/api/v1/staff/billing-runs"


def test_a_billing_run_emails_the_paperless_and_prints_the_others(web: Deployment) -> None:
    web.canteen.paperless.consent(ADMIN, "CONCERTO")
    web.activate(web.template.concerto)
    web.logout()
    csrf = staff_session(web)
    web.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    run = web.client.post(RUNS, json={"period": "2023-10"}, headers={"X-CSRF-Token": csrf})
    assert run.status_code == 200, run.text
    body = run.json()
    assert body["emailed"] == 1
    assert body["printed"] == body["issued"] - 1 >= 1
    assert body["print_batch_url"] == f"{RUNS}/2023-10/print-batch"

    batch = web.client.get(body["print_batch_url"])
    assert batch.status_code == 200
    assert batch.headers["content-type"].startswith("application/pdf")
    assert "factures-a-imprimer-2023-10.pdf" in batch.headers["content-disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(batch.content)).pages)
    concerto = web.canteen.billing.invoices_page(FINANCE, "CONCERTO").rows[0].number
    assert "Facture n°" in text
    assert concerto not in text

    again = web.client.post(RUNS, json={"period": "2023-10"}, headers={"X-CSRF-Token": csrf})
    assert again.json()["issued"] == 0
    assert again.json()["print_batch_url"] is None
    assert web.client.get(f"{RUNS}/2023-10/print-batch").content == batch.content
    empty = web.client.get(f"{RUNS}/2022-10/print-batch")
    assert empty.status_code == 404
    assert "Aucune facture à imprimer" in empty.json()["detail"]
    bad = web.client.get(f"{RUNS}/octobre/print-batch")
    assert bad.status_code == 422
    assert bad.json()["field"] == "period"

    web.logout()
    web.login(web.template.concerto.username, NEW_PASSWORD)
    assert web.client.get(body["print_batch_url"]).status_code == 403
