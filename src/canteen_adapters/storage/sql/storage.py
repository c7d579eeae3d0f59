"""The SQL storage: units of work and repositories over SQLAlchemy Core (SQLite, PostgreSQL).

How the guarantees of :mod:`canteen_core.ports.storage` are kept:

* one unit of work = one database transaction on one connection (SQLite: ``BEGIN IMMEDIATE``);
* every repository call that can hit a constraint runs in a savepoint, so a call raising
  :class:`~canteen_core.domain.errors.ConflictError` changed nothing and the unit of work stays
  usable (PostgreSQL would otherwise refuse every later statement of the transaction);
* reservations: ``UPDATE reservation_states SET version = version + 1 WHERE version = :seen``
  touching no row means someone saved in between: ``ConflictError``. On PostgreSQL the second
  writer waits for the first one's row lock, then sees the new version;
* invoice numbers: ``UPDATE invoice_counters SET last = last + 1 ... RETURNING last``: the
  counter row stays locked until commit, a rollback gives the number back;
* billing keys and ids: unique constraints, turned into ``ConflictError``;
* driver and connection failures become :class:`~canteen_core.domain.errors.StorageError`; the
  transaction is rolled back when the unit of work ends, so nothing partial is stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from itertools import islice
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from canteen_adapters.storage._common import AccountLogic, OutboxLogic
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.engine import (
    READ_ONLY,
    begin,
    create_engine_for_url,
    psycopg_executemany,
)
from canteen_adapters.storage.sql.migrate import check_revision, upgrade
from canteen_core.config.deployment import StorageSettings
from canteen_core.config.serialization import shared_calendars, structure, unstructure
from canteen_core.domain._unchecked import unchecked
from canteen_core.domain.accounts import Account, ThrottleState
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from canteen_core.domain.families import Diet, Household
from canteen_core.domain.headcount import KitchenCount
from canteen_core.domain.invoicing import NumberSequence
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import DeliveryStatus, OutboxRecord
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage import COLLECTIONS, Collection, Range, resolve_types

if TYPE_CHECKING:
    from canteen_core.ports.storage import Storage, UnitOfWork

__all__ = ["SqlStorage", "SqlUnitOfWork"]

_FETCH = 1000  # rows per round trip when streaming
_BATCH = 5000  # rows per executemany batch
_IN_CHUNK = 500  # ids per IN (...) query
_ROWS_CHUNK = 300  # objects turned into rows at a time by a batch write (see add_many)


def _db_message(exc: sa.exc.DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _translate(what: str) -> _Translating:
    """Turn driver errors into the library's errors: ``with _translate("what failed"): ...``."""
    return _Translating(what)


