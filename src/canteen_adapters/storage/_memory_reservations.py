"""The in-memory booked days: one :class:`~canteen_core.domain.reservations.ReservationBook` per
enrollment, with the checks and headcounts the SQL storage gives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Unpack

from canteen_adapters.storage._memory_repositories import _Data, _Session
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.headcount import KitchenCount, count_range
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage.repositories import BookedFilters


class _Reservations:
    def __init__(self, uow: _Session, data: _Data) -> None:
        self._uow = uow
        self._data = data

    def _origin(self, enrollment_id: str) -> date:
        values = self._data.keys["enrollments"].get(enrollment_id)
        if values is None:
            raise NotFoundError(f"no enrollment {enrollment_id!r}")
        origin: date = values["first_day"]
        return origin

    def load(self, enrollment_id: str) -> ReservationBook:
        self._uow._check_active()
        origin = self._origin(enrollment_id)
        book = self._data.books.get(enrollment_id)
        if book is None:
            return ReservationBook(enrollment_id=enrollment_id, origin=origin)
        return book

    def load_many(
        self, enrollment_ids: Iterable[str], *, between: tuple[date, date] | None = None
    ) -> dict[str, ReservationBook]:
        # Whole books: the window is an optimisation the contract allows, not a filter.
        return {enrollment_id: self.load(enrollment_id) for enrollment_id in enrollment_ids}

    def _checked(self, book: ReservationBook, expected_version: int) -> ReservationBook | None:
        if not isinstance(book, ReservationBook):
            raise InvalidInputError(f"expected a ReservationBook, got {type(book).__name__}")
        if book.version < expected_version:
            raise InvalidInputError(
                f"book version {book.version} is older than {expected_version}", path="version"
            )
        origin = self._origin(book.enrollment_id)
        stored = self._data.books.get(book.enrollment_id)
        current = 0 if stored is None else stored.version
        if current != expected_version:
            raise ConflictError(
                f"the reservations of enrollment {book.enrollment_id!r} changed meanwhile "
                f"(version {current}, expected {expected_version}); reload and try again"
            )
        if book.version == expected_version:
            return None  # nothing changed
        if book.origin != origin:
            # Same rows as the SQL adapter: the book is rebuilt on the enrollment's first day.
            book = ReservationBook.from_days(
                book.enrollment_id,
                origin,
                book.booked_days(),
                version=book.version,
                late_booked=book.late_booked_days(),
                late_cancelled=book.late_cancelled_days(),
            )
        return book

    def save(self, book: ReservationBook, *, expected_version: int) -> None:
        self.save_many([(book, expected_version)])

    def save_many(self, items: Iterable[tuple[ReservationBook, int]]) -> None:
        self._uow._check_writable()
        todo = list(items)
        if len({book.enrollment_id for book, _ in todo}) != len(todo):
            raise ConflictError("the same enrollment appears twice in one save")
        checked = [self._checked(book, expected) for book, expected in todo]
        for book in checked:
            if book is not None:
                self._uow._set(self._data.books, book.enrollment_id, book)

    def booked(self, **filters: Unpack[BookedFilters]) -> Iterator[tuple[str, date]]:
        self._uow._check_active()
        keys = self._data.keys["enrollments"]
        site_id, enrollment_ids = filters.get("site_id"), filters.get("enrollment_ids")
        start, end = filters.get("start"), filters.get("end")
        wanted = None if enrollment_ids is None else set(enrollment_ids)
        for enrollment_id in sorted(self._data.books):
            if wanted is not None and enrollment_id not in wanted:
                continue
            if site_id is not None and keys[enrollment_id]["site_id"] != site_id:
                continue
            for day in self._data.books[enrollment_id].booked_days(start, end):
                yield enrollment_id, day

    def headcount(
        self, site_id: str | Iterable[str], start: date, end: date, *, service_id: str | None = None
    ) -> tuple[KitchenCount, ...]:
        if not isinstance(site_id, str):
            return tuple(
                count
                for one in dict.fromkeys(site_id)
                for count in self.headcount(one, start, end, service_id=service_id)
            )
        self._uow._check_active()
        entries = []
        for enrollment_id, values in self._data.keys["enrollments"].items():
            if values["site_id"] != site_id:
                continue
            if service_id is not None and values["service_id"] != service_id:
                continue
            book = self._data.books.get(enrollment_id)
            household_id = self._data.child_household.get(values["child_id"])
            if book is None or household_id is None:
                continue
            child = self._data.households[household_id].child(values["child_id"])
            entries.append((child.diet, child.pai, book))
        return count_range(entries, start, end, site_id=site_id)
