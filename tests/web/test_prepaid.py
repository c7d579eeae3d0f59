"""A prepaid deployment over HTTP: the staff's billing run invoices the baskets of a month, and
a family's validation invoices the basket of each month it booked new days in."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import attrs

from canteen_adapters.cli.demo import ADMIN

from .conftest import CONCERTO_ENROLLMENT, NEW_PASSWORD, Deployment


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


def test_a_family_validation_on_a_prepaid_deployment_says_which_invoice_it_issued(
    prepaid_web: Deployment,
) -> None:
    web = prepaid_web
    csrf = web.activate(web.template.concerto)
    url = f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/reservations"
    body = {"changes": [{"day": "2023-10-17", "booked": True}]}
    done = web.client.post(url, json=body, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["booked"] == ["2023-10-17"]
    # October's basket: the 3 days booked before and the 17th, none invoiced yet (4 x 3.35).
    assert [(i["label"], i["total"]) for i in result["invoices"]] == [("OCTOBRE 2023", "13.40")]
    (invoice,) = result["invoices"]
    assert (invoice["number"], invoice["payable_online_from"]) == ("2023-000005", "2023-10-06")
    assert result["invoicing_problems"] == []
    shown = web.client.get(f"/api/v1/invoices/{invoice['id']}").json()
    assert [line["days"][-1] for line in shown["lines"]] == ["2023-10-17"]
    # Nothing new booked (the day is booked already): nothing invoiced.
    again = web.client.post(url, json=body, headers={"X-CSRF-Token": csrf}).json()
    assert (again["booked"], again["invoices"]) == ([], [])
    # A preview invoices nothing.
    preview = web.client.post(
        f"{url}/preview",
        json={"changes": [{"day": "2023-10-19", "booked": True}]},
        headers={"X-CSRF-Token": csrf},
    ).json()
    assert "invoices" not in preview or preview["invoices"] == []


def test_a_postpaid_validation_issues_no_invoice(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    done = web.client.post(
        f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/reservations",
        json={"changes": [{"day": "2023-10-17", "booked": True}]},
        headers={"X-CSRF-Token": csrf},
    ).json()
    assert (done["booked"], done["invoices"], done["invoicing_problems"]) == (
        ["2023-10-17"],
        [],
        [],
    )


def _validate_the_17th(web: Deployment) -> tuple[str, str]:
    """Madame CONCERTO books Tuesday 17 October on the portal's step 2: the page's HTML and
    its text."""
    csrf = web.activate(web.template.concerto)
    page = web.client.post(
        f"/reservations/{CONCERTO_ENROLLMENT}/valider",
        data={"csrf_token": csrf, "book": "2023-10-17", "vue": "semaine", "date": "2023-10-16"},
    )
    assert page.status_code == 200, page.text
    text = html.unescape(re.sub(r"<[^>]+>", "", page.text))
    assert "Vos réservations sont enregistrées : 1 repas réservé" in text
    return page.text, text


def test_the_portal_says_which_invoice_a_validation_issued_with_a_link_to_pay_it(
    prepaid_web: Deployment,
) -> None:
    web = prepaid_web
    page, text = _validate_the_17th(web)
    assert "Facture OCTOBRE 2023 émise : 13,40 €. La payer en ligne" in text
    assert '<a href="/foyer/CONCERTO/factures">La payer en ligne</a>' in page


def test_the_portal_says_when_a_validation_could_not_be_invoiced(
    prepaid_web: Deployment,
) -> None:
    web = prepaid_web
    (grid,) = [g for g in web.canteen.billing.tariff_grids(ADMIN) if g.service_id == "rs"]
    october = date(2023, 10, 1)
    web.canteen.billing.save_tariff_grid(
        ADMIN, attrs.evolve(grid, valid_until=october - timedelta(days=1))
    )
    _, text = _validate_the_17th(web)
    assert "La facture OCTOBRE 2023 n'a pas pu être émise : aucune grille tarifaire" in text
    assert "Facture OCTOBRE 2023 émise" not in text


def test_the_back_office_billing_page_of_a_prepaid_deployment_invoices_the_baskets(
    prepaid_web: Deployment,
) -> None:
    web = prepaid_web
    csrf = web.activate(web.template.staff)
    page = web.client.post("/gestion/facturation", data={"csrf_token": csrf, "period": "2023-11"})
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert "Facturation du 01/11/2023 au 30/11/2023 : 4 facture(s) émise(s)" in text
    again = html.unescape(
        web.client.post("/gestion/facturation", data={"csrf_token": csrf, "period": "2023-11"}).text
    )
    assert "0 facture(s) émise(s) pour 0,00 € ; 4 foyer(s) déjà facturé(s)" in again
    # A November day the family cancels in time: the next run credits it, and says so in the
    # prepaid words ("Annulations dans les délais", as ``canteen bill``), not "Régularisation".
    november = web.canteen.billing.statement(ADMIN, "CONCERTO").invoices[-1].invoice
    day = november.lines[0].days[0]
    web.logout()
    family = web.activate(web.template.concerto)
    cancelled = web.client.post(
        f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/reservations",
        json={"changes": [{"day": day.isoformat(), "booked": False}]},
        headers={"X-CSRF-Token": family},
    )
    assert cancelled.json()["cancelled"] == [day.isoformat()], cancelled.text
    web.logout()
    csrf = web.login(web.template.staff.username, NEW_PASSWORD)
    credited = html.unescape(
        web.client.post("/gestion/facturation", data={"csrf_token": csrf, "period": "2023-11"}).text
    )
    assert "Annulations dans les délais : 1 avoir(s) émis pour 2,10 €" in credited
    assert "Régularisation" not in credited
