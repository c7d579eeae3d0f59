"""The family's flows over HTTP: dashboard, grids, bookings, requests, invoices, payment."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from canteen_adapters.cli.demo import ADMIN, FINANCE, PAYZEN_TEST_KEY
from canteen_adapters.payment.payzen import compute_signature
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import ConflictError

from .conftest import CONCERTO_ENROLLMENT, NEW_PASSWORD, Deployment

GRID = f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}"


def test_dashboard_in_one_call(family: tuple[Deployment, str]) -> None:
    web, _ = family
    response = web.client.get("/api/v1/households/CONCERTO/dashboard")
    assert response.status_code == 200
    body = response.json()
    assert body["greeting"] == "Bonjour Madame CONCERTO."
    assert body["last_login"] == "Première connexion"  # her first login is the current one
    assert body["invoices"] == {
        "unpaid_count": 0,
        "unpaid_amount": "0.00",
        "available_credit": "0.00",
        "summary": "Vous n'avez aucune facture non réglée",
    }
    assert body["co_representative"]["first_name"] == "Papa"
    assert [m["first_name"] for m in body["members"]] == ["Alban", "Arielle", "Basile"]
    assert body["enrollments"][0]["label"].startswith("Alban - Restauration Scolaire")
    assert body["portal"]["name"] == "Espace Restauration"
    assert body["latest_requests"] == []


def test_last_login_is_the_one_before_the_current_session(family: tuple[Deployment, str]) -> None:
    """ "Dernière connexion le ..." shows the previous visit, not the login just made."""
    web, _ = family
    web.logout()
    web.clock.set(datetime(2023, 10, 9, 18, 30, tzinfo=PARIS))
    web.login(web.template.concerto.username, NEW_PASSWORD)
    body = web.client.get("/api/v1/households/CONCERTO/dashboard").json()
    assert body["last_login"] == "Dernière connexion le 06/10/2023 à 09:00"
    web.logout()
    web.clock.set(datetime(2023, 10, 12, 7, 5, tzinfo=PARIS))
    web.login(web.template.concerto.username, NEW_PASSWORD)
    body = web.client.get("/api/v1/households/CONCERTO/dashboard").json()
    assert body["last_login"] == "Dernière connexion le 09/10/2023 à 18:30"
    assert body["last_login_at"].startswith("2023-10-09T16:30")


def cells(grid: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["day"]: c for row in grid["rows"] for c in row["cells"] if c is not None}


def test_week_and_month_grids_show_each_days_state(family: tuple[Deployment, str]) -> None:
    web, _ = family
    week = web.client.get(f"{GRID}/weeks/2023-W41")
    assert week.status_code == 200
    assert week.headers["etag"] == f'"{week.json()["version"]}"'
    days = cells(week.json())
    assert week.json()["columns"] == ["LUNDI", "MARDI", "JEUDI", "VENDREDI"]
    assert days["2023-10-09"]["state"] == "late"  # past Thursday 10:00: becomes a request
    assert "Délai dépassé" in days["2023-10-09"]["reason"]
    month = web.client.get(f"{GRID}/months/2023-10").json()
    assert month["title"] == "Octobre 2023"
    days = cells(month)
    assert days["2023-10-02"]["state"] == "locked"
    assert days["2023-10-16"]["state"] == "booked"  # Alban eats on Mondays
    assert days["2023-10-17"]["state"] == "free"
    assert days["2023-10-24"]["state"] == "closed"
    assert days["2023-10-24"]["reason"] == "Vacances de la Toussaint"
    assert month["rows"][0]["label"].startswith("Semaine ")


def test_recap_then_validation_late_change_becomes_pending(
    family: tuple[Deployment, str],
) -> None:
    web, csrf = family
    headers = {"X-CSRF-Token": csrf}
    changes = {
        "changes": [
            {"day": "2023-10-17", "booked": True},
            {"day": "2023-10-19", "booked": True},
            {"day": "2023-10-10", "booked": True},
            {"day": "2023-10-05", "booked": True},
            {"day": "2023-10-24", "booked": True},
        ]
    }
    preview = web.client.post(f"{GRID}/reservations/preview", json=changes, headers=headers)
    assert preview.status_code == 200
    recap = preview.json()
    assert recap["booked"] == ["2023-10-17", "2023-10-19"]
    assert recap["pending"] == ["2023-10-10"]
    assert {s["day"]: s["reason"] for s in recap["skipped"]} == {
        "2023-10-05": "past",
        "2023-10-24": "closed",
    }
    # The recap saved nothing.
    assert cells(web.client.get(f"{GRID}/weeks/2023-W42").json())["2023-10-17"]["booked"] is False
    done = web.client.post(f"{GRID}/reservations", json=changes, headers=headers)
    assert done.status_code == 200
    result = done.json()
    assert (result["booked"], result["pending"]) == (recap["booked"], recap["pending"])
    assert result["summary"].startswith("2 repas réservés, 1 demande en attente")
    pending = web.client.get("/api/v1/households/CONCERTO/requests?status=pending").json()
    assert [(r["day"], r["status_label"]) for r in pending] == [
        ("2023-10-10", "En attente d'instruction")
    ]
    week = cells(web.client.get(f"{GRID}/weeks/2023-W41").json())
    assert week["2023-10-10"]["state"] == "pending"
    dashboard = web.client.get("/api/v1/households/CONCERTO/dashboard").json()
    assert dashboard["latest_requests"][0]["day"] == "2023-10-10"
    withdrawn = web.client.delete(f"/api/v1/requests/{pending[0]['id']}", headers=headers)
    assert withdrawn.json()["status"] == "withdrawn"


def test_tick_untick_and_periodicity(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    headers = {"X-CSRF-Token": csrf}
    ticked = web.client.post(
        f"{GRID}/reservations/fill",
        json={"start": "2023-11-13", "end": "2023-11-19", "booked": True},
        headers=headers,
    )
    assert ticked.status_code == 200
    assert ticked.json()["booked"] == ["2023-11-14", "2023-11-16", "2023-11-17"]
    unticked = web.client.post(
        f"{GRID}/reservations/fill",
        json={"start": "2023-11-13", "end": "2023-11-19", "booked": False},
        headers=headers,
    )
    assert unticked.json()["cancelled"] == ["2023-11-13", "2023-11-14", "2023-11-16", "2023-11-17"]
    pattern = web.client.post(
        f"{GRID}/periodicity",
        json={
            "weekdays": ["tue", "fri"],
            "start": "2023-11-20",
            "end": "2023-12-03",
            "recurrence": "every_week",
            "replace": True,
        },
        headers=headers,
    )
    assert pattern.status_code == 200, pattern.text
    assert pattern.json()["booked"] == ["2023-11-21", "2023-11-24", "2023-11-28", "2023-12-01"]


def test_stale_if_match_is_412_and_a_conflict_409_with_the_version(
    family: tuple[Deployment, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    web, csrf = family
    version = web.client.get(f"{GRID}/weeks/2023-W42").json()["version"]
    body = {"changes": [{"day": "2023-10-17", "booked": True}]}
    ok = web.client.post(
        f"{GRID}/reservations",
        json=body,
        headers={"X-CSRF-Token": csrf, "If-Match": f'"{version}"'},
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] == f'"{version + 1}"'
    stale = web.client.post(
        f"{GRID}/reservations",
        json=body,
        headers={"X-CSRF-Token": csrf, "If-Match": f'"{version}"'},
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == version + 1
    assert stale.json()["type"] == "urn:canteen:problem:stale-version"

    def collide(*args: Any, **kwargs: Any) -> Any:
        raise ConflictError("reservation book changed concurrently")

    monkeypatch.setattr(web.canteen.reservations, "set_days", collide)
    conflict = web.client.post(f"{GRID}/reservations", json=body, headers={"X-CSRF-Token": csrf})
    assert conflict.status_code == 409
    assert conflict.json()["current_version"] == version + 1
    assert conflict.json()["type"] == "urn:canteen:problem:conflict"


def bill_october(web: Deployment) -> str:
    """A month later: October is billed; the id of CONCERTO's new invoice."""
    web.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    web.canteen.billing.run_postpaid(FINANCE, "2023-10")
    page = web.client.get("/api/v1/households/CONCERTO/invoices").json()
    unpaid = [row for row in page["invoices"] if row["can_pay_online"]]
    assert page["summary"] == "Vous avez 1 facture non réglée"
    return str(unpaid[0]["id"])


