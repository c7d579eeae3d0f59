"""The households repository: a household's body, its children and guardians rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from canteen_adapters.storage._common import check_household_keys, existing, household_missing
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.driver import (
    _ROWS_CHUNK,
    _chunks,
    _db_message,
    _Driver,
    _insert,
    _rows_in,
    _Session,
    _sqlite_driver,
    _translate,
)
from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.domain.families import Household, child_taken_error

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
    def __init__(self, uow: _Session) -> None:
        self._uow = uow

    def _rows(self, household: Household) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        check_household_keys(household)
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
        for taken in _rows_in(connection, _CHILD_OWNERS, list(owner)):
            if taken.household_id != owner[taken.id]:
                raise child_taken_error(taken.id, taken.household_id)

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
        stored.update(row.id for row in _rows_in(connection, _HOUSEHOLD_IDS, ids))
        owners.update(
            (row.id, row.household_id) for row in _rows_in(connection, _CHILD_OWNERS, child_ids)
        )
        for home in homes:
            for child in home.children:
                owner = owners.get(child.id)
                if owner is not None and owner != home.id:
                    return child_taken_error(child.id, owner)
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
        return existing(self.find(household_id), household_missing(household_id))

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
            raise household_missing(household_id)

    def find_many(self, household_ids: Iterable[str]) -> dict[str, Household]:
        ids = list(dict.fromkeys(household_ids))
        connection = self._uow.connection()
        bodies: dict[str, Any] = {}
        with _translate("cannot read households"):
            driver = _Driver(connection)  # a family's booking call reads its household here
            bodies.update(driver.fetch_in(_HOUSEHOLD_BODIES_SQL, ids))
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
            for household_id, child_id in driver.fetch_in(_HOUSEHOLD_CHILDREN, ids):
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


#: Each household with the ids of its children (a household without children: one NULL).
_HOUSEHOLD_CHILDREN = (
    "SELECT h.id, c.id FROM households AS h LEFT JOIN children AS c ON c.household_id = h.id "
    "WHERE h.id {ids}"
)
_HOUSEHOLD_BODY_SQL = "SELECT body FROM households WHERE id = ?"
_HOUSEHOLD_BODIES_SQL = "SELECT id, body FROM households WHERE id {ids}"
