"""An e-mail's link followed without a session: the login page carries the page asked for
(``/connexion?suivant=...``), and the login (and the forced password change, the activation
when they come between) ends on it; a target on another site is never followed."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from .conftest import CONCERTO_ENROLLMENT, NEW_PASSWORD, Deployment

GRID = f"/reservations/{CONCERTO_ENROLLMENT}?vue=mois&date=2023-10-01"


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _hidden_target(html: str) -> str | None:
    found = re.search(r'name="suivant" value="([^"]*)"', html)
    return None if found is None else found.group(1).replace("&amp;", "&")


def _login(web: Deployment, location: str, password: str) -> str:
    """Open the login page at ``location``, post its form: where the login sends the user."""
    shown = web.client.get(location)
    assert shown.status_code == 200, shown.text
    data = {
        "csrf_token": _form_token(shown.text),
        "username": web.template.concerto.username,
        "password": password,
    }
    target = _hidden_target(shown.text)
    if target is not None:
        data["suivant"] = target
    done = web.client.post("/connexion", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    return done.headers["location"]


@pytest.fixture
def logged_out(web: Deployment) -> Deployment:
    """Madame CONCERTO's account activated, her own password chosen, then logged out."""
    web.activate(web.template.concerto)
    web.logout()
    return web


@pytest.mark.parametrize(
    "link",
    ["/factures", "/foyer/CONCERTO/factures?paiement=retour", GRID, "/espace-de-stockage"],
)
def test_an_emailed_link_opens_after_login(logged_out: Deployment, link: str) -> None:
    web = logged_out
    asked = web.client.get(link, follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/connexion?suivant=" + quote(link, safe="")
    told = html.unescape(web.client.get(asked.headers["location"]).text)
    assert "Connectez-vous pour ouvrir la page demandée" in told
    assert _login(web, asked.headers["location"], NEW_PASSWORD) == link
    opened = web.client.get(link)
    assert opened.status_code == 200, opened.text


def test_the_invoices_link_lands_on_my_invoices(logged_out: Deployment) -> None:
    web = logged_out
    asked = web.client.get("/factures", follow_redirects=False)
    assert _login(web, asked.headers["location"], NEW_PASSWORD) == "/factures"
    shown = web.client.get("/factures")
    assert str(shown.url).endswith("/foyer/CONCERTO/factures")
    assert "<h1>Mes factures</h1>" in shown.text


def test_a_wrong_password_keeps_the_target(logged_out: Deployment) -> None:
    web = logged_out
    location = "/connexion?suivant=%2Ffactures"
    shown = web.client.get(location)
    refused = web.client.post(
        "/connexion",
        data={
            "csrf_token": _form_token(shown.text),
            "username": web.template.concerto.username,
            "password": "pas-le-bon",
            "suivant": "/factures",
        },
    )
    assert refused.status_code == 401
    assert _hidden_target(refused.text) == "/factures"


def test_the_forced_password_change_comes_between_and_the_target_follows(
    web: Deployment,
) -> None:
    concerto = web.template.concerto
    web.activate(concerto, change=False)
    web.logout()
    asked = web.client.get(GRID, follow_redirects=False)
    to_change = _login(web, asked.headers["location"], concerto.password)
    assert to_change == "/mot-de-passe?suivant=" + quote(GRID, safe="")
    shown = web.client.get(to_change)
    assert _hidden_target(shown.text) == GRID
    changed = web.client.post(
        "/mot-de-passe",
        data={
            "csrf_token": _form_token(shown.text),
            "current_password": concerto.password,
            "new_password": NEW_PASSWORD,
            "confirmation": NEW_PASSWORD,
            "suivant": GRID,
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    assert changed.headers["location"] == GRID


def test_a_page_asked_before_the_forced_change_opens_after_it(web: Deployment) -> None:
    web.activate(web.template.concerto, change=False)
    asked = web.client.get("/foyer/CONCERTO/factures", follow_redirects=False)
    assert asked.headers["location"] == "/mot-de-passe?suivant=%2Ffoyer%2FCONCERTO%2Ffactures"


def test_the_activation_page_keeps_the_target_for_the_login(web: Deployment) -> None:
    token = web.template.concerto.token
    shown = web.client.get(f"/activation?token={token}&suivant=%2Ffactures")
    assert _hidden_target(shown.text) == "/factures"
    done = web.client.post(
        "/activation",
        data={"csrf_token": _form_token(shown.text), "token": token, "suivant": "/factures"},
    )
    assert done.status_code == 200, done.text
    assert 'href="/connexion?suivant=/factures"' in done.text


def test_without_a_target_the_login_lands_on_the_dashboard(logged_out: Deployment) -> None:
    assert _login(logged_out, "/connexion", NEW_PASSWORD) == "/foyer/CONCERTO"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/factures",
        "//evil.example/factures",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/ /evil.example",
        "javascript:alert(1)",
        "evil.example/factures",
        "/factures\u00e9",
        "",
    ],
)
def test_a_target_on_another_site_falls_back_to_the_dashboard(
    logged_out: Deployment, target: str
) -> None:
    web = logged_out
    shown = web.client.get("/connexion", params={"suivant": target})
    assert shown.status_code == 200
    assert _hidden_target(shown.text) is None
    assert "page demandée" not in html.unescape(shown.text)
    done = web.client.post(
        "/connexion",
        data={
            "csrf_token": _form_token(shown.text),
            "username": web.template.concerto.username,
            "password": NEW_PASSWORD,
            "suivant": target,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/foyer/CONCERTO"


def test_a_form_posted_without_a_session_is_not_a_target(web: Deployment) -> None:
    posted = web.client.post(
        "/foyer/CONCERTO/profil", data={"csrf_token": "x"}, follow_redirects=False
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/connexion"


def test_a_target_opens_at_once_for_a_user_already_logged_in(web: Deployment) -> None:
    """The login link of an e-mail, followed in a tab where the parent is already logged in,
    opens the page asked for rather than the login form; a foreign target still goes nowhere."""
    web.activate(web.template.concerto)
    shown = web.client.get("/connexion?suivant=/factures", follow_redirects=False)
    assert (shown.status_code, shown.headers["location"]) == (303, "/factures")
    foreign = web.client.get("/connexion?suivant=//evil.example/", follow_redirects=False)
    assert foreign.status_code == 200
    assert "evil.example" not in foreign.text
