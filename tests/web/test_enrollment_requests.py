"""Enrollment requests and "Tarification" over HTTP: a family asks, bad requests are refused
in French with nothing stored, staff accept, the family is e-mailed and sees the state; the
tariffs route explains the family's price."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from canteen_adapters.cli.demo import ADMIN

from .conftest import OTHER, Deployment

REQUESTS = "/api/v1/households/CONCERTO/enrollment-requests"
ARIELLE = {"child_id": "concerto-arielle", "service_id": "rs", "site_id": "ronde"}


def ask(web: Deployment, csrf: str, **changes: Any) -> Any:
    body: dict[str, Any] = {**ARIELLE, "school_year": 2023, **changes}
    return web.client.post(REQUESTS, json=body, headers={"X-CSRF-Token": csrf})


def test_a_family_asks_and_staff_accept(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    offers = web.client.get("/api/v1/enrollment-offers").json()
    # The demo's lunch and its activities beyond lunch (docs/rules/activities.md).
    assert sorted((o["service_id"], o["site_id"]) for o in offers) == [
        ("alsh", "ronde"),
        ("mercredi", "ronde"),
        ("rs", "ronde"),
        ("soir", "ronde"),
    ]
    asked = ask(web, csrf, note="Arielle est végétarienne")
    assert asked.status_code == 201, asked.text
    assert asked.json()["status_label"] == "En attente d'instruction"
    dashboard = web.client.get("/api/v1/households/CONCERTO/dashboard").json()
    assert [r["status_label"] for r in dashboard["enrollment_requests"]] == [
        "En attente d'instruction"
    ]
    # A family never reaches the back office.
    assert web.client.get("/api/v1/staff/enrollment-requests").status_code == 403

    web.logout()
    staff = web.activate(web.template.staff)
    (pending,) = web.client.get("/api/v1/staff/enrollment-requests").json()
    assert pending["label"] == "Restauration Scolaire à Ecole Élémentaire RONDE (2023-2024)"
    done = web.client.post(
        f"/api/v1/staff/enrollment-requests/{pending['id']}/decision",
        json={"approve": True},
        headers={"X-CSRF-Token": staff},
    )
    assert done.status_code == 200, done.text
    enrollment_id = done.json()["enrollment_id"]
    assert web.client.get("/api/v1/staff/enrollment-requests").json() == []
    mails = [
        r.message
        for r in web.canteen.accounts.outbox(ADMIN)
        if r.message.kind == "enrollment-request-decided"
    ]
    assert [m.to_address for m in mails] == ["abc@gmail.com"]

    web.logout()
    web.login(web.template.concerto.username, "Ronde-Cantine-2023!")
    dashboard = web.client.get("/api/v1/households/CONCERTO/dashboard").json()
    assert dashboard["enrollment_requests"][0]["status_label"] == "Acceptée"
    assert enrollment_id in [e["id"] for e in dashboard["enrollments"]]
    grid = web.client.get(f"/api/v1/enrollments/{enrollment_id}/weeks/2023-W42")
    assert grid.status_code == 200, grid.text


@pytest.mark.parametrize(
    ("changes", "status", "field", "words"),
    [
        ({"child_id": "nobody"}, 404, None, "membre de votre foyer"),
        ({"child_id": f"{OTHER}-C1"}, 404, None, "membre de votre foyer"),
        ({"site_id": "lac"}, 422, "site_id", "pas proposée sur ce site"),
        ({"child_id": "concerto-alban"}, 409, None, "déjà inscrit"),
        ({"school_year": 2019}, 422, "school_year", "2023-2024 ou 2024-2025"),
        ({"tariff_category": "vip"}, 422, "tariff_category", "catégorie tarifaire inconnue"),
    ],
)
def test_bad_requests_are_refused_in_french_and_nothing_is_stored(
    family: tuple[Deployment, str],
    changes: dict[str, Any],
    status: int,
    field: str | None,
    words: str,
) -> None:
    web, csrf = family
    refused = ask(web, csrf, **changes)
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert words in problem["detail"]
    assert problem.get("field") == field
    assert web.client.get(REQUESTS).json() == []


def test_a_duplicate_pending_request_is_refused(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    assert ask(web, csrf).status_code == 201
    again = ask(web, csrf)
    assert again.status_code == 409
    assert "déjà en cours pour Arielle" in again.json()["detail"]
    assert len(web.client.get(REQUESTS).json()) == 1


def test_staff_refuse_and_the_family_reads_why(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    request_id = ask(web, csrf).json()["id"]
    web.logout()
    staff = web.activate(web.template.staff)
    url = f"/api/v1/staff/enrollment-requests/{request_id}/decision"
    no_reason = web.client.post(url, json={"approve": False}, headers={"X-CSRF-Token": staff})
    assert no_reason.status_code == 422
    assert "motif" in no_reason.json()["detail"]
    refused = web.client.post(
        url,
        json={"approve": False, "reason": "Classe complète"},
        headers={"X-CSRF-Token": staff},
    )
    assert refused.json()["status_label"] == "Refusée : Classe complète"
    web.logout()
    web.login(web.template.concerto.username, "Ronde-Cantine-2023!")
    listed = web.client.get(REQUESTS).json()
    assert listed[0]["status_label"] == "Refusée : Classe complète"


def test_tariffs_with_why(family: tuple[Deployment, str]) -> None:
    web, _ = family
    response = web.client.get("/api/v1/households/CONCERTO/tariffs")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["school_year_label"] == "2023-2024"
    # The lunch grid, next to the activities' (evening care, Wednesday, ALSH).
    assert sorted(g["service_id"] for g in body["grids"]) == ["alsh", "mercredi", "rs", "soir"]
    (grid,) = [g for g in body["grids"] if g["service_id"] == "rs"]
    resident = next(r for r in grid["rows"] if r["category"] == "enfant résident")
    assert [b["price"] for b in resident["bands"]] == ["1.00", "2.10", "3.35", "4.05", "4.70"]
    (alban,) = body["prices"]
    assert alban["unit_price"] == "3.35"
    assert alban["text"].startswith("Votre tarif : 3,35")
    assert "tranche « QF de 700 € à moins de 1 000 € »" in alban["text"]
    other = web.client.get(f"/api/v1/households/{OTHER}/tariffs")
    assert other.status_code == 403


def test_the_tariff_page_says_what_each_price_buys(family: tuple[Deployment, str]) -> None:
    # CONCERTO eats lunch only; the commune's other grids still read by their own unit and
    # the catalog's service names, not "repas" and a service id.
    web, _ = family
    page = web.client.get("/foyer/CONCERTO/tarification")
    assert page.status_code == 200
    assert "Prix par repas : enfant résident" in page.text
    assert "Prix par demi-heure" in page.text  # evening care
    assert "Prix par semaine" in page.text  # the holiday centre
    assert "Accueil du soir : tarifs" in page.text


def test_the_weekdays_asked_are_booked_on_acceptance(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    wednesday = ask(web, csrf, weekdays=["mon", "wed"])
    assert wednesday.status_code == 422
    assert wednesday.json()["field"] == "weekdays"
    assert "n'a pas lieu le mercredi" in wednesday.json()["detail"]
    asked = ask(web, csrf, weekdays=["mon", "thu"])
    assert asked.status_code == 201, asked.text
    assert asked.json()["weekdays"] == ["mon", "thu"]
    assert asked.json()["weekdays_label"] == "lundi et jeudi"
    web.logout()
    staff = web.activate(web.template.staff)
    done = web.client.post(
        f"/api/v1/staff/enrollment-requests/{asked.json()['id']}/decision",
        json={"approve": True},
        headers={"X-CSRF-Token": staff},
    )
    assert done.status_code == 200, done.text
    grid = web.client.get(f"/api/v1/enrollments/{done.json()['enrollment_id']}/months/2023-11")
    booked = [
        cell["day"]
        for row in grid.json()["rows"]
        for cell in row["cells"]
        if cell is not None and cell["booked"]
    ]
    assert booked
    assert {date.fromisoformat(day).weekday() for day in booked} == {0, 3}


def test_staff_refusing_without_a_reason_on_the_page_reads_why_on_the_same_page(
    family: tuple[Deployment, str],
) -> None:
    web, csrf = family
    request_id = ask(web, csrf).json()["id"]
    web.logout()
    staff = web.activate(web.template.staff)
    page = web.client.post(
        f"/gestion/inscriptions/{request_id}",
        data={"csrf_token": staff, "decision": "refuser", "reason": " "},
    )
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "un refus doit donner un motif à la famille" in page.text
    assert 'aria-invalid="true"' in page.text
    assert "Demandes d'inscription en attente d'instruction (1)" in page.text
    assert len(web.client.get("/api/v1/staff/enrollment-requests").json()) == 1


def test_the_page_form_sends_the_weekdays(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    form = web.client.get("/foyer/CONCERTO/inscription")
    assert 'name="weekdays" value="3"' in form.text
    sent = web.client.post(
        "/foyer/CONCERTO/inscription",
        data={
            "csrf_token": csrf,
            "child_id": "concerto-arielle",
            "offer": "rs@ronde",
            "school_year": "2023",
            "weekdays": ["1", "4"],
        },
    )
    assert sent.status_code == 200, sent.text
    assert "Restauration Scolaire à Ecole Élémentaire RONDE (2023-2024), le mardi et vendredi" in (
        sent.text
    )
    assert web.client.get(REQUESTS).json()[0]["weekdays"] == ["tue", "fri"]
