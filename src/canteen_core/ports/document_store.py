"""The document-store port: where the bytes of the family's papers are kept.

A :class:`DocumentStore` keeps opaque blobs (a scanned certificate, a PDF attestation) under
keys it makes itself: random and not guessable, so no file is ever reached by a path a person
could build. The core keeps what a paper *is* (:class:`~canteen_core.domain.family_papers.
FamilyPaper`, in the storage's unit of work) and only the key in the store; reading a paper
always goes through the facade, which checks who asks.

A deployment picks the store in its ``[documents]`` section (:class:`DocumentStoreSettings`);
plugins offer stores through the ``canteen_document_stores`` hook. The built-ins are
``"files"`` (a folder of the deployment, the default), ``"database"`` (the deployment's SQLite
or PostgreSQL database) and ``"memory"`` (tests and notebooks, nothing kept).

A store works outside the storage's transactions: the service puts the bytes first, then
records the paper; when recording fails it deletes the bytes again, so a refused upload leaves
nothing behind.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from canteen_core.domain._validators import non_empty_str, positive_int

__all__ = ["DocumentStore", "DocumentStoreSettings"]


@runtime_checkable
class DocumentStore(Protocol):
    """Opaque blobs under keys the store chooses."""

    @property
    def name(self) -> str:
        """The store's name (``"files"``, ``"database"``...), recorded with each paper."""
        ...

    def put(self, data: bytes, *, content_type: str) -> str:
        """Keep ``data``; returns its new key (random, URL-safe, at most 100 characters)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes kept under ``key``;
        :class:`~canteen_core.domain.errors.NotFoundError` for an unknown (or malformed) key."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key`` (an unknown key is not an error)."""
        ...


@attrs.frozen(kw_only=True)
class DocumentStoreSettings:
    """``[documents]``: which store keeps the papers, and how much a household may upload.

    ``store`` names the store plugin (default ``"files"``; ``"memory"`` when the storage is
    ``memory://``). ``folder`` is the files store's folder, relative to the deployment file
    (default ``documents``). ``url`` and ``schema`` are the database store's, by default the
    ``[storage]`` ones, and so is ``tenant`` (the commune whose rows the database store
    reads and writes, see :class:`~canteen_core.ports.settings.StorageSettings`).
    ``max_bytes`` bounds one file (default 5 MiB), ``household_quota``
    one household's papers together (default 50 MiB).
    """

    store: str | None = None
    folder: str = attrs.field(default="documents", validator=non_empty_str)
    url: str | None = None
    schema: str | None = None
    tenant: str | None = None
    max_bytes: int = attrs.field(default=5 * 1024 * 1024, validator=positive_int)
    household_quota: int = attrs.field(default=50 * 1024 * 1024, validator=positive_int)

    @property
    def store_name(self) -> str:
        """The store to open (``"files"`` when none is named)."""
        return self.store or "files"
