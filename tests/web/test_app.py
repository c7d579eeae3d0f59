"""The app's frame: OpenAPI, problem details, security headers, mounting."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar, asgi
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send

from canteen_adapters.web import create_app
from canteen_core.services import Canteen

from .conftest import Deployment

PROBLEM = "application/problem+json"


def test_openapi_document_is_3_1_and_lists_the_flows(web: Deployment) -> None:
    response = web.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in (
        "/api/v1/session",
        "/api/v1/households/{household_id}/dashboard",
        "/api/v1/enrollments/{enrollment_id}/weeks/{week}",
        "/api/v1/enrollments/{enrollment_id}/reservations/preview",
        "/api/v1/invoices/{invoice_id}/payments",
        "/api/v1/callbacks/payzen/ipn",
        "/api/v1/staff/requests",
    ):
        assert path in paths, path
    # Every operation documents its problems.
    post = paths["/api/v1/enrollments/{enrollment_id}/reservations"]["post"]
    assert {"409", "412", "403"} <= set(post["responses"])
    assert web.client.get("/schema").status_code == 200


def test_the_schema_page_loads_its_viewer_from_an_origin_its_csp_allows(web: Deployment) -> None:
    page = web.client.get("/schema")
    script_src = next(
        part.split()[1:]
        for part in page.headers["content-security-policy"].split(";")
        if part.split() and part.split()[0] == "script-src"
    )
    sources = re.findall(r'<script src="([^"]+)"', page.text)
    assert sources
    for source in sources:
        origin = "/".join(source.split("/")[:3])
        assert origin in script_src, (source, script_src)


def test_security_headers_on_answers_and_errors(web: Deployment) -> None:
    for response in (web.client.get("/openapi.json"), web.client.get("/api/v1/nowhere")):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_unknown_route_is_a_french_problem(web: Deployment) -> None:
    response = web.client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == "urn:canteen:problem:no-such-route"
    assert body["detail"] == "Cette adresse n'existe pas."


def test_library_errors_have_a_stable_type_french_detail_and_field(
    family: tuple[Deployment, str],
) -> None:
    web, _ = family
    missing = web.client.get("/api/v1/invoices/nope")
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:canteen:problem:not-found"
    assert missing.json()["detail"] == "L'élément demandé est introuvable."
    bad = web.client.get("/api/v1/enrollments/CONCERTO-alban-rs/weeks/semaine-36")
    assert bad.status_code == 422
    body = bad.json()
    assert body["type"] == "urn:canteen:problem:invalid-input"
    assert body["field"] == "week"
    assert "semaine invalide" in body["detail"]


def test_malformed_body_names_the_field(web: Deployment) -> None:
    response = web.client.post("/api/v1/session", json={"username": "x"})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:canteen:problem:validation"
    assert body["field"] == "password"


def test_a_missing_or_malformed_query_parameter_is_named(family: tuple[Deployment, str]) -> None:
    web, _ = family
    certificate = "/api/v1/households/CONCERTO/attendance-certificate"
    for query, field in (
        ("?start=2023-09-01", "end"),
        ("?end=2023-09-30", "start"),
        ("?start=x&end=2023-09-30", "start"),
    ):
        response = web.client.get(certificate + query)
        assert response.status_code == 400, query
        body = response.json()
        assert body["type"] == "urn:canteen:problem:validation"
        assert body["field"] == field, query
        assert body["detail"] == f"La requête contient une donnée manquante ou invalide : {field}."
        # Where the field was, as a word a portal can read (not a Python enum's name).
        assert body["errors"][0] == {"field": field, "source": "query"}


def test_an_unexpected_error_is_a_500_without_stack_trace(
    family: tuple[Deployment, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    web, _ = family

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals at /srv/canteen/db.py line 12")

    monkeypatch.setattr(web.canteen.billing, "household_home", broken)
    with caplog.at_level("ERROR", logger="canteen.web"):
        response = web.client.get("/api/v1/households/CONCERTO/dashboard")
    assert response.status_code == 500
    body = response.text
    assert response.json()["type"] == "urn:canteen:problem:internal"
    assert "secret" not in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body
    assert "secret internals" in caplog.text  # the server's log keeps the cause


def test_the_app_mounts_inside_another_asgi_app() -> None:
    with Canteen.in_memory() as canteen:
        inner = create_app(canteen, path="/cantine")

        @asgi("/cantine", is_mount=True, copy_scope=True)
        async def portal(scope: Scope, receive: Receive, send: Send) -> None:
            await inner(scope, receive, send)

        outer = Litestar(route_handlers=[portal], openapi_config=None)
        with TestClient(outer) as client:
            response = client.get("/cantine/api/v1/session")
            assert response.status_code == 401
            assert response.json()["type"] == "urn:canteen:problem:not-authenticated"
            assert client.get("/cantine/openapi.json").json()["servers"] == [{"url": "/cantine"}]


def test_options_lists_every_method_of_a_shared_path(web: Deployment) -> None:
    # Litestar built the OPTIONS answer from the path's first handler only (found by
    # schemathesis): the session route answered "GET, OPTIONS".
    assert web.client.options("/api/v1/session").headers["allow"] == "DELETE, GET, OPTIONS, POST"
    profile = web.client.options("/api/v1/households/CONCERTO/profile")
    assert profile.headers["allow"] == "GET, OPTIONS, PATCH"
