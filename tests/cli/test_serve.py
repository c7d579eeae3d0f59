"""``canteen serve`` on the demo's deployment, as the README says to try the portal: a real
process on a free port, at the demo's date, answering the login page, Madame CONCERTO's
activation link and a logged-in family's API."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from canteen_adapters.cli.demo import SHOWN_AT
from canteen_adapters.cli.demo.commune import STAFF_ACCOUNT_ID, STAFF_USERNAME
from canteen_core.domain.clock import FixedClock
from canteen_core.services import Canteen
from web.conftest import NEW_PASSWORD, Template, welcome
from web.conftest import template as template


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(template: Template, tmp_path: Path) -> Iterator[str]:
    """``canteen serve`` on a copy of the demo; its base URL."""
    folder = tmp_path / "demo"
    shutil.copytree(template.folder, folder)
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from canteen_adapters.cli import main; main()",
            "serve",
            "--config",
            str(folder / "canteen.toml"),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "CANTEEN_NOW": SHOWN_AT.isoformat()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                httpx.get(base + "/connexion", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "canteen serve did not answer"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(20)
        if process.stdout is not None:
            process.stdout.close()


def test_the_demo_is_served_to_a_parent(served: str, template: Template) -> None:
    with httpx.Client(base_url=served, timeout=20) as client:
        login = client.get("/connexion")
        assert login.status_code == 200
        assert "Nom d'utilisateur" in login.text
        page = client.get(f"/activation?token={template.concerto.token}")
        assert page.status_code == 200
        assert "Activer mon compte" in page.text
        # The same account through the API: activate, log in, change the password, read.
        activated = client.post(
            "/api/v1/account/activation", json={"token": template.concerto.token}
        )
        assert activated.status_code == 200, activated.text
        logged = client.post(
            "/api/v1/session",
            json={"username": template.concerto.username, "password": template.concerto.password},
        )
        assert logged.status_code == 200, logged.text
        csrf = logged.json()["csrf_token"]
        changed = client.post(
            "/api/v1/account/password",
            json={"current_password": template.concerto.password, "new_password": NEW_PASSWORD},
            headers={"X-CSRF-Token": csrf},
        )
        assert changed.status_code == 200, changed.text
        home = client.get("/foyer/CONCERTO")
        assert home.status_code == 200
        assert "Bonjour Madame CONCERTO" in home.text
        assert "aucune facture non réglée" in home.text  # September's was paid online


def test_the_demo_agent_reaches_the_back_office(served: str, template: Template) -> None:
    # The demo invites the régie's agent too, so the staff pages can be tried on the demo.
    with Canteen.open(template.folder / "canteen.toml", clock=FixedClock(SHOWN_AT)) as canteen:
        agent = welcome(canteen, STAFF_ACCOUNT_ID)
    assert agent.username == STAFF_USERNAME
    with httpx.Client(base_url=served, timeout=20) as client:
        assert (
            client.post("/api/v1/account/activation", json={"token": agent.token}).status_code
            == 200
        )
        logged = client.post(
            "/api/v1/session", json={"username": agent.username, "password": agent.password}
        )
        assert logged.status_code == 200, logged.text
        changed = client.post(
            "/api/v1/account/password",
            json={"current_password": agent.password, "new_password": NEW_PASSWORD},
            headers={"X-CSRF-Token": logged.json()["csrf_token"]},
        )
        assert changed.status_code == 200, changed.text
        office = client.get("/gestion")
        assert office.status_code == 200
        assert "demandes à instruire" in office.text
