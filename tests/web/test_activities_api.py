"""Activities over HTTP: staff record an evening care's arrival and departure in the roll
call; a bad stay is refused with nothing stored."""

from __future__ import annotations

from datetime import datetime

from canteen_adapters.cli.demo.commune import ADMIN, BOOKING_POLICY, SITE
from canteen_core.domain.clock import PARIS
from canteen_core.synthetic_activities import EVENING_CARE

from .conftest import Deployment

ARIELLE = "CONCERTO-arielle-soir"
URL = "/api/v1/staff/sites/ronde/roll-calls/2023-10-16"


def test_the_roll_call_records_arrival_and_departure(web: Deployment) -> None:
    canteen = web.canteen
    if EVENING_CARE.id not in {entry.id for entry in canteen.catalog.services(ADMIN)}:
        canteen.catalog.add_service(ADMIN, EVENING_CARE)
    canteen.enrollments.enroll(
        ADMIN,
        "CONCERTO",
        "concerto-arielle",
        service=EVENING_CARE,
        site=SITE,
        booking_policy=BOOKING_POLICY,
        school_year=2023,
        enrollment_id=ARIELLE,
    )
    csrf = web.activate(web.template.staff)
    web.clock.set(datetime(2023, 10, 16, 19, 0, tzinfo=PARIS))
    bad = web.client.put(
        URL,
        json={
            "presences": {ARIELLE: "present"},
            "stays": {ARIELLE: {"arrival": "18:00:00", "departure": "17:00:00"}},
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert bad.status_code == 422, bad.text
    assert "départ à 17:00 avant l'arrivée à 18:00" in bad.json()["detail"]
    entries = {e["enrollment_id"]: e for e in web.client.get(URL).json()["entries"]}
    assert entries[ARIELLE]["presence"] is None
    recorded = web.client.put(
        URL,
        json={
            "presences": {ARIELLE: "present"},
            "stays": {ARIELLE: {"arrival": "16:30:00", "departure": "18:45:00"}},
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert recorded.status_code == 200, recorded.text
    entries = {e["enrollment_id"]: e for e in recorded.json()["entries"]}
    assert entries[ARIELLE]["presence"] == "present"
    assert (entries[ARIELLE]["arrival"], entries[ARIELLE]["departure"]) == ("16:30:00", "18:45:00")
