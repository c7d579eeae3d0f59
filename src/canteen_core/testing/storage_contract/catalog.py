"""The storage contract for the catalog: sites (with their closures) and services, versioned;
an activity's unit, calendar and hours, and the arrival and departure its attendance records."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import attrs
import pytest

from canteen_core.domain.attendance import AttendanceRecord
from canteen_core.domain.calendar import Period
from canteen_core.domain.catalog import ServiceEntry, SiteEntry
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.ports.storage import Range, Storage
from canteen_core.synthetic_activities import EVENING_CARE
from canteen_core.testing.samples import OTHER_SITE, SERVICE, SITE

__all__ = [
    "test_a_catalog_entry_refuses_a_stale_or_wrong_version",
    "test_an_activity_and_its_arrivals_and_departures_round_trip",
    "test_catalog_entries_round_trip_by_version",
    "test_catalog_saves_follow_the_transaction",
]

STRIKE = Period(name="Grève", first_day=date(2023, 10, 2), last_day=date(2023, 10, 3))


def test_catalog_entries_round_trip_by_version(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.sites.save(SiteEntry(site=SITE), expected_version=0)
        uow.sites.save(SiteEntry(site=OTHER_SITE), expected_version=0)
        uow.services.save(ServiceEntry(service=SERVICE), expected_version=0)
        uow.commit()
    with storage.unit_of_work() as uow:
        first = uow.sites.get(SITE.id)
        uow.sites.save(first.with_closure(STRIKE), expected_version=1)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        closed = uow.sites.get(SITE.id)
        assert closed == SiteEntry(site=SITE, closures=(STRIKE,), version=2)
        assert [entry.id for entry in uow.sites.list()] == ["lac", "ronde"]
        assert list(uow.services.list()) == [ServiceEntry(service=SERVICE)]
        assert uow.sites.find("nowhere") is None
        with pytest.raises(NotFoundError):
            uow.services.get("nowhere")


def test_a_catalog_entry_refuses_a_stale_or_wrong_version(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.sites.save(SiteEntry(site=SITE), expected_version=0)
        uow.commit()
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError):  # added twice
            uow.sites.save(SiteEntry(site=SITE), expected_version=0)
        stale = SiteEntry(site=SITE, closures=(STRIKE,), version=3)
        with pytest.raises(ConflictError):  # computed from version 2, stored is 1
            uow.sites.save(stale, expected_version=2)
        with pytest.raises(InvalidInputError):  # the new version is not the expected + 1
            uow.sites.save(attrs.evolve(stale, version=5), expected_version=1)
        with pytest.raises(InvalidInputError):
            uow.services.save(SiteEntry(site=SITE), expected_version=0)  # type: ignore[arg-type]
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.sites.get(SITE.id) == SiteEntry(site=SITE)


def test_catalog_saves_follow_the_transaction(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.services.save(ServiceEntry(service=SERVICE), expected_version=0)
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.services.find(SERVICE.id) is None


def test_an_activity_and_its_arrivals_and_departures_round_trip(storage: Storage) -> None:
    record = AttendanceRecord(
        id="e-soir/2023-09-11",
        enrollment_id="e-soir",
        child_id="c",
        household_id="h",
        site_id=SITE.id,
        day=date(2023, 9, 11),
        presence="present",
        booked=True,
        recorded_by="agent",
        recorded_at=datetime(2023, 9, 11, 17, 0, tzinfo=UTC),
        arrival=time(16, 35),
        departure=time(18, 42),
    )
    with storage.unit_of_work() as uow:
        uow.services.save(ServiceEntry(service=EVENING_CARE), expected_version=0)
        uow.attendance.add_many([record])
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.services.get(EVENING_CARE.id) == ServiceEntry(service=EVENING_CARE)
        found = list(uow.attendance.list(enrollment_id="e-soir", day=Range(None, None)))
        assert found == [record]
