"""schemathesis against ``/openapi.json``: every operation, with generated (and bad) input,
answers no 5xx and only documented statuses, content types and bodies.

The schema is read from an app over an in-memory canteen; the calls go to one copy of the
demo deployment for the module. Each generated call carries a fresh session (a family's for
the family routes, an administrator's for the back office), so a generated logout or password
change never blinds the rest of the run.
"""

from __future__ import annotations

import json
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
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

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
    case.call_and_validate(
        headers=session_headers(fuzzed, case.path),
        app=fuzzed.app,
        excluded_checks=[positive_data_acceptance],
    )
