"""The storage contract for enrollment requests.

A family's request is a document like the others: stored whole, found by household, child,
service and status, changed when staff decide, and kept or dropped with its unit of work.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from canteen_core.domain.actors import Actor
from canteen_core.domain.change_requests import RequestStatus
from canteen_core.domain.enrollment_requests import EnrollmentApplication, accept, refuse
from canteen_core.domain.errors import ConflictError, NotFoundError
from canteen_core.ports.storage import Storage
from canteen_core.testing.samples import NOW, SERVICE, SITE

__all__ = [
    "enrollment_application",
    "test_enrollment_requests_are_dropped_with_their_unit_of_work",
    "test_enrollment_requests_round_trip_and_filter",
]

_STAFF = Actor.staff("agent")


def enrollment_application(
    request_id: str, *, household_id: str = "h1", child_id: str = "h1-c1"
) -> EnrollmentApplication:
    """A pending request to enroll ``child_id`` at the sample site for 2023-2024."""
    return EnrollmentApplication(
        id=request_id,
        household_id=household_id,
        child_id=child_id,
        service_id=SERVICE.id,
        service_name=SERVICE.name,
        site_id=SITE.id,
        site_name=SITE.name,
        school_year=2023,
        tariff_category="pai",
        note="Allergie aux arachides : PAI en cours",
        requested_by="parent",
        requested_at=NOW,
    )


def test_enrollment_requests_round_trip_and_filter(storage: Storage) -> None:
    first = enrollment_application("r1")
    other = enrollment_application("r2", household_id="h2", child_id="h2-c1")
    with storage.unit_of_work() as uow:
        uow.enrollment_requests.add_many([first, other])
        uow.commit()
    later = datetime(2023, 9, 2, 9, 30, tzinfo=UTC)
    accepted = accept(first, enrollment_id="e1", actor=_STAFF, now=later)
    refused = refuse(other, reason="Plus de place", actor=_STAFF, now=later)
    with storage.unit_of_work() as uow:
        assert uow.enrollment_requests.get("r1") == first
        assert list(uow.enrollment_requests.list(status="pending")) == [first, other]
        assert list(uow.enrollment_requests.list(household_id="h2")) == [other]
        with pytest.raises(ConflictError):
            uow.enrollment_requests.add(first)
        uow.enrollment_requests.save(accepted)
        uow.enrollment_requests.save(refused)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.enrollment_requests.get("r1") == accepted
        assert uow.enrollment_requests.get("r1").decided_at == later
        assert uow.enrollment_requests.count(status=RequestStatus.PENDING.value) == 0
        assert list(uow.enrollment_requests.list(child_id="h2-c1", service_id=SERVICE.id)) == [
            refused
        ]
        with pytest.raises(NotFoundError):
            uow.enrollment_requests.get("r3")


def test_enrollment_requests_are_dropped_with_their_unit_of_work(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.enrollment_requests.add(enrollment_application("r1"))
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.enrollment_requests.find("r1") is None
