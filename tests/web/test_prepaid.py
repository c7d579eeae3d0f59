"""A prepaid deployment over HTTP: the staff's billing run invoices the baskets of a month, and
a family's validation invoices the basket of each month it booked new days in."""

from __future__ import annotations

from canteen_adapters.cli.demo import ADMIN

from .conftest import Deployment


def test_the_staff_billing_run_of_a_prepaid_deployment_invoices_the_baskets(
    prepaid_web: Deployment,
) -> None:
    web = prepaid_web
    csrf = web.activate(web.template.staff)
    # 6 October: November is to come, its baskets are invoiced in advance.
    run = web.client.post(
        "/api/v1/staff/billing-runs", json={"period": "2023-11"}, headers={"X-CSRF-Token": csrf}
    )
    assert run.status_code == 200, run.text
    done = run.json()
    assert done["issued"] == 4
    assert (done["skipped"], done["credit_notes"], done["already_billed"]) == ([], [], 0)
    concerto = web.canteen.billing.statement(ADMIN, "CONCERTO")
    assert [(i.invoice.label, str(i.invoice.total.amount)) for i in concerto.invoices][-1] == (
        "NOVEMBRE 2023",
        "8.40",  # 4 booked days at 2.10
    )
    again = web.client.post(
        "/api/v1/staff/billing-runs", json={"period": "2023-11"}, headers={"X-CSRF-Token": csrf}
    ).json()
    assert (again["issued"], again["already_billed"]) == (0, 4)
