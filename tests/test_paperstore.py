"""The built-in document stores (files, database, memory) on their own: keys are random and
unguessable, a crafted key never reaches a path or a query, files are private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from canteen_adapters.paperstore import check_key
from canteen_adapters.paperstore.database import DatabaseDocumentStore
from canteen_adapters.paperstore.files import FileDocumentStore
from canteen_adapters.paperstore.memory import MemoryDocumentStore
from canteen_adapters.storage.sql import SqlStorage
from canteen_core.config.deployment import DocumentStoreSettings
from canteen_core.domain.errors import ConfigurationError, NotFoundError
from canteen_core.ports.document_store import DocumentStore

CRAFTED = ["../../etc/passwd", "", "ab", "A" * 64, "0" * 63 + "/", "' OR 1=1 --"]


def _stores(tmp_path: Path) -> list[DocumentStore]:
    url = f"sqlite:///{tmp_path / 'papers.db'}"
    SqlStorage.from_url(url).close()  # migrated
    return [
        FileDocumentStore(tmp_path / "papiers"),
        DatabaseDocumentStore.from_settings(DocumentStoreSettings(url=url)),
        MemoryDocumentStore(),
    ]


def test_put_get_delete_and_crafted_keys(tmp_path: Path) -> None:
    for store in _stores(tmp_path):
        assert isinstance(store, DocumentStore)
        first = store.put(b"%PDF-1.4 one", content_type="application/pdf")
        second = store.put(b"%PDF-1.4 one", content_type="application/pdf")
        assert first != second  # same bytes, two keys: nothing derived from the content
        assert check_key(first) == first
        assert store.get(first) == b"%PDF-1.4 one"
        store.delete(first)
        with pytest.raises(NotFoundError, match="document introuvable"):
            store.get(first)
        store.delete(first)  # forgetting twice is not an error
        for key in CRAFTED:
            with pytest.raises(NotFoundError, match="document introuvable"):
                store.get(key)
        assert store.get(second) == b"%PDF-1.4 one"


def test_files_are_private_and_named_by_key_only(tmp_path: Path) -> None:
    store = FileDocumentStore(tmp_path / "papiers")
    key = store.put(b"\x89PNG\r\n\x1a\n...", content_type="image/png")
    [path] = [p for p in (tmp_path / "papiers").rglob("*") if p.is_file()]
    assert path.name == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with pytest.raises(ConfigurationError):
        FileDocumentStore.from_settings(DocumentStoreSettings(folder="relative/papiers"))


def test_database_store_needs_a_migrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(ConfigurationError, match="canteen db upgrade"):
        DatabaseDocumentStore.from_settings(DocumentStoreSettings(url=url))
