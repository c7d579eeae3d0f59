"""The reservations repository: books saved with optimistic versions, read back as month masks.

A book is its ``reservation_states`` row (version, late cancellations) and its
``reservation_months`` rows (see :mod:`.months`); a save is guarded by the version the caller
loaded, and the kitchen headcount is counted from the masks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import date, timedelta
from typing import Any, Unpack

import sqlalchemy as sa

from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.driver import _IN_CHUNK, _chunks, _Driver, _Session, _translate
from canteen_adapters.storage.sql.months import (
    MonthRow,
    _book_months,
    _fresh_rows,
    _insert_months,
    _iso_days,
    _month_days,
    _month_start,
    _window,
)
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Diet
from canteen_core.domain.headcount import KitchenCount
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage.repositories import BookedFilters

_LOAD_STATES = (
    "SELECT e.id, e.first_day, s.version, s.late_cancelled FROM enrollments AS e "
    "LEFT JOIN reservation_states AS s ON s.enrollment_id = e.id WHERE e.id {ids}"
)
#: :data:`_LOAD_STATES` on PostgreSQL: each state read by its key. With the plain join the
#: planner hashed the batch's enrollments and scanned every state of the commune for them
#: (its cost model prices an index probe above reading a row in sequence): a billing batch
#: then read the whole table, the run the square of the city. ``OFFSET 0`` keeps the
#: subquery from being flattened back into that join.
_LOAD_STATES_PG = (
    "SELECT e.id, e.first_day, s.version, s.late_cancelled FROM enrollments AS e "
    "LEFT JOIN LATERAL (SELECT version, late_cancelled FROM reservation_states "
    "WHERE enrollment_id = e.id OFFSET 0) AS s ON true WHERE e.id {ids}"
)
_LOAD_MONTHS = (
    "SELECT enrollment_id, month, days, late FROM reservation_months WHERE enrollment_id {ids}"
)
_LOAD_MONTHS_BETWEEN = _LOAD_MONTHS + " AND month >= ? AND month <= ?"
#: A few books in one round trip: their states and months joined (one row per month).
_LOAD_BOOKS = (
    "SELECT e.id, e.first_day, s.version, s.late_cancelled, m.month, m.days, m.late "
    "FROM enrollments AS e LEFT JOIN reservation_states AS s ON s.enrollment_id = e.id "
    "LEFT JOIN reservation_months AS m ON m.enrollment_id = s.enrollment_id{between} "
    "WHERE e.id {ids}"
)
_LOAD_BOOKS_ALL = _LOAD_BOOKS.replace("{between}", "")
_LOAD_BOOKS_BETWEEN = _LOAD_BOOKS.replace("{between}", " AND m.month >= ? AND m.month <= ?")
#: Up to this many books (a household's children, the portal's calls) are read with
#: :data:`_LOAD_BOOKS`; more (billing, the headcount) with two statements, whose rows do not
#: repeat each book's state per month.
_JOINED_BOOKS = 8
_SAVE_STATES = (
    "SELECT e.id, s.version FROM enrollments AS e "
    "LEFT JOIN reservation_states AS s ON s.enrollment_id = e.id WHERE e.id {ids}"
)
#: :data:`_SAVE_STATES` on PostgreSQL (the versions :meth:`_Reservations._refusal` checks: a
#: batch with unchanged books, or one refused): each version read by its key, as
#: :data:`_LOAD_STATES_PG` reads the states. The plain join hashed the batch's enrollments and
#: scanned every state of the commune for them: a check of a school's books cost the city.
_SAVE_STATES_PG = (
    "SELECT e.id, s.version FROM enrollments AS e "
    "LEFT JOIN LATERAL (SELECT version FROM reservation_states "
    "WHERE enrollment_id = e.id OFFSET 0) AS s ON true WHERE e.id {ids}"
)
_INSERT_STATE = (
    "INSERT INTO reservation_states (enrollment_id, version, late_cancelled) VALUES (?, ?, ?)"
)
_INSERT_STATE_PG = (
    "INSERT INTO reservation_states (enrollment_id, version, late_cancelled) "
    "VALUES (?, ?, CAST(? AS jsonb))"
)
_BUMP = (
    "UPDATE reservation_states SET version = ?, late_cancelled = ? "
    "WHERE enrollment_id = ? AND version = ?"
)
_BUMP_PG = (
    "UPDATE reservation_states SET version = ?, late_cancelled = CAST(? AS jsonb) "
    "WHERE enrollment_id = ? AND version = ?"
)
_DELETE_MONTH = "DELETE FROM reservation_months WHERE enrollment_id = ? AND month = ?"
_UPDATE_MONTH = (
    "UPDATE reservation_months SET days = ?, late = ? WHERE enrollment_id = ? AND month = ?"
)


class _Refused(Exception):
    """A guarded reservation write found a book stale or its enrollment unknown."""


class _Reservations:
    def __init__(self, uow: _Session) -> None:
        self._uow = uow
        # The month rows of each book as this unit of work last read or wrote them, with the
        # book's version then: a save from that version writes the differences without
        # reading them again (its guarded bump proves they did not change since).
        self._months_at: dict[str, tuple[int, dict[date, tuple[int, int]]]] = {}

    def load(self, enrollment_id: str) -> ReservationBook:
        return self.load_many([enrollment_id])[enrollment_id]

    def load_many(
        self, enrollment_ids: Iterable[str], *, between: tuple[date, date] | None = None
    ) -> dict[str, ReservationBook]:
        ids = list(dict.fromkeys(enrollment_ids))
        connection = self._uow.connection()
        states: dict[str, tuple[date, int, list[str]]] = {}
        months: dict[str, list[tuple[date, int, int]]] = {
            enrollment_id: [] for enrollment_id in ids
        }
        with _translate("cannot read reservations"):
            driver = _Driver(connection)
            day_out = driver.day_out
            if len(ids) <= _JOINED_BOOKS:
                self._load_joined(driver, ids, between, states, months)
            for chunk in _chunks(ids if len(ids) > _JOINED_BOOKS else [], _IN_CHUNK):
                load = _LOAD_STATES_PG if driver.postgres else _LOAD_STATES
                statement = driver.sql(load, len(chunk))
                saved: list[str] = []
                for enrollment_id, first_day, version, cancelled in driver.fetch(
                    statement, driver.ids(chunk)
                ):
                    states[enrollment_id] = _state(driver, first_day, version, cancelled)
                    if version is not None:
                        saved.append(enrollment_id)
                if not saved:
                    # Days reference their book's state row (foreign key): books never saved
                    # (a family's first booking, the rentrée) have none to read.
                    continue
                if between is None:
                    statement = driver.sql(_LOAD_MONTHS, len(saved))
                    params = driver.ids(saved)
                else:  # a month of a year-long book: fewer rows to read
                    statement = driver.sql(_LOAD_MONTHS_BETWEEN, len(saved))
                    params = [
                        *driver.ids(saved),
                        driver.day_in(_month_start(between[0])),
                        driver.day_in(between[1]),
                    ]
                for enrollment_id, month, days, late in driver.fetch(statement, params):
                    months[enrollment_id].append((day_out(month), int(days), int(late)))
                if between is None:
                    self._remember_months(saved, states, months)
        missing = [enrollment_id for enrollment_id in ids if enrollment_id not in states]
        if missing:
            raise NotFoundError(f"no enrollment {missing[0]!r}")
        books = {}
        for enrollment_id in ids:
            origin, version, cancelled = states[enrollment_id]
            stored = months[enrollment_id]
            if not stored and not cancelled:  # nothing stored yet (a rentrée's books)
                books[enrollment_id] = ReservationBook(
                    enrollment_id=enrollment_id, origin=origin, version=version
                )
                continue
            books[enrollment_id] = self._book(
                enrollment_id, origin, version, stored, cancelled, between
            )
        return books

    def _load_joined(
        self,
        driver: _Driver,
        ids: list[str],
        between: tuple[date, date] | None,
        states: dict[str, tuple[date, int, list[str]]],
        months: dict[str, list[tuple[date, int, int]]],
    ) -> None:
        """:meth:`load_many`'s reads of a few books, in one statement (one snapshot)."""
        day_out = driver.day_out
        if between is None:
            statement = driver.sql(_LOAD_BOOKS_ALL, len(ids))
            params = driver.ids(ids)
        else:
            statement = driver.sql(_LOAD_BOOKS_BETWEEN, len(ids))
            params = [
                driver.day_in(_month_start(between[0])),
                driver.day_in(between[1]),
                *driver.ids(ids),
            ]
        saved: list[str] = []
        for enrollment_id, first_day, version, cancelled, month, days, late in driver.fetch(
            statement, params
        ):
            if enrollment_id not in states:
                states[enrollment_id] = _state(driver, first_day, version, cancelled)
                if version is not None:
                    saved.append(enrollment_id)
            if month is not None:
                months[enrollment_id].append((day_out(month), int(days), int(late)))
        if between is None:
            self._remember_months(saved, states, months)

    def _remember_months(
        self,
        saved: list[str],
        states: dict[str, tuple[date, int, list[str]]],
        months: dict[str, list[tuple[date, int, int]]],
    ) -> None:
        """Keep the months of whole books read at their version: a save in the same unit of
        work at that version need not read them again."""
        for enrollment_id in saved:
            self._months_at[enrollment_id] = (
                states[enrollment_id][1],
                {month: (days, late) for month, days, late in months[enrollment_id]},
            )

    @staticmethod
    def _book(
        enrollment_id: str,
        origin: date,
        version: int,
        months: list[tuple[date, int, int]],
        cancelled: list[str],
        between: tuple[date, date] | None,
    ) -> ReservationBook:
        """A book from its month rows (checked as :meth:`ReservationBook.from_days` does)."""
        base = origin.toordinal()
        bits = late = 0
        for month, days, late_days in months:
            if between is not None:
                window = _window(month, between[0], between[1])
                days, late_days = days & window, late_days & window
            offset = month.toordinal() - base
            if offset < 0:
                if days & ((1 << -offset) - 1):
                    early = _month_days(month, days)[0]
                    raise InvalidInputError(
                        f"{early} is before the book's origin {origin}", path="days"
                    )
                bits |= days >> -offset
                late |= late_days >> -offset
            else:
                bits |= days << offset
                late |= late_days << offset
        if late & ~bits:
            raise InvalidInputError("a late-booked day must be booked", path="late_booked")
        late_cancelled = 0
        if cancelled:  # rare: a day cancelled after its deadline in surcharge mode
            late_cancelled = ReservationBook.from_days(
                enrollment_id, origin, (), late_cancelled=map(date.fromisoformat, cancelled)
            ).late_cancelled
            if late_cancelled & bits:
                raise InvalidInputError(
                    "a late-cancelled day cannot be booked", path="late_cancelled"
                )
        # One construction (its validators check the masks): no book built twice per row.
        return ReservationBook(
            enrollment_id=enrollment_id,
            origin=origin,
            bits=bits,
            late_booked=late,
            late_cancelled=late_cancelled,
            version=version,
        )

    @staticmethod
    def _conflict(enrollment_id: str, expected: int) -> ConflictError:
        return ConflictError(
            f"the reservations of enrollment {enrollment_id!r} changed meanwhile "
            f"(loaded at version {expected}); reload and try again"
        )

    def save(self, book: ReservationBook, *, expected_version: int) -> None:
        self.save_many([(book, expected_version)])

    def save_many(self, items: Iterable[tuple[ReservationBook, int]]) -> None:
        todo = list(items)
        if not todo:
            return
        for book, expected in todo:
            if not isinstance(book, ReservationBook):
                raise InvalidInputError(f"expected a ReservationBook, got {type(book).__name__}")
            if book.version < expected:
                raise InvalidInputError(
                    f"book version {book.version} is older than {expected}", path="version"
                )
        if len({book.enrollment_id for book, _ in todo}) != len(todo):
            raise ConflictError("the same enrollment appears twice in one save")
        fresh = [book for book, expected in todo if expected == 0 and book.version > 0]
        changed = [(book, expected) for book, expected in todo if 0 < expected < book.version]
        connection = self._uow.writable()
        with _translate("cannot save reservations"):
            driver = _Driver(connection)
            if len(fresh) + len(changed) < len(todo):
                # Unchanged books write nothing: only a read can tell they are stale.
                refused = self._refusal(driver, todo)
                if refused is not None:
                    raise refused
            # The writes are guarded (the caller has just loaded the books): an INSERT fails
            # when the state row exists (someone saved first) or the enrollment does not
            # (foreign key), an UPDATE ... WHERE version = expected misses a stale book. Only
            # then are the stored versions read, to name the error.
            # One changed book needs no savepoint (two round trips): its guarded bump is its
            # first write, so a refusal has written nothing.
            undo = driver.savepoint() if fresh or len(changed) > 1 else nullcontext()
            try:
                with undo:  # a refused book undoes the whole batch
                    if fresh:
                        self._insert_fresh(connection, driver, fresh)
                    if changed:
                        self._update_many(connection, driver, changed)
            except _Refused:
                for book, _ in todo:
                    self._months_at.pop(book.enrollment_id, None)
                refused = self._refusal(driver, todo)
                raise refused or self._conflict(todo[0][0].enrollment_id, todo[0][1]) from None
            except BaseException:
                for book, _ in todo:
                    self._months_at.pop(book.enrollment_id, None)
                raise
            for book in fresh:
                self._months_at[book.enrollment_id] = (
                    book.version,
                    {month: (days, late) for month, days, late in _book_months(book)},
                )

    def _refusal(
        self, driver: _Driver, todo: list[tuple[ReservationBook, int]]
    ) -> NotFoundError | ConflictError | None:
        """Why the stored versions refuse ``todo``: an unknown enrollment first, then the first
        book not at its expected version (``None``: they do not)."""
        stored: dict[str, int] = {}
        ids = [book.enrollment_id for book, _ in todo]
        check = _SAVE_STATES_PG if driver.postgres else _SAVE_STATES
        for enrollment_id, version in driver.fetch_in(check, ids):
            stored[enrollment_id] = 0 if version is None else int(version)
        missing = [enrollment_id for enrollment_id in ids if enrollment_id not in stored]
        if missing:
            return NotFoundError(f"no enrollment {missing[0]!r}")
        for book, expected in todo:
            if stored[book.enrollment_id] != expected:
                return self._conflict(book.enrollment_id, expected)
        return None

    def _insert_fresh(
        self,
        connection: sa.Connection,
        driver: _Driver,
        fresh: list[ReservationBook],
    ) -> None:
        # No savepoint of its own: save_many's savepoint undoes the batch on a refusal.
        statement = driver.sql(_INSERT_STATE_PG if driver.postgres else _INSERT_STATE)
        try:
            rows = [
                (
                    book.enrollment_id,
                    book.version,
                    driver.json_in(_iso_days(book.late_cancelled_days())),
                )
                for book in fresh
            ]
            # One row (a family's first booking): a plain statement, not psycopg's pipeline.
            if len(rows) == 1:
                driver.run(statement, rows[0])
            else:
                driver.run_many(statement, rows)
        except sa.exc.IntegrityError:
            # Someone saved one of these enrollments first, or one does not exist.
            raise _Refused from None
        _insert_months(connection, _fresh_rows(fresh))

    def _update_many(
        self,
        connection: sa.Connection,
        driver: _Driver,
        changed: list[tuple[ReservationBook, int]],
    ) -> None:
        """Save changed books in a few statements per batch, whatever their number."""
        bump = driver.sql(_BUMP_PG if driver.postgres else _BUMP)
        day_in = driver.day_in
        for batch in _chunks(changed, _IN_CHUNK):
            params = [
                (
                    book.version,
                    driver.json_in(_iso_days(book.late_cancelled_days())),
                    book.enrollment_id,
                    expected,
                )
                for book, expected in batch
            ]
            # One row: a plain statement (a batch goes through psycopg's pipeline).
            bumped = (
                driver.run(bump, params[0]) if len(params) == 1 else driver.run_many(bump, params)
            )
            if bumped != len(batch):
                raise _Refused  # a stale book or an unknown enrollment: save_many names it
            # Only the months that changed are written: compared with the rows this unit of
            # work read at the expected version (the bump proves them current), else read.
            current: dict[str, dict[date, tuple[int, int]]] = {}
            unread: list[str] = []
            for book, expected in batch:
                known = self._months_at.get(book.enrollment_id)
                if known is not None and known[0] == expected:
                    current[book.enrollment_id] = dict(known[1])
                else:
                    current[book.enrollment_id] = {}
                    unread.append(book.enrollment_id)
            if unread:
                for enrollment_id, month, days, late in driver.fetch(
                    driver.sql(_LOAD_MONTHS, len(unread)), driver.ids(unread)
                ):
                    current[enrollment_id][driver.day_out(month)] = (int(days), int(late))
            removed: list[tuple[Any, ...]] = []
            added: list[MonthRow] = []
            updated: list[tuple[Any, ...]] = []
            for book, _ in batch:
                enrollment_id = book.enrollment_id
                stored_months = current[enrollment_id]
                wanted = _book_months(book)
                self._months_at[enrollment_id] = (
                    book.version,
                    {month: (days, late) for month, days, late in wanted},
                )
                for month, days, late in wanted:
                    masks = stored_months.pop(month, None)
                    if masks is None:
                        added.append((enrollment_id, month, days, late))
                    elif masks != (days, late):
                        updated.append((days, late, enrollment_id, day_in(month)))
                removed.extend((enrollment_id, day_in(month)) for month in stored_months)
            if removed:
                driver.run_many(driver.sql(_DELETE_MONTH), removed)
            if added:
                _insert_months(connection, added)
            if updated:
                driver.run_many(driver.sql(_UPDATE_MONTH), updated)

    def booked(self, **filters: Unpack[BookedFilters]) -> Iterator[tuple[str, date]]:
        site_id, enrollment_ids = filters.get("site_id"), filters.get("enrollment_ids")
        start, end = filters.get("start"), filters.get("end")
        rows = t.reservation_months
        clauses: list[sa.ColumnElement[bool]] = []
        if site_id is not None:
            # Through the enrollments' site (booked rows have no site of their own).
            enrollments = t.document_tables["enrollments"]
            clauses.append(
                rows.c.enrollment_id.in_(
                    sa.select(enrollments.c.id).where(enrollments.c.site_id == site_id)
                )
            )
        if start is not None:
            clauses.append(rows.c.month >= _month_start(start))
        if end is not None:
            clauses.append(rows.c.month <= end)
        chunks: list[list[str] | None] = [None]
        if enrollment_ids is not None:
            chunks = list(_chunks(sorted(set(enrollment_ids)), _IN_CHUNK))
        for chunk in chunks:
            where = clauses if chunk is None else [*clauses, rows.c.enrollment_id.in_(chunk)]
            statement = (
                sa.select(rows.c.enrollment_id, rows.c.month, rows.c.days)
                .where(*where)
                .order_by(rows.c.enrollment_id, rows.c.month)
            )
            for row in self._uow.stream(statement, "cannot read reservations"):
                days = int(row.days)
                if start is not None or end is not None:
                    days &= _window(row.month, start, end)
                for day in _month_days(row.month, days):
                    yield row.enrollment_id, day

    def headcount(
        self, site_id: str | Iterable[str], start: date, end: date, *, service_id: str | None = None
    ) -> tuple[KitchenCount, ...]:
        if end < start:
            raise InvalidInputError(f"range ends ({end}) before it starts ({start})", path="end")
        sites = [site_id] if isinstance(site_id, str) else list(dict.fromkeys(site_id))
        rows, children = t.reservation_months, t.children
        enrollments = t.document_tables["enrollments"]
        connection = self._uow.connection()
        per_day: dict[tuple[str, date], tuple[dict[Diet, int], int]] = {}
        with _translate("cannot count meals"):
            for chunk in _chunks(sites, _IN_CHUNK):
                kids: sa.FromClause = children
                joined = rows.join(enrollments, enrollments.c.id == rows.c.enrollment_id)
                if connection.dialect.name == "postgresql" and len(chunk) == 1:
                    # One site (a capacity rule's ledger, a kitchen's count): each child read
                    # by its key. With the plain join the planner hashed the site's
                    # enrollments and scanned every child of the commune for them (under the
                    # tenant-led keys it prices that scan below a probe per child): a site's
                    # count cost the city. Several sites keep the join: one scan serves them
                    # all, cheaper than a probe per child of a whole city. OFFSET keeps the
                    # subquery from being flattened back into the join.
                    kids = (
                        sa.select(children.c.diet, children.c.pai)
                        .where(children.c.id == enrollments.c.child_id)
                        .offset(0)
                        .lateral("kids")
                    )
                    joined = joined.join(kids, sa.true())
                else:
                    joined = joined.join(children, children.c.id == enrollments.c.child_id)
                # One grouped query: the sites' month masks and how many children of each
                # diet share each mask (families book the same weeks, so few groups); the
                # days are counted from the masks here.
                statement = (
                    sa.select(
                        enrollments.c.site_id,
                        rows.c.month,
                        rows.c.days,
                        kids.c.diet,
                        kids.c.pai,
                        sa.func.count().label("meals"),
                    )
                    .select_from(joined)
                    # Filtered on the enrollment's site: the plan starts from the sites'
                    # enrollments and reads each one's months from the primary key
                    # (enrollment_id, month).
                    .where(
                        enrollments.c.site_id.in_(chunk),
                        rows.c.month >= _month_start(start),
                        rows.c.month <= end,
                    )
                    .group_by(
                        enrollments.c.site_id,
                        rows.c.month,
                        rows.c.days,
                        kids.c.diet,
                        kids.c.pai,
                    )
                )
                if service_id is not None:
                    statement = statement.where(enrollments.c.service_id == service_id)
                for row in connection.execute(statement):
                    meals_of = int(row.meals)
                    diet = Diet(row.diet)
                    for day in _month_days(
                        row.month, int(row.days) & _window(row.month, start, end)
                    ):
                        key = (row.site_id, day)
                        meals, baskets = per_day.setdefault(key, ({}, 0))
                        if row.pai:
                            per_day[key] = (meals, baskets + meals_of)
                        else:
                            meals[diet] = meals.get(diet, 0) + meals_of
        days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
        counts = []
        for site in sites:
            for day in days:
                meals, baskets = per_day.get((site, day), ({}, 0))
                counts.append(KitchenCount(day=day, site_id=site, meals=meals, pai_baskets=baskets))
        return tuple(counts)


def _state(
    driver: _Driver, first_day: Any, version: Any, cancelled: Any
) -> tuple[date, int, list[str]]:
    """A book's state row as read: its origin, its version (0: never saved) and its
    cancelled days."""
    return (
        driver.day_out(first_day),
        0 if version is None else int(version),
        [] if cancelled in (None, "[]") else driver.json_out(cancelled),
    )
