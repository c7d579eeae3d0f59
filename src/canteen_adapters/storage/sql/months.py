"""Booked days stored as month masks: one row per enrollment and month, bit ``d - 1`` = day ``d``.

The encoding between :class:`~canteen_core.domain.reservations.ReservationBook` bit sets
(one bit per day since the book's origin) and the ``reservation_months`` rows, and the bulk
insert of those rows (one multi-row INSERT per batch on PostgreSQL, one executemany on SQLite).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from canteen_adapters.storage.sql.driver import _IsoText
from canteen_core.domain.errors import ConflictError, StorageError
from canteen_core.domain.reservations import ReservationBook

#: A month's booked days: bit ``d - 1`` of the mask is day ``d`` of the month (see
#: ``tables.reservation_months``).
MonthRow = tuple[str, date, int, int]  # enrollment_id, first day of the month, days, late
_MONTH_MASKS = 1024  # distinct (origin, bits, late) kept: a rentrée repeats a few periodicities


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


@lru_cache(maxsize=_MONTH_MASKS)
def _month_masks(origin: int, bits: int, late: int) -> tuple[tuple[date, int, int], ...]:
    """``(month, days, late)`` of a book's masks (bit ``i`` = ordinal ``origin + i``), for each
    month with a booked day, in order."""
    if not bits:
        return ()
    fromordinal = date.fromordinal
    month = _month_start(fromordinal(origin + (bits & -bits).bit_length() - 1))
    last = fromordinal(origin + bits.bit_length() - 1)
    masks = []
    while month <= last:
        following = _next_month(month)
        start = month.toordinal()
        full = (1 << (following.toordinal() - start)) - 1
        offset = start - origin
        if offset >= 0:
            days, late_days = (bits >> offset) & full, (late >> offset) & full
        else:  # the book starts within this month
            days, late_days = (bits << -offset) & full, (late << -offset) & full
        if days:
            masks.append((month, days, late_days))
        month = following
    return tuple(masks)


def _book_months(book: ReservationBook) -> tuple[tuple[date, int, int], ...]:
    return _month_masks(book.origin.toordinal(), book.bits, book.late_booked)


@lru_cache(maxsize=_MONTH_MASKS)
def _month_days(month: date, days: int) -> tuple[date, ...]:
    """The days of a month mask, in order."""
    found = []
    while days:
        low = days & -days
        found.append(month.replace(day=low.bit_length()))
        days ^= low
    return tuple(found)


def _window(month: date, start: date | None, end: date | None) -> int:
    """The bits of ``month``'s days from ``start`` to ``end`` (inclusive; ``None``: open)."""
    lo = 0 if start is None or start < month else start.toordinal() - month.toordinal()
    hi = 30 if end is None else min(end.toordinal() - month.toordinal(), 30)
    return ((1 << (hi + 1)) - 1) & ~((1 << lo) - 1) if hi >= lo else 0


_INSERT_MONTH = (
    "INSERT INTO reservation_months (enrollment_id, month, days, late) VALUES (?, ?, ?, ?)"
)


def _insert_months(connection: sa.Connection, rows: Iterable[MonthRow]) -> None:
    """Bulk insert month rows: on PostgreSQL one ``INSERT ... SELECT FROM unnest(...)`` per
    batch of :data:`_PG_BATCH` rows (``COPY FROM`` is refused on a table under row-level
    security, see ``docs/tenancy.md``), one executemany on SQLite, in the unit of work's
    transaction (same DBAPI connection)."""
    dbapi_connection: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        import psycopg  # the PostgreSQL driver, present whenever this dialect is

        try:
            with dbapi_connection.cursor() as cursor:
                for batch in _batches(rows, _PG_BATCH):
                    cursor.execute(
                        _PG_INSERT_MONTHS, [list(column) for column in zip(*batch, strict=True)]
                    )
        except psycopg.IntegrityError as exc:
            raise ConflictError(f"reservation days conflict: {exc}") from exc
        except psycopg.Error as exc:
            raise StorageError(f"cannot store reservation days: {exc}") from exc
        return
    iso = _IsoText()
    try:
        dbapi_connection.executemany(
            _INSERT_MONTH,
            ((enrollment_id, iso[month], days, late) for enrollment_id, month, days, late in rows),
        )
    except sqlite3.IntegrityError as exc:
        raise ConflictError(f"reservation days conflict: {exc}") from exc
    except sqlite3.Error as exc:
        raise StorageError(f"cannot store reservation days: {exc}") from exc


#: Month rows per PostgreSQL statement: four arrays of this length as parameters.
_PG_BATCH = 5000
_PG_INSERT_MONTHS = (
    "INSERT INTO reservation_months (enrollment_id, month, days, late) "
    "SELECT * FROM unnest(%s::text[], %s::date[], %s::bigint[], %s::bigint[])"
)


def _batches(rows: Iterable[MonthRow], size: int) -> Iterator[list[MonthRow]]:
    batch: list[MonthRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _fresh_rows(fresh: list[ReservationBook]) -> Iterator[MonthRow]:
    """The month rows of books saved for the first time."""
    for book in fresh:
        enrollment_id = book.enrollment_id
        for month, days, late in _book_months(book):
            yield enrollment_id, month, days, late


def _iso_days(days: Iterable[date]) -> list[str]:
    return sorted(day.isoformat() for day in days)
