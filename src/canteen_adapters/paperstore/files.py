"""The ``"files"`` document store: one file per paper in a folder of the deployment.

Files are named by their random key (``ab/abcdef...``: a sub-folder per first two characters,
so no folder holds too many), written atomically (a temporary file renamed into place) and
readable by the owner only (mode 0600 in a 0700 folder). The folder is ``[documents] folder``,
``documents`` beside the deployment file by default; it is never served as is.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from canteen_adapters.paperstore import check_key, new_key
from canteen_core.config.hookspecs import offer
from canteen_core.domain.errors import ConfigurationError, NotFoundError, StorageError
from canteen_core.ports.backends import DocumentStoreBackend
from canteen_core.ports.document_store import DocumentStoreSettings

if TYPE_CHECKING:
    from canteen_core.ports.document_store import DocumentStore

__all__ = ["FileDocumentStore", "canteen_document_stores"]


class FileDocumentStore:
    """Papers as files under ``folder`` (created on first write)."""

    name = "files"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def from_settings(cls, settings: DocumentStoreSettings) -> FileDocumentStore:
        """The store of ``[documents] folder`` (absolute: the deployment resolved it)."""
        folder = Path(settings.folder)
        if not folder.is_absolute():
            raise ConfigurationError(
                f"the files store needs an absolute folder, got {settings.folder!r}",
                path="documents.folder",
            )
        return cls(folder)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def put(self, data: bytes, *, content_type: str) -> str:
        """Write ``data`` to a new file; returns its key."""
        key = new_key()
        path = self._path(key)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(bytes(data))
                    file.flush()
                    os.fsync(file.fileno())
                os.chmod(temporary, 0o600)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write the document: {exc.strerror}") from None
        return key

    def get(self, key: str) -> bytes:
        """The file's bytes; :class:`NotFoundError` for an unknown key."""
        path = self._path(check_key(key))
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError("document introuvable") from None
        except OSError as exc:
            raise StorageError(f"cannot read the document: {exc.strerror}") from None

    def delete(self, key: str) -> None:
        """Remove the file (nothing happens for an unknown key)."""
        try:
            self._path(check_key(key)).unlink(missing_ok=True)
        except NotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"cannot delete the document: {exc.strerror}") from None


canteen_document_stores = offer(
    DocumentStoreBackend,
    FileDocumentStore,
    "one file per paper in the deployment's documents folder",
)


if TYPE_CHECKING:  # the adapter implements the port (checked by mypy)
    _store: DocumentStore = FileDocumentStore("/")
