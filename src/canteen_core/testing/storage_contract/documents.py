"""The storage contract of document repositories: round trips, filters, identity, large batches,
audited notifications, aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest

from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from canteen_core.ports.storage import AuditedNotification, Range, Storage
from canteen_core.testing.samples import (
    NOW,
    OTHER_SITE,
    enrollment,
    household,
)


def test_documents_round_trip_and_filter(storage: Storage) -> None:
    home = household("h1", children=3)
    enrollments = [
        enrollment(home, 0),
        enrollment(home, 1, site=OTHER_SITE),
        attrs.evolve(enrollment(home, 2), start=date(2024, 1, 8)),
    ]
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.enrollments.add_many(enrollments[:2])
        uow.enrollments.add(enrollments[2])
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.enrollments.get(enrollments[1].id) == enrollments[1]
        assert list(uow.enrollments.list()) == sorted(enrollments, key=lambda e: e.id)
        assert [e.id for e in uow.enrollments.list(site_id=OTHER_SITE.id)] == [enrollments[1].id]
        assert uow.enrollments.count(site_id="ronde", household_id="h1") == 2
        later = uow.enrollments.list(first_day=Range(date(2024, 1, 1), None))
        assert [e.id for e in later] == [enrollments[2].id]
        assert uow.enrollments.find("nope") is None
        with pytest.raises(NotFoundError):
            uow.enrollments.get("nope")
        with pytest.raises(InvalidInputError, match="cannot be filtered"):
            list(uow.enrollments.list(colour="blue"))


def test_document_identity_and_references_are_enforced(storage: Storage) -> None:
    home = household("h1")
    enrolled = enrollment(home)
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="unknown household"):
            uow.enrollments.add(enrolled)
        uow.households.add(home)
        uow.enrollments.add(enrolled)
        with pytest.raises(ConflictError):
            uow.enrollments.add(enrolled)
        with pytest.raises(InvalidInputError, match="stores Enrollment"):
            uow.enrollments.add(home)  # type: ignore[arg-type]
        moved = attrs.evolve(enrolled, site=OTHER_SITE)
        uow.enrollments.save(moved)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.enrollments.get(enrolled.id) == moved
        uow.enrollments.remove(enrolled.id)
        with pytest.raises(NotFoundError):
            uow.enrollments.remove(enrolled.id)
        uow.commit()


def test_large_batches_are_all_or_nothing(storage: Storage) -> None:
    # More objects than a SQL batch writes at a time (storage.sql _ROWS_CHUNK).
    homes = [household(f"h{n:04d}", children=2) for n in range(700)]
    enrollments = [enrollment(home, index) for home in homes for index in range(2)]
    thief = attrs.evolve(household("x"), children=homes[1].children)
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="household 'h0000' already exists"):
            uow.households.add_many([*homes, homes[0]])
        with pytest.raises(ConflictError, match="l'enfant h0001-c0 appartient déjà au foyer h0001"):
            uow.households.add_many([*homes, thief])
        assert uow.households.count() == 0
        uow.households.add_many(homes)
        with pytest.raises(ConflictError):
            uow.enrollments.add_many([*enrollments, enrollments[0]])  # the last one is stored
        with pytest.raises(InvalidInputError, match="enrollments stores Enrollment, got str"):
            uow.enrollments.add_many([*enrollments, "e-late"])  # type: ignore[list-item]  # bad input on purpose: refused before any write
        assert uow.enrollments.count() == 0
        uow.enrollments.add_many(enrollments)
        records = [
            AuditedNotification(  # a datetime key column: another insert path on SQLite
                id=f"n{n:04d}", provider="payzen", received_at=NOW, decision="credited"
            )
            for n in range(700)
        ]
        with pytest.raises(ConflictError):
            uow.notifications_audit.add_many([*records, records[0]])
        uow.notifications_audit.add_many(records)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert list(uow.households.all()) == homes
        assert uow.households.of_child("h0699-c1") == homes[-1]
        assert list(uow.enrollments.list()) == enrollments
        assert list(uow.enrollments.list(household_id="h0699")) == enrollments[-2:]
        assert list(uow.notifications_audit.list()) == records


def test_audited_notifications_are_kept(storage: Storage) -> None:
    record = AuditedNotification(
        id="n1",
        provider="payzen",
        received_at=NOW,
        decision="rejected",
        reason="bad signature",
        fields=(("vads_trans_id", "000123"), ("signature", "forged")),
    )
    with storage.unit_of_work() as uow:
        uow.notifications_audit.add(record)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert list(uow.notifications_audit.list(provider="payzen")) == [record]
        window = Range(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
        assert uow.notifications_audit.count(received_at=window) == 1


def test_datetimes_keep_their_instant(storage: Storage) -> None:
    paris = datetime(2023, 9, 1, 10, 0, tzinfo=UTC).astimezone()
    record = AuditedNotification(id="n2", provider="payfip", received_at=paris, decision="credited")
    with storage.unit_of_work() as uow:
        uow.notifications_audit.save(record)
        uow.commit()
    with storage.unit_of_work() as uow:
        stored = uow.notifications_audit.get("n2")
        assert stored.received_at == paris
        assert uow.notifications_audit.count(received_at=Range(paris, paris)) == 1


__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
