"""Batch filters on document repositories: a tuple, list or set of values is one IN query,
on every backend (what billing and bulk attendance load a batch with)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import pytest

from canteen_core.domain.attendance import AttendanceRecord, Presence
from canteen_core.domain.change_requests import ChangeRequest, RequestStatus
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.ports.storage import Range, Storage

from .samples import booked, enrollment, household


def _seed(storage: Storage) -> list[str]:
    homes = [household(f"h{index}", children=2) for index in range(1, 5)]
    with storage.unit_of_work() as uow:
        uow.households.add_many(homes)
        uow.enrollments.add_many(enrollment(home, child) for home in homes for child in (0, 1))
        uow.commit()
    return [home.id for home in homes]


@pytest.mark.parametrize("kind", [tuple, list, set, frozenset])
def test_a_collection_of_values_selects_any_of_them(storage: Storage, kind: type) -> None:
    _seed(storage)
    with storage.unit_of_work(read_only=True) as uow:
        found = list(uow.enrollments.list(household_id=kind(["h3", "h1", "nobody"])))
        assert [e.household_id for e in found] == ["h1", "h1", "h3", "h3"]
        assert [e.id for e in found] == sorted(e.id for e in found)  # still in id order
        assert uow.enrollments.count(household_id=kind(["h2"])) == 2


def test_a_collection_combines_with_equality_and_ranges(storage: Storage) -> None:
    _seed(storage)
    with storage.unit_of_work(read_only=True) as uow:
        found = uow.enrollments.list(
            household_id=("h2", "h4"),
            child_id="h4-c1",
            first_day=Range(None, date(2024, 6, 30)),
        )
        assert [(e.household_id, e.child_id) for e in found] == [("h4", "h4-c1")]
        assert list(uow.enrollments.list(household_id=(), child_id="h4-c1")) == []
        assert uow.enrollments.count(household_id=[]) == 0


def test_a_batch_read_with_ranges_equalities_and_nulls_is_the_one_by_one_reads(
    storage: Storage,
) -> None:
    # A billing batch's read (an IN list with a day range) runs prebuilt SQL on the SQL
    # driver; a wider IN list goes through SQLAlchemy: the same documents, in id order.
    ids = _seed(storage)
    at = datetime(2023, 9, 30, 12, tzinfo=UTC)
    records = []
    with storage.unit_of_work() as uow:
        for enrolled in uow.enrollments.list():
            for day in (date(2023, 8, 31), date(2023, 9, 4), date(2023, 9, 5), date(2023, 10, 2)):
                absent = day.day % 2 == 0
                records.append(
                    AttendanceRecord(
                        id=f"{enrolled.id}/{day}",
                        enrollment_id=enrolled.id,
                        child_id=enrolled.child_id,
                        household_id=enrolled.household_id,
                        site_id=enrolled.site.id,
                        day=day,
                        presence=Presence.ABSENT if absent else Presence.PRESENT,
                        booked=True,
                        recorded_by="staff",
                        recorded_at=at,
                    )
                )
        uow.attendance.add_many(reversed(records))
        uow.commit()
    september = Range(date(2023, 9, 1), date(2023, 9, 30))
    with storage.unit_of_work(read_only=True) as uow:
        repo = uow.attendance
        for where in (
            {"day": september},
            {"day": Range(None, date(2023, 9, 4)), "presence": "absent"},
            {"day": Range(date(2023, 9, 5), None), "presence": Presence.PRESENT},
            {"site_id": records[0].site_id, "day": date(2023, 10, 2)},
        ):
            batch = list(repo.list(household_id=("h3", "h1", "nobody"), **where))
            wide = list(repo.list(household_id=[*ids, *(f"x{n}" for n in range(600))], **where))
            one_by_one = sorted(
                (r for home in ("h1", "h3") for r in repo.list(household_id=home, **where)),
                key=lambda record: record.id,
            )
            assert batch == one_by_one
            assert batch == [r for r in wide if r.household_id in ("h1", "h3")]
            assert batch
            assert [r.id for r in batch] == sorted(r.id for r in batch)
        enrollments = list(uow.enrollments.list(household_id=("h2",), child_id=None))
        assert enrollments == []  # a NULL filter on a required column matches nothing


def test_load_many_within_a_window_has_the_window_s_days(storage: Storage) -> None:
    home = household("h1")
    enrolled = enrollment(home)
    days = [date(2023, 9, 4), date(2023, 9, 5), date(2023, 10, 2), date(2023, 11, 6)]
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.enrollments.add(enrolled)
        uow.reservations.save(booked(enrolled, days), expected_version=0)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        window = (date(2023, 9, 5), date(2023, 10, 31))
        book = uow.reservations.load_many([enrolled.id], between=window)[enrolled.id]
        assert book.booked_days(*window) == (date(2023, 9, 5), date(2023, 10, 2))
        assert book.version == 1
        whole = uow.reservations.load_many([enrolled.id])[enrolled.id]
        assert list(whole.booked_days(date(2023, 9, 1), date(2023, 12, 31))) == days


def test_loaded_enrollments_share_one_calendar(storage: Storage) -> None:
    _seed(storage)
    with storage.unit_of_work(read_only=True) as uow:
        loaded = list(uow.enrollments.list())
    assert len(loaded) == 8
    first = loaded[0].calendar
    assert all(e.calendar == first for e in loaded)
    # Equal stored calendars come back as one object (interned when structured).
    assert all(e.calendar is first for e in loaded) or storage.name == "memory"


def test_households_by_batch_and_ids_without_loading(storage: Storage) -> None:
    ids = _seed(storage)
    with storage.unit_of_work(read_only=True) as uow:
        assert list(uow.households.ids()) == sorted(ids)
        found = uow.households.find_many(["h3", "nobody", "h1", "h3"])
        assert list(found) == ["h3", "h1"]
        assert found["h1"] == uow.households.get("h1")
        assert uow.households.find_many([]) == {}
        children = uow.households.child_ids(["h3", "nobody", "h1"])
        assert set(children) == {"h3", "h1"}  # unknown ids left out
        for household_id, child_ids in children.items():
            household = uow.households.get(household_id)
            assert child_ids == frozenset(child.id for child in household.children)
        assert uow.households.child_ids([]) == {}


def test_child_ids_follow_the_households_changes(storage: Storage) -> None:
    _seed(storage)
    h1 = household("h1", children=2)
    moved = attrs.evolve(household("h5"), children=h1.children[1:])
    with storage.unit_of_work() as uow:
        uow.households.save(attrs.evolve(h1, children=h1.children[:1]))
        uow.households.add_many([household("h6", children=0), moved])
        uow.households.remove("h6")
        uow.households.add(household("h7", children=0))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.households.child_ids(["h1", "h5", "h6", "h7"]) == {
            "h1": frozenset({"h1-c0"}),
            "h5": frozenset({"h1-c1"}),
            "h7": frozenset(),
        }


def test_enrollments_by_batch_of_ids(storage: Storage) -> None:
    _seed(storage)
    with storage.unit_of_work(read_only=True) as uow:
        ids = [e.id for e in uow.enrollments.list(household_id="h2")]
        found = uow.enrollments.find_many([ids[1], "nobody", ids[0], ids[1]])
        assert list(found) == [ids[1], ids[0]]  # asked order, unknown ids left out
        assert found[ids[0]] == uow.enrollments.get(ids[0])
        assert uow.enrollments.find_many([]) == {}


def test_enrollments_differing_only_by_ids_come_back_each_with_its_own(storage: Storage) -> None:
    _seed(storage)
    with storage.unit_of_work(read_only=True) as uow:
        ids = sorted(e.id for e in uow.enrollments.list())
        found = uow.enrollments.find_many(list(reversed(ids)))
        assert list(found) == list(reversed(ids))
        for enrollment_id, item in found.items():
            assert item == uow.enrollments.get(enrollment_id)
            assert item.id == enrollment_id
            assert item.id == f"e-{item.child_id}"
            assert item.child_id.startswith(f"{item.household_id}-")


def _request(request_id: str, home: str, status: RequestStatus) -> ChangeRequest:
    at = datetime(2023, 9, 1, 8, tzinfo=UTC)
    return ChangeRequest(
        id=request_id,
        enrollment_id=f"{home}-c0-rs",
        household_id=home,
        child_id=f"{home}-c0",
        day=date(2023, 9, 4),
        action="book",
        requested_by="u1",
        requested_at=at,
        deadline=at,
        status=status,
    )


def test_change_requests_of_households_and_status(storage: Storage) -> None:
    # A family's pending requests (read by every portal booking call) on every backend.
    _seed(storage)
    pending, rejected = RequestStatus.PENDING, RequestStatus.REJECTED
    with storage.unit_of_work() as uow:
        uow.change_requests.add_many(
            [
                _request("r3", "h1", pending),
                _request("r1", "h1", pending),
                _request("r2", "h1", rejected),
                _request("r4", "h2", pending),
                _request("r5", "h3", pending),
            ]
        )
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        repo = uow.change_requests

        def ids(**where: object) -> list[str]:
            return [request.id for request in repo.list(**where)]

        assert ids(household_id=("h1", "h2"), status="pending") == ["r1", "r3", "r4"]
        assert ids(household_id="h1", status=pending) == ["r1", "r3"]
        assert ids(household_id=["h1"]) == ["r1", "r2", "r3"]
        assert ids(household_id={"h3", "nobody"}, status="pending") == ["r5"]
        assert ids(household_id=("h1",), status="rejected", child_id="h1-c0") == ["r2"]
        assert ids(household_id=(), status="pending") == []
        assert ids(household_id=("h4",)) == []
        with pytest.raises(InvalidInputError):
            ids(household_id=("h1",), colour="red")


def test_load_many_mixes_saved_and_never_saved_books(storage: Storage) -> None:
    # Days are read only for books with a stored state: the others are empty at version 0.
    home = household("h1", children=3)
    enrolled = [enrollment(home, child) for child in range(3)]
    days = [date(2023, 9, 4), date(2023, 10, 2)]
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.enrollments.add_many(enrolled)
        uow.reservations.save(booked(enrolled[1], days), expected_version=0)
        uow.commit()
    ids = [e.id for e in enrolled]
    with storage.unit_of_work(read_only=True) as uow:
        for window in (None, (date(2023, 9, 1), date(2023, 9, 30))):
            books = uow.reservations.load_many(ids, between=window)
            assert [books[i].version for i in ids] == [0, 1, 0]
            assert books[ids[0]].booked_days() == books[ids[2]].booked_days() == ()
            expected = tuple(days) if window is None else (days[0],)
            assert books[ids[1]].booked_days(*(window or (None, None))) == expected


def test_enrollments_added_in_bulk_read_back_and_refuse_unknown_households(
    storage: Storage,
) -> None:
    _seed(storage)
    stranger = enrollment(household("h9"))
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError):
            uow.enrollments.add_many([enrollment(household("h8"), suffix="-x"), stranger])
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.enrollments.count() == 8
        stored = list(uow.enrollments.list())
        first = stored[0]
        assert uow.enrollments.get(first.id) == first
        # Key columns stored as the SQL backends store them: date filters still match.
        same_days = uow.enrollments.list(
            first_day=Range(first.start, first.start), last_day=Range(None, first.end)
        )
        assert [e.id for e in same_days] == [e.id for e in stored]
