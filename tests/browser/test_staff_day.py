"""The staff's roll call beyond lunch in Chromium, without JavaScript of its own: a row per
child and activity, arrival and departure typed for the evening care and recorded, the day's
allergy flags and waiting list; axe-core finds no WCAG violation."""

from __future__ import annotations

from datetime import date, time

from browser.conftest import Portal
from canteen_adapters.cli.demo import ADMIN
from canteen_adapters.cli.demo.activities import alsh_menu
from canteen_adapters.cli.demo.commune import SITE, STAFF
from canteen_core.domain.allergens import Allergen
from canteen_core.synthetic_activities import EVENING_CARE
from web.test_staff_day import enroll_alban_at_the_evening_care

EVENING = "CONCERTO-alban-soir-navigateur"


def test_roll_call_with_times_allergies_and_waiting_list(portal: Portal) -> None:
    page = portal.page
    canteen = portal.canteen
    enroll_alban_at_the_evening_care(canteen, EVENING)
    monday = date(2023, 10, 16)  # Alban eats on Mondays; Monday's dessert is a yoghurt
    canteen.menus.publish(STAFF, alsh_menu(monday))
    canteen.menus.set_pai_allergens(ADMIN, "CONCERTO", "concerto-alban", [Allergen.MILK])
    canteen.capacity.set(ADMIN, SITE.id, EVENING_CARE.id, 40, days={monday: 0})
    canteen.reservations.book(ADMIN, EVENING, monday)  # full that day: Alban waits
    portal.activate(portal.template.staff)
    portal.go(f"/gestion/appel?site=ronde&jour={monday}")
    main = page.inner_text("main")
    assert "Alban CONCERTO : " in main
    assert "Yaourt nature" in main
    waiting = page.get_by_role("table", name="Enfants en liste d'attente (1)")
    assert "Accueil du soir" in waiting.inner_text()
    assert "Alban CONCERTO" in waiting.inner_text()
    portal.check("appel-jour")
    portal.fits_a_phone()

    thursday = date(2023, 10, 5)
    page.get_by_label("Jour", exact=True).fill(thursday.isoformat())
    page.get_by_role("button", name="Afficher").click()
    page.locator(f'input[name="presence-{EVENING}"][value="present"]').check()
    page.get_by_label("Arrivée de Alban CONCERTO (Accueil du soir)").fill("16:40")
    page.get_by_label("Départ de Alban CONCERTO (Accueil du soir)").fill("18:10")
    page.get_by_role("button", name="Enregistrer l'appel").click()
    assert "L'appel est enregistré" in page.inner_text("main")
    records = {
        r.enrollment_id: r for r in canteen.attendance.records(STAFF, start=thursday, end=thursday)
    }
    assert (records[EVENING].arrival, records[EVENING].departure) == (time(16, 40), time(18, 10))
    assert page.get_by_label("Arrivée de Alban CONCERTO (Accueil du soir)").input_value() == "16:40"
    portal.check("appel-horaires")
