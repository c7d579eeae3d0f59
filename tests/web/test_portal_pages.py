"""Portal pages over HTTP: the month grid's rows, the roll call's names, the back office's
reminders for finance staff, and a mandate's IBAN change and revocation."""

from __future__ import annotations

import re
from datetime import datetime

import attrs
import pytest

from canteen_adapters.cli.demo import ADMIN
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import NotAuthorizedError

from .conftest import CONCERTO_ENROLLMENT, NEW_PASSWORD, Deployment, welcome
from .test_family import bill_october


def test_october_month_view_has_no_empty_week_39(family: tuple[Deployment, str]) -> None:
    web, _ = family
    page = web.client.get("/reservations/CONCERTO-alban-rs?vue=mois&date=2023-10-01")
    assert page.status_code == 200
    weeks = re.findall(r'<th scope="row">Semaine (\d+)</th>', page.text)
    assert weeks == ["40", "41", "42", "43", "44"]


def test_roll_call_shows_names_not_ids(web: Deployment) -> None:
    web.activate(web.template.staff)
    page = web.client.get("/gestion/appel?site=ronde&jour=2023-10-06")
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td><td>([^<]*)</td>", page.text)
    assert ("CONCERTO Maman", "Alban CONCERTO") in rows
    assert all(household != "CONCERTO" and "-" not in child for household, child in rows)
    # The enrollment id stays only as the form field's name.
    assert 'name="presence-CONCERTO-alban-rs"' in page.text


def test_back_office_requests_show_names_not_ids(web: Deployment) -> None:
    csrf = web.activate(web.template.concerto)
    web.client.post(
        f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/reservations",
        json={"changes": [{"day": "2023-10-10", "booked": True}]},
        headers={"X-CSRF-Token": csrf},
    )
    web.logout()
    web.activate(web.template.staff)
    page = web.client.get("/gestion")
    assert page.status_code == 200
    body = page.text.split("<tbody>", 1)[1]
    cells = re.findall(r'<td><a href="[^"]*">([^<]*)</a></td>\s*<td>([^<]*)</td>', body)
    assert cells == [("CONCERTO Maman", "Alban CONCERTO")]
    # The ids stay only in the link and the form's action, never as a cell's text.
    assert re.search(r"<td>[^<]*-[^<]*</td>", body) is None


def test_a_finance_only_account_reads_the_reminders_page(web: Deployment) -> None:
    web.canteen.accounts.invite(
        ADMIN,
        email="regie@ronde.example",
        display_name="Régie",
        roles=(Role.FINANCE,),
        username="regie",
        account_id="regie",
    )
    web.activate(welcome(web.canteen, "regie"))
    bill_october(web)
    web.clock.set(datetime(2023, 12, 20, 9, 0, tzinfo=PARIS))  # October's invoice is overdue
    csrf = web.login("regie", NEW_PASSWORD)
    sent = web.client.post("/gestion/relances", data={"csrf_token": csrf})
    assert sent.status_code == 200, sent.text
    assert "relance(s) pour" in sent.text
    page = web.client.get("/gestion/relances")
    assert page.status_code == 200, page.text
    assert "@" in page.text.split("<tbody>", 1)[1]  # a reminder's recipient is listed
    with pytest.raises(NotAuthorizedError):
        web.canteen.accounts.outbox(Actor.staff("regie", Role.FINANCE))


def test_logging_out_from_the_pages_ends_the_session_and_is_audited(
    family: tuple[Deployment, str],
) -> None:
    web, csrf = family
    left = web.client.post("/deconnexion", data={"csrf_token": csrf}, follow_redirects=False)
    assert left.status_code in (302, 303)
    assert left.headers["location"] == "/connexion?au-revoir=1"
    assert web.client.get("/api/v1/session").status_code == 401
    (entry,) = web.canteen.audit.entries(ADMIN, action="log_out")
    assert entry.actor_id == "concerto-maman"


def test_the_direct_debit_page_says_when_it_is_not_configured(web: Deployment) -> None:
    """The demo has no ``[payment.sepa]``: the back office's "Prélèvements" page says so at
    once instead of offering a form that can only be refused."""
    csrf = web.activate(web.template.staff)
    shown = web.client.get("/gestion/prelevements")
    assert shown.status_code == 200, shown.text
    assert "Le prélèvement SEPA n'est pas configuré sur ce portail" in shown.text
    assert "Produire le fichier de prélèvement" not in shown.text
    refused = web.client.post("/gestion/prelevements", data={"csrf_token": csrf})
    assert refused.status_code == 404
    assert refused.text.count("pas configuré sur ce portail") == 1


def test_the_billing_page_says_what_the_run_credited(web: Deployment) -> None:
    """A closure found out after billing: the next run from the "Facturation" page says it
    issued régularisation credit notes and for how much, as it says what it billed."""
    csrf = web.activate(web.template.staff)
    web.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    october = web.client.post(
        "/gestion/facturation", data={"csrf_token": csrf, "period": "2023-10"}
    )
    assert october.status_code == 200, october.text
    assert "Régularisation" not in october.text
    closed = web.client.post(
        "/api/v1/staff/sites/ronde/closures",
        json={"name": "Grève", "first_day": "2023-10-02", "last_day": "2023-10-31"},
        headers={"X-CSRF-Token": csrf},
    )
    assert closed.status_code == 200, closed.text
    web.clock.set(datetime(2023, 12, 4, 9, 0, tzinfo=PARIS))
    november = web.client.post(
        "/gestion/facturation", data={"csrf_token": csrf, "period": "2023-11"}
    )
    assert november.status_code == 200, november.text
    assert re.search(r"Régularisation : \d+ avoir\(s\) émis pour [\d  ,]+ € sur des", november.text)
    assert "non facturé" not in november.text
    # A grid without the non-resident price: the page names the households it left out.
    (grid,) = [g for g in web.canteen.billing.tariff_grids(ADMIN) if g.service_id == "rs"]
    prices = {c: p for c, p in grid.prices.items() if c.value != "non_resident_child"}
    web.canteen.billing.save_tariff_grid(
        ADMIN,
        attrs.evolve(grid, prices=prices, required_categories=frozenset(prices)),
        reprice_billed=True,
    )
    web.canteen.families.save_household(
        ADMIN, attrs.evolve(web.canteen.families.get(ADMIN, "CONCERTO"), resident=False)
    )
    web.clock.set(datetime(2024, 1, 3, 9, 0, tzinfo=PARIS))
    december = web.client.post(
        "/gestion/facturation", data={"csrf_token": csrf, "period": "2023-12"}
    )
    assert december.status_code == 200, december.text
    assert "foyer(s) non facturé(s)" in december.text
    assert '<a href="/gestion/foyers/CONCERTO">CONCERTO</a> : ' in december.text
