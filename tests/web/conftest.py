"""A real SQLite deployment for the HTTP tests: ``canteen demo`` (a few households) plus a
second family and a staff member with portal accounts, copied afresh for every test."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import argon2
import attrs
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from canteen_adapters.cli.demo import ADMIN, SHOWN_AT, run_demo
from canteen_adapters.web import WebSettings, create_app
from canteen_core.domain.accounts import AccountSettings
from canteen_core.domain.actors import Role
from canteen_core.domain.clock import FixedClock
from canteen_core.services import Canteen

HOUSEHOLDS = 3
OTHER = "H000001"
CONCERTO_ENROLLMENT = "CONCERTO-alban-rs"
NEW_PASSWORD = "Ronde-Cantine-2023!"
#: Fast password hashing (tests only: hashing is the accounts tests' business). A canteen
#: with the default settings still verifies such hashes, and rehashes them at login.
CHEAP_ACCOUNTS = AccountSettings(
    hasher=argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
)


@attrs.frozen
class Invited:
    """An account as its welcome e-mail describes it."""

    username: str
    password: str
    token: str


def welcome(canteen: Canteen, account_id: str) -> Invited:
    """The username, temporary password and activation token of ``account_id``'s latest
    welcome e-mail."""
    text = [
        r.message.text_body
        for r in canteen.accounts.outbox(ADMIN)
        if r.message.kind == "invitation" and r.message.account_id == account_id
    ][-1]
    return Invited(
        username=re.search(r"Nom d'utilisateur : (\S+)", text).group(1),  # type: ignore[union-attr]
        password=re.search(r"Mot de passe provisoire : (\S+)", text).group(1),  # type: ignore[union-attr]
        token=re.search(r"[?&]token=(\S+)", text).group(1),  # type: ignore[union-attr]
    )


@attrs.frozen
class Template:
    folder: Path
    concerto: Invited
    other: Invited
    staff: Invited


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("demo")
    run_demo(folder / "canteen.db", households=HOUSEHOLDS)
    # The two accounts added here get cheaply hashed temporary passwords.
    with Canteen.open(
        folder / "canteen.toml", clock=FixedClock(SHOWN_AT), account_settings=CHEAP_ACCOUNTS
    ) as canteen:
        canteen.accounts.invite_guardian(ADMIN, OTHER, f"{OTHER}-G1", username="autre")
        canteen.accounts.invite(
            ADMIN,
            email="cantine@ronde.example",
            display_name="Service restauration",
            roles=(Role.STAFF, Role.FINANCE, Role.ADMIN),  # closing a site is for admins
            username="agent",
            account_id="agent",
        )
        return Template(
            folder=folder,
            concerto=welcome(canteen, "concerto-maman"),
            other=welcome(canteen, f"{OTHER}-G1"),
            staff=welcome(canteen, "agent"),
        )


@attrs.define
class Deployment:
    """One test's copy of the demo: its canteen (clock pinned), app and client."""

    canteen: Canteen
    clock: FixedClock
    app: Litestar
    client: TestClient[Litestar]
    template: Template

    def activate(self, who: Invited, *, change: bool = True) -> str:
        """Activate, log in, change the temporary password: the session's CSRF token."""
        client = self.client
        assert (
            client.post("/api/v1/account/activation", json={"token": who.token}).status_code == 200
        )
        csrf = self.login(who.username, who.password)
        if change:
            done = client.post(
                "/api/v1/account/password",
                json={"current_password": who.password, "new_password": NEW_PASSWORD},
                headers={"X-CSRF-Token": csrf},
            )
            assert done.status_code == 200, done.text
        return csrf

    def login(self, username: str, password: str) -> str:
        """Log in; the session's CSRF token."""
        done = self.client.post(
            "/api/v1/session", json={"username": username, "password": password}
        )
        assert done.status_code == 200, done.text
        return str(done.json()["csrf_token"])

    def logout(self) -> None:
        self.client.cookies.clear()


def open_deployment(
    template: Template, folder: Path, now: datetime = SHOWN_AT, *, billing: str = "postpaid"
) -> Deployment:
    shutil.copytree(template.folder, folder)
    if billing != "postpaid":  # the demo bills post-paid: its deployment file says so
        config = folder / "canteen.toml"
        text = config.read_text(encoding="utf-8")
        assert '\nmode = "postpaid"\n' in text
        config.write_text(text.replace('\nmode = "postpaid"\n', f'\nmode = "{billing}"\n'))
    clock = FixedClock(now)
    canteen = Canteen.open(folder / "canteen.toml", clock=clock)
    app = create_app(canteen, WebSettings(public_url="https://famille.ronde.example"))
    client = TestClient(app)
    return Deployment(canteen=canteen, clock=clock, app=app, client=client, template=template)


@pytest.fixture
def web(template: Template, tmp_path: Path) -> Iterator[Deployment]:
    deployment = open_deployment(template, tmp_path / "deployment")
    with deployment.client:
        yield deployment
    deployment.canteen.close()


@pytest.fixture
def prepaid_web(template: Template, tmp_path: Path) -> Iterator[Deployment]:
    """The demo as a prepaid deployment (``[billing] mode = "prepaid"``): its September was
    invoiced post-paid, the months after are invoiced from the validated baskets."""
    deployment = open_deployment(template, tmp_path / "deployment", billing="prepaid")
    with deployment.client:
        yield deployment
    deployment.canteen.close()


@pytest.fixture
def family(web: Deployment) -> tuple[Deployment, str]:
    """Madame CONCERTO logged in with her own password: (deployment, CSRF token)."""
    return web, web.activate(web.template.concerto)