class _Translating:
    """:func:`_translate`'s context manager: a class, as every statement runs in one and a
    generator-based context manager cost about four times as much to enter and leave."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise _translated(self.what, exc) from exc


def _translated(what: str, exc: sa.exc.SQLAlchemyError) -> ConflictError | StorageError:
    if isinstance(exc, sa.exc.IntegrityError):
        return ConflictError(f"{what}: {_db_message(exc)}")
    if isinstance(exc, sa.exc.DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        if state in ("40001", "40P01"):  # serialization failure, deadlock: retryable
            return ConflictError(f"{what}: concurrent change, try again")
        if "database is locked" in str(exc.orig):
            return StorageError(f"{what}: the database stayed busy (locked by another writer)")
        return StorageError(
            f"{what}: the database failed ({_db_message(exc)}); the change was not saved"
        )
    return StorageError(f"{what}: {exc}; the change was not saved")


def _column_value(value: Any) -> Any:
    if type(value) is str:  # most key columns: nothing to do
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str):
        return str(value)  # StrEnum members become plain strings
    return getattr(value, "value", value)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
    """Bulk insert month rows: COPY on PostgreSQL, one executemany on SQLite, in the unit of
    work's transaction (same DBAPI connection)."""
    dbapi_connection: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        import psycopg  # the PostgreSQL driver, present whenever this dialect is

        try:
            with (
                dbapi_connection.cursor() as cursor,
                cursor.copy(
                    "COPY reservation_months (enrollment_id, month, days, late) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
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


def _fresh_rows(fresh: list[ReservationBook]) -> Iterator[MonthRow]:
    """The month rows of books saved for the first time."""
    for book in fresh:
        enrollment_id = book.enrollment_id
        for month, days, late in _book_months(book):
            yield enrollment_id, month, days, late


def _dialect_insert(connection: sa.Connection, table: sa.Table) -> Any:
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    return module.insert(table)


class SqlStorage:
    """A SQL database opened for canteen (SQLite file or PostgreSQL).

    ``types`` overrides collection classes (see :class:`~canteen_core.ports.storage.Collection`).
    """

    name = "sql"

    def __init__(self, engine: Engine, *, types: dict[str, type[Any]] | None = None) -> None:
        self.engine = engine
        self._types = resolve_types(types)
        self._closed = False

    @classmethod
    def open(
        cls, settings: StorageSettings, *, types: dict[str, type[Any]] | None = None
    ) -> SqlStorage:
        """Open the database of ``settings``: migrate it (or check it is current)."""
        engine = create_engine_for_url(settings.url, schema=settings.schema, echo=settings.echo)
        try:
            if settings.migrate:
                upgrade(engine, schema=settings.schema)
            else:
                check_revision(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, types=types)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        schema: str | None = None,
        migrate: bool = True,
        types: dict[str, type[Any]] | None = None,
    ) -> SqlStorage:
        """Shortcut: :meth:`open` with settings built from ``url``."""
        return cls.open(StorageSettings(url=url, schema=schema, migrate=migrate), types=types)

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """A unit of work (one transaction); enter it with ``with``."""
        if self._closed:
            raise StorageError("the SQL storage is closed")
        return SqlUnitOfWork(self, read_only=read_only)

    def close(self) -> None:
        """Close every pooled connection."""
        self._closed = True
        self.engine.dispose()

    def _type(self, name: str) -> type[Any]:
        cls = self._types.get(name)
        if cls is None:
            cls = COLLECTIONS[name].resolve_type()
            self._types[name] = cls
        return cls


class SqlUnitOfWork:
    """One transaction on one connection, with the repositories working in it.

    Repositories are made on first use: a use case touches a few of the fifteen.
    """

    def __init__(self, storage: SqlStorage, *, read_only: bool = False) -> None:
        self._storage = storage
        self.read_only = read_only
        self._conn: sa.Connection | None = None

    @cached_property
    def households(self) -> _Households:
        return _Households(self)

    @cached_property
    def reservations(self) -> _Reservations:
        return _Reservations(self)

    @cached_property
    def enrollments(self) -> _Enrollments:
        return _Enrollments(self, COLLECTIONS["enrollments"])

    @cached_property
    def change_requests(self) -> _ChangeRequests:
        return _ChangeRequests(self, COLLECTIONS["change_requests"])

    @cached_property
    def attendance(self) -> _Documents:
        return _Documents(self, COLLECTIONS["attendance"])

    @cached_property
    def absences(self) -> _Documents:
        return _Documents(self, COLLECTIONS["absences"])

    @cached_property
    def tariffs(self) -> _Documents:
        return _Documents(self, COLLECTIONS["tariffs"])

    @cached_property
    def invoices(self) -> _Invoices:
        return _Invoices(self, COLLECTIONS["invoices"])

    @cached_property
    def credit_notes(self) -> _Documents:
        return _Documents(self, COLLECTIONS["credit_notes"])

    @cached_property
    def payments(self) -> _Documents:
        return _Documents(self, COLLECTIONS["payments"])

    @cached_property
    def refunds(self) -> _Documents:
        return _Documents(self, COLLECTIONS["refunds"])

    @cached_property
    def mandates(self) -> _Documents:
        return _Documents(self, COLLECTIONS["mandates"])

    @cached_property
    def accounts(self) -> _Accounts:
        return _Accounts(self)

    @cached_property
    def outbox(self) -> _Outbox:
        return _Outbox(self)

    @cached_property
    def notifications_audit(self) -> _Documents:
        return _Documents(self, COLLECTIONS["notifications_audit"])

    def __enter__(self) -> SqlUnitOfWork:
        with _translate("cannot open a unit of work"):
            connection = self._storage.engine.connect()
            try:
                if self.read_only:
                    connection.execution_options(**READ_ONLY)
                begin(connection)
            except BaseException:
                connection.close()
                raise
        self._conn = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, self._conn = self._conn, None
        if connection is None:
            return
        # close() rolls back a transaction left open and tells the pool, which then skips its
        # own rollback (its reset on return stays on for every other connection of the engine:
        # after a commit it is a no-op for the driver). If that rollback fails (the connection
        # is gone), the pool resets the connection or discards it; the server rolls the
        # transaction back by itself.
        with suppress(sa.exc.SQLAlchemyError):
            connection.close()

    def commit(self) -> None:
        """Commit; raises :class:`StorageError` (nothing saved) if the database fails."""
        connection = self._open_connection()
        with _translate("commit failed"):
            connection.commit()

    def rollback(self) -> None:
        """Drop what was done since the last commit."""
        connection = self._open_connection()
        with _translate("rollback failed"):
            connection.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside undoes only this block."""
        connection = self.connection()
        with _translate("cannot start a savepoint"):
            nested = connection.begin_nested()
        try:
            yield
        except BaseException:
            with suppress(sa.exc.SQLAlchemyError):
                if nested.is_active:
                    nested.rollback()
            raise
        with _translate("cannot release a savepoint"):
            if nested.is_active:
                nested.commit()

    def _open_connection(self) -> sa.Connection:
        if self._conn is None:
            raise StorageError("the unit of work is not open: use it in a `with` block")
        return self._conn

    def connection(self) -> sa.Connection:
        """The connection, in a transaction (a new one after a commit)."""
        connection = self._open_connection()
        if not connection.in_transaction():
            with _translate("cannot begin a transaction"):
                begin(connection)
        return connection

    def writable(self) -> sa.Connection:
        """:meth:`connection`, refusing read-only units of work."""
        if self.read_only:
            raise StorageError("this unit of work is read-only")
        return self.connection()

    def stream(
        self, statement: sa.Executable, what: str, *, params: dict[str, Any] | None = None
    ) -> Iterator[Any]:
        """Rows of ``statement`` (with ``params``), fetched in batches (server-side cursor on
        PostgreSQL)."""
        connection = self.connection()
        with _translate(what):
            # Per statement: Connection.execution_options() would stick to the connection.
            result = connection.execute(statement, params, execution_options={"yield_per": _FETCH})
        try:
            while True:
                with _translate(what):
                    rows = result.fetchmany(_FETCH)
                if not rows:
                    return
                yield from rows
        finally:
            with suppress(sa.exc.SQLAlchemyError):
                result.close()


# Household statements, built once: building and coercing a statement per call cost more than
# running it (expanding IN parameters take any number of ids).
_HOUSEHOLD_INSERT = sa.insert(t.households)
_CHILD_INSERT = sa.insert(t.children)
_GUARDIAN_INSERT = sa.insert(t.household_guardians)
_HOUSEHOLD_IDS = sa.select(t.households.c.id).where(
    t.households.c.id.in_(sa.bindparam("ids", expanding=True))
)
_CHILD_OWNERS = sa.select(t.children.c.id, t.children.c.household_id).where(
    t.children.c.id.in_(sa.bindparam("ids", expanding=True))
)
_HOUSEHOLD_EXISTS = sa.select(t.households.c.id).where(t.households.c.id == sa.bindparam("id"))
_HOUSEHOLDS_OF_GUARDIAN = (
    sa.select(t.households.c.body)
    .join(t.household_guardians, t.household_guardians.c.household_id == t.households.c.id)
    .where(t.household_guardians.c.guardian_id == sa.bindparam("guardian_id"))
    .order_by(t.households.c.id)
)
_HOUSEHOLD_OF_CHILD = (
    sa.select(t.households.c.body)
    .join(t.children, t.children.c.household_id == t.households.c.id)
    .where(t.children.c.id == sa.bindparam("child_id"))
)


class _Households:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _rows(self, household: Household) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        children = [
            {
                "id": child.id,
                "household_id": household.id,
                "diet": child.diet.value,
                "pai": child.pai,
            }
            for child in household.children
        ]
        guardians = [
            {"household_id": household.id, "guardian_id": household.payer.id, "role": "payer"}
        ]
        if household.co_representative is not None:
            guardians.append(
                {
                    "household_id": household.id,
                    "guardian_id": household.co_representative.id,
                    "role": "co_representative",
                }
            )
        return children, guardians

    def _check_children(self, connection: sa.Connection, households: list[Household]) -> None:
        owner = {child.id: home.id for home in households for child in home.children}
        if len(owner) != sum(len(home.children) for home in households):
            raise ConflictError("a child appears in two of the households")
        for chunk in _chunks(list(owner), _IN_CHUNK):
            for taken in connection.execute(_CHILD_OWNERS, {"ids": chunk}):
                if taken.household_id != owner[taken.id]:
                    raise ConflictError(
                        f"child {taken.id!r} already belongs to household {taken.household_id!r}"
                    )

    def add(self, household: Household) -> None:
        self.add_many([household])

    def add_many(self, households: Iterable[Household]) -> None:
        homes = list(households)
        if not homes:
            return
        for home in homes:
            if not isinstance(home, Household):
                raise InvalidInputError(f"expected a Household, got {type(home).__name__}")
        connection = self._uow.writable()
        driver = _sqlite_driver(connection)
        with _translate("cannot store households"):
            try:
                # One savepoint and a few batched statements per chunk of households, whose
                # rows then die young (see _Documents.add_many). Every household is new: a
                # stored (or repeated) household or child id breaks a primary key, and the
                # conflict is then named as adding one by one would.
                with connection.begin_nested():
                    for chunk in _chunks(homes, _ROWS_CHUNK):
                        children: list[dict[str, Any]] = []
                        guardians: list[dict[str, Any]] = []
                        for home in chunk:
                            child_rows, guardian_rows = self._rows(home)
                            children += child_rows
                            guardians += guardian_rows
                        bodies = [{"id": home.id, "body": unstructure(home)} for home in chunk]
                        _insert(connection, driver, _HOUSEHOLD_INSERT, bodies)
                        _insert(connection, driver, _CHILD_INSERT, children)
                        _insert(connection, driver, _GUARDIAN_INSERT, guardians)
            except sa.exc.IntegrityError as exc:
                raise self._first_conflict(connection, homes, exc) from exc

    def _first_conflict(
        self, connection: sa.Connection, homes: list[Household], exc: sa.exc.IntegrityError
    ) -> ConflictError:
        """The error adding ``homes`` one by one would have raised first (the batch failed)."""
        stored: set[str] = set()
        owners: dict[str, str] = {}
        ids = list(dict.fromkeys(home.id for home in homes))
        child_ids = list(dict.fromkeys(child.id for home in homes for child in home.children))
        for chunk in _chunks(ids, _IN_CHUNK):
            stored.update(connection.execute(_HOUSEHOLD_IDS, {"ids": chunk}).scalars())
        for chunk in _chunks(child_ids, _IN_CHUNK):
            owners.update(
                (row.id, row.household_id)
                for row in connection.execute(_CHILD_OWNERS, {"ids": chunk})
            )
        for home in homes:
            for child in home.children:
                owner = owners.get(child.id)
                if owner is not None and owner != home.id:
                    return ConflictError(
                        f"child {child.id!r} already belongs to household {owner!r}"
                    )
            if home.id in stored:
                return ConflictError(f"household {home.id!r} already exists ({_db_message(exc)})")
            stored.add(home.id)
            owners.update((child.id, home.id) for child in home.children)
        ids_text = ", ".join(repr(home.id) for home in homes[:3])
        return ConflictError(f"household {ids_text} already exists ({_db_message(exc)})")

    def save(self, household: Household) -> None:
        if not isinstance(household, Household):
            raise InvalidInputError(f"expected a Household, got {type(household).__name__}")
        connection = self._uow.writable()
        children, guardians = self._rows(household)
        with _translate(f"cannot store household {household.id!r}"):
            try:
                with connection.begin_nested():
                    self._check_children(connection, [household])
                    updated = connection.execute(
                        sa.update(t.households)
                        .where(t.households.c.id == household.id)
                        .values(body=unstructure(household))
                    ).rowcount
                    if not updated:
                        connection.execute(
                            sa.insert(t.households).values(
                                id=household.id, body=unstructure(household)
                            )
                        )
                    connection.execute(
                        sa.delete(t.children).where(t.children.c.household_id == household.id)
                    )
                    if children:
                        connection.execute(sa.insert(t.children), children)
                    connection.execute(
                        sa.delete(t.household_guardians).where(
                            t.household_guardians.c.household_id == household.id
                        )
                    )
                    connection.execute(sa.insert(t.household_guardians), guardians)
            except sa.exc.IntegrityError as exc:
                raise ConflictError(
                    f"household {household.id!r} conflicts with stored data ({_db_message(exc)})"
                ) from exc

    def find(self, household_id: str) -> Household | None:
        connection = self._uow.connection()
        with _translate(f"cannot read household {household_id!r}"):
            driver = _Driver(connection)  # read by many use cases: one driver statement
            rows = driver.fetch(driver.sql(_HOUSEHOLD_BODY_SQL), [household_id])
        return None if not rows else structure(driver.json_out(rows[0][0]), Household)

    def get(self, household_id: str) -> Household:
        found = self.find(household_id)
        if found is None:
            raise NotFoundError(f"no household {household_id!r}")
        return found

    def remove(self, household_id: str) -> None:
        connection = self._uow.writable()
        try:
            with _translate("cannot remove"), connection.begin_nested():
                deleted = connection.execute(
                    sa.delete(t.households).where(t.households.c.id == household_id)
                ).rowcount
        except ConflictError:
            raise ConflictError(f"household {household_id!r} still has enrollments") from None
        if not deleted:
            raise NotFoundError(f"no household {household_id!r}")

    def find_many(self, household_ids: Iterable[str]) -> dict[str, Household]:
        ids = list(dict.fromkeys(household_ids))
        connection = self._uow.connection()
        bodies: dict[str, Any] = {}
        with _translate("cannot read households"):
            driver = _Driver(connection)  # a family's booking call reads its household here
            for chunk in _chunks(ids, _IN_CHUNK):
                statement = driver.sql(_HOUSEHOLD_BODIES_SQL, len(chunk))
                for household_id, body in driver.fetch(statement, driver.ids(chunk)):
                    bodies[household_id] = body
        return {
            hid: structure(driver.json_out(bodies[hid]), Household) for hid in ids if hid in bodies
        }

    def child_ids(self, household_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """The ids of the children of each of ``household_ids`` found (unknown ids are left
        out), read from the children rows (written with the body, indexed by household: a
        third of the cost of reading them out of the bodies): a bulk staff call checks
        enrollments against them without loading whole households."""
        ids = list(dict.fromkeys(household_ids))
        connection = self._uow.connection()
        found: dict[str, set[str]] = {}
        with _translate("cannot read households"):
            driver = _Driver(connection)
            for chunk in _chunks(ids, _IN_CHUNK):
                statement = driver.sql(_HOUSEHOLD_CHILDREN, len(chunk))
                for household_id, child_id in driver.fetch(statement, driver.ids(chunk)):
                    children = found.setdefault(household_id, set())
                    if isinstance(child_id, str):
                        children.add(child_id)
        return {hid: frozenset(found[hid]) for hid in ids if hid in found}

    def ids(self) -> Iterator[str]:
        statement = sa.select(t.households.c.id).order_by(t.households.c.id)
        for row in self._uow.stream(statement, "cannot read households"):
            yield row.id

    def all(self) -> Iterator[Household]:
        statement = sa.select(t.households.c.body).order_by(t.households.c.id)
        for row in self._uow.stream(statement, "cannot read households"):
            yield structure(row.body, Household)

    def count(self) -> int:
        connection = self._uow.connection()
        with _translate("cannot count households"):
            return int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(t.households)
                ).scalar_one()
            )

    def of_guardian(self, guardian_id: str) -> list[Household]:
        connection = self._uow.connection()
        with _translate("cannot read households"):
            bodies = connection.execute(
                _HOUSEHOLDS_OF_GUARDIAN, {"guardian_id": guardian_id}
            ).scalars()
            return [structure(body, Household) for body in bodies]

    def of_child(self, child_id: str) -> Household | None:
        connection = self._uow.connection()
        with _translate("cannot read households"):
            body = connection.execute(
                _HOUSEHOLD_OF_CHILD, {"child_id": child_id}
            ).scalar_one_or_none()
        return None if body is None else structure(body, Household)


#: A filter's shape: (column, operator) pairs; one statement is built per shape and table.
_Shape = tuple[tuple[str, str], ...]


class _DocumentStatements:
    """A document table's statements, built once per process (see ``_HOUSEHOLD_INSERT``)."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        # What a listing reads: the body, and the calendar an enrollment's body names.
        self.read = [table.c[name] for name in ("body", "calendar_key") if name in table.c]
        self.insert = sa.insert(table)
        self.body = sa.select(table.c.body).where(table.c.id == sa.bindparam("id"))
        # "_id": a bind named like a column would be taken for a value to SET.
        self.update = sa.update(table).where(table.c.id == sa.bindparam("_id"))
        self.delete = sa.delete(table).where(table.c.id == sa.bindparam("id"))
        self._filtered: dict[tuple[bool, _Shape], sa.Select[Any]] = {}

    def filtered(self, shape: _Shape, *, count: bool) -> sa.Select[Any]:
        """The bodies (by id) or the count of the rows matching a filter of ``shape``; its
        parameters are named by :func:`_param`."""
        statement = self._filtered.get((count, shape))
        if statement is None:
            table = self.table
            clauses: list[sa.ColumnElement[bool]] = []
            for column_name, operator in shape:
                column = table.c[column_name]
                param = _param(column_name, operator)
                if operator == ">=":
                    clauses.append(column >= sa.bindparam(param))
                elif operator == "<=":
                    clauses.append(column <= sa.bindparam(param))
                elif operator == "in":
                    clauses.append(column.in_(sa.bindparam(param, expanding=True)))
                elif operator == "none":  # an empty IN list matches nothing
                    clauses.append(sa.false())
                elif operator == "null":
                    clauses.append(column.is_(None))
                else:
                    clauses.append(column == sa.bindparam(param))
            if count:
                statement = sa.select(sa.func.count()).select_from(table).where(*clauses)
            else:
                statement = sa.select(*self.read).where(*clauses).order_by(table.c.id)
            self._filtered[(count, shape)] = statement
        return statement


def _param(column_name: str, operator: str) -> str:
    return f"{column_name}_{_OPERATOR_NAMES[operator]}"


_OPERATOR_NAMES = {">=": "low", "<=": "high", "in": "in", "none": "none", "null": "null", "=": "eq"}

_DOCUMENT_STATEMENTS = {
    name: _DocumentStatements(table) for name, table in t.document_tables.items()
}


class _Documents:
    def __init__(self, uow: SqlUnitOfWork, collection: Collection) -> None:
        self._uow = uow
        self.collection = collection
        self._table = t.document_tables[collection.name]
        self._statements = _DOCUMENT_STATEMENTS[collection.name]

    @property
    def _cls(self) -> type[Any]:
        return self._uow._storage._type(self.collection.name)

    def _check_type(self, item: Any, cls: type[Any]) -> None:
        if not isinstance(item, cls):
            raise InvalidInputError(
                f"{self.collection.name} stores {cls.__name__}, got {type(item).__name__}"
            )

    def _row(self, item: Any) -> dict[str, Any]:
        self._check_type(item, self._cls)
        row = {key.column: _column_value(key.read(item)) for key in self.collection.keys}
        row["id"] = self.collection.id_of(item)
        row["body"] = unstructure(item)
        return row

    def _rows(self, items: Iterable[Any]) -> list[dict[str, Any]]:
        # Bodies serialized at once by the driver: documents of one calendar share its data.
        with shared_calendars():
            return [self._row(item) for item in items]

    def _store_parts(self, connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
        """Store what ``rows`` refer to, before they are written (see ``_Enrollments``)."""

    def _conflict(self, row: dict[str, Any], exc: sa.exc.IntegrityError) -> ConflictError:
        return ConflictError(
            f"{self.collection.name}: {row['id']!r} conflicts with stored data "
            f"(same id or unique key): {_db_message(exc)}"
        )

    def add(self, item: Any) -> None:
        row = self._row(item)
        connection = self._uow.writable()
        with _translate(f"cannot add to {self.collection.name}"):
            try:
                with connection.begin_nested():
                    self._store_parts(connection, [row])
                    connection.execute(self._statements.insert, row)
            except sa.exc.IntegrityError as exc:
                raise self._conflict(row, exc) from exc

    def add_many(self, items: Iterable[Any]) -> None:
        objects = list(items)
        if not objects:
            return
        cls = self._cls
        for item in objects:  # a wrong object is refused before anything is written
            self._check_type(item, cls)
        connection = self._uow.writable()
        driver = _sqlite_driver(connection)
        with (
            _translate(f"cannot add to {self.collection.name}"),
            connection.begin_nested(),
            shared_calendars(),  # see _rows
        ):
            # Rows built and written a chunk at a time: their dicts and JSON texts die young,
            # instead of all of them outliving the garbage collector's young generations.
            for chunk in _chunks(objects, _ROWS_CHUNK):
                rows = [self._row(item) for item in chunk]
                self._store_parts(connection, rows)
                _insert(connection, driver, self._statements.insert, rows)

    def save(self, item: Any) -> None:
        row = self._row(item)
        connection = self._uow.writable()
        with _translate(f"cannot save to {self.collection.name}"):
            try:
                with connection.begin_nested():
                    self._store_parts(connection, [row])
                    self._upsert(connection, row)
            except sa.exc.IntegrityError as exc:
                raise self._conflict(row, exc) from exc

    def _upsert(self, connection: sa.Connection, row: dict[str, Any]) -> None:
        values = {key: value for key, value in row.items() if key != "id"}
        values["_id"] = row["id"]
        updated = connection.execute(self._statements.update, values).rowcount
        if not updated:
            connection.execute(self._statements.insert, row)

    def save_many(self, items: Iterable[Any]) -> None:
        rows = self._rows(items)
        connection = self._uow.writable()
        with _translate(f"cannot save to {self.collection.name}"), connection.begin_nested():
            self._store_parts(connection, rows)
            for row in rows:
                self._upsert(connection, row)

    def find(self, item_id: str) -> Any | None:
        connection = self._uow.connection()
        with _translate(f"cannot read {self.collection.name}"):
            body = connection.execute(self._statements.body, {"id": item_id}).scalar_one_or_none()
        return None if body is None else structure(body, self._cls)

    def get(self, item_id: str) -> Any:
        found = self.find(item_id)
        if found is None:
            raise NotFoundError(f"{self.collection.name}: no {item_id!r}")
        return found

    def remove(self, item_id: str) -> None:
        connection = self._uow.writable()
        with _translate(f"cannot remove from {self.collection.name}"), connection.begin_nested():
            deleted = connection.execute(self._statements.delete, {"id": item_id}).rowcount
        if not deleted:
            raise NotFoundError(f"{self.collection.name}: no {item_id!r}")

    def _where(self, where: dict[str, object]) -> tuple[_Shape, dict[str, Any]]:
        """The filter's shape (see :meth:`_DocumentStatements.filtered`) and parameters."""
        shape: list[tuple[str, str]] = []
        params: dict[str, Any] = {}

        def add(column_name: str, operator: str, value: Any = None) -> None:
            shape.append((column_name, operator))
            if operator not in ("none", "null"):
                params[_param(column_name, operator)] = value

        for column_name, wanted in where.items():
            self.collection.key(column_name)
            if isinstance(wanted, Range):
                if wanted.low is not None:
                    add(column_name, ">=", _column_value(wanted.low))
                if wanted.high is not None:
                    add(column_name, "<=", _column_value(wanted.high))
            elif isinstance(wanted, tuple | list | set | frozenset):
                # One IN list (batch loads): an empty collection matches nothing.
                values = [_column_value(item) for item in wanted]
                add(column_name, "in" if values else "none", values)
            elif wanted is None:
                add(column_name, "null")
            else:
                add(column_name, "=", _column_value(wanted))
        return tuple(shape), params

    def list(self, **where: object) -> Iterator[Any]:
        shape, params = self._where(where)
        statement = self._statements.filtered(shape, count=False)
        cls = self._cls
        for row in self._uow.stream(
            statement, f"cannot read {self.collection.name}", params=params
        ):
            yield structure(row.body, cls)

    def count(self, **where: object) -> int:
        connection = self._uow.connection()
        shape, params = self._where(where)
        statement = self._statements.filtered(shape, count=True)
        with _translate(f"cannot count {self.collection.name}"):
            return int(connection.execute(statement, params).scalar_one())


def _sqlite_driver(connection: sa.Connection) -> _Driver | None:
    """The driver :func:`_insert` writes through: SQLite's (``None`` on PostgreSQL)."""
    return None if connection.dialect.name == "postgresql" else _Driver(connection)


def _insert(
    connection: sa.Connection,
    driver: _Driver | None,
    statement: sa.Insert,
    rows: list[dict[str, Any]],
) -> None:
    """Insert new rows (all with the same columns, in the same order) with ``statement``
    (``sa.insert`` of their table). On SQLite through the driver when every value is one it
    stores as given (the rentrée writes tens of thousands of rows: no SQLAlchemy per-row
    parameter processing), else through SQLAlchemy."""
    if not rows:
        return
    if driver is not None:
        columns = list(rows[0])
        values = [_sqlite_values(row, columns) for row in rows]
        if all(row is not None for row in values):
            marks = ", ".join("?" * len(columns))
            table = statement.table.name
            text = driver.sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})")
            for batch in _chunks(values, _BATCH):
                driver.run_many(text, batch)
            return
    for batch in _chunks(rows, _BATCH):
        connection.execute(statement, batch)