def test_invoices_list_detail_pdf_and_statement(family: tuple[Deployment, str]) -> None:
    web, _ = family
    invoice_id = bill_october(web)
    page = web.client.get("/api/v1/households/CONCERTO/invoices").json()
    row = next(r for r in page["invoices"] if r["id"] == invoice_id)
    assert row["issue_date"] == "2023-11-02"
    assert row["balance_due"] == row["total"]
    detail = web.client.get(f"/api/v1/invoices/{invoice_id}").json()
    assert detail["lines"]
    assert detail["lines"][0]["child_name"]
    pdf = web.client.get(f"/api/v1/invoices/{invoice_id}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    statement = web.client.get("/api/v1/households/CONCERTO/statement").json()
    assert [e["kind"] for e in statement["entries"]].count("invoice") == 2
    assert statement["balance_due"] == row["balance_due"]
    dashboard = web.client.get("/api/v1/households/CONCERTO/dashboard").json()
    assert dashboard["invoices"]["summary"] == "Vous avez 1 facture non réglée"
    assert dashboard["invoices"]["unpaid_amount"] == row["balance_due"]


def test_online_payment_is_idempotent_and_the_signed_ipn_credits_it(
    family: tuple[Deployment, str],
) -> None:
    web, csrf = family
    invoice_id = bill_october(web)
    url = f"/api/v1/invoices/{invoice_id}/payments"
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": "pay-october-1"}
    first = web.client.post(url, json={"provider": "payzen"}, headers=headers)
    assert first.status_code == 201, first.text
    again = web.client.post(url, json={"provider": "payzen"}, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = web.client.post(
        url, json={"provider": "payzen", "return_url": "https://x.example/"}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"] == "urn:canteen:problem:idempotency-key-reused"
    start = first.json()
    fields = {f["name"]: f["value"] for f in start["form_fields"] if f["name"] != "signature"}
    assert fields["vads_url_check"] == "https://famille.ronde.example/api/v1/callbacks/payzen/ipn"
    fields.update(
        vads_trans_status="AUTHORISED",
        vads_operation_type="DEBIT",
        vads_auth_result="00",
        vads_card_brand="CB",
        vads_card_number="497010XXXXXX0055",
        vads_effective_amount=fields["vads_amount"],
    )
    signed = {**fields, "signature": compute_signature(fields, PAYZEN_TEST_KEY, "HMAC-SHA-256")}
    web.logout()  # PayZen has no session
    forged = web.client.post("/api/v1/callbacks/payzen/ipn", data={**signed, "vads_amount": "1"})
    assert forged.status_code == 422
    ipn = web.client.post("/api/v1/callbacks/payzen/ipn", data=signed)
    assert ipn.status_code == 200, ipn.text
    assert ipn.json()["credited"] is True
    credited = r"transaction payzen « [\w-]+ » payée [\d\s]+,\d\d\s€"
    assert re.fullmatch(credited, ipn.json()["reason"])
    replay = web.client.post("/api/v1/callbacks/payzen/ipn", data=signed).json()
    assert replay["credited"] is False
    assert replay["reason"].endswith("déjà créditée")
    web.login("concerto", "Ronde-Cantine-2023!")
    detail = web.client.get(f"/api/v1/invoices/{invoice_id}").json()
    assert detail["balance_due"] == "0.00"


def test_an_unconfigured_payment_provider_is_the_clients_error(
    family: tuple[Deployment, str],
) -> None:
    # Found by schemathesis: the deployment's ConfigurationError surfaced as a 500.
    web, csrf = family
    invoice_id = bill_october(web)
    response = web.client.post(
        f"/api/v1/invoices/{invoice_id}/payments",
        json={"provider": "paypal"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "provider"
    assert "payzen" in response.json()["detail"]
    web.logout()
    ipn = web.client.post("/api/v1/callbacks/payfip/notification", data={"numcli": "1"})
    assert ipn.status_code == 404
    assert ipn.json()["type"] == "urn:canteen:problem:provider-not-configured"


def test_a_wrong_email_in_the_profile_is_refused_in_french(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    url = "/api/v1/households/CONCERTO/profile"
    before = web.client.get(url).json()
    for email in ("pas-un-mail", " maman@concerto.example", "maman@concerto\n.example"):
        refused = web.client.patch(
            url,
            json={"guardian_id": "concerto-maman", "email": email},
            headers={"X-CSRF-Token": csrf},
        )
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["field"] == "email"
        assert body["detail"].startswith("adresse électronique invalide « ")
        assert "\n" not in body["detail"]
    assert web.client.get(url).json() == before


def test_a_periodicity_on_a_day_without_service_is_refused_and_cancels_nothing(
    family: tuple[Deployment, str],
) -> None:
    """Walkthrough: "mercredi" for a lunch that never runs on Wednesday cancelled the range's
    booked days. The API answers a problem naming the weekday, the portal page shows the grid
    again with the reason, and the bookings stay as they were."""
    web, csrf = family
    headers = {"X-CSRF-Token": csrf}
    ticked = web.client.post(
        f"{GRID}/reservations/fill",
        json={"start": "2023-11-13", "end": "2023-11-26", "booked": True},
        headers=headers,
    )
    assert ticked.status_code == 200, ticked.text
    before = web.client.get(f"{GRID}/months/2023-11").json()
    refused = web.client.post(
        f"{GRID}/periodicity",
        json={
            "weekdays": ["wed", "sat"],
            "start": "2023-11-13",
            "end": "2023-11-26",
            "recurrence": "every_week",
            "replace": True,
        },
        headers=headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["field"] == "weekdays"
    assert "n'a pas lieu le mercredi ni le samedi" in problem["detail"]
    page = web.client.post(
        f"/reservations/{CONCERTO_ENROLLMENT}/periodicite",
        data={"csrf_token": csrf, "weekday": "2", "start": "2023-11-13", "end": "2023-11-26"},
    )
    assert page.status_code == 422, page.text
    assert "n&#39;a pas lieu le mercredi" in page.text or "n'a pas lieu le mercredi" in page.text
    assert "Périodicité appliquée" not in page.text
    assert "Appliquer la périodicité" in page.text  # the grid and its form, shown again
    after = web.client.get(f"{GRID}/months/2023-11").json()
    assert cells(after) == cells(before)
    assert after["version"] == before["version"]


def test_a_submission_that_changes_nothing_is_not_audited_and_keeps_the_version(
    family: tuple[Deployment, str],
) -> None:
    """Walkthrough: posting days already in the asked state wrote an audit entry. The answer
    is the same as before (the days ``unchanged``, the same version and ETag) and the audit
    trail and the grid's version do not move."""
    web, csrf = family
    headers = {"X-CSRF-Token": csrf}
    body = {"changes": [{"day": "2023-10-17", "booked": True}]}
    first = web.client.post(f"{GRID}/reservations", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["booked"] == ["2023-10-17"]
    entries = web.canteen.audit.entries(ADMIN)
    version = first.json()["version"]
    again = web.client.post(
        f"{GRID}/reservations", json=body, headers={**headers, "If-Match": f'"{version}"'}
    )
    assert again.status_code == 200, again.text
    answer = again.json()
    assert answer["booked"] == answer["cancelled"] == answer["pending"] == []
    assert answer["unchanged"] == ["2023-10-17"]
    assert answer["version"] == version
    assert again.headers["etag"] == f'"{version}"'
    assert web.canteen.audit.entries(ADMIN) == entries
    assert web.client.get(f"{GRID}/weeks/2023-W42").json()["version"] == version
