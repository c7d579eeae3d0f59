"""Menus, allergy flags, capacity and waiting lists over HTTP (the demo's SQLite deployment)."""

from __future__ import annotations

import re
from datetime import date

import attrs

from canteen_adapters.cli.demo import ADMIN
from canteen_core.domain.capacity import CapacitySettings, PromotionMode

from .conftest import CONCERTO_ENROLLMENT, Deployment

MONDAY = "2023-11-20"
DAY = date(2023, 12, 5)

_MENU = {
    "week": MONDAY,
    "days": [
        {
            "day": MONDAY,
            "starter": {"name": "Salade verte", "allergens": ["moutarde"]},
            "main": {"name": "Poulet sauce satay", "allergens": ["peanuts", "soybeans"]},
            "side": {"name": "Riz"},
            "dessert": {"name": "Yaourt", "allergens": ["milk"]},
            "vegetarian_option": {"name": "Curry de lentilles"},
        },
        {
            "day": "2023-11-21",
            "main": {"name": "Lasagnes aux légumes", "allergens": ["gluten", "milk"]},
            "vegetarian": True,
        },
    ],
}


def test_a_published_menu_flags_the_child_whose_pai_lists_peanuts(web: Deployment) -> None:
    enrollment = web.canteen.enrollments.get(ADMIN, CONCERTO_ENROLLMENT)
    web.canteen.menus.set_pai_allergens(
        ADMIN, enrollment.household_id, enrollment.child_id, ["arachides"]
    )
    monday = date(2023, 11, 20)
    if not web.canteen.reservations.booked_days(ADMIN, CONCERTO_ENROLLMENT, monday, monday):
        web.canteen.reservations.book(ADMIN, CONCERTO_ENROLLMENT, monday)
    csrf = web.activate(web.template.staff)
    refused = web.client.post(
        "/api/v1/staff/sites/ronde/menus",
        json={**_MENU, "days": _MENU["days"][:1]},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 422, refused.text
    assert "EGalim" in refused.json()["detail"]
    published = web.client.post(
        "/api/v1/staff/sites/ronde/menus", json=_MENU, headers={"X-CSRF-Token": csrf}
    )
    assert published.status_code == 200, published.text
    flags = web.client.get(f"/api/v1/staff/sites/ronde/allergy-flags/{MONDAY}").json()
    # Alban, and the demo's ALSH child whose PAI lists peanuts and milk, booked that Monday.
    assert [(f["enrollment_id"], [a["label"] for a in f["allergens"]]) for f in flags] == [
        (CONCERTO_ENROLLMENT, ["Arachides"]),
        ("H000002-C1-rs", ["Lait", "Arachides"]),
    ]
    assert flags[0]["dishes"] == ["Poulet sauce satay"]
    web.logout()
    web.activate(web.template.concerto)
    menu = web.client.get("/api/v1/sites/ronde/menus/2023-W47")
    assert menu.status_code == 200
    monday = menu.json()["days"][0]
    assert [d["course_label"] for d in monday["dishes"]] == [
        "Entrée",
        "Plat",
        "Accompagnement",
        "Dessert",
        "Option végétarienne",
    ]
    assert {a["label"] for a in monday["allergens"]} == {"Arachides", "Soja", "Lait", "Moutarde"}
    missing = web.client.get("/api/v1/sites/ronde/menus/2023-W48")
    assert missing.status_code == 404
    assert "à Ecole Élémentaire RONDE" in missing.json()["detail"]
    page = web.client.get("/menus/ronde?date=2023-11-22")
    assert page.status_code == 200
    assert "Poulet sauce satay <small>(allergènes : Arachides, Soja)</small>" in page.text
    assert "menu végétarien" in page.text
    assert web.client.get(f"/api/v1/staff/sites/ronde/allergy-flags/{MONDAY}").status_code == 403


def test_a_full_day_puts_the_family_on_the_waiting_list_shown_in_its_grid(web: Deployment) -> None:
    csrf = web.activate(web.template.concerto)
    headers = {"X-CSRF-Token": csrf}
    url = f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/reservations"
    change = {"changes": [{"day": DAY.isoformat(), "booked": False}]}
    assert web.client.post(url, json=change, headers=headers).status_code == 200
    taken = web.canteen.kitchen.headcount(ADMIN, "ronde", DAY).total
    web.logout()
    staff = web.activate(web.template.staff)
    rule = web.client.put(
        "/api/v1/staff/sites/ronde/capacities/rs",
        json={"places": 200, "days": {DAY.isoformat(): taken}},
        headers={"X-CSRF-Token": staff},
    )
    assert rule.status_code == 200, rule.text
    assert rule.json()["days"] == {DAY.isoformat(): taken}
    web.logout()
    csrf = web.login(web.template.concerto.username, "Ronde-Cantine-2023!")
    headers = {"X-CSRF-Token": csrf}
    change = {"changes": [{"day": DAY.isoformat(), "booked": True}]}
    done = web.client.post(url, json=change, headers=headers)
    assert done.status_code == 200, done.text
    assert [(s["reason"], s["message"]) for s in done.json()["skipped"]] == [
        ("full", "Complet : inscrit en liste d'attente (rang 1)")
    ]
    grid = web.client.get(f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/weeks/2023-W49").json()
    cell = next(c for row in grid["rows"] for c in row["cells"] if c and c["day"] == "2023-12-05")
    assert (cell["state"], cell["waiting"]) == ("waiting", "liste d'attente (rang 1)")
    household = web.canteen.enrollments.get(ADMIN, CONCERTO_ENROLLMENT).household_id
    waiting = web.client.get(f"/api/v1/households/{household}/waiting-list").json()
    assert [(w["day"], w["status"], w["label"]) for w in waiting] == [
        ("2023-12-05", "waiting", "liste d'attente (rang 1)")
    ]
    page = web.client.get(f"/reservations/{CONCERTO_ENROLLMENT}?vue=mois&date=2023-12-01")
    assert page.status_code == 200
    assert "Complet <small>Liste d&#39;attente (rang 1)</small>" in page.text
    left = web.client.post(f"/api/v1/waiting-list/{waiting[0]['id']}/decline", headers=headers)
    assert left.status_code == 200
    assert left.json()["status"] == "withdrawn"
    assert web.client.get(f"/api/v1/households/{household}/waiting-list").json() == []


def test_a_family_accepts_an_offered_place_from_its_grid(web: Deployment) -> None:
    offer = CapacitySettings(promotion=PromotionMode.OFFER)
    web.canteen.context.deployment = attrs.evolve(web.canteen.context.deployment, capacity=offer)
    canteen = web.canteen
    booked = [
        e.id
        for e in canteen.enrollments.list_enrollments(ADMIN)
        if e.id != CONCERTO_ENROLLMENT and canteen.reservations.booked_days(ADMIN, e.id, DAY, DAY)
    ]
    canteen.reservations.cancel(ADMIN, CONCERTO_ENROLLMENT, DAY)
    taken = canteen.kitchen.headcount(ADMIN, "ronde", DAY).total
    canteen.capacity.set(ADMIN, "ronde", "rs", 200, days={DAY: taken})
    assert canteen.reservations.book(ADMIN, CONCERTO_ENROLLMENT, DAY).skipped
    canteen.reservations.cancel(ADMIN, booked[0], DAY)  # the place is offered to Alban
    web.activate(web.template.concerto)
    grid = web.client.get(f"/reservations/{CONCERTO_ENROLLMENT}?vue=mois&date=2023-12-01")
    assert "Complet <small>Place proposée jusqu&#39;au" in grid.text
    action = re.search(r'formaction="(/liste-attente/[^"]+/accepter)"', grid.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', grid.text)
    assert action is not None
    assert token is not None
    done = web.client.post(
        action.group(1), data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    assert canteen.reservations.booked_days(ADMIN, CONCERTO_ENROLLMENT, DAY, DAY) == (DAY,)
    forged = web.client.post(action.group(1), data={"csrf_token": "x"}, follow_redirects=False)
    assert forged.status_code == 403
