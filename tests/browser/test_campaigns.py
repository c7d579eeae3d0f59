"""The campaign pages in Chromium: staff open the re-enrollment, a parent confirms a child
with the days to book and declines the other; the back office sees it. Both pages pass
axe-core (WCAG 2 A/AA)."""

from __future__ import annotations

from datetime import date

from browser.conftest import Portal
from canteen_adapters.cli.demo import ADMIN


def test_reenrollment_pages(portal: Portal) -> None:
    page = portal.page
    portal.canteen.campaigns.open_reenrollment(ADMIN, school_year=2024, deadline=date(2023, 11, 30))
    portal.activate(portal.template.concerto)
    page.get_by_role("link", name="Réinscription").first.click()
    main = page.inner_text("main")
    assert "Réinscriptions 2024-2025" in main
    portal.check("campagnes")
    page.get_by_label("lundi").first.check()
    page.get_by_label("jeudi").first.check()
    page.get_by_role("button", name="Confirmer la réinscription").first.click()
    main = page.inner_text("main")
    assert "Réinscription confirmée." in main
    assert "jours réservés : lundi et jeudi" in main

    page.context.clear_cookies()
    portal.activate(portal.template.staff)
    portal.go("/gestion/campagnes")
    assert "1 réinscription confirmée" in page.inner_text("main")
    portal.check("gestion-campagnes")
