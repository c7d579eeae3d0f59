"""Yearly campaigns over HTTP: staff open a family-quotient campaign and the re-enrollment,
the family sees what it is asked and answers each child, another family's answer is 404,
bad input is a French problem with nothing stored, closing enrolls once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .conftest import Deployment

PARIS = ZoneInfo("Europe/Paris")
STAFF_CAMPAIGNS = "/api/v1/staff/campaigns"


def test_quotient_campaign_over_http(web: Deployment) -> None:
    staff = web.activate(web.template.staff)
    headers = {"X-CSRF-Token": staff}
    late = web.client.post(
        f"{STAFF_CAMPAIGNS}/quotient",
        json={"valid_from": "2024-01-01", "deadline": "2023-10-01"},
        headers=headers,
    )
    assert late.status_code == 422, late.text
    assert "déjà passée" in late.json()["detail"]
    assert web.client.get(STAFF_CAMPAIGNS).json() == []
    opened = web.client.post(
        f"{STAFF_CAMPAIGNS}/quotient",
        json={"valid_from": "2024-01-01", "deadline": "2023-12-15"},
        headers=headers,
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["campaign"]["kind"] == "quotient"
    assert body["counts"] == {"awaiting": len(body["answers"])}
    campaign_id = body["campaign"]["id"]
    waiting = web.client.get(f"{STAFF_CAMPAIGNS}/{campaign_id}", params={"state": "awaiting"})
    assert waiting.status_code == 200
    assert waiting.json()["summary"].endswith("en attente de réponse")
    assert (
        web.client.get(f"{STAFF_CAMPAIGNS}/{campaign_id}", params={"state": "x"}).status_code == 422
    )
    reminded = web.client.post(f"{STAFF_CAMPAIGNS}/{campaign_id}/reminders", headers=headers)
    assert reminded.status_code == 200
    assert all(a["reminders"] == 1 for a in reminded.json())
    early = web.client.post(f"{STAFF_CAMPAIGNS}/{campaign_id}/closure", headers=headers)
    assert early.status_code == 422
    web.clock.set(datetime(2023, 12, 16, 10, 0, tzinfo=PARIS))
    closed = web.client.post(f"{STAFF_CAMPAIGNS}/{campaign_id}/closure", headers=headers)
    assert closed.status_code == 200, closed.text
    assert set(closed.json()["counts"]) == {"top_bracket"}
    assert closed.json()["answers"][0]["state_label"].startswith("tranche la plus haute")


def test_reenrollment_over_http(web: Deployment) -> None:
    web.activate(web.template.concerto)
    web.logout()
    staff = web.activate(web.template.staff)
    web.clock.set(datetime(2024, 5, 15, 10, 0, tzinfo=PARIS))
    opened = web.client.post(
        f"{STAFF_CAMPAIGNS}/reenrollment",
        json={"school_year": 2024, "deadline": "2024-06-15"},
        headers={"X-CSRF-Token": staff},
    )
    assert opened.status_code == 201, opened.text
    other = [a for a in opened.json()["answers"] if a["household_id"] != "CONCERTO"]
    twice = web.client.post(
        f"{STAFF_CAMPAIGNS}/reenrollment",
        json={"school_year": 2024, "deadline": "2024-06-15"},
        headers={"X-CSRF-Token": staff},
    )
    assert twice.status_code == 409
    campaign_id = opened.json()["campaign"]["id"]
    web.logout()

    headers = {"X-CSRF-Token": web.login(web.template.concerto.username, "Ronde-Cantine-2023!")}
    (mine,) = web.client.get("/api/v1/households/CONCERTO/campaigns").json()
    assert mine["campaign"]["title"] == "Réinscriptions 2024-2025"
    first, *rest = mine["answers"]
    done = web.client.post(
        f"/api/v1/campaign-answers/{first['id']}/confirmation",
        json={"weekdays": [0, 1, 3, 4]},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "confirmed"
    assert done.json()["state_label"] == (
        "réinscription confirmée : jours réservés : lundi, mardi, jeudi et vendredi"
    )
    bad = web.client.post(
        f"/api/v1/campaign-answers/{first['id']}/confirmation",
        json={"weekdays": [12]},
        headers=headers,
    )
    assert bad.status_code == 422
    for answer in rest:
        refused = web.client.post(
            f"/api/v1/campaign-answers/{answer['id']}/refusal", headers=headers
        )
        assert refused.status_code == 200
    if other:
        stranger = web.client.post(
            f"/api/v1/campaign-answers/{other[0]['id']}/refusal", headers=headers
        )
        assert stranger.status_code == 404
    assert web.client.get(f"{STAFF_CAMPAIGNS}/{campaign_id}").status_code == 403
    web.logout()

    staff = web.login(web.template.staff.username, "Ronde-Cantine-2023!")
    web.clock.set(datetime(2024, 6, 20, 10, 0, tzinfo=PARIS))
    closed = web.client.post(
        f"{STAFF_CAMPAIGNS}/{campaign_id}/closure", headers={"X-CSRF-Token": staff}
    )
    assert closed.status_code == 200, closed.text
    states = {a["id"]: a["state"] for a in closed.json()["answers"]}
    assert states[first["id"]] == "enrolled"
    assert all(states[a["id"]] == "declined" for a in rest)
    assert all(states[a["id"]] == "not_renewed" for a in other)


def test_closing_the_school_year_over_http(web: Deployment) -> None:
    family = web.activate(web.template.concerto)
    refused = web.client.post(
        "/api/v1/staff/school-years/2023-2024/closure", headers={"X-CSRF-Token": family}
    )
    assert refused.status_code == 403
    web.logout()
    staff = web.activate(web.template.staff)
    headers = {"X-CSRF-Token": staff}
    early = web.client.post("/api/v1/staff/school-years/2023-2024/closure", headers=headers)
    assert early.status_code == 422, early.text
    assert "qu'après son dernier jour" in early.json()["detail"]
    bad = web.client.post("/api/v1/staff/school-years/l-an-dernier/closure", headers=headers)
    assert bad.status_code in (400, 422), bad.text
    assert "année scolaire invalide" in bad.json()["detail"]
    assert web.client.get("/api/v1/staff/school-years/closings").json() == []

    web.clock.set(datetime(2024, 8, 20, 10, 0, tzinfo=PARIS))
    closed = web.client.post("/api/v1/staff/school-years/2023-2024/closure", headers=headers)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["school_year"] == "2023-2024"
    assert body["summary"].startswith("Année scolaire 2023-2024 clôturée")
    assert web.client.get("/api/v1/staff/school-years/closings").json() == [body]
    again = web.client.post("/api/v1/staff/school-years/2023/closure", headers=headers)
    assert again.status_code == 409
    assert "déjà clôturée" in again.json()["detail"]
    frozen = web.client.post(
        "/api/v1/enrollments/CONCERTO-alban-rs/reservations",
        json={"changes": [{"day": "2024-06-03", "booked": True}]},
        headers=headers,
    )
    assert frozen.status_code == 422, frozen.text
    assert "l'année scolaire 2023-2024 est clôturée" in frozen.json()["detail"]
