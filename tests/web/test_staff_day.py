"""The staff's roll-call page beyond lunch: one row per child and activity, labelled with the
activity; arrival and departure entered for the evening care (billed by the half-hour) and
recorded; the day's allergy flags and waiting list; a half-entered stay refused in French
with nothing recorded."""

from __future__ import annotations

import re
from datetime import date, time
from html import unescape

from canteen_adapters.cli.demo import ADMIN
from canteen_adapters.cli.demo.activities import alsh_menu
from canteen_adapters.cli.demo.commune import BOOKING_POLICY, SCHOOL_YEAR, SITE, STAFF
from canteen_core.domain.allergens import Allergen
from canteen_core.services import Canteen
from canteen_core.services.enrollments import EnrollmentRequest
from canteen_core.synthetic_activities import EVENING_CARE

from .conftest import CONCERTO_ENROLLMENT, Deployment

EVENING = "CONCERTO-alban-soir-test"
THURSDAY = date(2023, 10, 5)


def enroll_alban_at_the_evening_care(canteen: Canteen, enrollment_id: str = EVENING) -> None:
    """Alban at the evening care too (the demo's small city may have no one there)."""
    if EVENING_CARE.id not in {service.id for service in canteen.catalog.services(ADMIN)}:
        canteen.catalog.add_service(ADMIN, EVENING_CARE)
    canteen.enrollments.enroll_many(
        ADMIN,
        [
            EnrollmentRequest(
                household_id="CONCERTO",
                child_id="concerto-alban",
                service=EVENING_CARE,
                site=SITE,
                booking_policy=BOOKING_POLICY,
                school_year=SCHOOL_YEAR,
                start=date(2023, 9, 4),
                end=date(2024, 7, 5),
                id=enrollment_id,
                tariff_category="resident",
            )
        ],
    )


def _alban_rows(text: str) -> list[str]:
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", text)
    return [activity for _, child, activity in rows if child == "Alban CONCERTO"]


def test_roll_call_has_a_row_per_activity_and_records_times(web: Deployment) -> None:
    enroll_alban_at_the_evening_care(web.canteen)
    csrf = web.activate(web.template.staff)
    page = web.client.get(f"/gestion/appel?site=ronde&jour={THURSDAY}")
    assert page.status_code == 200
    assert _alban_rows(page.text) == ["Accueil du soir", "Restauration Scolaire"]
    # Times only for the activity billed by the half-hour.
    assert f'name="arrivee-{EVENING}"' in page.text
    assert f'name="arrivee-{CONCERTO_ENROLLMENT}"' not in page.text
    done = web.client.post(
        "/gestion/appel",
        data={
            "csrf_token": csrf,
            "site": "ronde",
            "jour": THURSDAY.isoformat(),
            f"presence-{EVENING}": "present",
            f"arrivee-{EVENING}": "16:35",
            f"depart-{EVENING}": "18:05",
            f"presence-{CONCERTO_ENROLLMENT}": "absent",
        },
        follow_redirects=True,
    )
    assert done.status_code == 200, done.text
    assert "L'appel est enregistré" in done.text
    records = {
        r.enrollment_id: r
        for r in web.canteen.attendance.records(STAFF, start=THURSDAY, end=THURSDAY)
    }
    assert (records[EVENING].arrival, records[EVENING].departure) == (time(16, 35), time(18, 5))
    assert records[CONCERTO_ENROLLMENT].presence.value == "absent"
    assert 'value="16:35"' in done.text
    assert 'value="18:05"' in done.text


def test_a_half_entered_stay_is_refused_and_records_nothing(web: Deployment) -> None:
    enroll_alban_at_the_evening_care(web.canteen)
    csrf = web.activate(web.template.staff)
    before = web.canteen.attendance.records(STAFF, start=THURSDAY, end=THURSDAY)
    for arrival, departure in (("16:35", ""), ("25:00", "18:00"), ("midi", "18:00")):
        done = web.client.post(
            "/gestion/appel",
            data={
                "csrf_token": csrf,
                "site": "ronde",
                "jour": THURSDAY.isoformat(),
                f"presence-{EVENING}": "present",
                f"arrivee-{EVENING}": arrival,
                f"depart-{EVENING}": departure,
            },
        )
        assert done.status_code == 422, (arrival, departure, done.status_code)
        assert "Traceback" not in done.text
    half = web.client.post(
        "/gestion/appel",
        data={
            "csrf_token": csrf,
            "site": "ronde",
            "jour": THURSDAY.isoformat(),
            f"presence-{EVENING}": "present",
            f"arrivee-{EVENING}": "16:35",
        },
    )
    assert "l'heure d'arrivée et l'heure de départ" in unescape(half.text)
    assert web.canteen.attendance.records(STAFF, start=THURSDAY, end=THURSDAY) == before


def test_the_day_shows_its_allergy_flags_and_waiting_list(web: Deployment) -> None:
    monday = date(2023, 10, 16)  # Alban eats on Mondays; Monday's dessert is a yoghurt
    web.canteen.menus.publish(STAFF, alsh_menu(monday))
    web.canteen.menus.set_pai_allergens(ADMIN, "CONCERTO", "concerto-alban", [Allergen.MILK])
    tuesday = date(2023, 10, 17)
    web.canteen.capacity.set(ADMIN, "ronde", "rs", 500, days={tuesday: 0})
    result = web.canteen.reservations.book(ADMIN, CONCERTO_ENROLLMENT, tuesday)
    assert not result.booked  # full: Alban waits
    web.activate(web.template.staff)
    page = web.client.get(f"/gestion/appel?site=ronde&jour={monday}")
    allergies = page.text.split('id="allergies-titre"', 1)[1].split("</section>", 1)[0]
    assert "Alban CONCERTO : " in allergies
    assert "Yaourt nature" in allergies
    assert "Personne en liste d'attente ce jour." in page.text
    page = web.client.get(f"/gestion/appel?site=ronde&jour={tuesday}")
    waiting = page.text.split('id="attente-titre"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(
        r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", waiting
    )
    assert ("Restauration Scolaire", "1", "CONCERTO Maman", "Alban CONCERTO") in rows
    assert "Yaourt" not in page.text.split('id="allergies-titre"', 1)[1].split("</section>")[0]
