"""In-memory storage: the same ports and guarantees as SQL, nothing written to disk.

For tests, notebooks and simulations. Units of work run one at a time (a lock, like SQLite's
single writer); each one keeps an undo log, so a rollback (explicit, by exception, or by
leaving the block without commit) restores exactly what was there. Objects are immutable attrs
values, so they are stored as they are, without copying.

The plugin offers the storage backend ``"memory"`` (``[storage] url = "memory://"``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from canteen_adapters.storage._common import StorageBase
from canteen_adapters.storage._memory_audit import MemoryAuditLog
from canteen_adapters.storage._memory_catalog import MemoryCatalog
from canteen_adapters.storage._memory_repositories import (
    _Accounts,
    _Data,
    _Documents,
    _Enrollments,
    _Households,
    _Invoices,
    _Outbox,
)
from canteen_adapters.storage._memory_reservations import _Reservations
from canteen_core.config.hookspecs import offer
from canteen_core.domain.catalog import ServiceEntry, SiteEntry
from canteen_core.domain.errors import ConfigurationError, StorageError
from canteen_core.ports.backends import StorageBackend
from canteen_core.ports.settings import StorageSettings
from canteen_core.ports.storage import COLLECTIONS, Storage, UnitOfWork

__all__ = ["MemoryStorage", "MemoryUnitOfWork", "canteen_storage_backends"]

_MISSING = object()
_LOCK_TIMEOUT = 60.0


class MemoryStorage(StorageBase["MemoryUnitOfWork"]):
    """A storage kept in this process's memory. ``types`` overrides collection classes."""

    name = "memory"
    _what = "memory"

    def __init__(self, *, types: dict[str, type[Any]] | None = None) -> None:
        super().__init__(types)
        self._data = _Data()
        self._lock = threading.Lock()
        self._owner: int | None = None

    @classmethod
    def open(cls, settings: StorageSettings | None = None) -> MemoryStorage:
        """Open an empty memory storage (the settings' URL is ``memory://``)."""
        return cls()

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> MemoryStorage:
        """The backend's factory: checks the URL is ``memory://`` (a backend validates its URL)."""
        if not settings.url.lower().startswith("memory://"):
            raise ConfigurationError(
                f"[storage] l'adaptateur memory n'ouvre que les url memory://,"
                f" pas « {settings.url} »",
                path="storage.url",
            )
        return cls.open(settings)

    def _new_unit_of_work(self, *, read_only: bool) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, read_only=read_only)

    def _dispose(self) -> None:
        """Forget everything."""
        self._data = _Data()

    def _acquire(self) -> None:
        me = threading.get_ident()
        if self._owner == me:
            raise StorageError(
                "a unit of work is already open in this thread; finish it before opening another"
            )
        if not self._lock.acquire(timeout=_LOCK_TIMEOUT):
            raise StorageError("the memory storage stayed busy too long")
        self._owner = me

    def _release(self) -> None:
        self._owner = None
        self._lock.release()


class _Capacities(_Documents):
    """Capacity rules; :meth:`lock` is a plain read, since memory units of work run one at a
    time already."""

    def find_many(self, rule_ids: Iterable[str]) -> dict[str, Any]:
        found = ((rule_id, self.find(rule_id)) for rule_id in dict.fromkeys(rule_ids))
        return {rule_id: rule for rule_id, rule in found if rule is not None}

    def lock(self, rule_id: str) -> Any | None:
        return self.find(rule_id)