def _sqlite_values(row: dict[str, Any], columns: list[str]) -> tuple[Any, ...] | None:
    """A row as SQLite stores it through SQLAlchemy (ISO text dates, JSON text body, 0/1
    booleans), or ``None`` when a value is of a type left to SQLAlchemy (datetimes...)."""
    values: list[Any] = []
    for column in columns:
        value = row[column]
        if column == "body":
            value = json.dumps(value)
        elif type(value) is date:
            value = value.isoformat()
        elif type(value) is bool:
            value = int(value)
        elif value is not None and type(value) is not str and type(value) is not int:
            return None
        values.append(value)
    return tuple(values)


#: Structured service calendars by key (``tables.service_calendars``). A key names one content
#: for good, so an entry holds for every transaction and database. Bounded although there are
#: few (a deployment has a handful per school year, site closures add per-site variants): a
#: long-lived process may go through many databases and years; a miss costs one query.
_CALENDARS: dict[str, ServiceCalendar] = {}
_CALENDARS_KEPT = 1024
_CALENDAR_BODIES = "SELECT key, body FROM service_calendars WHERE key {ids}"


_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(cache: dict[_K, _V], kept: int, key: _K, value: _V) -> _V:
    """Put ``value`` in a process-level ``cache`` of at most ``kept`` entries (first in,
    first out: the entries are content-addressed, never stale, only too many)."""
    if len(cache) >= kept:
        with suppress(StopIteration, RuntimeError):  # another thread may be at it
            cache.pop(next(iter(cache)), None)
    cache[key] = value
    return value


