"""SQL storage (SQLite embedded default, PostgreSQL with psycopg 3) on SQLAlchemy Core.

The plugin offers the storage backend ``"sql"``; the deployment's ``[storage] url`` picks
the database. Schema changes ship as Alembic migrations inside this package and run when the
storage is opened (unless ``migrate = false``) or with :func:`upgrade` (``canteen db upgrade``).
"""

from __future__ import annotations

from canteen_adapters.storage.sql.engine import create_engine_for_url, normalize_url
from canteen_adapters.storage.sql.migrate import (
    check_revision,
    current_revision,
    head_revision,
    upgrade,
)
from canteen_adapters.storage.sql.storage import SqlStorage, SqlUnitOfWork
from canteen_core.config.hookspecs import offer
from canteen_core.ports.backends import StorageBackend

__all__ = [
    "SqlStorage",
    "SqlUnitOfWork",
    "canteen_storage_backends",
    "check_revision",
    "create_engine_for_url",
    "current_revision",
    "head_revision",
    "normalize_url",
    "upgrade",
]


canteen_storage_backends = offer(
    StorageBackend, SqlStorage, "SQLite file or PostgreSQL database (SQLAlchemy Core, Alembic)"
)
