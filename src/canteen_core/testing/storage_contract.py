"""The storage contract: what every storage backend guarantees, as tests any backend can run.

canteen runs it on its memory, SQLite and PostgreSQL backends; a third-party backend runs it
too. Import the tests into a test module and give them a ``storage`` fixture that returns an
empty storage of your backend::

    # tests/test_my_backend.py
    import pytest

    from canteen_core.testing.storage_contract import *  # noqa: F403  (the contract's tests)


    @pytest.fixture
    def storage():
        storage = MyStorage.open(StorageSettings(url="mongodb://localhost/test"))
        yield storage
        storage.drop_everything()

The tests check the guarantees the services rely on: all-or-nothing units of work, savepoints,
read-only units, households and documents round-trips, optimistic versioning of reservation
books, headcounts, gapless invoice numbering, one invoice per billing key, accounts, the
outbox and aware datetimes. They use only the ports (:mod:`canteen_core.ports.storage`) and the
sample values of :mod:`canteen_core.testing.samples`.

One module on purpose: the contract reads better whole than split by repository.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest

from canteen_core.domain.accounts import Account, AccountToken, ThrottleState, TokenPurpose
from canteen_core.domain.actors import Role
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
    StorageError,
)
from canteen_core.domain.families import Diet, Guardian
from canteen_core.domain.invoicing import NumberSequence, credit_note
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import DeliveryStatus
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage import AuditedNotification, Range, Storage, outbox_store
from canteen_core.testing.samples import (
    ISSUER,
    NOW,
    OTHER_SITE,
    SEPTEMBER,
    booked,
    enrollment,
    household,
    invoice,
)

# -- units of work ------------------------------------------------------------------------------


def test_nothing_is_kept_without_commit(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.households.add(household("h1"))
        assert uow.households.get("h1").id == "h1"  # visible inside its own transaction
    with storage.unit_of_work() as uow:
        assert uow.households.find("h1") is None


def test_an_exception_rolls_everything_back(storage: Storage) -> None:
    home = household("h1")

    def failing_use_case() -> None:
        with storage.unit_of_work() as uow:
            uow.households.add(home)
            uow.enrollments.add(enrollment(home))
            raise RuntimeError("the use case failed half-way")

    with pytest.raises(RuntimeError):
        failing_use_case()
    with storage.unit_of_work() as uow:
        assert uow.households.count() == 0
        assert uow.enrollments.count() == 0


def test_commit_then_more_work_in_the_same_unit(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.households.add(household("h1"))
        uow.commit()
        uow.households.add(household("h2"))
        uow.rollback()
        uow.households.add(household("h3"))
        uow.commit()
    with storage.unit_of_work() as uow:
        assert [h.id for h in uow.households.all()] == ["h1", "h3"]


def test_a_savepoint_undoes_only_its_block(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.households.add(household("h1"))

        def one_household_fails() -> None:
            with uow.savepoint():
                uow.households.add(household("h2"))
                uow.households.add(household("h1"))  # duplicate: the block fails

        with pytest.raises(ConflictError):
            one_household_fails()
        uow.households.add(household("h3"))
        uow.commit()
    with storage.unit_of_work() as uow:
        assert [h.id for h in uow.households.all()] == ["h1", "h3"]


def test_read_only_units_refuse_writes(storage: Storage) -> None:
    with storage.unit_of_work(read_only=True) as uow, pytest.raises(StorageError):
        uow.households.add(household("h1"))


def test_repositories_need_an_open_unit(storage: Storage) -> None:
    uow = storage.unit_of_work()
    with pytest.raises(StorageError):
        uow.households.find("h1")


# -- households ---------------------------------------------------------------------------------


def test_households_round_trip_and_lookups(storage: Storage) -> None:
    home = household("h1", children=3, diets=(Diet.STANDARD, Diet.VEGETARIAN, Diet.NO_PORK))
    other = attrs.evolve(
        household("h2"),
        co_representative=Guardian(id=home.payer.id, first_name="Maman", last_name="Concerto"),
    )
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.households.add(other)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.households.get("h1") == home
        assert uow.households.count() == 2
        assert [h.id for h in uow.households.of_guardian(home.payer.id)] == ["h1", "h2"]
        assert uow.households.of_child(home.children[2].id) == home
        assert uow.households.of_child("nobody") is None
        with pytest.raises(NotFoundError):
            uow.households.get("h9")


def test_a_child_belongs_to_one_household(storage: Storage) -> None:
    first = household("h1")
    with storage.unit_of_work() as uow:
        uow.households.add(first)
        uow.commit()
    thief = attrs.evolve(household("h2"), children=first.children)
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="already belongs"):
            uow.households.add(thief)
        with pytest.raises(ConflictError, match="already exists"):
            uow.households.add(first)
        uow.households.add(household("h3"))  # the unit of work is still usable
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.households.find("h2") is None
        assert uow.households.of_child(first.children[0].id) == first
        assert uow.households.count() == 2


def test_add_many_names_the_conflict_adding_one_by_one_would(storage: Storage) -> None:
    first = household("h1")
    with storage.unit_of_work() as uow:
        uow.households.add(first)
        uow.commit()
    thief = attrs.evolve(household("h3"), children=first.children)
    twin = attrs.evolve(household("h5"), children=household("h4").children)
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="household 'h1' already exists"):
            uow.households.add_many([household("h2"), first, thief])
        with pytest.raises(ConflictError, match="child 'h1-c0' already belongs to household 'h1'"):
            uow.households.add_many([household("h2"), thief, first])
        with pytest.raises(ConflictError, match="child 'h4-c0' already belongs to household 'h4'"):
            uow.households.add_many([household("h4"), twin])
        with pytest.raises(ConflictError, match="household 'h4' already exists"):
            uow.households.add_many([household("h4"), household("h4")])
        uow.households.add_many([household("h2"), household("h4")])  # nothing was kept
        uow.commit()
    with storage.unit_of_work() as uow:
        assert list(uow.households.ids()) == ["h1", "h2", "h4"]
        assert uow.households.of_child("h1-c0") == first


def test_a_batch_failing_midway_ends_cleanly(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    home = household("h1", children=3)
    with storage.unit_of_work() as uow:
        uow.households.add_many([household("h0"), home])
        uow.enrollments.add(enrollment(home, 1))
        uow.commit()
    batch = [enrollment(home, 0), enrollment(home, 1), enrollment(home, 2)]  # the 2nd exists
    with storage.unit_of_work() as uow, caplog.at_level(logging.WARNING):
        with pytest.raises(ConflictError):
            # Many rows after the failing one: PostgreSQL reports them aborted.
            uow.households.add_many(
                [household("h2"), home, *(household(f"x{n}") for n in range(300))]
            )
        with pytest.raises(ConflictError):
            uow.enrollments.add_many(batch)
        uow.households.add(household("h4"))  # the unit of work is still usable
        uow.commit()
    # No driver noise (PostgreSQL's pipelined executemany logged "pipeline aborted").
    assert [record.getMessage() for record in caplog.records] == []
    with storage.unit_of_work() as uow:
        assert list(uow.households.ids()) == ["h0", "h1", "h4"]
        assert [e.id for e in uow.enrollments.list()] == [batch[1].id]


def test_saving_a_household_replaces_its_children(storage: Storage) -> None:
    home = household("h1", children=2)
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.commit()
    fewer = attrs.evolve(home, children=home.children[:1])
    with storage.unit_of_work() as uow:
        uow.households.save(fewer)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.households.get("h1") == fewer
        assert uow.households.of_child(home.children[1].id) is None
        # the freed child may now join another household
        uow.households.save(attrs.evolve(household("h2"), children=home.children[1:]))
        uow.commit()


def test_removing_a_household(storage: Storage) -> None:
    home, other = household("h1"), household("h2")
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.households.add(other)
        uow.enrollments.add(enrollment(home))
        uow.commit()
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="enrollments"):
            uow.households.remove("h1")
        uow.households.remove("h2")
        with pytest.raises(NotFoundError):
            uow.households.remove("h2")
        uow.commit()
    with storage.unit_of_work() as uow:
        assert [h.id for h in uow.households.all()] == ["h1"]
        assert uow.households.of_child(other.children[0].id) is None


# -- documents ----------------------------------------------------------------------------------


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
        with pytest.raises(
            ConflictError, match="child 'h0001-c0' already belongs to household 'h0001'"
        ):
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


# -- reservations -------------------------------------------------------------------------------


def _enrolled(storage: Storage, children: int = 1) -> list[str]:
    home = household("h1", children=children, diets=(Diet.STANDARD, Diet.VEGETARIAN))
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        ids = []
        for index in range(children):
            enrolled = enrollment(home, index)
            uow.enrollments.add(enrolled)
            ids.append(enrolled.id)
        uow.commit()
    return ids


def test_a_new_enrollment_has_an_empty_book(storage: Storage) -> None:
    (enrollment_id,) = _enrolled(storage)
    with storage.unit_of_work() as uow:
        book = uow.reservations.load(enrollment_id)
        assert (book.version, book.bits, book.origin) == (0, 0, date(2023, 9, 4))
        with pytest.raises(NotFoundError):
            uow.reservations.load("nope")


def test_books_round_trip_with_late_markers(storage: Storage) -> None:
    (enrollment_id,) = _enrolled(storage)
    with storage.unit_of_work() as uow:
        book = uow.reservations.load(enrollment_id)
        for day in SEPTEMBER:
            book = book.with_day(day, booked=True)
        book = book.with_day(date(2023, 9, 18), booked=True, late=True)
        book = book.with_day(date(2023, 9, 4), booked=False, late=True)
        uow.reservations.save(book, expected_version=0)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.reservations.load(enrollment_id) == book
        assert uow.reservations.load_many([enrollment_id]) == {enrollment_id: book}


def test_a_stale_save_is_a_conflict_and_nothing_is_lost(storage: Storage) -> None:
    (enrollment_id,) = _enrolled(storage)
    with storage.unit_of_work() as uow:
        seen_by_mother = uow.reservations.load(enrollment_id)
    with storage.unit_of_work() as uow:
        seen_by_father = uow.reservations.load(enrollment_id)
    mother = seen_by_mother.with_day(date(2023, 9, 4), booked=True)
    father = seen_by_father.with_day(date(2023, 9, 5), booked=True)
    with storage.unit_of_work() as uow:
        uow.reservations.save(mother, expected_version=seen_by_mother.version)
        uow.commit()
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="changed meanwhile"):
            uow.reservations.save(father, expected_version=seen_by_father.version)
        # reload and redo: both changes are kept
        fresh = uow.reservations.load(enrollment_id)
        redone = fresh.with_day(date(2023, 9, 5), booked=True)
        uow.reservations.save(redone, expected_version=fresh.version)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.reservations.load(enrollment_id).booked_days() == (
            date(2023, 9, 4),
            date(2023, 9, 5),
        )


def test_saving_an_unchanged_book_only_checks_the_version(storage: Storage) -> None:
    (enrollment_id,) = _enrolled(storage)
    with storage.unit_of_work() as uow:
        book = uow.reservations.load(enrollment_id)
        uow.reservations.save(book, expected_version=0)
        with pytest.raises(ConflictError):
            uow.reservations.save(attrs.evolve(book, version=5), expected_version=4)
        with pytest.raises(InvalidInputError, match="older"):
            uow.reservations.save(book, expected_version=4)
        with pytest.raises(NotFoundError):
            uow.reservations.save(
                ReservationBook(enrollment_id="nope", origin=date(2023, 9, 4), version=1),
                expected_version=0,
            )


def test_bulk_saves_are_all_or_nothing(storage: Storage) -> None:
    ids = _enrolled(storage, children=2)
    with storage.unit_of_work() as uow:
        first = uow.reservations.load(ids[0]).with_day(date(2023, 9, 4), booked=True)
        uow.reservations.save(first, expected_version=0)
        uow.commit()
    with storage.unit_of_work() as uow:
        books = uow.reservations.load_many(ids)
        stale = (books[ids[0]].with_day(date(2023, 9, 5), booked=True), 0)  # really at 1
        fresh = (books[ids[1]].with_day(date(2023, 9, 5), booked=True), 0)
        with pytest.raises(ConflictError):
            uow.reservations.save_many([fresh, stale])
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.reservations.load(ids[1]).version == 0  # the good half was not kept


def test_two_writers_the_second_is_refused_for_the_book_it_missed(storage: Storage) -> None:
    ids = _enrolled(storage, children=2)
    with storage.unit_of_work() as uow:
        books = uow.reservations.load_many(ids)
        uow.reservations.save_many((books[i].with_day(SEPTEMBER[0], booked=True), 0) for i in ids)
        uow.commit()
    with storage.unit_of_work() as uow:
        seen = uow.reservations.load_many(ids)  # the first writer loads both books (version 1)
    with storage.unit_of_work() as uow:  # the second writer changes the second book meanwhile
        other = uow.reservations.load(ids[1]).with_day(SEPTEMBER[1], booked=True)
        uow.reservations.save(other, expected_version=1)
        uow.commit()
    mine = {i: seen[i].with_day(SEPTEMBER[2], booked=True) for i in ids}
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match=f"{ids[1]!r} changed meanwhile"):
            uow.reservations.save_many((mine[i], 1) for i in ids)
        # Nothing of the batch was kept, and the unit of work goes on: the first book alone.
        assert uow.reservations.load(ids[0]) == seen[ids[0]]
        uow.reservations.save(mine[ids[0]], expected_version=1)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.reservations.load_many(ids) == {ids[0]: mine[ids[0]], ids[1]: other}


def test_a_stale_second_book_undoes_a_first_book_saved_for_the_first_time(
    storage: Storage,
) -> None:
    ids = _enrolled(storage, children=2)
    with storage.unit_of_work() as uow:
        seen = uow.reservations.load(ids[0]).with_day(SEPTEMBER[0], booked=True)
        uow.reservations.save(seen, expected_version=0)
        uow.reservations.save(seen.with_day(SEPTEMBER[1], booked=True), expected_version=1)
        uow.commit()
    with storage.unit_of_work() as uow:
        first = uow.reservations.load(ids[1]).with_day(SEPTEMBER[0], booked=True)
        stale = seen.with_day(SEPTEMBER[2], booked=True)  # loaded at 1, stored at 2
        with pytest.raises(ConflictError, match=f"{ids[0]!r} changed meanwhile"):
            uow.reservations.save_many([(first, 0), (stale, 1)])
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.reservations.load(ids[1]).version == 0
        assert uow.reservations.load(ids[0]).booked_days() == tuple(SEPTEMBER[:2])


def test_an_unknown_enrollment_refuses_the_whole_batch(storage: Storage) -> None:
    ids = _enrolled(storage, children=2)
    unknown = ReservationBook(enrollment_id="nope", origin=date(2023, 9, 4))
    with storage.unit_of_work() as uow:
        books = uow.reservations.load_many(ids)
        new = books[ids[0]].with_day(SEPTEMBER[0], booked=True)
        with pytest.raises(NotFoundError, match="'nope'"):
            uow.reservations.save_many([(new, 0), (unknown.with_day(SEPTEMBER[0], booked=True), 0)])
        uow.reservations.save(new, expected_version=0)
        uow.commit()
    with storage.unit_of_work() as uow:
        changed = new.with_day(SEPTEMBER[1], booked=True)
        stale_unknown = attrs.evolve(unknown, version=3)
        with pytest.raises(NotFoundError, match="'nope'"):
            uow.reservations.save_many([(changed, 1), (stale_unknown, 2)])
        with pytest.raises(NotFoundError, match="'nope'"):
            uow.reservations.save_many([(changed, 1), (stale_unknown, 3)])  # unchanged: read
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.reservations.load_many(ids) == {ids[0]: new, ids[1]: books[ids[1]]}


def test_booked_days_and_headcounts(storage: Storage) -> None:
    ids = _enrolled(storage, children=2)  # child 0 standard, child 1 vegetarian
    with storage.unit_of_work() as uow:
        books = uow.reservations.load_many(ids)
        uow.reservations.save_many(
            [
                (booked(uow.enrollments.get(ids[0]), SEPTEMBER[:3]), books[ids[0]].version),
                (booked(uow.enrollments.get(ids[1]), SEPTEMBER[1:4]), books[ids[1]].version),
            ]
        )
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        pairs = list(uow.reservations.booked(site_id="ronde", start=date(2023, 9, 5)))
        assert pairs == [(ids[0], date(2023, 9, 5)), (ids[0], date(2023, 9, 7))] + [
            (ids[1], day) for day in SEPTEMBER[1:4]
        ]
        assert list(uow.reservations.booked(enrollment_ids=[ids[1]], end=date(2023, 9, 5))) == [
            (ids[1], date(2023, 9, 5))
        ]
        counts = uow.reservations.headcount("ronde", date(2023, 9, 4), date(2023, 9, 9))
        assert [count.day for count in counts] == [date(2023, 9, d) for d in range(4, 10)]
        by_day = {count.day: count for count in counts}
        assert by_day[date(2023, 9, 4)].meals[Diet.STANDARD] == 1
        assert by_day[date(2023, 9, 5)].meals == {
            Diet.STANDARD: 1,
            Diet.NO_PORK: 0,
            Diet.VEGETARIAN: 1,
        }
        assert by_day[date(2023, 9, 6)].total == 0
        assert uow.reservations.headcount("lac", date(2023, 9, 4), date(2023, 9, 4))[0].total == 0
        other = uow.reservations.headcount(
            "ronde", date(2023, 9, 4), date(2023, 9, 4), service_id="other"
        )
        assert other[0].total == 0
        # Several sites in one grouped query: ordered by site as given, then day.
        both = uow.reservations.headcount(
            ["lac", "ronde", "lac"], date(2023, 9, 4), date(2023, 9, 5)
        )
        assert [(count.site_id, count.day) for count in both] == [
            ("lac", date(2023, 9, 4)),
            ("lac", date(2023, 9, 5)),
            ("ronde", date(2023, 9, 4)),
            ("ronde", date(2023, 9, 5)),
        ]
        assert [count.total for count in both] == [0, 0, 1, 2]
        assert both[2:] == counts[:2]


def test_headcounts_follow_a_change_of_site_and_refuse_removal(storage: Storage) -> None:
    (enrollment_id,) = _enrolled(storage)
    with storage.unit_of_work() as uow:
        enrolled = uow.enrollments.get(enrollment_id)
        uow.reservations.save(booked(enrolled, SEPTEMBER), expected_version=0)
        uow.enrollments.save(attrs.evolve(enrolled, site=OTHER_SITE))
        uow.commit()
    with storage.unit_of_work() as uow:
        day = date(2023, 9, 4)
        assert uow.reservations.headcount("lac", day, day)[0].total_meals == 1
        assert uow.reservations.headcount("ronde", day, day)[0].total_meals == 0
        with pytest.raises(ConflictError, match="has reservations"):
            uow.enrollments.remove(enrollment_id)


# -- invoices and numbering ---------------------------------------------------------------------


def test_numbering_is_gapless_and_a_rollback_gives_numbers_back(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        sequence = uow.invoices.sequence(ISSUER, 2023)
        assert sequence == NumberSequence(issuer_id=ISSUER, year=2023, last_used=0)
        numbers, sequence = sequence.allocate(3)
        uow.invoices.save_sequence(sequence)
        uow.commit()
    assert numbers == ("2023-000001", "2023-000002", "2023-000003")
    with storage.unit_of_work() as uow:
        assert uow.invoices.next_number(ISSUER, 2023) == 4
        # rolled back below: number 4 is given back
    with storage.unit_of_work() as uow:
        assert uow.invoices.next_number(ISSUER, 2023) == 4
        assert uow.invoices.next_number(ISSUER, 2024) == 1
        assert uow.invoices.next_number(ISSUER, 2023, kind="credit_note") == 1
        assert uow.invoices.next_number("autre-regie", 2023) == 1
        with pytest.raises(ConflictError, match="cannot go back"):
            uow.invoices.save_sequence(NumberSequence(issuer_id=ISSUER, year=2023, last_used=2))
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.invoices.sequence(ISSUER, 2023, prefix="F").last_used == 4


def test_one_invoice_per_billing_key(storage: Storage) -> None:
    home = household("h1")
    first = invoice(home, 1)
    with storage.unit_of_work() as uow:
        uow.invoices.add(first)
        uow.commit()
    again = invoice(home, 2)  # another number, the same household and period
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError):
            uow.invoices.add(again)
        assert uow.invoices.find_by_billing_key(first.billing_key) == first
        october = invoice(home, 2, first_day=date(2023, 10, 1), last_day=date(2023, 10, 31))
        uow.invoices.add(october)
        assert uow.invoices.billed_keys([first.billing_key, "postpaid/x", october.billing_key]) == {
            first.billing_key,
            october.billing_key,
        }
        assert [i.number for i in uow.invoices.list(household_id="h1")] == [
            "2023-000001",
            "2023-000002",
        ]
        assert uow.invoices.count(year=2023, issuer=ISSUER) == 2
        uow.commit()


def test_issued_documents_are_never_saved_over_nor_removed(storage: Storage) -> None:
    """Invoices and credit notes are immutable at the port: ``save`` over a stored one and
    ``remove`` raise ``RuleViolationError`` and change nothing; a new one may be saved."""
    home = household("h1")
    first = invoice(home, 1)
    note, _ = credit_note(
        first,
        lines=first.lines,
        reason="Erreur de pointage",
        sequence=NumberSequence(issuer_id=ISSUER, year=2023, prefix="AV-"),
        issue_date=date(2023, 10, 5),
    )
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.invoices.add(first)
        uow.credit_notes.save(note)  # new: stored
        uow.commit()
    october = invoice(home, 2, first_day=date(2023, 10, 1), last_day=date(2023, 10, 31))
    with storage.unit_of_work() as uow:
        cases: list[tuple[Any, Any, Any]] = [
            (uow.invoices, first, attrs.evolve(first, label="FAUX")),
            (uow.credit_notes, note, attrs.evolve(note, reason="Autre")),
        ]
        for repository, stored, changed in cases:
            with pytest.raises(RuleViolationError, match="never changes"):
                repository.save(changed)
            with pytest.raises(RuleViolationError):
                repository.save(stored)
            with pytest.raises(RuleViolationError):
                repository.remove(stored.id)
            with pytest.raises(NotFoundError):
                repository.remove("nothing-here")
            # A batch save (offered by the built-in backends, not part of the port) too.
            save_many = getattr(repository, "save_many", None)
            if save_many is not None:
                with pytest.raises(RuleViolationError):
                    save_many([changed])
        uow.invoices.save(october)  # a new invoice may be saved
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.invoices.get(first.id) == first
        assert uow.credit_notes.get(note.id) == note
        assert [item.id for item in uow.invoices.list()] == sorted([first.id, october.id])


# -- accounts -----------------------------------------------------------------------------------


def _account(account_id: str, username: str, email: str, *tokens: AccountToken) -> Account:
    return Account(
        id=account_id,
        username=username,
        email=email,
        display_name="Maman Concerto",
        roles={Role.GUARDIAN},
        household_ids={"h1"},
        password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
        created_at=NOW,
        tokens=tokens,
    )


def test_accounts_store(storage: Storage) -> None:
    token = AccountToken(
        purpose=TokenPurpose.ACTIVATION,
        selector="sel-1",
        digest="digest",
        created_at=NOW,
        expires_at=NOW + timedelta(days=3),
    )
    maman = _account("a1", "maman.concerto", "Maman@Example.fr", token)
    papa = _account("a2", "papa.concerto", "maman@example.fr")
    with storage.unit_of_work() as uow:
        uow.accounts.save(maman)
        uow.accounts.save(papa)
        with pytest.raises(ConflictError, match="already taken"):
            uow.accounts.save(_account("a3", "maman.concerto", "x@example.fr"))
        uow.accounts.save_throttle("account:a1", ThrottleState(failures=2, last_failure_at=NOW))
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.accounts.get("a1") == maman
        assert uow.accounts.get("a3") is None
        assert uow.accounts.find_by_username("papa.concerto") == papa
        assert [a.id for a in uow.accounts.find_by_email("MAMAN@example.fr")] == ["a1", "a2"]
        assert uow.accounts.find_by_token("sel-1") == maman
        assert uow.accounts.throttle("account:a1").failures == 2
        assert uow.accounts.throttle("source:10.0.0.1") == ThrottleState()
        renamed = attrs.evolve(maman, username="maman", tokens=())
        uow.accounts.save(renamed)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.accounts.find_by_token("sel-1") is None
        assert uow.accounts.find_by_username("maman.concerto") is None
        assert [a.username for a in uow.accounts.list()] == ["maman", "papa.concerto"]


# -- outbox -------------------------------------------------------------------------------------


def _message(message_id: str, minutes: int = 0) -> OutgoingMessage:
    return OutgoingMessage(
        id=message_id,
        kind="invoice_issued",
        to_address="maman@example.fr",
        subject="Votre facture de septembre est disponible",
        text_body="Bonjour,\nvotre facture est disponible.",
        created_at=NOW + timedelta(minutes=minutes),
    )


def test_outbox_joins_the_transaction_and_delivers_once(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        assert uow.outbox.add([_message("m1")]) == ["m1"]
        # the business change failed: the message goes with it
    with storage.unit_of_work() as uow:
        assert uow.outbox.get("m1") is None
        assert uow.outbox.add([_message("m1"), _message("m2", 5), _message("m1")]) == ["m1", "m2"]
        assert uow.outbox.add([_message("m2", 5)]) == []
        uow.commit()
    store = outbox_store(storage)
    lease = timedelta(minutes=10)
    assert store.claim_due(NOW, limit=10, lease=lease)[0].id == "m1"  # m2 not due yet
    assert store.claim_due(NOW, limit=10, lease=lease) == []  # m1 is claimed
    store.mark_failed(
        "m1", error="421 try later", failed_at=NOW, next_attempt_at=NOW + timedelta(minutes=1)
    )
    later = NOW + timedelta(minutes=6)
    claimed = store.claim_due(later, limit=10, lease=lease)
    assert [(r.id, r.attempts) for r in claimed] == [("m1", 2), ("m2", 1)]
    store.mark_sent("m1", sent_at=later)
    store.mark_failed("m2", error="550 no such user", failed_at=later, next_attempt_at=None)
    assert [r.id for r in store.records(DeliveryStatus.DEAD)] == ["m2"]
    sent = store.get("m1")
    assert sent is not None
    assert (sent.status, sent.sent_at) == (DeliveryStatus.SENT, later)
    store.requeue("m2", now=later)
    with pytest.raises(InvalidInputError):
        store.requeue("m1", now=later)
    with pytest.raises(NotFoundError):
        store.mark_sent("m9", sent_at=later)
    # a dispatcher that died keeps its claim only for the lease
    assert [r.id for r in store.claim_due(later, limit=1, lease=lease)] == ["m2"]
    crashed_until = later + lease
    assert [r.id for r in store.claim_due(crashed_until, limit=5, lease=lease)] == ["m2"]
    assert [r.id for r in store.records()] == ["m1", "m2"]


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


def test_bulk_changes_to_existing_books(storage: Storage) -> None:
    ids = _enrolled(storage, children=2)
    with storage.unit_of_work() as uow:
        books = uow.reservations.load_many(ids)
        first = {
            enrollment_id: booked(uow.enrollments.get(enrollment_id), SEPTEMBER[:4])
            for enrollment_id in ids
        }
        uow.reservations.save_many((first[i], books[i].version) for i in ids)
        uow.commit()
    with storage.unit_of_work() as uow:
        books = uow.reservations.load_many(ids)
        changed = {}
        for enrollment_id, book in books.items():
            book = book.with_day(SEPTEMBER[0], booked=False)  # removed
            book = book.with_day(SEPTEMBER[5], booked=True)  # added
            book = book.with_day(SEPTEMBER[1], booked=False)
            book = book.with_day(SEPTEMBER[1], booked=True, late=True)  # relabelled late
            book = book.with_day(SEPTEMBER[2], booked=False, late=True)  # late cancellation
            changed[enrollment_id] = book
        uow.reservations.save_many((changed[i], books[i].version) for i in ids)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.reservations.load_many(ids) == changed
        again = uow.reservations.load_many(ids)
        with pytest.raises(ConflictError):
            uow.reservations.save_many(
                [
                    (again[ids[0]].with_day(SEPTEMBER[6], booked=True), again[ids[0]].version),
                    (again[ids[1]].with_day(SEPTEMBER[6], booked=True), 1),  # stale
                ]
            )
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.reservations.load_many(ids) == changed  # all or nothing


# The enrollment requests' part of the contract lives in its own module.
from canteen_core.testing.enrollment_requests_contract import (  # noqa: E402, F401
    test_enrollment_requests_are_dropped_with_their_unit_of_work,
    test_enrollment_requests_round_trip_and_filter,
)

#: The contract's tests (what ``from canteen_core.testing.storage_contract import *`` brings in).
__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