def _calendar_key(data: Any) -> str:
    """The key of a calendar's data: SHA-256 (hex) of its canonical JSON (keys sorted,
    compact), as migration 0006 computes it."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=2)
def _calendar_insert(postgres: bool) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``service_calendars``: a stored key is
    already the same calendar."""
    module = postgresql if postgres else sqlite
    return module.insert(t.service_calendars).on_conflict_do_nothing()


def _service_calendars(driver: _Driver, keys: Iterable[str]) -> dict[str, Any]:
    """The calendar of each key found: the cached instance, or read (one query per chunk of
    unknown keys) and structured once. A stored calendar that does not structure is given as
    its data, uncached: the enrollment carrying it then fails as it always did."""
    found: dict[str, Any] = {}
    missing: list[str] = []
    for key in keys:
        calendar = _CALENDARS.get(key)
        if calendar is None:
            missing.append(key)
        else:
            found[key] = calendar
    for chunk in _chunks(missing, _IN_CHUNK):
        for key, body in driver.fetch(driver.sql(_CALENDAR_BODIES, len(chunk)), driver.ids(chunk)):
            data = driver.json_out(body)
            try:
                calendar = structure(data, ServiceCalendar)
            except InvalidInputError:
                found[key] = data
                continue
            found[key] = _remember(_CALENDARS, _CALENDARS_KEPT, key, calendar)
    return found


