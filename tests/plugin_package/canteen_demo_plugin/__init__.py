"""A third-party plugin: a storage backend named "demo" and an invoice observer."""

from __future__ import annotations

from typing import Any

from canteen_adapters.storage.memory import MemoryStorage
from canteen_core.config.hookspecs import hookimpl
from canteen_core.config.plugins import StorageBackend

#: What the observer saw (the test reads it).
SEEN: list[Any] = []


def open_demo(settings: Any) -> MemoryStorage:
    """The demo backend is a memory storage under another name."""
    return MemoryStorage()


@hookimpl
def canteen_storage_backends() -> list[StorageBackend]:
    return [StorageBackend(name="demo", factory=open_demo, description="demo backend")]


@hookimpl
def canteen_invoice_issued(event: Any) -> None:
    SEEN.append(event)
