"""A request decided twice, or asked twice, is a 409 of its own kind: a stable problem ``type``,
a French title and a detail that says what happened (how and when it was decided, which request
is already pending), not "Modification concurrente"; nothing changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from canteen_adapters.cli.demo import ADMIN
from canteen_core.domain.clock import PARIS

from .conftest import CONCERTO_ENROLLMENT, Deployment
from .test_enrollment_requests import REQUESTS, ask

DECIDED_AT = datetime(2023, 10, 6, 10, 15, tzinfo=PARIS)


def problem(response: Any, slug: str, title: str) -> str:
    """The detail of ``response``, checked to be a 409 problem of type ``slug``."""
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:canteen:problem:{slug}"
    assert body["title"] == title
    assert body["status"] == 409
    return str(body["detail"])


def test_deciding_a_change_request_already_decided(web: Deployment) -> None:
    csrf = web.activate(web.template.concerto)
    web.client.post(
        f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/reservations",
        json={"changes": [{"day": "2023-10-10", "booked": True}]},
        headers={"X-CSRF-Token": csrf},
    )
    web.logout()
    staff = web.activate(web.template.staff)
    (pending,) = web.client.get("/api/v1/staff/requests").json()
    url = f"/api/v1/staff/requests/{pending['id']}/decision"
    web.clock.set(DECIDED_AT)
    approved = web.client.post(url, json={"approve": True}, headers={"X-CSRF-Token": staff})
    assert approved.status_code == 200, approved.text
    web.clock.set(datetime(2023, 10, 6, 11, 0, tzinfo=PARIS))
    for body in ({"approve": True}, {"approve": False, "reason": "Trop tard"}):
        again = web.client.post(url, json=body, headers={"X-CSRF-Token": staff})
        assert problem(again, "already-decided", "Demande déjà traitée") == (
            "Cette demande a déjà été traitée (acceptée le 6 octobre 2023 à 10 h 15) : "
            "rien n'a été modifié."
        )
    (request,) = web.canteen.reservations.requests(ADMIN, household_id="CONCERTO")
    assert request.status.value == "approved"
    assert request.reason is None


def test_a_second_enrollment_request_for_the_same_child_and_year(
    family: tuple[Deployment, str],
) -> None:
    web, csrf = family
    assert ask(web, csrf).status_code == 201
    again = ask(web, csrf, site_id="ronde", note="Encore moi")
    assert problem(again, "duplicate-request", "Demande déjà en cours") == (
        "Une demande d'inscription est déjà en cours pour Arielle : Restauration Scolaire à "
        "Ecole Élémentaire RONDE (2023-2024), en attente d'instruction."
    )
    assert len(web.client.get(REQUESTS).json()) == 1


def test_deciding_or_withdrawing_an_enrollment_request_already_decided(
    family: tuple[Deployment, str],
) -> None:
    web, csrf = family
    request_id = ask(web, csrf).json()["id"]
    web.logout()
    staff = web.activate(web.template.staff)
    url = f"/api/v1/staff/enrollment-requests/{request_id}/decision"
    web.clock.set(DECIDED_AT)
    refused = web.client.post(
        url, json={"approve": False, "reason": "Classe complète"}, headers={"X-CSRF-Token": staff}
    )
    assert refused.status_code == 200, refused.text
    expected = (
        "Cette demande d'inscription a déjà été traitée (refusée le 6 octobre 2023 à 10 h 15) : "
        "rien n'a été modifié."
    )
    accepted = web.client.post(url, json={"approve": True}, headers={"X-CSRF-Token": staff})
    assert problem(accepted, "already-decided", "Demande déjà traitée") == expected
    web.logout()
    csrf = web.login(web.template.concerto.username, "Ronde-Cantine-2023!")
    withdrawn = web.client.delete(
        f"/api/v1/enrollment-requests/{request_id}", headers={"X-CSRF-Token": csrf}
    )
    assert problem(withdrawn, "already-decided", "Demande déjà traitée") == expected
    (listed,) = web.client.get(REQUESTS).json()
    assert listed["status_label"] == "Refusée : Classe complète"
