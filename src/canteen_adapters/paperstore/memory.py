"""The ``"memory"`` document store: papers kept in this process only (tests, notebooks).

The default beside a ``memory://`` storage: nothing is written anywhere.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from canteen_adapters.paperstore import check_key, new_key
from canteen_core.config.hookspecs import offer
from canteen_core.domain.errors import NotFoundError
from canteen_core.ports.backends import DocumentStoreBackend
from canteen_core.ports.document_store import DocumentStoreSettings

if TYPE_CHECKING:
    from canteen_core.ports.document_store import DocumentStore

__all__ = ["MemoryDocumentStore", "canteen_document_stores"]


class MemoryDocumentStore:
    """Papers in a dictionary of this process."""

    name = "memory"

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: DocumentStoreSettings) -> MemoryDocumentStore:
        """A new, empty store (the settings name nothing it needs)."""
        return cls()

    def put(self, data: bytes, *, content_type: str) -> str:
        """Keep a copy of ``data``; returns its key."""
        key = new_key()
        with self._lock:
            self._blobs[key] = bytes(data)
        return key

    def get(self, key: str) -> bytes:
        """The bytes; :class:`NotFoundError` for an unknown key."""
        with self._lock:
            found = self._blobs.get(check_key(key))
        if found is None:
            raise NotFoundError("document introuvable")
        return found

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._blobs.pop(key, None)

    def __len__(self) -> int:
        return len(self._blobs)


canteen_document_stores = offer(
    DocumentStoreBackend,
    MemoryDocumentStore,
    "this process's memory, nothing kept (tests, notebooks)",
)


if TYPE_CHECKING:  # the adapter implements the port (checked by mypy)
    _store: DocumentStore = MemoryDocumentStore()
