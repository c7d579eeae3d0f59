"""schemathesis against ``/openapi.json``: every operation, with generated (and bad) input,
answers no 5xx and only documented statuses, content types and bodies.

The schema is read from an app over an in-memory canteen; the calls go to one copy of the
demo deployment for the module. Each generated call carries a fresh session (a family's for
the family routes, an administrator's for the back office), so a generated logout or password
change never blinds the rest of the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from litestar.serialization import encode_json

from canteen_adapters.web import create_app
from canteen_adapters.web.context import WebContext
from canteen_core.domain.actors import Actor, Role
from canteen_core.services import Canteen

from .conftest import Deployment, Template, open_deployment

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    negative_data_rejection,
    positive_data_acceptance,
)

#: Examples per operation: the whole run stays well under a minute on a small machine.
EXAMPLES = 8


def _schema() -> Any:
    with Canteen.in_memory() as canteen:
        app = create_app(canteen)
        # As served: JSON (the generated examples are dates and instants in Python).
        document = json.loads(encode_json(app.openapi_schema.to_schema()))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = app  # the ASGI transport; each call names the deployment's app
    return loaded


schema = _schema()

FAMILY = Actor.guardian("concerto-maman", "CONCERTO")
STAFF = Actor(user_id="agent", roles={Role.STAFF, Role.FINANCE, Role.ADMIN})


@pytest.fixture(scope="module")
def fuzzed(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    web = open_deployment(template, tmp_path_factory.mktemp("fuzz") / "deployment")
    with web.client:
        web.activate(template.concerto)
        web.activate(template.staff)
        yield web
    web.canteen.close()


def session_headers(web: Deployment, path: str) -> dict[str, str]:
    context: WebContext = web.app.state["canteen_web"]
    actor = STAFF if path.startswith("/api/v1/staff/") else FAMILY
    session = context.sessions.create(
        actor, must_change_password=False, display_name="schemathesis", logged_in_at=web.clock.now()
    )
    return {"Cookie": f"canteen_session={session.id}", "X-CSRF-Token": session.csrf_token}


def _has_number_for(body: object, name: str) -> bool:
    """Whether ``body`` has, at any depth, a member ``name`` whose value is the number 0 or 1."""
    if isinstance(body, dict):
        value = body.get(name)
        if type(value) is int and value in (0, 1):
            return True
        return any(_has_number_for(member, name) for member in body.values())
    if isinstance(body, list):
        return any(_has_number_for(item, name) for item in body)
    return False


def boolean_given_as_number(case: Any) -> bool:
    """Whether ``case``'s only flaw is a boolean of its body sent as ``0`` or ``1``.

    Litestar (2.25) converts JSON bodies leniently (``msgspec.convert(..., strict=False)`` in
    its signature model): ``"booked": 0`` is read as ``false``. A known gap of the API, not of
    the document; schemathesis meets it by mutating the document's request examples.
    """
    description = str(getattr(case.meta.phase.data, "description", "") or "")
    found = re.search(r"(\w+): Incorrect type$", description)
    return found is not None and _has_number_for(case.body, found.group(1))


def is_missing_configuration(response: Any) -> bool:
    """Whether ``response`` is the 500 problem of a deployment missing a section."""
    if response.status_code != 500:
        return False
    try:
        problem = response.json()
    except ValueError:
        return False
    return isinstance(problem, dict) and problem.get("type") == "urn:canteen:problem:configuration"


# schemathesis' in-process ASGI client leaves anyio streams to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_honours_its_schema(case: Any, fuzzed: Deployment) -> None:
    # Not checked: that every schema-valid request is accepted. Rules the schema cannot say
    # (an end before its start, a password too short, an unknown week) answer 422, documented.
    excluded = [positive_data_acceptance]
    if boolean_given_as_number(case):
        excluded.append(negative_data_rejection)
    headers = session_headers(fuzzed, case.path)
    response = case.call(headers=headers, app=fuzzed.app)
    if is_missing_configuration(response):
        # The demo configures no [payment.sepa]: loading a bank's return file answers the
        # documented 500 configuration problem, not a crash.
        excluded.append(not_a_server_error)
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=excluded,
        transport_kwargs={"headers": headers, "app": fuzzed.app},
    )
