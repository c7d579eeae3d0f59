"""Accounts over HTTP: activation, forced password change, login rules, CSRF, logout, reset."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from litestar.testing import TestClient

from canteen_adapters.cli.demo import ADMIN
from canteen_adapters.web import WebSettings, create_app

from .conftest import CONCERTO_ENROLLMENT, NEW_PASSWORD, Deployment, Template, open_deployment


def test_activation_then_forced_password_change(web: Deployment) -> None:
    who = web.template.concerto
    client = web.client
    assert client.post("/api/v1/account/activation", json={"token": who.token}).status_code == 200
    again = client.post("/api/v1/account/activation", json={"token": who.token})
    assert again.status_code == 410
    assert again.json()["type"] == "urn:canteen:problem:authentication:token_already_used"
    csrf = web.login(who.username, who.password)
    assert client.get("/api/v1/session").json()["must_change_password"] is True
    refused = client.get("/api/v1/households/CONCERTO/dashboard")
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:canteen:problem:authentication:password_change_required"
    changed = client.post(
        "/api/v1/account/password",
        json={"current_password": who.password, "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200
    assert changed.json()["must_change_password"] is False
    assert client.get("/api/v1/households/CONCERTO/dashboard").status_code == 200


def test_login_before_activation_is_refused_with_the_reason(web: Deployment) -> None:
    who = web.template.concerto
    response = web.client.post(
        "/api/v1/session", json={"username": who.username, "password": who.password}
    )
    assert response.status_code == 403
    assert "activé" in response.json()["detail"]


def test_session_cookie_flags_on_localhost(family: tuple[Deployment, str]) -> None:
    web, _ = family
    response = web.client.post(
        "/api/v1/session", json={"username": "concerto", "password": NEW_PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie or "SameSite=lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_outside_localhost(template: Template, tmp_path: Path) -> None:
    web = open_deployment(template, tmp_path / "d")
    try:
        with TestClient(web.app, base_url="https://famille.ronde.example") as client:
            client.post("/api/v1/account/activation", json={"token": template.concerto.token})
            response = client.post(
                "/api/v1/session",
                json={"username": "concerto", "password": template.concerto.password},
            )
            assert response.status_code == 200
            assert "Secure" in response.headers["set-cookie"]
    finally:
        web.canteen.close()


def test_unsafe_requests_need_the_csrf_token(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    body = {"changes": [{"day": "2023-10-17", "booked": True}]}
    url = "/api/v1/enrollments/CONCERTO-alban-rs/reservations"
    missing = web.client.post(url, json=body)
    assert missing.status_code == 403
    assert missing.json()["type"] == "urn:canteen:problem:csrf"
    wrong = web.client.post(url, json=body, headers={"X-CSRF-Token": "x" + csrf})
    assert wrong.status_code == 403
    assert web.client.post(url, json=body, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_requests_without_session_must_be_json(web: Deployment) -> None:
    response = web.client.post("/api/v1/session", data={"username": "a", "password": "b"})
    assert response.status_code == 415
    assert response.json()["type"] == "urn:canteen:problem:json-required"


def test_logins_are_throttled(web: Deployment) -> None:
    web.client.post("/api/v1/account/activation", json={"token": web.template.concerto.token})
    statuses = [
        web.client.post(
            "/api/v1/session", json={"username": "concerto", "password": "faux-mot-de-passe"}
        ).status_code
        for _ in range(7)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    locked = web.client.post(
        "/api/v1/session", json={"username": "concerto", "password": web.template.concerto.password}
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert locked.json()["type"] == "urn:canteen:problem:authentication:login_throttled"


def test_login_before_the_portal_opens_gives_the_date(web: Deployment) -> None:
    web.client.post("/api/v1/account/activation", json={"token": web.template.concerto.token})
    web.canteen.accounts.set_portal_opening(ADMIN, date(2023, 11, 6))
    response = web.client.post(
        "/api/v1/session", json={"username": "concerto", "password": web.template.concerto.password}
    )
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "urn:canteen:problem:authentication:portal_not_open"
    assert "6 novembre 2023" in body["detail"] or "06/11/2023" in body["detail"]


def test_logout_ends_the_session(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    assert web.client.get("/api/v1/session").status_code == 200
    response = web.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    assert web.client.get("/api/v1/session").status_code == 401
    (left,) = web.canteen.audit.entries(ADMIN, action="log_out")
    assert left.actor_id == "concerto-maman"


def test_password_reset_from_the_emailed_link(family: tuple[Deployment, str]) -> None:
    web, csrf = family
    web.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    asked = web.client.post("/api/v1/account/password-reset", json={"login": "abc@gmail.com"})
    assert asked.status_code == 202
    unknown = web.client.post("/api/v1/account/password-reset", json={"login": "nobody@x.org"})
    assert unknown.json() == asked.json()  # reveals no account
    text = [
        r.message.text_body
        for r in web.canteen.accounts.outbox(ADMIN)
        if r.message.account_id == "concerto-maman" and r.message.kind != "invitation"
    ][-1]
    token = re.search(r"[?&]token=(\S+)", text).group(1)  # type: ignore[union-attr]
    done = web.client.post(
        "/api/v1/account/password-reset/confirm",
        json={"token": token, "new_password": "Un-autre-mot-de-passe-2023"},
    )
    assert done.status_code == 200
    web.login("concerto", "Un-autre-mot-de-passe-2023")


def test_api_keys_act_for_server_to_server_portals(template: Template, tmp_path: Path) -> None:
    web = open_deployment(template, tmp_path / "d")
    try:
        app = create_app(
            web.canteen, WebSettings(api_keys={"k3y-combo": ("portal:combo", ("staff",))})
        )
        with TestClient(app) as client:
            pending = client.get("/api/v1/staff/requests", headers={"X-API-Key": "k3y-combo"})
            assert pending.status_code == 200
            assert pending.json() == []
            wrong = client.get("/api/v1/staff/requests", headers={"X-API-Key": "nope"})
            assert wrong.status_code == 401
            assert wrong.json()["type"] == "urn:canteen:problem:invalid-api-key"
            # A staff key reaches no family's invoices through the family routes' policy.
            invoices = client.get(
                "/api/v1/households/CONCERTO/invoices", headers={"X-API-Key": "k3y-combo"}
            )
            assert invoices.status_code == 403
    finally:
        web.canteen.close()


def test_a_disabled_account_stops_at_its_next_call(family: tuple[Deployment, str]) -> None:
    web, _ = family
    grid = f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/months/2023-10"
    assert web.client.get(grid).status_code == 200  # its account read, as at every call
    account_id = web.client.get("/api/v1/session").json()["user_id"]
    web.canteen.accounts.disable(ADMIN, account_id)
    refused = web.client.get(grid)
    assert refused.status_code == 403, refused.text
    assert "désactivé" in refused.json()["detail"]
    web.canteen.accounts.enable(ADMIN, account_id)
    assert web.client.get(grid).status_code == 200
