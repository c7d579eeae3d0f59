"""A real browser (Debian's Chromium, driven by Playwright) on the portal pages, served by
uvicorn on 127.0.0.1 over a copy of ``canteen demo``'s deployment (the same one tests/web
builds: a few households, Madame CONCERTO invited, a second family and a staff member).

Chromium must be at ``/usr/bin/chromium`` (``apt-get install -y chromium``; Playwright cannot
download its own browsers here). Without it the tests are skipped, except under ``CI=true``
where that is a failure. Every page visited is checked with axe-core (WCAG 2 A and AA rules)
and photographed at desktop and 390 px widths into ``build/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from canteen_adapters.cli.demo import ADMIN, SHOWN_AT
from canteen_adapters.web import WebSettings, create_app
from canteen_adapters.web.context import IdempotencyStore, WebContext
from canteen_adapters.web.sessions import SessionStore
from canteen_core.domain.clock import FixedClock, SystemClock
from canteen_core.services import Canteen
from web.conftest import CHEAP_ACCOUNTS, NEW_PASSWORD, Invited, Template
from web.conftest import template as template

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE = Path(__file__).resolve().parent / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

__all__ = ["NEW_PASSWORD", "Portal"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class Portal:
    """One test's deployment served on ``base`` and a browser page on it."""

    canteen: Canteen
    clock: FixedClock
    base: str
    page: Any
    template: Template
    shots: list[str] = attrs.Factory(list)

    def go(self, path: str) -> Any:
        """Open ``path`` (or a full URL on the portal's host)."""
        url = path if path.startswith("http") else self.base + path
        return self.page.goto(url)

    def link(self, mail_url: str) -> str:
        """An e-mailed link (on the deployment's public host) on the test server."""
        return re.sub(r"^https?://[^/]+", self.base, mail_url)

    def check(self, name: str) -> None:
        """axe-core finds no WCAG 2 A/AA violation on the page, then two screenshots."""
        page = self.page
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            """async () => {
                const result = await axe.run(document, {
                    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                });
                return result.violations.map(v => v.id + ': ' +
                    v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '));
            }"""
        )
        assert violations == [], f"{name}: {violations}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-390.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        self.shots.append(name)

    def fits_a_phone(self) -> None:
        """At 390 px the page does not scroll sideways (wide tables scroll inside their box)."""
        self.page.set_viewport_size(PHONE)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        self.page.set_viewport_size(DESKTOP)
        assert width <= PHONE["width"], width

    def mail(self, kind: str, account_id: str) -> str:
        """The text of the latest ``kind`` e-mail to ``account_id`` in the outbox."""
        texts = [
            r.message.text_body
            for r in self.canteen.accounts.outbox(ADMIN)
            if r.message.kind == kind and r.message.account_id == account_id
        ]
        assert texts, f"no {kind} e-mail for {account_id}"
        return texts[-1]

    def login(self, username: str, password: str) -> None:
        """Log in through the login form."""
        self.go("/connexion")
        self.page.get_by_label("Nom d'utilisateur").fill(username)
        self.page.get_by_label("Mot de passe", exact=True).fill(password)
        self.page.get_by_role("button", name="Se connecter").click()

    def activate(self, who: Invited) -> None:
        """Activation link, login with the temporary password, forced change: home page."""
        text = self.mail("invitation", _account_of(self, who))
        link = re.search(r"(https?://\S+/activation\?token=\S+)", text)
        assert link is not None
        self.go(self.link(link.group(1)))
        self.page.get_by_role("button", name="Activer mon compte").click()
        self.login(who.username, who.password)
        self.change_password(who.password)

    def change_password(self, current: str) -> None:
        """Fill the (forced) password change form."""
        page = self.page
        page.get_by_label("Mot de passe actuel").fill(current)
        page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Confirmation du nouveau mot de passe").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Enregistrer le mot de passe").click()


def _account_of(portal: Portal, who: Invited) -> str:
    t = portal.template
    return {
        t.concerto.username: "concerto-maman",
        t.staff.username: "agent",
    }.get(who.username, "H000001-G1")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@attrs.define
class _Server:
    """The session's uvicorn server: one app (building it takes about 1.5 s), started with the
    first test's canteen; every later test swaps in its own (:meth:`serve`)."""

    port: int = attrs.Factory(lambda: _free_port())
    web: WebContext | None = None
    server: Any = None
    thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, canteen: Canteen) -> None:
        """Serve ``canteen`` from now on."""
        if self.web is not None:
            _serve(self.web, canteen)
            return
        import uvicorn

        app = create_app(canteen, WebSettings(public_url=self.base))
        web = app.state["canteen_web"]
        assert isinstance(web, WebContext)
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        self.web = web

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(10)


@pytest.fixture(scope="session")
def server() -> Iterator[_Server]:
    """One uvicorn server for the whole session."""
    running = _Server()
    try:
        yield running
    finally:
        running.stop()


def _serve(web: WebContext, canteen: Canteen) -> None:
    """Serve ``canteen`` from now on, with no session or idempotent answer of a former test
    left (the app's other state is built from its settings, the same for every test)."""
    settings = web.settings
    web.canteen = canteen
    # Sessions and idempotent answers live in the canteen's storage (a fresh copy of the demo
    # for each test); they expire in real time, as create_app sets them.
    web.sessions = SessionStore(
        canteen.context.storage,
        idle=settings.session_idle,
        maximum=settings.session_max,
        now=SystemClock().now,
        cache_for=settings.session_cache.total_seconds(),
    )
    web.idempotency = IdempotencyStore(
        canteen.context.storage, settings.idempotency_ttl, SystemClock().now
    )


@pytest.fixture
def portal(template: Template, tmp_path: Path, browser: Any, server: _Server) -> Iterator[Portal]:
    """A fresh copy of the demo served by the session's server (passwords hashed cheaply: the
    hashing is the accounts tests' business), and a new browser context on it."""
    folder = tmp_path / "deployment"
    shutil.copytree(template.folder, folder)
    clock = FixedClock(SHOWN_AT)
    canteen = Canteen.open(folder / "canteen.toml", clock=clock, account_settings=CHEAP_ACCOUNTS)
    server.serve(canteen)
    context = browser.new_context(
        viewport=DESKTOP, locale="fr-FR", bypass_csp=True, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield Portal(canteen=canteen, clock=clock, base=server.base, page=page, template=template)
    finally:
        context.close()
        canteen.close()
