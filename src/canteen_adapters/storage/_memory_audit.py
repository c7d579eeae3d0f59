"""The in-memory audit log: the audit chains kept in the storage's dicts (undone on rollback)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Unpack

from canteen_adapters.storage._common import check_text
from canteen_core.domain.audit import AuditEntry, AuditHead
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.ports.audit import AuditFilters

if TYPE_CHECKING:
    from canteen_adapters.storage._memory_repositories import _Data, _Session

__all__ = ["MemoryAuditLog"]


class MemoryAuditLog:
    """:class:`~canteen_core.ports.audit.AuditLogRepository` in memory (the storage's lock
    already serialises writers, so :meth:`head` and :meth:`last` need no lock of their own)."""

    def __init__(self, uow: _Session, data: _Data) -> None:
        self._uow = uow
        self._data = data

    def _keys(self, commune: str) -> list[tuple[str, int]]:
        return sorted(key for key in self._data.audit if key[0] == commune)

    def _last_key(self, commune: str) -> tuple[str, int] | None:
        return max((key for key in self._data.audit if key[0] == commune), default=None)

    def head(self, commune: str) -> AuditHead | None:
        self._uow._check_active()
        key = self._last_key(commune)
        return None if key is None else AuditHead.of(self._data.audit[key])

    def last(self, commune: str) -> AuditEntry | None:
        self._uow._check_active()
        key = self._last_key(commune)
        found: AuditEntry | None = None if key is None else self._data.audit[key]
        return found

    def first(self, commune: str) -> AuditEntry | None:
        self._uow._check_active()
        keys = self._keys(commune)
        found: AuditEntry | None = self._data.audit[keys[0]] if keys else None
        return found

    def append(self, entry: AuditEntry) -> None:
        self._uow._check_writable()
        if not isinstance(entry, AuditEntry):
            raise InvalidInputError("expected an AuditEntry", path="entry")
        check_text(entry, "entry")  # refused as the SQL backends refuse it
        key = (entry.commune, entry.sequence)
        if key in self._data.audit or entry.id in self._data.audit_ids:
            raise ConflictError(f"audit entry {entry.commune} #{entry.sequence} already stored")
        self._uow._set(self._data.audit, key, entry)
        self._uow._set(self._data.audit_ids, entry.id, key)

    def entries(self, commune: str, **filters: Unpack[AuditFilters]) -> Iterator[AuditEntry]:
        self._uow._check_active()
        household_id = filters.get("household_id")
        actor_id, action = filters.get("actor_id"), filters.get("action")
        since, until = filters.get("since"), filters.get("until")
        after_sequence = filters.get("after_sequence", 0)
        for key in self._keys(commune):
            entry: AuditEntry = self._data.audit[key]
            if entry.sequence <= after_sequence:
                continue
            if household_id is not None and household_id not in entry.household_ids:
                continue
            if actor_id is not None and entry.actor_id != actor_id:
                continue
            if action is not None and entry.action != action:
                continue
            if since is not None and entry.recorded_at < since:
                continue
            if until is not None and entry.recorded_at > until:
                continue
            yield entry

    def cut_before(self, commune: str, sequence: int) -> int:
        self._uow._check_writable()
        gone = [key for key in self._keys(commune) if key[1] < sequence]
        for key in gone:
            entry = self._data.audit[key]
            self._uow._delete(self._data.audit, key)
            self._uow._delete(self._data.audit_ids, entry.id)
        return len(gone)