class _Enrollments(_Documents):
    """Enrollments whose bodies leave their calendar out: ``calendar_key`` names its row in
    ``service_calendars``, and reads put the shared, already built calendar back."""

    def add(self, item: Any) -> None:
        self._check_household(item)
        super().add(item)

    def _store_parts(self, connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
        """Move each row's calendar out of its body into ``service_calendars``, once per
        distinct calendar (the rows of one calendar object share its data: ``_rows``)."""
        keys: dict[int, tuple[Any, str]] = {}  # id(data) -> (data kept alive, its key)
        calendars: dict[str, Any] = {}
        for row in rows:
            body = row["body"]
            if not isinstance(body, dict) or "calendar" not in body:
                raise ConfigurationError(
                    f"the SQL storage stores enrollments with a calendar; "
                    f"{self._cls.__name__} has none"
                )
            data = body.pop("calendar")
            known = keys.get(id(data))
            if known is None:
                known = keys[id(data)] = (data, _calendar_key(data))
                calendars[known[1]] = data
            row["calendar_key"] = known[1]
        if not calendars:
            return
        connection.execute(
            _calendar_insert(connection.dialect.name == "postgresql"),
            [{"key": key, "body": data} for key, data in calendars.items()],
        )

    def save(self, item: Any) -> None:
        self._check_household(item)
        super().save(item)

    def _check_household(self, item: Any) -> None:
        self._row(item)  # type check first: a wrong object is invalid input, not a conflict
        household_id = self.collection.key("household_id").read(item)
        connection = self._uow.connection()
        with _translate("cannot read households"):
            exists = connection.execute(_HOUSEHOLD_EXISTS, {"id": household_id}).first()
        if exists is None:
            raise ConflictError(f"enrollment for unknown household {household_id!r}")

    def _structure(self, data: Any, key: str, calendars: dict[str, Any]) -> Any:
        """An enrollment from its body's ``data``, its calendar put back."""
        if isinstance(data, dict) and key in calendars:
            data["calendar"] = calendars[key]
        return structure(data, self._cls)  # malformed: the library's error, as before

    def _calendars(self, driver: _Driver, keys: Iterable[str]) -> dict[str, Any]:
        with _translate(f"cannot read {self.collection.name}"):
            return _service_calendars(driver, keys)

    def _build(self, driver: _Driver, rows: Sequence[Any]) -> list[Any]:
        """The enrollments of ``rows`` (columns of :data:`_ENROLLMENT_COLUMNS`), in order.

        The enrollments of a school differ only by their ids: the database strips those from
        each body (``rest``), and an enrollment whose rest and calendar were seen is the one
        built from them (:data:`_TEMPLATES`) with its own ids. Any other row (or an id that is
        not a non-empty string) is structured from its whole body, as before, and raises the
        same error when malformed.
        """
        shared = self._cls is Enrollment  # a configured class is structured as it defines
        built: list[Any] = [None] * len(rows)
        missed: list[int] = []
        for index, row in enumerate(rows):
            template = _TEMPLATES.get((row[3], row[2])) if shared else None
            item = None if template is None else _with_ids(template, row[4], row[5], row[6])
            if item is None:
                missed.append(index)
            else:
                built[index] = item
        if not missed:
            return built
        calendars = self._calendars(driver, {rows[index][2] for index in missed})
        for index in missed:
            _, body, key, rest, *ids = rows[index]
            template = _TEMPLATES.get((rest, key)) if shared else None  # made by a row above
            item = None if template is None else _with_ids(template, *ids)
            if item is None:
                item = self._structure(driver.json_out(body), key, calendars)
                if shared and isinstance(calendars.get(key), ServiceCalendar):
                    _keep_template(rest, key, item)
            built[index] = item
        return built

    def find(self, item_id: str) -> Any | None:
        return self.find_many([item_id]).get(item_id)

    def find_many(self, enrollment_ids: Iterable[str]) -> dict[str, Any]:
        ids = list(dict.fromkeys(enrollment_ids))
        connection = self._uow.connection()
        rows: list[Any] = []
        with _translate("cannot read enrollments"):
            driver = _Driver(connection)  # a family's booking call reads its enrollments here
            template = _ENROLLMENT_PARTS_PG if driver.postgres else _ENROLLMENT_PARTS
            for chunk in _chunks(ids, _IN_CHUNK):
                rows.extend(driver.fetch(driver.sql(template, len(chunk)), driver.ids(chunk)))
        found = dict(zip((row[0] for row in rows), self._build(driver, rows), strict=True))
        return {
            enrollment_id: found[enrollment_id] for enrollment_id in ids if enrollment_id in found
        }

    def list(self, **where: object) -> Iterator[Any]:
        shape, params = self._where(where)
        driver = _Driver(self._uow.connection())
        statement = _enrollment_list(shape, driver.postgres)
        rows = self._uow.stream(statement, f"cannot read {self.collection.name}", params=params)
        while batch := list(islice(rows, _FETCH)):
            yield from self._build(driver, batch)

    def remove(self, item_id: str) -> None:
        connection = self._uow.writable()
        with _translate("cannot read reservations"):
            booked = connection.execute(
                sa.select(t.reservation_months.c.month)
                .where(t.reservation_months.c.enrollment_id == item_id)
                .limit(1)
            ).first()
        if booked is not None:
            raise ConflictError(f"enrollment {item_id!r} has reservations; cancel them first")
        super().remove(item_id)


class _ChangeRequests(_Documents):
    def list(self, **where: object) -> Iterator[Any]:
        # A family's requests (every portal booking call reads its pending ones): one driver
        # statement. Other filters (ranges, NULL, a staff listing streaming a whole status)
        # go through the streamed SQLAlchemy statement.
        households = where.get("household_id")
        if isinstance(households, str):
            households = (households,)
        if (
            not isinstance(households, tuple | list | set | frozenset)
            or not 0 < len(households) <= _IN_CHUNK
            or not all(isinstance(value, str) for value in households)
            or not all(
                isinstance(value, str) for name, value in where.items() if name != "household_id"
            )
        ):
            yield from super().list(**where)
            return
        others = [name for name in where if name != "household_id"]
        for name in others:
            self.collection.key(name)  # an unknown column is an error, as in _where
        ids = [str(value) for value in households]
        cls = self._cls
        connection = self._uow.connection()
        with _translate(f"cannot read {self.collection.name}"):
            driver = _Driver(connection)
            template = (
                f"SELECT body FROM {self._table.name} WHERE household_id {{ids}}"
                + "".join(f" AND {name} = ?" for name in others)
                + " ORDER BY id"
            )
            params = [*driver.ids(ids), *(str(where[name]) for name in others)]
            rows = driver.fetch(driver.sql(template, len(ids)), params)
        for (body,) in rows:
            yield structure(driver.json_out(body), cls)


@lru_cache(maxsize=8)
def _text_body_insert(name: str, postgres: bool) -> sa.Insert:
    """``INSERT`` into the document table ``name`` taking the body as JSON text
    (``json.dumps`` of the unstructured document, what the JSON column type would send)."""
    body: Any = sa.bindparam("body", type_=sa.Text())
    if postgres:
        body = sa.cast(body, postgresql.JSONB())
    return sa.insert(t.document_tables[name]).values(body=body)


def _text_body_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose body is encoded as it is made: a billing run's thousands of documents
    (nested dicts and lists) are then garbage at once instead of living until the insert,
    long enough to be promoted to the oldest garbage-collector generation."""
    encoded = []
    for row in rows:
        row["body"] = json.dumps(row["body"])
        encoded.append(row)
    return encoded


class _Invoices(_Documents):
    def add_many(self, items: Iterable[Any]) -> None:
        rows = _text_body_rows(self._row(item) for item in items)
        if not rows:
            return
        connection = self._uow.writable()
        statement = _text_body_insert(self.collection.name, connection.dialect.name == "postgresql")
        with _translate(f"cannot add to {self.collection.name}"), connection.begin_nested():
            for batch in _chunks(rows, _BATCH):
                connection.execute(statement, batch)

    def _ensure_counter(
        self, connection: sa.Connection, issuer_id: str, year: int, kind: str
    ) -> None:
        counters = t.invoice_counters
        # First document of the year: create the counter. A concurrent creator wins and we
        # then wait on its row lock in the statement that follows.
        connection.execute(
            _dialect_insert(connection, counters)
            .values(issuer=issuer_id, year=year, kind=kind, last=0)
            .on_conflict_do_nothing()
        )

    def sequence(
        self, issuer_id: str, year: int, *, kind: str = "invoice", prefix: str = ""
    ) -> NumberSequence:
        connection = self._uow.writable()
        counters = t.invoice_counters
        with _translate(f"cannot read the numbering of {issuer_id} {year}"):
            self._ensure_counter(connection, issuer_id, year, kind)
            last = connection.execute(
                sa.select(counters.c.last)
                .where(
                    counters.c.issuer == issuer_id,
                    counters.c.year == year,
                    counters.c.kind == kind,
                )
                .with_for_update()  # held until commit: concurrent runs queue here
            ).scalar_one()
        return NumberSequence(issuer_id=issuer_id, year=year, last_used=int(last), prefix=prefix)

    def save_sequence(self, sequence: NumberSequence, *, kind: str = "invoice") -> None:
        connection = self._uow.writable()
        counters = t.invoice_counters
        with _translate(f"cannot store the numbering of {sequence.issuer_id}"):
            self._ensure_counter(connection, sequence.issuer_id, sequence.year, kind)
            moved = connection.execute(
                sa.update(counters)
                .where(
                    counters.c.issuer == sequence.issuer_id,
                    counters.c.year == sequence.year,
                    counters.c.kind == kind,
                    counters.c.last <= sequence.last_used,
                )
                .values(last=sequence.last_used)
            ).rowcount
        if moved != 1:
            raise ConflictError(
                f"numbering of {sequence.issuer_id} {sequence.year} is beyond "
                f"{sequence.last_used}: it cannot go back"
            )

    def next_number(self, issuer_id: str, year: int, *, kind: str = "invoice") -> int:
        connection = self._uow.writable()
        counters = t.invoice_counters
        bump = (
            sa.update(counters)
            .where(counters.c.issuer == issuer_id, counters.c.year == year, counters.c.kind == kind)
            .values(last=counters.c.last + 1)
            .returning(counters.c.last)
        )
        with _translate(f"cannot number a document of {issuer_id} {year}"):
            self._ensure_counter(connection, issuer_id, year, kind)
            number = connection.execute(bump).scalar_one()
        return int(number)

    def find_by_billing_key(self, billing_key: str) -> Any | None:
        connection = self._uow.connection()
        table = self._table
        with _translate("cannot read invoices"):
            body = connection.execute(
                sa.select(table.c.body).where(table.c.billing_key == billing_key)
            ).scalar_one_or_none()
        return None if body is None else structure(body, self._cls)

    def billed_keys(self, keys: Iterable[str]) -> frozenset[str]:
        wanted = list(dict.fromkeys(keys))
        connection = self._uow.connection()
        table = self._table
        found: set[str] = set()
        with _translate("cannot read invoices"):
            for chunk in _chunks(wanted, _IN_CHUNK):
                found.update(
                    connection.execute(
                        sa.select(table.c.billing_key).where(table.c.billing_key.in_(chunk))
                    ).scalars()
                )
        return frozenset(found)


def _iso_days(days: Iterable[date]) -> list[str]:
    return sorted(day.isoformat() for day in days)


class _IsoText(dict[date, str]):
    """``day -> ISO text``, computed once per distinct day (a year has a few hundred)."""

    def __missing__(self, day: date) -> str:
        text = self[day] = day.isoformat()
        return text


_SAVEPOINT = "canteen_reservations"
#: SQL text by (dialect, template, IN list length), built once.
_SQL_TEXTS: dict[tuple[str, str, int], str] = {}


class _Driver:
    """The reservation repository's statements, run on the DBAPI connection of the unit of work.

    A family's booking call runs a handful of small statements; through SQLAlchemy each one
    cost more Python (cache key, coercions, result set-up) than the query. The SQL text is
    built once per shape (SQLite: one ``IN (?, ...)`` per list length; PostgreSQL:
    ``= ANY(%s)``), values are passed as each driver stores SQLAlchemy's types (SQLite: ISO
    text dates, 0/1 booleans, JSON text), and driver errors are raised as SQLAlchemy's, so
    :func:`_translate` turns them into the library's errors as for every other statement.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.postgres = connection.dialect.name == "postgresql"
        self.raw: Any = connection.connection.dbapi_connection
        self.dbapi: Any = connection.dialect.loaded_dbapi
        self.mark = "%s" if self.postgres else "?"

    def sql(self, template: str, count: int = 0) -> str:
        """``template`` with ``{ids}`` as an IN list of ``count`` values and ``?`` marks."""
        dialect = "postgresql" if self.postgres else "sqlite"
        key = (dialect, template, 0 if self.postgres else count)
        text = _SQL_TEXTS.get(key)
        if text is None:
            ids = "= ANY(%s)" if self.postgres else f"IN ({', '.join('?' * count)})"
            text = template.replace("{ids}", ids).replace("?", self.mark)
            _SQL_TEXTS[key] = text
        return text

    def ids(self, ids: list[str]) -> list[Any]:
        """The parameters of an ``{ids}`` list."""
        return [ids] if self.postgres else ids

    def _error(self, exc: Exception, statement: str) -> sa.exc.StatementError:
        return sa.exc.DBAPIError.instance(
            statement, None, exc, self.dbapi.Error, hide_parameters=True
        )

    def fetch(self, statement: str, params: Sequence[Any]) -> list[Any]:
        cursor = self.raw.cursor()
        try:
            cursor.execute(statement, params)
            return list(cursor.fetchall())
        except self.dbapi.Error as exc:
            raise self._error(exc, statement) from exc
        finally:
            cursor.close()

    def run(self, statement: str, params: Sequence[Any] = ()) -> int:
        cursor = self.raw.cursor()
        try:
            cursor.execute(statement, params)
            return int(cursor.rowcount)
        except self.dbapi.Error as exc:
            raise self._error(exc, statement) from exc
        finally:
            cursor.close()

    def run_many(self, statement: str, rows: Iterable[Sequence[Any]]) -> int:
        cursor = self.raw.cursor()
        try:
            if self.postgres:  # a conflict must not leave psycopg's pipeline logging noise
                psycopg_executemany(cursor, statement, rows)
            else:
                cursor.executemany(statement, rows)
            return int(cursor.rowcount)
        except self.dbapi.Error as exc:
            raise self._error(exc, statement) from exc
        finally:
            cursor.close()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint around a save: a conflict undoes the whole batch, nothing else."""
        self.run(f"SAVEPOINT {_SAVEPOINT}")
        try:
            yield
        except BaseException:
            with suppress(self.dbapi.Error):
                cursor = self.raw.cursor()
                try:
                    cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                    cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
                finally:
                    cursor.close()
            raise
        self.run(f"RELEASE SAVEPOINT {_SAVEPOINT}")

    # -- values as stored -------------------------------------------------------------------

    def day_in(self, day: date) -> Any:
        return day if self.postgres else day.isoformat()

    def day_out(self, value: Any) -> date:
        return value if self.postgres else date.fromisoformat(value)

    def json_in(self, value: Any) -> str:
        return json.dumps(value)

    def json_out(self, value: Any) -> Any:
        # psycopg parses json(b) itself (SQLAlchemy's dialect leaves it to the driver).
        return json.loads(value) if isinstance(value, str | bytes) else value


#: What an enrollment read selects, by dialect: the id, the body (as text), the calendar key,
#: the body without its ids (as text: ``rest``) and each id when it is a string.
_ENROLLMENT_COLUMNS = {
    False: (
        "id",
        "body",
        "calendar_key",
        "json_remove(body, '$.id', '$.household_id', '$.child_id')",
        *(
            f"CASE json_type(body, '$.{key}') WHEN 'text' THEN json_extract(body, '$.{key}') END"
            for key in ("id", "household_id", "child_id")
        ),
    ),
    True: (
        "id",
        "body::text",
        "calendar_key",
        # An object only: removing keys from a scalar is an error (the body's is kept).
        "CASE jsonb_typeof(body) WHEN 'object' "
        "THEN (body - 'id' - 'household_id' - 'child_id')::text END",
        *(
            f"CASE jsonb_typeof(body -> '{key}') WHEN 'string' THEN body ->> '{key}' END"
            for key in ("id", "household_id", "child_id")
        ),
    ),
}
_ENROLLMENT_PARTS = (
    f"SELECT {', '.join(_ENROLLMENT_COLUMNS[False])} FROM enrollments WHERE id {{ids}}"
)
_ENROLLMENT_PARTS_PG = (
    f"SELECT {', '.join(_ENROLLMENT_COLUMNS[True])} FROM enrollments WHERE id {{ids}}"
)
#: A listing's statement by (filter shape, dialect is PostgreSQL), built once.
_ENROLLMENT_LISTS: dict[tuple[_Shape, bool], sa.Select[Any]] = {}


def _enrollment_list(shape: _Shape, postgres: bool) -> sa.Select[Any]:
    """The enrollments listing of a filter of ``shape`` (see ``_DocumentStatements``),
    selecting the columns of :data:`_ENROLLMENT_COLUMNS` instead of the body."""
    statement = _ENROLLMENT_LISTS.get((shape, postgres))
    if statement is None:
        columns: list[sa.ColumnClause[Any]] = [
            sa.literal_column(column) for column in _ENROLLMENT_COLUMNS[postgres]
        ]
        statement = (
            _DOCUMENT_STATEMENTS["enrollments"]
            .filtered(shape, count=False)
            .with_only_columns(*columns)
            .select_from(t.document_tables["enrollments"])
        )
        _ENROLLMENT_LISTS[(shape, postgres)] = statement
    return statement


#: Enrollments by (rest, calendar key): what the stored bodies without their ids (text, as the
#: database gives it) and the calendar of that key structure to. Frozen values, so each is
#: shared by every read, transaction and database of the process. Bounded: an entry is one
#: school's enrollments of a service, period, policies and tariff category (hundreds in a
#: city); children enrolled mid-year add one each, and a long-lived process goes through many
#: years. 4,096 keeps the working set of a large city (a few MB); a miss costs one structure.
_TEMPLATES: dict[tuple[str, str], Enrollment] = {}
_TEMPLATES_KEPT = 4096
_ENROLLMENT_IDS = ("id", "household_id", "child_id")
_unchecked_enrollment = unchecked(Enrollment)


def _keep_template(rest: Any, key: str, item: Enrollment) -> None:
    """Keep ``item`` (structured from a whole body) as the template of ``rest`` when the rest
    is an object without ids: the body was then the rest and these ids (SQLite keeps
    duplicate keys, and ``json_remove`` removes the first one only)."""
    if not isinstance(rest, str):
        return
    data = json.loads(rest)
    if not isinstance(data, dict) or any(name in data for name in _ENROLLMENT_IDS):
        return
    _remember(_TEMPLATES, _TEMPLATES_KEPT, (rest, key), item)


def _with_ids(template: Enrollment, id: Any, household_id: Any, child_id: Any) -> Any:
    """``template`` with these ids, without running again the checks it passed (ids aside,
    an enrollment's fields and invariants do not involve them); ``None`` when an id is not
    a non-empty string (the checked path then gives the error)."""
    for value in (id, household_id, child_id):
        if type(value) is not str or not value.strip():
            return None
    return _unchecked_enrollment(
        id=id,
        household_id=household_id,
        child_id=child_id,
        service=template.service,
        site=template.site,
        calendar=template.calendar,
        start=template.start,
        end=template.end,
        booking_policy=template.booking_policy,
        cancellation_policy=template.cancellation_policy,
        late_change=template.late_change,
        tariff_category=template.tariff_category,
    )


#: Each household with the ids of its children (a household without children: one NULL).
_HOUSEHOLD_CHILDREN = (
    "SELECT h.id, c.id FROM households AS h LEFT JOIN children AS c ON c.household_id = h.id "
    "WHERE h.id {ids}"
)
_HOUSEHOLD_BODY_SQL = "SELECT body FROM households WHERE id = ?"
_HOUSEHOLD_BODIES_SQL = "SELECT id, body FROM households WHERE id {ids}"
_ACCOUNT_BODY = "SELECT body FROM accounts WHERE id = ?"
_LOAD_STATES = (
    "SELECT e.id, e.first_day, s.version, s.late_cancelled FROM enrollments AS e "
    "LEFT JOIN reservation_states AS s ON s.enrollment_id = e.id WHERE e.id {ids}"
)
_LOAD_MONTHS = (
    "SELECT enrollment_id, month, days, late FROM reservation_months WHERE enrollment_id {ids}"
)
_LOAD_MONTHS_BETWEEN = _LOAD_MONTHS + " AND month >= ? AND month <= ?"
_SAVE_STATES = (
    "SELECT e.id, s.version FROM enrollments AS e "
    "LEFT JOIN reservation_states AS s ON s.enrollment_id = e.id WHERE e.id {ids}"
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
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

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
            for chunk in _chunks(ids, _IN_CHUNK):
                statement = driver.sql(_LOAD_STATES, len(chunk))
                saved: list[str] = []
                for enrollment_id, first_day, version, cancelled in driver.fetch(
                    statement, driver.ids(chunk)
                ):
                    states[enrollment_id] = (
                        day_out(first_day),
                        0 if version is None else int(version),
                        [] if cancelled in (None, "[]") else driver.json_out(cancelled),
                    )
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
            try:
                with driver.savepoint():  # a refused book undoes the whole batch
                    if fresh:
                        self._insert_fresh(connection, driver, fresh)
                    if changed:
                        self._update_many(connection, driver, changed)
            except _Refused:
                refused = self._refusal(driver, todo)
                raise refused or self._conflict(todo[0][0].enrollment_id, todo[0][1]) from None

    def _refusal(
        self, driver: _Driver, todo: list[tuple[ReservationBook, int]]
    ) -> NotFoundError | ConflictError | None:
        """Why the stored versions refuse ``todo``: an unknown enrollment first, then the first
        book not at its expected version (``None``: they do not)."""
        stored: dict[str, int] = {}
        ids = [book.enrollment_id for book, _ in todo]
        for chunk in _chunks(ids, _IN_CHUNK):
            statement = driver.sql(_SAVE_STATES, len(chunk))
            for enrollment_id, version in driver.fetch(statement, driver.ids(chunk)):
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
            driver.run_many(
                statement,
                [
                    (
                        book.enrollment_id,
                        book.version,
                        driver.json_in(_iso_days(book.late_cancelled_days())),
                    )
                    for book in fresh
                ],
            )
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
            ids = [book.enrollment_id for book, _ in batch]
            if driver.run_many(bump, params) != len(batch):
                raise _Refused  # a stale book or an unknown enrollment: save_many names it
            # Only the months that changed are written.
            current: dict[str, dict[date, tuple[int, int]]] = {
                enrollment_id: {} for enrollment_id in ids
            }
            for enrollment_id, month, days, late in driver.fetch(
                driver.sql(_LOAD_MONTHS, len(ids)), driver.ids(ids)
            ):
                current[enrollment_id][driver.day_out(month)] = (int(days), int(late))
            removed: list[tuple[Any, ...]] = []
            added: list[MonthRow] = []
            updated: list[tuple[Any, ...]] = []
            for book, _ in batch:
                enrollment_id = book.enrollment_id
                stored_months = current[enrollment_id]
                wanted = _book_months(book)
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

    def booked(
        self,
        *,
        site_id: str | None = None,
        enrollment_ids: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Iterator[tuple[str, date]]:
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
        self,
        site_id: str | Iterable[str],
        start: date,
        end: date,
        *,
        service_id: str | None = None,
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
                # One grouped query: the sites' month masks and how many children of each
                # diet share each mask (families book the same weeks, so few groups); the
                # days are counted from the masks here.
                statement = (
                    sa.select(
                        enrollments.c.site_id,
                        rows.c.month,
                        rows.c.days,
                        children.c.diet,
                        children.c.pai,
                        sa.func.count().label("meals"),
                    )
                    .select_from(
                        rows.join(enrollments, enrollments.c.id == rows.c.enrollment_id).join(
                            children, children.c.id == enrollments.c.child_id
                        )
                    )
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
                        children.c.diet,
                        children.c.pai,
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


# Built once: portal sign-ins read accounts by username (see _HOUSEHOLD_INSERT).
_ACCOUNT_BY_USERNAME = sa.select(t.accounts.c.body).where(
    t.accounts.c.username == sa.bindparam("username")
)
_THROTTLE = sa.select(t.throttles.c.body).where(t.throttles.c.key == sa.bindparam("key"))


class _Accounts(AccountLogic):
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _one(
        self, statement: sa.Select[Any], params: dict[str, Any] | None = None
    ) -> Account | None:
        connection = self._uow.connection()
        with _translate("cannot read accounts"):
            body = connection.execute(statement, params).scalars().first()
        return None if body is None else structure(body, Account)

    def get(self, account_id: str) -> Account | None:
        # Every use case reads the acting user's account: one driver statement (see _Driver).
        connection = self._uow.connection()
        with _translate("cannot read accounts"):
            driver = _Driver(connection)
            rows = driver.fetch(driver.sql(_ACCOUNT_BODY), [account_id])
        return None if not rows else structure(driver.json_out(rows[0][0]), Account)

    def find_by_username(self, username: str) -> Account | None:
        return self._one(_ACCOUNT_BY_USERNAME, {"username": username})

    def find_by_email(self, email: str) -> Sequence[Account]:
        connection = self._uow.connection()
        with _translate("cannot read accounts"):
            bodies = connection.execute(
                sa.select(t.accounts.c.body)
                .where(t.accounts.c.email == email.lower())
                .order_by(t.accounts.c.id)
            ).scalars()
            return [structure(body, Account) for body in bodies]

    def find_by_token(self, selector: str) -> Account | None:
        return self._one(
            sa.select(t.accounts.c.body)
            .join(t.account_tokens, t.account_tokens.c.account_id == t.accounts.c.id)
            .where(t.account_tokens.c.selector == selector)
        )

    def _write(self, account: Account) -> None:
        connection = self._uow.writable()
        values = {
            "body": unstructure(account),
            "username": account.username,
            "email": account.email.lower(),
        }
        tokens = [
            {"selector": token.selector, "account_id": account.id} for token in account.tokens
        ]
        with _translate(f"cannot save account {account.id!r}"):
            try:
                with connection.begin_nested():
                    updated = connection.execute(
                        sa.update(t.accounts).where(t.accounts.c.id == account.id).values(**values)
                    ).rowcount
                    if not updated:
                        connection.execute(sa.insert(t.accounts).values(id=account.id, **values))
                    connection.execute(
                        sa.delete(t.account_tokens).where(
                            t.account_tokens.c.account_id == account.id
                        )
                    )
                    if tokens:
                        connection.execute(sa.insert(t.account_tokens), tokens)
            except sa.exc.IntegrityError as exc:
                raise ConflictError(
                    f"account {account.id!r}: username or token already used ({_db_message(exc)})"
                ) from exc

    def throttle(self, key: str) -> ThrottleState:
        connection = self._uow.connection()
        with _translate("cannot read throttles"):
            body = connection.execute(_THROTTLE, {"key": key}).scalar_one_or_none()
        return ThrottleState() if body is None else structure(body, ThrottleState)

    def save_throttle(self, key: str, state: ThrottleState) -> None:
        connection = self._uow.writable()
        body = unstructure(state)
        with _translate("cannot save throttles"), connection.begin_nested():
            updated = connection.execute(
                sa.update(t.throttles).where(t.throttles.c.key == key).values(body=body)
            ).rowcount
            if not updated:
                connection.execute(sa.insert(t.throttles).values(key=key, body=body))

    def list(self) -> Iterator[Account]:
        statement = sa.select(t.accounts.c.body).order_by(t.accounts.c.id)
        for row in self._uow.stream(statement, "cannot read accounts"):
            yield structure(row.body, Account)


#: The fields :func:`_outbox_body` writes, in order (the generated hook's order).
_OUTBOX_FIELDS = (
    "message",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_at",
    "last_attempt_at",
    "last_error",
    "sent_at",
)
_MESSAGE_FIELDS = (
    "id",
    "kind",
    "to_address",
    "to_name",
    "subject",
    "text_body",
    "html_body",
    "headers",
    "created_at",
    "household_id",
    "account_id",
)
_FAST_OUTBOX_BODY = (
    tuple(field.name for field in attrs.fields(OutboxRecord)) == _OUTBOX_FIELDS
    and tuple(field.name for field in attrs.fields(OutgoingMessage)) == _MESSAGE_FIELDS
)


def _outbox_body(record: OutboxRecord) -> Any:
    """``unstructure(record)`` written field by field (a billing run queues thousands of
    messages): the same data in the same order, or the generated hook when the classes'
    fields changed or a datetime is naive (it raises then)."""
    message = record.message
    instants = (
        message.created_at,
        record.next_attempt_at,
        record.claimed_at,
        record.last_attempt_at,
        record.sent_at,
    )
    if not _FAST_OUTBOX_BODY or any(
        instant is not None and (type(instant) is not datetime or instant.utcoffset() is None)
        for instant in instants
    ):
        return unstructure(record)
    created, due, claimed, attempted, sent = (
        None if instant is None else instant.isoformat() for instant in instants
    )
    return {
        "message": {
            "id": message.id,
            "kind": message.kind,
            "to_address": message.to_address,
            "to_name": message.to_name,
            "subject": message.subject,
            "text_body": message.text_body,
            "html_body": message.html_body,
            "headers": list(message.headers),
            "created_at": created,
            "household_id": message.household_id,
            "account_id": message.account_id,
        },
        "status": record.status.value,
        "attempts": record.attempts,
        "next_attempt_at": due,
        "claimed_at": claimed,
        "last_attempt_at": attempted,
        "last_error": record.last_error,
        "sent_at": sent,
    }


def _outbox_row(record: OutboxRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "body": _outbox_body(record),
        "status": record.status.value,
        "next_attempt_at": record.next_attempt_at.astimezone(UTC),
        "claimed_at": None if record.claimed_at is None else record.claimed_at.astimezone(UTC),
        "created_at": record.message.created_at.astimezone(UTC),
    }


@lru_cache(maxsize=2)
def _outbox_insert(postgres: bool) -> Any:
    """The outbox ``INSERT ... ON CONFLICT DO NOTHING`` taking the body as JSON text."""
    body: Any = sa.bindparam("body", type_=sa.Text())
    if postgres:
        return postgresql.insert(t.outbox).values(body=sa.cast(body, postgresql.JSONB()))
    return sqlite.insert(t.outbox).values(body=body)


class _Outbox(OutboxLogic):
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _read(self, message_id: str) -> OutboxRecord | None:
        connection = self._uow.connection()
        with _translate("cannot read the outbox"):
            body = connection.execute(
                sa.select(t.outbox.c.body).where(t.outbox.c.id == message_id)
            ).scalar_one_or_none()
        return None if body is None else structure(body, OutboxRecord)

    def _insert(self, records: list[OutboxRecord]) -> None:
        connection = self._uow.writable()
        with _translate("cannot queue messages"), connection.begin_nested():
            # A concurrent use case may queue the same message id: keep the first.
            connection.execute(
                _outbox_insert(connection.dialect.name == "postgresql"),
                _text_body_rows(_outbox_row(record) for record in records),
            )

    def _update(self, record: OutboxRecord) -> None:
        connection = self._uow.writable()
        row = _outbox_row(record)
        with _translate("cannot update the outbox"):
            connection.execute(
                sa.update(t.outbox)
                .where(t.outbox.c.id == record.id)
                .values({key: value for key, value in row.items() if key != "id"})
            )

    def _existing_ids(self, ids: list[str]) -> set[str]:
        connection = self._uow.connection()
        found: set[str] = set()
        with _translate("cannot read the outbox"):
            for chunk in _chunks(ids, _IN_CHUNK):
                found.update(
                    connection.execute(
                        sa.select(t.outbox.c.id).where(t.outbox.c.id.in_(chunk))
                    ).scalars()
                )
        return found

    def _due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxRecord]:
        connection = self._uow.writable()
        box = t.outbox
        now_utc = now.astimezone(UTC)
        statement = (
            sa.select(box.c.body)
            .where(
                sa.or_(
                    sa.and_(box.c.status == "pending", box.c.next_attempt_at <= now_utc),
                    sa.and_(box.c.status == "sending", box.c.claimed_at <= now_utc - lease),
                )
            )
            .order_by(box.c.next_attempt_at, box.c.created_at, box.c.id)
            .limit(limit)
            # Two dispatchers on PostgreSQL take different messages instead of waiting.
            .with_for_update(skip_locked=True)
        )
        with _translate("cannot claim messages"):
            bodies = connection.execute(statement).scalars().all()
        return [structure(body, OutboxRecord) for body in bodies]

    def _all(self, status: DeliveryStatus | None) -> list[OutboxRecord]:
        box = t.outbox
        statement = sa.select(box.c.body).order_by(box.c.created_at, box.c.id)
        if status is not None:
            statement = statement.where(box.c.status == status.value)
        return [
            structure(row.body, OutboxRecord)
            for row in self._uow.stream(statement, "cannot read the outbox")
        ]


if TYPE_CHECKING:  # the adapter implements the ports (checked by mypy)
    _storage: Storage = SqlStorage(sa.create_engine("sqlite://"))
    _uow: UnitOfWork = SqlUnitOfWork(SqlStorage(sa.create_engine("sqlite://")))
