"""The in-memory catalog repositories: sites and services, each entry versioned.

Entries are immutable attrs values kept in a dict of the storage's data; every change goes
through the unit of work's undo log, like the other memory repositories.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from canteen_adapters.storage._common import (
    CatalogBase,
    CatalogEntry,
    catalog_conflict,
    check_catalog_entry,
)
from canteen_adapters.storage._memory_repositories import _Session

__all__ = ["MemoryCatalog"]


class MemoryCatalog(CatalogBase[CatalogEntry]):
    """Sites or services (``cls``) in ``entries`` (id -> entry), saved by version."""

    def __init__(self, uow: _Session, entries: dict[str, Any], cls: type[CatalogEntry]) -> None:
        super().__init__(cls)
        self._uow = uow
        self._entries = entries

    def find(self, item_id: str) -> CatalogEntry | None:
        self._uow._check_active()
        found: CatalogEntry | None = (
            self._entries.get(item_id) if isinstance(item_id, str) else None
        )
        return found

    def list(self) -> Iterator[CatalogEntry]:
        self._uow._check_active()
        return iter([self._entries[key] for key in sorted(self._entries)])

    def save(self, item: CatalogEntry, *, expected_version: int) -> None:
        self._uow._check_writable()
        item_id = check_catalog_entry(item, self._cls, expected_version, self._what)
        stored = self._entries.get(item_id)
        current = 0 if stored is None else stored.version
        if current != expected_version:
            raise catalog_conflict(self._what, item_id, current, expected_version)
        self._uow._set(self._entries, item_id, item)
