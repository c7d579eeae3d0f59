"""Sessions and idempotency keys live in canteen's storage: a second server process over the
same database (a restarted server, another uvicorn worker) knows them; a logout or a password
change ends them everywhere; expired ones are refused and purged; the cookie's value is not
what is stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from canteen_adapters.cli.serve import CONFIG_VARIABLE, PUBLIC_URL_VARIABLE, worker_app
from canteen_adapters.web import WebSettings, create_app
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.web_state import session_key
from canteen_core.services import Canteen

from .conftest import NEW_PASSWORD, Deployment
from .test_family import bill_october

SESSION = "/api/v1/session"


@contextmanager
def worker(
    tmp_path: Path,
    web: Deployment,
    clock: FixedClock | None = None,
    cache: timedelta = timedelta(0),
) -> Iterator[TestClient[Litestar]]:
    """Another server process on the test's deployment: its own canteen, app and client
    (trusting a session it read for ``cache``)."""
    canteen = Canteen.open(tmp_path / "deployment" / "canteen.toml", clock=web.clock)
    settings = WebSettings(public_url="https://famille.ronde.example", session_cache=cache)
    app = create_app(canteen, settings, clock=clock)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        canteen.close()


def test_another_worker_knows_the_session_and_logout_ends_it_everywhere(
    family: tuple[Deployment, str], tmp_path: Path
) -> None:
    web, csrf = family
    cookie = web.client.cookies["canteen_session"]
    with worker(tmp_path, web) as other:
        other.cookies.set("canteen_session", cookie)
        assert other.get(SESSION).json()["csrf_token"] == csrf
        dashboard = other.get("/api/v1/households/CONCERTO/dashboard")
        assert dashboard.status_code == 200, dashboard.text
        assert web.client.delete(SESSION, headers={"X-CSRF-Token": csrf}).status_code == 200
        assert other.get(SESSION).status_code == 401
    with web.canteen.context.storage.unit_of_work(read_only=True) as uow:
        assert uow.web_sessions.find(session_key(cookie)) is None
        assert uow.web_sessions.find(cookie) is None  # only the hash is ever stored


def test_a_password_change_ends_the_other_sessions_in_every_worker(
    family: tuple[Deployment, str], tmp_path: Path
) -> None:
    web, csrf = family
    with worker(tmp_path, web) as other:
        done = other.post(
            SESSION,
            json={"username": web.template.concerto.username, "password": NEW_PASSWORD},
        )
        assert done.status_code == 200, done.text
        changed = web.client.post(
            "/api/v1/account/password",
            json={"current_password": NEW_PASSWORD, "new_password": "Autre-Cantine-2023!"},
            headers={"X-CSRF-Token": csrf},
        )
        assert changed.status_code == 200, changed.text
        assert other.get(SESSION).status_code == 401
        assert web.client.get(SESSION).status_code == 200  # the changing session stays


def test_expired_sessions_are_refused_and_purged_at_the_next_login(
    family: tuple[Deployment, str], tmp_path: Path
) -> None:
    web, _ = family
    cookie = web.client.cookies["canteen_session"]
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=31))  # idle timeout: 30 min
    with worker(tmp_path, web, clock=later) as other:
        other.cookies.set("canteen_session", cookie)
        assert other.get(SESSION).status_code == 401
        done = other.post(
            SESSION,
            json={"username": web.template.concerto.username, "password": NEW_PASSWORD},
        )
        assert done.status_code == 200, done.text
    with web.canteen.context.storage.unit_of_work(read_only=True) as uow:
        assert uow.web_sessions.find(session_key(cookie)) is None
        assert uow.web_sessions.count() == 1  # the new login's


def test_an_idempotency_key_is_replayed_by_another_worker(
    family: tuple[Deployment, str], tmp_path: Path
) -> None:
    web, csrf = family
    invoice_id = bill_october(web)
    url = f"/api/v1/invoices/{invoice_id}/payments"
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": "pay-october-1"}
    first = web.client.post(url, json={"provider": "payzen"}, headers=headers)
    assert first.status_code == 201, first.text
    with worker(tmp_path, web) as other:
        other.cookies.set("canteen_session", web.client.cookies["canteen_session"])
        again = other.post(url, json={"provider": "payzen"}, headers=headers)
        assert again.status_code == 201, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        reused = other.post(
            url,
            json={"provider": "payfip"},
            headers={**headers, "Idempotency-Key": "pay-october-1"},
        )
        assert reused.status_code == 422


def test_another_worker_trusts_a_session_it_read_for_the_cache_delay(
    family: tuple[Deployment, str], tmp_path: Path
) -> None:
    web, csrf = family
    with worker(tmp_path, web, cache=timedelta(hours=1)) as other:
        other.cookies.set("canteen_session", web.client.cookies["canteen_session"])
        assert other.get(SESSION).status_code == 200
        assert web.client.delete(SESSION, headers={"X-CSRF-Token": csrf}).status_code == 200
        assert other.get(SESSION).status_code == 200  # read less than an hour ago
        assert other.delete(SESSION, headers={"X-CSRF-Token": csrf}).status_code == 200
        assert other.get(SESSION).status_code == 401  # its own logout: at once


def test_a_worker_of_canteen_serve_opens_the_deployment_and_shares_the_sessions(
    family: tuple[Deployment, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``canteen serve --workers N``: each worker process builds its app with
    :func:`~canteen_adapters.cli.serve.worker_app` from the environment."""
    web, csrf = family
    monkeypatch.setenv(CONFIG_VARIABLE, str(tmp_path / "deployment" / "canteen.toml"))
    monkeypatch.setenv(PUBLIC_URL_VARIABLE, "https://famille.ronde.example")
    app = worker_app()
    with TestClient(app) as client:
        client.cookies.set("canteen_session", web.client.cookies["canteen_session"])
        assert client.get(SESSION).json()["csrf_token"] == csrf


def test_the_csrf_hook_reads_a_session_it_does_not_know_in_a_thread(
    family: tuple[Deployment, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hook is a coroutine (a sync one ran in a worker thread for every request): a
    # session it knows is checked at once, one it must read from the storage is read in a
    # thread (never on the event loop), and checked alike.
    import canteen_adapters.web.app as app_module

    reads: list[object] = []
    real = app_module.sync_to_thread

    async def counted(fn: Any, *args: Any) -> Any:
        reads.append(fn)
        return await real(fn, *args)

    monkeypatch.setattr(app_module, "sync_to_thread", counted)
    web, csrf = family
    body = {"changes": [{"day": "2023-10-17", "booked": True}]}
    url = "/api/v1/enrollments/CONCERTO-alban-rs/reservations"
    assert web.client.get(SESSION).status_code == 200  # the session is now cached
    assert web.client.post(url, json=body, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert web.client.post(url, json=body).status_code == 403
    assert reads == []
    with worker(tmp_path, web) as other:  # no cache: each request reads the session
        other.cookies.set("canteen_session", web.client.cookies["canteen_session"])
        wrong = other.post(url, json=body, headers={"X-CSRF-Token": "x" + csrf})
        assert wrong.status_code == 403
        assert wrong.json()["type"] == "urn:canteen:problem:csrf"
        assert other.post(url, json=body, headers={"X-CSRF-Token": csrf}).status_code == 200
        assert other.get(SESSION).status_code == 200  # a safe request: no check, no read
        assert len(reads) == 2
