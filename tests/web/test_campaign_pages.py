"""The campaign pages: the family confirms a child's re-enrollment with the days it ticks, or
not; the back office sees where each campaign stands, reminds and closes."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from canteen_adapters.cli.demo import ADMIN
from canteen_core.domain.clock import PARIS

from .conftest import NEW_PASSWORD, Deployment


def test_family_and_back_office_campaign_pages(web: Deployment) -> None:
    web.activate(web.template.staff)
    web.logout()
    family = web.activate(web.template.concerto)
    web.clock.set(datetime(2024, 5, 15, 10, 0, tzinfo=PARIS))
    opened = web.canteen.campaigns.open_reenrollment(
        ADMIN, school_year=2024, deadline=(web.clock.now() + timedelta(days=30)).date()
    )
    page = web.client.get("/foyer/CONCERTO/campagnes")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert "Réinscriptions 2024-2025" in text
    assert "Confirmer la réinscription" in text
    mine = [a for a in opened.answers if a.household_id == "CONCERTO"]
    assert mine
    done = web.client.post(
        f"/foyer/CONCERTO/campagnes/{mine[0].id}",
        data={"csrf_token": family, "decision": "confirmer", "weekdays": ["0", "3"]},
    )
    assert done.status_code == 200, done.text
    assert "Réinscription confirmée." in html.unescape(done.text)
    assert "jours réservés : lundi et jeudi" in html.unescape(done.text)
    web.logout()

    staff = web.login(web.template.staff.username, NEW_PASSWORD)
    listing = web.client.get("/gestion/campagnes")
    assert listing.status_code == 200, listing.text
    assert "1 réinscription confirmée" in html.unescape(listing.text)
    reminded = web.client.post(
        f"/gestion/campagnes/{opened.campaign.id}",
        data={"csrf_token": staff, "action": "relancer"},
    )
    assert reminded.status_code == 200
    assert "relancées" in html.unescape(reminded.text)
    early = web.client.post(
        f"/gestion/campagnes/{opened.campaign.id}",
        data={"csrf_token": staff, "action": "cloturer"},
    )
    assert "inclus : elle se clôt après" in html.unescape(early.text)
    web.clock.set(datetime(2024, 6, 20, 10, 0, tzinfo=PARIS))
    staff = web.login(web.template.staff.username, NEW_PASSWORD)
    closed = web.client.post(
        f"/gestion/campagnes/{opened.campaign.id}",
        data={"csrf_token": staff, "action": "cloturer"},
    )
    assert closed.status_code == 200, closed.text
    assert "1 réinscrit(e)" in html.unescape(closed.text)
