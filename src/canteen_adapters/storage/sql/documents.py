"""The document repositories: one JSON body per row, with key columns for filters.

Attendance, absences, tariffs, payments, refunds, mandates, change requests and every other
collection of :data:`~canteen_core.ports.storage.COLLECTIONS` stored as a body; the
statements of each table and filter shape are built once per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa

from canteen_adapters.storage._common import check_key, existing
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.driver import (
    _IN_CHUNK,
    _ROWS_CHUNK,
    _chunks,
    _column_value,
    _db_message,
    _Driver,
    _insert,
    _Session,
    _sqlite_driver,
    _translate,
)
from canteen_core.config.serialization import shared_calendars, structure, unstructure
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.ports.storage import Collection, Range

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
    def __init__(self, uow: _Session, collection: Collection) -> None:
        self._uow = uow
        self.collection = collection
        self._table = t.document_tables[collection.name]
        self._statements = _DOCUMENT_STATEMENTS[collection.name]

    @property
    def _cls(self) -> type[Any]:
        return self._uow.collection_type(self.collection.name)

    def _check_type(self, item: Any, cls: type[Any]) -> None:
        if not isinstance(item, cls):
            raise InvalidInputError(
                f"{self.collection.name} stores {cls.__name__}, got {type(item).__name__}"
            )

    def _row(self, item: Any) -> dict[str, Any]:
        self._check_type(item, self._cls)
        row = {key.column: _column_value(key.read(item)) for key in self.collection.keys}
        row["id"] = self.collection.id_of(item)
        for column, value in row.items():  # the id and indexed columns: bounded
            check_key(value, f"{self.collection.name}.{column}")
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

    def _store_one(self, item: Any, *, new: bool) -> None:
        """Write one object: ``new``, inserted (a stored id is a conflict), else upserted."""
        row = self._row(item)
        connection = self._uow.writable()
        with _translate(f"cannot {'add' if new else 'save'} to {self.collection.name}"):
            try:
                with connection.begin_nested():
                    self._store_parts(connection, [row])
                    if new:
                        connection.execute(self._statements.insert, row)
                    else:
                        self._upsert(connection, row)
            except sa.exc.IntegrityError as exc:
                raise self._conflict(row, exc) from exc

    def add(self, item: Any) -> None:
        self._store_one(item, new=True)

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
        self._store_one(item, new=False)

    def _upsert(self, connection: sa.Connection, row: dict[str, Any]) -> None:
        if self.collection.immutable:  # a new one only: insert (a stored id is refused)
            stored = connection.execute(self._statements.body, {"id": row["id"]}).first()
            if stored is not None:
                raise self.collection.refuse_change(row["id"])
            connection.execute(self._statements.insert, row)
            return
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
        return existing(self.find(item_id), self.collection.missing(item_id))

    def remove(self, item_id: str) -> None:
        connection = self._uow.writable()
        if self.collection.immutable:
            if self.find(item_id) is None:
                raise self.collection.missing(item_id)
            raise self.collection.refuse_change(item_id)
        with _translate(f"cannot remove from {self.collection.name}"), connection.begin_nested():
            deleted = connection.execute(self._statements.delete, {"id": item_id}).rowcount
        if not deleted:
            raise self.collection.missing(item_id)

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

    def _batch_rows(
        self, shape: _Shape, params: dict[str, Any], select: tuple[str, str] = ("body", "body")
    ) -> tuple[_Driver, list[Any]] | None:
        """The rows (the columns ``select``: on SQLite, on PostgreSQL; ordered by id) of a
        batch read, run on the driver: a filter with one ``IN`` list of 1 to
        :data:`_IN_CHUNK` strings (a billing batch's households or enrollments) and other
        filters of plain values (strings, dates, integers, ``NULL``). SQLAlchemy compiled such
        a statement again at every call (its expanding ``IN``), and psycopg parsed its
        hundreds of placeholders again. ``None`` for any other filter (datetimes, an empty
        ``IN`` list...): the SQLAlchemy statement reads it."""
        values: list[Any] = []
        count = 0
        for column_name, operator in shape:
            if operator == "null":
                continue
            if operator == "none":
                return None
            value: Any = params[_param(column_name, operator)]
            # Values of the column's own type only: another (a text for a date column...)
            # is left to SQLAlchemy, which refuses or converts it as it always did.
            plain = _PLAIN_TYPES.get(self.collection.key(column_name).type)
            if operator == "in":
                if count or not 0 < len(value) <= _IN_CHUNK or plain is not str:
                    return None
                if not all(type(item) is str for item in value):
                    return None
                count = len(value)
            elif type(value) is not plain:
                return None
            values.append(value)
        if not count:
            return None
        connection = self._uow.connection()
        driver = _Driver(connection)
        columns = select[driver.postgres]
        key = (self._table.name, shape, driver.postgres, columns)
        template = _BATCH_SQL.get(key)
        if template is None:
            template = _BATCH_SQL[key] = _batch_template(connection, self._table, shape, columns)
        parameters: list[Any] = []
        for value in values:
            if type(value) is list:
                parameters += driver.ids(value)
            else:
                parameters.append(driver.day_in(value) if type(value) is date else value)
        with _translate(f"cannot read {self.collection.name}"):
            return driver, driver.fetch(driver.sql(template, count), parameters)

    def list(self, **where: object) -> Iterator[Any]:
        shape, params = self._where(where)
        cls = self._cls
        batch = self._batch_rows(shape, params)
        if batch is not None:
            driver, rows = batch
            for (body,) in rows:
                yield structure(driver.json_out(body), cls)
            return
        statement = self._statements.filtered(shape, count=False)
        for row in self._uow.stream(
            statement,
            f"cannot read {self.collection.name}",
            params=params,
            small=_one_household(where),
        ):
            yield structure(row.body, cls)

    def count(self, **where: object) -> int:
        connection = self._uow.connection()
        shape, params = self._where(where)
        statement = self._statements.filtered(shape, count=True)
        with _translate(f"cannot count {self.collection.name}"):
            return int(connection.execute(statement, params).scalar_one())


#: The values a batch read passes to the driver as they are (dates as each driver stores
#: them), by key column type; datetimes are left to SQLAlchemy.
_PLAIN_TYPES: dict[str, type] = {"str": str, "date": date, "int": int, "bool": bool}
#: Batch reads' SQL templates by (table, filter shape, PostgreSQL, columns), built once.
_BATCH_SQL: dict[tuple[str, _Shape, bool, str], str] = {}


def _batch_template(connection: sa.Connection, table: sa.Table, shape: _Shape, select: str) -> str:
    """The driver's SQL text (see ``_Driver.sql``) of a batch read of ``table``: what
    :meth:`_DocumentStatements.filtered` selects, with ``select`` for columns."""
    quote = connection.dialect.identifier_preparer.quote
    clauses = []
    for column_name, operator in shape:
        column = quote(column_name)
        if operator == "in":
            clauses.append(f"{column} {{ids}}")
        elif operator == "null":
            clauses.append(f"{column} IS NULL")
        else:
            clauses.append(f"{column} {operator} ?")
    where = " AND ".join(clauses)
    return f"SELECT {select} FROM {quote(table.name)} WHERE {where} ORDER BY id"


def _one_household(where: dict[str, object]) -> bool:
    """Whether ``where`` reads one household's documents (a few: read at once)."""
    return isinstance(where.get("household_id"), str)


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


class _Capacities(_Documents):
    """Capacity rules, with the row lock bookings take before counting (see
    :meth:`canteen_core.ports.storage.CapacityRepository.lock`)."""

    def find_many(self, rule_ids: Iterable[str]) -> dict[str, Any]:
        ids = list(dict.fromkeys(rule_ids))
        if not ids:
            return {}
        what = f"cannot read {self.collection.name}"
        with _translate(what):
            # Every booking reads its services' rules: one driver statement (see _Driver).
            driver = _Driver(self._uow.connection())
            template = f"SELECT id, body FROM {self._table.name} WHERE id {{ids}}"
            rows = list(driver.fetch_in(template, ids))
        found = {row[0]: structure(driver.json_out(row[1]), self._cls) for row in rows}
        return {rule_id: found[rule_id] for rule_id in ids if rule_id in found}

    def lock(self, rule_id: str) -> Any | None:
        connection = self._uow.connection()
        statement = sa.select(self._table.c.body).where(self._table.c.id == rule_id)
        if not self._uow.read_only:
            # FOR UPDATE on PostgreSQL; SQLite has no row locks (and omits the clause): its
            # writers already run one at a time (BEGIN IMMEDIATE).
            statement = statement.with_for_update()
        with _translate(f"cannot lock {self.collection.name}"):
            body = connection.execute(statement).scalar_one_or_none()
        return None if body is None else structure(body, self._cls)
