"""The examples of ``/openapi.json``: every operation shows what it reads and answers, with
canteen's own values (no random strings), and every example is valid against its own schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from canteen_adapters.web import create_app, examples
from canteen_core.services import Canteen

jsonschema = pytest.importorskip("jsonschema")

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with Canteen.in_memory() as canteen, TestClient(create_app(canteen)) as client:
        response = client.get("/openapi.json")
        assert response.status_code == 200
        served: dict[str, Any] = response.json()
        return served


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def examples_of(
    content: dict[str, Any], document: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(media type, schema, example value) of each example of a ``content`` map (an example
    given as a ``$ref`` read from the document's components)."""
    for media_type, media in content.items():
        if "example" in media:
            yield media_type, media["schema"], media["example"]
        for example in (media.get("examples") or {}).values():
            if "$ref" in example:
                prefix = "#/components/examples/"
                assert example["$ref"].startswith(prefix)
                example = document["components"]["examples"][example["$ref"][len(prefix) :]]
            yield media_type, media["schema"], example["value"]


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A JSON Schema 2020-12 validator of ``schema`` whose ``$ref`` (``#/components/...``)
    resolve in ``document``'s components."""
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def test_every_operation_shows_its_request_and_its_success(document: dict[str, Any]) -> None:
    missing = []
    for name, operation in operations(document):
        body = operation.get("requestBody")
        if body is not None and not any(True for _ in examples_of(body["content"], document)):
            missing.append(f"{name}: request")
        successes = [
            answer for status, answer in operation["responses"].items() if status.startswith("2")
        ]
        assert successes, name
        for answer in successes:
            if not any(True for _ in examples_of(answer.get("content") or {}, document)):
                missing.append(f"{name}: success response")
    assert not missing, missing
    assert len(list(operations(document))) > 80


def test_every_problem_status_has_its_example(document: dict[str, Any]) -> None:
    for name, operation in operations(document):
        for status, answer in operation["responses"].items():
            if status.startswith(("4", "5")):
                shown = list(examples_of(answer["content"], document))
                assert len(shown) == 1, (name, status)
                (_, _, problem) = shown[0]
                assert problem["status"] == int(status), (name, status)
                assert problem["type"].startswith("urn:canteen:problem:")
    conflict = document["paths"]["/api/v1/enrollments/{enrollment_id}/reservations"]["post"]
    for status in ("409", "412"):
        content = conflict["responses"][status]["content"]
        ((_, _, problem),) = examples_of(content, document)
        assert isinstance(problem["current_version"], int)
    content = conflict["responses"]["422"]["content"]
    ((_, _, problem),) = examples_of(content, document)
    assert problem["field"]
    # As problems.py writes them: no null members.
    assert None not in problem.values()


def test_every_example_is_valid_against_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for name, operation in operations(document):
        contents = [operation.get("requestBody", {}).get("content") or {}]
        contents += [answer.get("content") or {} for answer in operation["responses"].values()]
        for content in contents:
            for media_type, schema, value in examples_of(content, document):
                errors = [e.message for e in validator(document, schema).iter_errors(value)]
                assert not errors, (name, media_type, errors)
                checked += 1
    assert checked > 2 * 80


def test_no_random_example_is_left(document: dict[str, Any]) -> None:
    """Litestar's generated examples (random strings) are off: no schema carries any."""
    found = re.findall(r"'examples': \[", str(document["components"]["schemas"]))
    assert not found
    for name, operation in operations(document):
        for parameter in operation.get("parameters", []):
            assert "examples" not in parameter.get("schema", {}), name


def test_the_examples_are_the_demo_family(document: dict[str, Any]) -> None:
    invoice = document["paths"]["/api/v1/invoices/{invoice_id}"]["get"]
    (shown,) = invoice["responses"]["200"]["content"]["application/json"]["examples"].values()
    value = shown["value"]
    assert value["household_id"] == "CONCERTO"
    assert value["total"] == "13.40"
    assert value["issue_date"] == "2023-10-02"
    grid = document["paths"]["/api/v1/enrollments/{enrollment_id}/weeks/{week}"]["get"]
    (shown,) = grid["responses"]["200"]["content"]["application/json"]["examples"].values()
    assert {c["state"] for c in shown["value"]["rows"][0]["cells"]} == {"booked", "free"}


def test_the_bodies_routes_read_themselves_are_documented(document: dict[str, Any]) -> None:
    """The papers' upload form and a bank's return file: Litestar cannot see them."""
    upload = document["paths"]["/api/v1/households/{household_id}/papers"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]
    assert set(form["schema"]["required"]) == {"file", "kind", "issued_on"}
    returns = document["paths"]["/api/v1/staff/direct-debit-returns"]["post"]
    ((_, _, xml),) = examples_of(returns["requestBody"]["content"], document)
    assert "pain.002.001.03" in xml


def test_examples_for_an_operation_that_does_not_exist_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A route renamed without its examples fails when the app is built, not silently."""
    wrong = {**examples.BY_OPERATION, "GET /api/v1/nowhere": (None, None)}
    monkeypatch.setattr(examples, "BY_OPERATION", wrong)
    with Canteen.in_memory() as canteen, pytest.raises(LookupError, match="/api/v1/nowhere"):
        create_app(canteen)
