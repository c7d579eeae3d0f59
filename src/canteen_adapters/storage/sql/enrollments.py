"""The enrollments repository: bodies without their calendar, rebuilt from shared templates.

An enrollment's calendar is stored once in ``service_calendars`` (content-addressed) and kept
structured per process; enrollments that differ only by their ids are built from one
template. These storage tactics stay behind the repository: callers see plain enrollments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache, partial
from itertools import islice
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.documents import _DOCUMENT_STATEMENTS, _Documents, _Shape
from canteen_adapters.storage.sql.driver import (
    _FETCH,
    _Driver,
    _remember,
    _translate,
)
from canteen_adapters.storage.sql.households import _HOUSEHOLD_EXISTS
from canteen_core.config.serialization import structure
from canteen_core.domain._unchecked import unchecked
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import ConfigurationError, ConflictError, InvalidInputError

#: for good, so an entry holds for every transaction and database. Bounded although there are
#: few (a deployment has a handful per school year, site closures add per-site variants): a
#: long-lived process may go through many databases and years; a miss costs one query.
_CALENDARS: dict[str, ServiceCalendar] = {}
_CALENDARS_KEPT = 1024
_CALENDAR_BODIES = "SELECT key, body FROM service_calendars WHERE key {ids}"


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
    for key, body in driver.fetch_in(_CALENDAR_BODIES, missing):
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

    def _store_one(self, item: Any, *, new: bool) -> None:
        self._check_household(item)
        super()._store_one(item, new=new)

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
        not a non-empty string) is structured from its whole body (:meth:`_bodies`), as
        before, and raises the same error when malformed; an enrollment removed before its
        body was read is :data:`_GONE`.
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
        bodies = self._bodies(driver, [rows[index] for index in missed])
        for index in missed:
            item_id, _, key, rest, *ids = rows[index]
            template = _TEMPLATES.get((rest, key)) if shared else None  # made by a row above
            item = None if template is None else _with_ids(template, *ids)
            if item is None:
                if item_id not in bodies:  # removed between the two reads: read later
                    built[index] = _GONE
                    continue
                item = self._structure(bodies[item_id], key, calendars)
                if shared and isinstance(calendars.get(key), ServiceCalendar):
                    _keep_template(rest, key, item)
            built[index] = item
        return built

    def _bodies(self, driver: _Driver, rows: Sequence[Any]) -> dict[str, Any]:
        """The body data of ``rows`` (the ones no template built), by id. PostgreSQL's rows
        carry no body (see :data:`_ENROLLMENT_COLUMNS`): a body whose ids are strings is
        its rest with them (``jsonb`` has no duplicate keys); any other is read."""
        bodies: dict[str, Any] = {}
        unread: list[str] = []
        for item_id, body, _, rest, *ids in rows:
            if not driver.postgres:
                bodies[item_id] = driver.json_out(body)
            elif isinstance(rest, str) and all(type(value) is str for value in ids):
                data = json.loads(rest)
                data.update(zip(_ENROLLMENT_IDS, ids, strict=True))
                bodies[item_id] = data
            else:
                unread.append(item_id)
        if unread:
            with _translate(f"cannot read {self.collection.name}"):
                for item_id, body in driver.fetch_in(_ENROLLMENT_BODIES_PG, unread):
                    bodies[item_id] = driver.json_out(body)
        return bodies

    def find(self, item_id: str) -> Any | None:
        return self.find_many([item_id]).get(item_id)

    def find_many(self, enrollment_ids: Iterable[str]) -> dict[str, Any]:
        ids = list(dict.fromkeys(enrollment_ids))
        connection = self._uow.connection()
        rows: list[Any] = []
        with _translate("cannot read enrollments"):
            driver = _Driver(connection)  # a family's booking call reads its enrollments here
            template = _ENROLLMENT_PARTS_PG if driver.postgres else _ENROLLMENT_PARTS
            rows.extend(driver.fetch_in(template, ids))
        found = dict(zip((row[0] for row in rows), self._build(driver, rows), strict=True))
        return {
            enrollment_id: found[enrollment_id]
            for enrollment_id in ids
            if found.get(enrollment_id, _GONE) is not _GONE
        }

    def list(self, **where: object) -> Iterator[Any]:
        shape, params = self._where(where)
        read = self._batch_rows(shape, params, _ENROLLMENT_SELECT)
        if read is not None:  # a billing batch's households: prebuilt SQL on the driver
            driver, found = read
            for start in range(0, len(found), _FETCH):
                yield from _present(self._build(driver, found[start : start + _FETCH]))
            return
        driver = _Driver(self._uow.connection())
        statement = _enrollment_list(shape, driver.postgres)
        rows = self._uow.stream(
            statement,
            f"cannot read {self.collection.name}",
            params=params,
            small=isinstance(where.get("household_id"), str),  # a family's few children
        )
        while batch := list(islice(rows, _FETCH)):
            yield from _present(self._build(driver, batch))

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


#: What an enrollment read selects, by dialect: the id, the body (as text; PostgreSQL: NULL),
#: the calendar key, the body without its ids (as text: ``rest``) and each id when it is a
#: string.
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
        # Not the body: its text cost the server as much as the rest below, and a body is
        # needed only when no template builds the enrollment (see _Enrollments._bodies).
        "NULL",
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
#: :data:`_ENROLLMENT_COLUMNS` as a batch read selects them (SQLite, PostgreSQL).
_ENROLLMENT_SELECT = (", ".join(_ENROLLMENT_COLUMNS[False]), ", ".join(_ENROLLMENT_COLUMNS[True]))
_ENROLLMENT_PARTS = (
    f"SELECT {', '.join(_ENROLLMENT_COLUMNS[False])} FROM enrollments WHERE id {{ids}}"
)
_ENROLLMENT_PARTS_PG = (
    f"SELECT {', '.join(_ENROLLMENT_COLUMNS[True])} FROM enrollments WHERE id {{ids}}"
)
#: The bodies of enrollments whose rest or ids do not make their body (PostgreSQL).
_ENROLLMENT_BODIES_PG = "SELECT id, body::text FROM enrollments WHERE id {ids}"
#: What :meth:`_Enrollments._build` gives for an enrollment removed between its two reads.
_GONE: Any = object()


def _present(items: Iterable[Any]) -> Iterator[Any]:
    """``items`` without the enrollments removed meanwhile (:data:`_GONE`)."""
    return (item for item in items if item is not _GONE)


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
#: database gives it) and the calendar of that key structure to, kept as the builder of such
#: enrollments (:func:`_template`). Frozen values, so each is shared by every read, transaction
#: and database of the process. Bounded: an entry is one school's enrollments of a service,
#: period, policies and tariff category (hundreds in a city); children enrolled mid-year add
#: one each, and a long-lived process goes through many years. 4,096 keeps the working set of
#: a large city (a few MB); a miss costs one structure.
_TEMPLATES: dict[tuple[str, str], Callable[..., Enrollment]] = {}
_TEMPLATES_KEPT = 4096
_ENROLLMENT_IDS = ("id", "household_id", "child_id")
#: The fields an enrollment takes from its template: all but its ids.
_TEMPLATE_FIELDS = tuple(
    field.name for field in attrs.fields(Enrollment) if field.name not in _ENROLLMENT_IDS
)
_unchecked_enrollment = unchecked(Enrollment)


def _template(item: Enrollment) -> Callable[..., Enrollment]:
    """The builder of the enrollments equal to ``item`` but for their ids: the unchecked
    constructor with ``item``'s other fields given (a partial call: as fast per enrollment as
    naming them, and nothing to update when an enrollment gains a field)."""
    return partial(
        _unchecked_enrollment, **{name: getattr(item, name) for name in _TEMPLATE_FIELDS}
    )


def _keep_template(rest: Any, key: str, item: Enrollment) -> None:
    """Keep ``item`` (structured from a whole body) as the template of ``rest`` when the rest
    is an object without ids: the body was then the rest and these ids (SQLite keeps
    duplicate keys, and ``json_remove`` removes the first one only)."""
    if not isinstance(rest, str):
        return
    data = json.loads(rest)
    if not isinstance(data, dict) or any(name in data for name in _ENROLLMENT_IDS):
        return
    _remember(_TEMPLATES, _TEMPLATES_KEPT, (rest, key), _template(item))


def _with_ids(
    template: Callable[..., Enrollment], id: Any, household_id: Any, child_id: Any
) -> Any:
    """The enrollment of ``template`` (see :func:`_template`) with these ids, without running
    again the checks its fields passed (ids aside, an enrollment's fields and invariants do
    not involve them); ``None`` when an id is not a non-empty string (the checked path then
    gives the error)."""
    for value in (id, household_id, child_id):
        if type(value) is not str or not value.strip():
            return None
    return template(id=id, household_id=household_id, child_id=child_id)
