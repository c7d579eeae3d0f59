"""The ``"database"`` document store: papers in the ``document_blobs`` table.

The deployment's own SQLite file or PostgreSQL database by default (``[documents] url`` and
``schema`` may name another one, migrated like the storage's). The table comes with the
storage's migrations (0009); this store opens its own connection pool and writes each blob in
a transaction of its own, outside the storage's unit of work.

Why not in the storage's transaction: the document store is a port of its own (it may be
another database, and the same service runs on the file system), and with SQLite a second
connection cannot write while the storage's transaction holds the one write lock. So the order
makes the failure safe instead (:func:`canteen_core.services.family_papers.discard_unrecorded`):
the bytes commit first, the record after; a failed upload deletes the bytes only once a fresh
read shows no record named them; a removed paper's bytes go only after the removal committed.
The worst case is a blob no record names (never served: its key is random), never a record
whose bytes are missing. On a PostgreSQL shared by many communes the store's engine works
for the deployment's tenant, as the storage's does, and sees only that commune's papers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from canteen_adapters.paperstore import check_key, new_key
from canteen_adapters.storage.sql.driver import _translate
from canteen_adapters.storage.sql.engine import create_engine_for_url, transaction
from canteen_adapters.storage.sql.migrate import check_revision
from canteen_adapters.storage.sql.tables import document_blobs
from canteen_core.config.hookspecs import offer
from canteen_core.domain.errors import ConfigurationError, NotFoundError
from canteen_core.ports.backends import DocumentStoreBackend
from canteen_core.ports.document_store import DocumentStoreSettings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from canteen_core.ports.document_store import DocumentStore

__all__ = ["DatabaseDocumentStore", "canteen_document_stores"]

_INSERT = sa.insert(document_blobs)
_SELECT = sa.select(document_blobs.c.data).where(document_blobs.c.key == sa.bindparam("key"))
_DELETE = sa.delete(document_blobs).where(document_blobs.c.key == sa.bindparam("key"))


class DatabaseDocumentStore:
    """Papers as rows of ``document_blobs``."""

    name = "database"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_settings(cls, settings: DocumentStoreSettings) -> DatabaseDocumentStore:
        """The store in the database of ``settings.url`` (the storage's by default), which
        must be migrated (``canteen db upgrade``, or opening the storage)."""
        if not settings.url:
            raise ConfigurationError(
                "the database document store needs a database URL", path="documents.url"
            )
        engine = create_engine_for_url(settings.url, schema=settings.schema, tenant=settings.tenant)
        try:
            check_revision(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def put(self, data: bytes, *, content_type: str) -> str:
        """Insert a row for ``data``; returns its key."""
        key = new_key()
        with _translate("cannot store the document"), transaction(self.engine) as connection:
            connection.execute(
                _INSERT,
                {
                    "key": key,
                    "content_type": content_type,
                    "size": len(data),
                    "data": bytes(data),
                    "created_at": datetime.now(UTC),
                },
            )
        return key

    def get(self, key: str) -> bytes:
        """The row's bytes; :class:`NotFoundError` for an unknown key."""
        checked = check_key(key)
        with (
            _translate("cannot read the document"),
            transaction(self.engine, read_only=True) as connection,
        ):
            found = connection.execute(_SELECT, {"key": checked}).scalar_one_or_none()
        if found is None:
            raise NotFoundError("document introuvable")
        return bytes(found)

    def delete(self, key: str) -> None:
        """Delete the row (nothing happens for an unknown key)."""
        with _translate("cannot delete the document"), transaction(self.engine) as connection:
            connection.execute(_DELETE, {"key": key})

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


canteen_document_stores = offer(
    DocumentStoreBackend,
    DatabaseDocumentStore,
    "the deployment's SQLite or PostgreSQL database (document_blobs)",
)


if TYPE_CHECKING:  # the adapter implements the port (checked by mypy)
    _store: DocumentStore = DatabaseDocumentStore(sa.create_engine("sqlite://"))
