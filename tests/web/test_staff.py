"""The back office over HTTP: requests to instruct, roll call, closures, headcounts, billing,
reminders, household search."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from canteen_core.domain.clock import PARIS

from .conftest import CONCERTO_ENROLLMENT, Deployment


def staff_session(web: Deployment) -> str:
    return web.activate(web.template.staff)


def test_staff_instructs_a_families_late_change(web: Deployment) -> None:
    csrf = web.activate(web.template.concerto)
    web.client.post(
        f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/reservations",
        json={"changes": [{"day": "2023-10-10", "booked": True}]},
        headers={"X-CSRF-Token": csrf},
    )
    web.logout()
    csrf = staff_session(web)
    pending = web.client.get("/api/v1/staff/requests", params={"site_id": "ronde"}).json()
    assert [(r["day"], r["action"]) for r in pending] == [("2023-10-10", "book")]
    # A refusal without a reason says what is missing, and decides nothing.
    for body in ({"approve": False}, {"approve": False, "reason": "  "}):
        unexplained = web.client.post(
            f"/api/v1/staff/requests/{pending[0]['id']}/decision",
            json=body,
            headers={"X-CSRF-Token": csrf},
        )
        assert unexplained.status_code == 422
        assert unexplained.json()["field"] == "reason"
        assert unexplained.json()["detail"] == (
            "indiquez le motif du refus : il est communiqué à la famille"
        )
    assert len(web.client.get("/api/v1/staff/requests").json()) == 1
    refused = web.client.post(
        f"/api/v1/staff/requests/{pending[0]['id']}/decision",
        json={"approve": False, "reason": "Commande déjà passée au traiteur"},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 200
    assert refused.json()["status_label"] == "Refusée : Commande déjà passée au traiteur"
    assert web.client.get("/api/v1/staff/requests").json() == []


def test_roll_call_closure_and_headcounts(web: Deployment) -> None:
    csrf = staff_session(web)
    web.clock.set(datetime(2023, 10, 16, 14, 0, tzinfo=PARIS))
    call = web.client.get("/api/v1/staff/sites/ronde/roll-calls/2023-10-16")
    assert call.status_code == 200
    entries = {e["enrollment_id"]: e for e in call.json()["entries"]}
    assert entries[CONCERTO_ENROLLMENT]["booked"] is True
    recorded = web.client.put(
        "/api/v1/staff/sites/ronde/roll-calls/2023-10-16",
        json={"presences": {CONCERTO_ENROLLMENT: "absent"}},
        headers={"X-CSRF-Token": csrf},
    )
    assert recorded.status_code == 200, recorded.text
    entries = {e["enrollment_id"]: e for e in recorded.json()["entries"]}
    assert entries[CONCERTO_ENROLLMENT]["presence"] == "absent"
    counts = web.client.get(
        "/api/v1/staff/sites/ronde/headcounts", params={"start": "2023-11-20", "end": "2023-11-24"}
    ).json()
    monday = counts[0]
    assert monday["day"] == "2023-11-20"
    assert monday["total"] >= 1
    closed = web.client.post(
        "/api/v1/staff/sites/ronde/closures",
        json={"name": "Grève", "first_day": "2023-11-20", "last_day": "2023-11-20"},
        headers={"X-CSRF-Token": csrf},
    )
    assert closed.status_code == 200, closed.text
    assert "2023-11-20" in closed.json()["cancelled"][CONCERTO_ENROLLMENT]
    assert closed.json()["billed"] == {
        "count": 0,
        "households": [],
        "invoices": [],
        "months": [],
        "summary": "",
    }
    after = web.client.get(
        "/api/v1/staff/sites/ronde/headcounts", params={"start": "2023-11-20", "end": "2023-11-20"}
    ).json()
    assert after[0]["total"] == 0


def test_billing_run_reminders_and_household_search(web: Deployment) -> None:
    csrf = staff_session(web)
    web.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    run = web.client.post(
        "/api/v1/staff/billing-runs", json={"period": "2023-10"}, headers={"X-CSRF-Token": csrf}
    )
    assert run.status_code == 200, run.text
    assert run.json()["issued"] >= 1
    assert (run.json()["skipped"], run.json()["credit_notes"]) == ([], [])
    again = web.client.post(
        "/api/v1/staff/billing-runs", json={"period": "2023-10"}, headers={"X-CSRF-Token": csrf}
    ).json()
    assert again["issued"] == 0
    assert again["already_billed"] == run.json()["issued"]
    ahead = web.client.post(
        "/api/v1/staff/reminders", json={"today": "2023-12-31"}, headers={"X-CSRF-Token": csrf}
    )
    assert ahead.status_code == 422, ahead.text
    assert ahead.json()["detail"].startswith("les relances ne partent pas à une date future")
    web.clock.set(datetime(2023, 12, 31, 9, 0, tzinfo=PARIS))
    reminders = web.client.post(
        "/api/v1/staff/reminders", json={"today": "2023-12-31"}, headers={"X-CSRF-Token": csrf}
    )
    assert reminders.status_code == 200, reminders.text
    assert reminders.json()["reminders"] >= 1
    # A closure found out after billing: refused until confirmed, saying which October days
    # already invoiced it cancels; confirmed, the next run credits exactly those invoices.
    strike = {"name": "Grève", "first_day": "2023-10-02", "last_day": "2023-10-31"}
    unconfirmed = web.client.post(
        "/api/v1/staff/sites/ronde/closures", json=strike, headers={"X-CSRF-Token": csrf}
    )
    assert unconfirmed.status_code == 422, unconfirmed.text
    assert unconfirmed.json()["detail"].startswith("fermeture non enregistrée : ")
    assert "factures d'octobre 2023) seront crédités" in unconfirmed.json()["detail"]
    closed = web.client.post(
        "/api/v1/staff/sites/ronde/closures",
        json={**strike, "credit_billed": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert closed.status_code == 200, closed.text
    billed = closed.json()["billed"]
    assert billed["count"] >= 1
    assert billed["months"] == ["2023-10"]
    assert billed["summary"] == (
        f"{billed['count']} repas déjà facturés ({len(billed['households'])} familles, "
        "factures d'octobre 2023) seront crédités à la prochaine facturation"
    )
    november = web.client.post(
        "/api/v1/staff/billing-runs", json={"period": "2023-11"}, headers={"X-CSRF-Token": csrf}
    ).json()
    notes = november["credit_notes"]
    assert sorted({note["household_id"] for note in notes}) == billed["households"]
    assert "CONCERTO" in {note["household_id"] for note in notes}
    assert november["credited"] == f"{sum(Decimal(note['total']) for note in notes):.2f}"
    found = web.client.get("/api/v1/staff/households", params={"q": "concerto"}).json()
    assert [h["id"] for h in found] == ["CONCERTO"]
    assert web.client.get("/api/v1/staff/households", params={"q": "zzz"}).json() == []


def test_families_get_403_on_staff_routes(family: tuple[Deployment, str]) -> None:
    web, _ = family
    response = web.client.get("/api/v1/staff/requests")
    assert response.status_code == 403
    assert response.json()["type"] == "urn:canteen:problem:staff-only"


def test_a_far_billing_period_is_refused_not_a_500(web: Deployment) -> None:
    # The facade raised a bare ValueError for "9999-12" (a 500 here).
    csrf = staff_session(web)
    for period in ("9999-12", "2023-13", "octobre"):
        response = web.client.post(
            "/api/v1/staff/billing-runs", json={"period": period}, headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 422, period
        assert response.json()["field"] == "period"
