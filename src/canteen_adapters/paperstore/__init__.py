"""Document stores: where the bytes of the family's papers are kept.

Each module is a plugin offering one store through ``canteen_document_stores`` (declared under
``[project.entry-points.canteen]`` like every built-in), implementing
:class:`~canteen_core.ports.document_store.DocumentStore`:

* :mod:`~canteen_adapters.paperstore.files`: ``"files"``, a folder of the deployment (default);
* :mod:`~canteen_adapters.paperstore.database`: ``"database"``, a table of the deployment's
  SQLite or PostgreSQL database;
* :mod:`~canteen_adapters.paperstore.memory`: ``"memory"``, this process only (tests).

Keys are made by :func:`new_key`: 256 random bits, so no paper can be reached by guessing.
(Not to be confused with :mod:`canteen_adapters.documents`, which *generates* PDFs.)
"""

from __future__ import annotations

import re
import secrets

from canteen_core.domain.errors import NotFoundError

__all__ = ["check_key", "new_key"]

_KEY = re.compile(r"[0-9a-f]{64}")


def new_key() -> str:
    """A fresh key: 64 hexadecimal characters from the system's random source."""
    return secrets.token_hex(32)


def check_key(key: object) -> str:
    """``key`` if it has the shape :func:`new_key` gives; :class:`NotFoundError` otherwise
    (so a crafted key such as ``../../etc/passwd`` never reaches a path or a query)."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise NotFoundError("document introuvable")
    return key
