"""The catalog repositories: sites (with their closures) and services, one versioned row each.

A row is ``(id, version, body)``; a save inserts at version 1 or updates ``WHERE version =
expected``, so a change computed from a version that moved meanwhile is refused
(:class:`~canteen_core.domain.errors.ConflictError`) instead of lost.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from canteen_adapters.storage._common import (
    CatalogBase,
    CatalogEntry,
    catalog_conflict,
    check_catalog_entry,
)
from canteen_adapters.storage.sql.driver import _dialect_insert, _Session, _translate
from canteen_core.config.serialization import structure, unstructure

__all__ = ["SqlCatalog"]


class SqlCatalog(CatalogBase[CatalogEntry]):
    """Sites or services (``cls``) in ``table``."""

    def __init__(self, uow: _Session, table: sa.Table, cls: type[CatalogEntry]) -> None:
        super().__init__(cls)
        self._uow = uow
        self._table = table

    def find(self, item_id: object) -> CatalogEntry | None:
        if not isinstance(item_id, str):
            return None
        connection = self._uow.connection()
        with _translate(f"cannot read {self._table.name}"):
            body = connection.execute(
                sa.select(self._table.c.body).where(self._table.c.id == item_id)
            ).scalar_one_or_none()
        return None if body is None else structure(body, self._cls)

    def list(self) -> Iterator[CatalogEntry]:
        connection = self._uow.connection()
        with _translate(f"cannot read {self._table.name}"):
            bodies = list(
                connection.execute(
                    sa.select(self._table.c.body).order_by(self._table.c.id)
                ).scalars()
            )
        return iter([structure(body, self._cls) for body in bodies])

    def save(self, item: CatalogEntry, *, expected_version: int) -> None:
        item_id = check_catalog_entry(item, self._cls, expected_version, self._what)
        connection = self._uow.writable()
        table = self._table
        body = unstructure(item)
        with _translate(f"cannot store {table.name}"):
            if expected_version == 0:
                done = connection.execute(
                    _dialect_insert(connection, table)
                    .values(id=item_id, version=item.version, body=body)
                    .on_conflict_do_nothing()
                    .returning(table.c.id)
                ).first()
            else:
                done = connection.execute(
                    sa.update(table)
                    .where(table.c.id == item_id, table.c.version == expected_version)
                    .values(version=item.version, body=body)
                    .returning(table.c.id)
                ).first()
            if done is not None:  # rowcount is not reliable on every driver
                return
            current = connection.execute(
                sa.select(table.c.version).where(table.c.id == item_id)
            ).scalar_one_or_none()
        raise catalog_conflict(self._what, item_id, current or 0, expected_version)