class MemoryUnitOfWork:
    """One all-or-nothing unit of work over a :class:`MemoryStorage`."""

    def __init__(self, storage: MemoryStorage, *, read_only: bool = False) -> None:
        self._storage = storage
        self.read_only = read_only
        self._undo: list[Callable[[], None]] = []
        self._active = False
        data = storage._data
        self.households = _Households(self, data)
        self.reservations = _Reservations(self, data)
        self.enrollments = _Enrollments(self, data, COLLECTIONS["enrollments"])
        self.sites = MemoryCatalog(self, data.sites, SiteEntry)
        self.services = MemoryCatalog(self, data.services, ServiceEntry)
        self.change_requests = _Documents(self, data, COLLECTIONS["change_requests"])
        self.attendance = _Documents(self, data, COLLECTIONS["attendance"])
        self.absences = _Documents(self, data, COLLECTIONS["absences"])
        self.tariffs = _Documents(self, data, COLLECTIONS["tariffs"])
        self.invoices = _Invoices(self, data, COLLECTIONS["invoices"])
        self.credit_notes = _Documents(self, data, COLLECTIONS["credit_notes"])
        self.payments = _Documents(self, data, COLLECTIONS["payments"])
        self.refunds = _Documents(self, data, COLLECTIONS["refunds"])
        self.mandates = _Documents(self, data, COLLECTIONS["mandates"])
        self.accounts = _Accounts(self, data)
        self.outbox = _Outbox(self, data)
        self.notifications_audit = _Documents(self, data, COLLECTIONS["notifications_audit"])
        self.family_papers = _Documents(self, data, COLLECTIONS["family_papers"])
        self.enrollment_requests = _Documents(self, data, COLLECTIONS["enrollment_requests"])
        self.payment_requests = _Documents(self, data, COLLECTIONS["payment_requests"])
        self.debit_returns = _Documents(self, data, COLLECTIONS["debit_returns"])
        self.web_sessions = _Documents(self, data, COLLECTIONS["web_sessions"])
        self.idempotency_keys = _Documents(self, data, COLLECTIONS["idempotency_keys"])
        self.capacities = _Capacities(self, data, COLLECTIONS["capacities"])
        self.waiting_list = _Documents(self, data, COLLECTIONS["waiting_list"])
        self.menus = _Documents(self, data, COLLECTIONS["menus"])
        self.year_closings = _Documents(self, data, COLLECTIONS["year_closings"])
        self.campaigns = _Documents(self, data, COLLECTIONS["campaigns"])
        self.campaign_answers = _Documents(self, data, COLLECTIONS["campaign_answers"])
        self.audit = MemoryAuditLog(self, data)

    def __enter__(self) -> MemoryUnitOfWork:
        self._storage._acquire()
        self._active = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.rollback()
        finally:
            self._active = False
            self._storage._release()

    def commit(self) -> None:
        """Keep the changes."""
        self._check_active()
        self._undo.clear()

    def rollback(self) -> None:
        """Undo every change since the last commit, newest first."""
        while self._undo:
            self._undo.pop()()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo only this block's changes if it raises."""
        self._check_active()
        mark = len(self._undo)
        try:
            yield
        except BaseException:
            while len(self._undo) > mark:
                self._undo.pop()()
            raise

    # -- helpers for the repositories ---------------------------------------------------------

    def collection_type(self, name: str) -> type[Any]:
        """The class the collection ``name`` stores in this storage (see ``types``)."""
        return self._storage._type(name)

    def _check_active(self) -> None:
        if not self._active:
            raise StorageError("the unit of work is not open: use it in a `with` block")

    def _check_writable(self) -> None:
        self._check_active()
        if self.read_only:
            raise StorageError("this unit of work is read-only")

    def _set(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        old = mapping.get(key, _MISSING)
        mapping[key] = value

        def undo() -> None:
            if old is _MISSING:
                mapping.pop(key, None)
            else:
                mapping[key] = old

        self._undo.append(undo)

    def _delete(self, mapping: dict[Any, Any], key: Any) -> None:
        if key not in mapping:
            return
        old = mapping.pop(key)
        self._undo.append(lambda: mapping.__setitem__(key, old))


canteen_storage_backends = offer(
    StorageBackend, MemoryStorage, "in-process memory, nothing kept (tests, notebooks)"
)


if TYPE_CHECKING:  # the adapter implements the ports (checked by mypy, not at run time)
    _storage: Storage = MemoryStorage()
    _uow: UnitOfWork = MemoryUnitOfWork(MemoryStorage())
