"""The pages mounted under a prefix of another ASGI app (``/cantine``, the ASGI ``root_path``):
every redirect and every link, form action and asset the pages write carries the prefix, so a
family never falls out of the portal onto the host's own pages."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from .conftest import CONCERTO_ENROLLMENT, NEW_PASSWORD, Deployment, Template, open_deployment

PREFIX = "/cantine"
GRID = f"/reservations/{CONCERTO_ENROLLMENT}?vue=semaine&date=2023-10-09"


def mounted(app: ASGIApp, *, keep_path: bool) -> ASGIApp:
    """``app`` under ``/cantine`` of a host app, as a Starlette ``Mount`` or ``uvicorn
    --root-path`` passes it (``keep_path``: the full path stays in ``path``) or as the
    embedding page's example does (the prefix taken off ``path``)."""

    async def host(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the app's lifespan
            await app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith(PREFIX + "/"):
            inner = path if keep_path else path.removeprefix(PREFIX)
            scope = {**scope, "path": inner, "root_path": PREFIX}  # type: ignore[typeddict-item]
            await app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"host app"})

    return host


@pytest.fixture(params=[True, False], ids=["full-path", "stripped-path"])
def host(
    request: pytest.FixtureRequest, template: Template, tmp_path: Path
) -> Iterator[Deployment]:
    """The demo's app mounted under ``/cantine``; Madame CONCERTO's account activated (she
    still has her temporary password)."""
    web = open_deployment(template, tmp_path / "deployment")
    web.client = TestClient(mounted(web.app, keep_path=request.param))  # type: ignore[arg-type]
    with web.client:
        done = web.client.post(
            f"{PREFIX}/api/v1/account/activation", json={"token": template.concerto.token}
        )
        assert done.status_code == 200, done.text
        yield web
    web.canteen.close()


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _addresses(page: str) -> list[str]:
    """Every address the page leads to: links, form actions, scripts, styles, icons."""
    found = re.findall(r'\b(?:href|action|src|formaction)="([^"#][^"]*)"', page)
    return [html.unescape(a) for a in found if not a.startswith(("mailto:", "?", "https:"))]


def _all_under_the_prefix(page: str) -> None:
    addresses = _addresses(page)
    assert addresses
    outside = [a for a in addresses if not a.startswith(PREFIX + "/")]
    assert outside == []


def _see_other(web: Deployment, path: str, data: dict[str, str]) -> str:
    done = web.client.post(path, data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    return str(done.headers["location"])


def test_login_password_change_and_booking_stay_under_the_prefix(host: Deployment) -> None:
    web = host
    asked = web.client.get(PREFIX + GRID, follow_redirects=False)
    assert asked.status_code == 303
    login_at = asked.headers["location"]
    assert login_at == f"{PREFIX}/connexion?suivant=" + quote(GRID, safe="")

    login_page = web.client.get(login_at)
    assert login_page.status_code == 200
    _all_under_the_prefix(login_page.text)
    assert f'action="{PREFIX}/connexion"' in login_page.text
    # The temporary password: the forced change comes between, then the grid asked for.
    change_at = _see_other(
        web,
        f"{PREFIX}/connexion",
        {
            "csrf_token": _token(login_page.text),
            "username": web.template.concerto.username,
            "password": web.template.concerto.password,
            "suivant": GRID,
        },
    )
    assert change_at == f"{PREFIX}/mot-de-passe?suivant=" + quote(GRID, safe="")
    # Any other page meanwhile: to the password change, under the prefix.
    forced = web.client.get(f"{PREFIX}/foyer/CONCERTO", follow_redirects=False)
    assert forced.headers["location"].startswith(f"{PREFIX}/mot-de-passe")
    change_page = web.client.get(change_at)
    _all_under_the_prefix(change_page.text)
    grid_at = _see_other(
        web,
        f"{PREFIX}/mot-de-passe",
        {
            "csrf_token": _token(change_page.text),
            "current_password": web.template.concerto.password,
            "new_password": NEW_PASSWORD,
            "confirmation": NEW_PASSWORD,
            "suivant": GRID,
        },
    )
    assert grid_at == PREFIX + GRID

    grid = web.client.get(grid_at)
    assert grid.status_code == 200, grid.text
    _all_under_the_prefix(grid.text)
    step_two = f'action="{PREFIX}/reservations/{CONCERTO_ENROLLMENT}/etape-2"'
    assert step_two in grid.text
    csrf = _token(grid.text)
    days = re.findall(r'name="shown" value="([^"]+)"', grid.text)
    assert days
    recap = web.client.post(
        f"{PREFIX}/reservations/{CONCERTO_ENROLLMENT}/etape-2",
        data={
            "csrf_token": csrf,
            "vue": "semaine",
            "date": "2023-10-09",
            "shown": days,
            "day": days,
            "action": "etape2",
        },
    )
    assert recap.status_code == 200, recap.text
    _all_under_the_prefix(recap.text)
    booked = re.findall(r'name="book" value="([^"]+)"', recap.text)
    assert booked
    saved = web.client.post(
        f"{PREFIX}/reservations/{CONCERTO_ENROLLMENT}/valider",
        data={"csrf_token": csrf, "vue": "semaine", "date": "2023-10-09", "book": booked},
    )
    assert "Vos réservations sont enregistrées" in saved.text
    _all_under_the_prefix(saved.text)

    # A form that changes something answers "see other": a page under the prefix.
    profile = web.client.get(f"{PREFIX}/foyer/CONCERTO/profil")
    _all_under_the_prefix(profile.text)
    guardian = re.search(r'name="guardian_id" value="([^"]+)"', profile.text)
    assert guardian is not None
    saved_at = _see_other(
        web,
        f"{PREFIX}/foyer/CONCERTO/profil",
        {"csrf_token": csrf, "guardian_id": guardian.group(1), "email": "maman@ronde.example"},
    )
    assert saved_at == f"{PREFIX}/foyer/CONCERTO/profil?enregistre=1"

    # The portal's entry, the e-mails' links and the logout: under the prefix too.
    home = web.client.get(f"{PREFIX}/", follow_redirects=False)
    assert home.headers["location"] == f"{PREFIX}/foyer/CONCERTO"
    dashboard = web.client.get(home.headers["location"])
    _all_under_the_prefix(dashboard.text)
    invoices = web.client.get(f"{PREFIX}/factures", follow_redirects=False)
    assert invoices.headers["location"] == f"{PREFIX}/foyer/CONCERTO/factures"
    assert 'aria-current="page">Mon accueil' in dashboard.text
    gone = _see_other(web, f"{PREFIX}/deconnexion", {"csrf_token": csrf})
    assert gone == f"{PREFIX}/connexion?au-revoir=1"


def test_an_unknown_api_address_under_the_prefix_stays_a_problem(host: Deployment) -> None:
    """A browser's unknown address gets the French page, but not inside the API."""
    web = host
    page = web.client.get(f"{PREFIX}/nulle-part", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "Introuvable" in page.text
    _all_under_the_prefix(page.text)
    api = web.client.get(f"{PREFIX}/api/v1/nulle-part", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
