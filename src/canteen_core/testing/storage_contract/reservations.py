"""The storage contract of the reservation repository: versioned books, stale saves refused, bulk
saves, booked days and headcounts.
"""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from canteen_core.domain.families import Diet
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage import Storage
from canteen_core.testing.samples import (
    OTHER_SITE,
    SEPTEMBER,
    booked,
    enrollment,
    household,
)


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


__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
