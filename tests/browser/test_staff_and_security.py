"""Step 5 (the back office) in Chromium, and what a family must not reach: another
household's pages by editing URLs, a form posted without its CSRF token."""

from __future__ import annotations

from datetime import date

from browser.conftest import DESKTOP, Portal
from canteen_adapters.cli.demo import CONCERTO_PAYER
from canteen_adapters.cli.demo import FINANCE as FINANCE_ACTOR


def test_back_office_instructs_a_late_change(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.staff)
    assert "/gestion" in page.url
    portal.check("gestion")
    page.get_by_role("link", name="Appel").click()
    assert "Appel du vendredi 06/10/2023" in page.inner_text("main")
    page.get_by_role("button", name="Enregistrer l'appel").click()
    assert "L'appel est enregistré" in page.inner_text("main")
    portal.check("appel")
    page.get_by_role("link", name="Effectifs").click()
    assert "Repas à préparer" in page.inner_text("main")
    portal.check("effectifs")
    page.get_by_role("link", name="Facturation").click()
    page.get_by_label("Mois à facturer (AAAA-MM)").fill("2023-09")
    page.get_by_role("button", name="Lancer la facturation").click()
    assert "déjà facturé" in page.inner_text("main")
    portal.check("facturation")
    page.get_by_role("link", name="Foyers").click()
    page.get_by_label("Nom, prénom, courriel ou numéro de foyer").fill("concerto")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="CONCERTO").first.click()
    assert "Foyer CONCERTO" in page.inner_text("main")
    portal.check("foyer")


def test_staff_approves_a_pending_request(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    done = portal.canteen.reservations.set_days(
        CONCERTO_PAYER, "CONCERTO-alban-rs", {date(2023, 10, 10): True}
    )
    assert len(done.pending) == 1
    page.get_by_role("button", name="Se déconnecter").click()
    portal.activate(portal.template.staff)
    assert "mardi 10/10/2023" in page.inner_text("main")
    page.get_by_role("button", name="Accepter").click()
    assert "Demande acceptée" in page.inner_text("main")


def test_a_family_reaches_only_its_household_and_csrf_is_checked(portal: Portal) -> None:
    page = portal.page
    portal.activate(portal.template.concerto)
    for path in (
        "/foyer/H000001",
        "/foyer/H000001/factures",
        "/foyer/H000001/profil",
        "/gestion",
        "/gestion/foyers/H000001",
    ):
        response = portal.go(path)
        assert response.status in {403, 404}, path
        assert "Accès refusé" in page.inner_text("main") or "Introuvable" in page.inner_text("main")
    other = [
        e
        for e in portal.canteen.enrollments.list_enrollments(FINANCE_ACTOR)
        if e.household_id == "H000001"
    ]
    response = portal.go(f"/reservations/{other[0].id}")
    assert response.status in {403, 404}
    portal.check("acces-refuse")
    # The same form without its token is refused, with the token it works.
    refused = page.request.post(
        portal.base + "/foyer/CONCERTO/profil",
        form={"guardian_id": "concerto-maman", "email": "pirate@example.org"},
    )
    assert refused.status == 403
    assert "pas pu être vérifiée" in refused.text()
    assert "pirate" not in portal.canteen.families.get(FINANCE_ACTOR, "CONCERTO").payer.email


def test_the_portal_icon_loads_under_the_pages_security_policy(portal: Portal) -> None:
    # The fixture's context bypasses the Content-Security-Policy: this one enforces it.
    context = portal.page.context.browser.new_context(viewport=DESKTOP, locale="fr-FR")
    try:
        page = context.new_page()
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        with page.expect_response(lambda r: r.url.endswith("/static/favicon.svg")) as icon:
            page.goto(portal.base + "/connexion")
        assert icon.value.status == 200
        assert icon.value.headers["content-type"] == "image/svg+xml"
        assert page.locator('link[rel="icon"]').get_attribute("href") == "/static/favicon.svg"
        # Where browsers look without a link: no more 404 in the server's log.
        ico = page.goto(portal.base + "/favicon.ico")
        assert ico is not None
        assert ico.status == 200
        assert not [m for m in messages if "Content Security Policy" in m], messages
    finally:
        context.close()
