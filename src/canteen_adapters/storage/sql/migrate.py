"""Running the packaged Alembic migrations from code (no ``alembic.ini`` needed).

:func:`upgrade` is what ``canteen db upgrade`` and opening a SQL storage (unless
``[storage] migrate = false``) call. On PostgreSQL a transaction-scoped advisory lock makes
concurrent upgrades (two workers starting at once) wait for each other; on SQLite the write
lock taken by ``BEGIN IMMEDIATE`` does the same. DDL runs in that one transaction: a failed
upgrade leaves the schema as it was (on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from canteen_adapters.storage.sql.engine import READ_ONLY, begin, create_engine_for_url
from canteen_core.domain.errors import ConfigurationError, StorageError

__all__ = [
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade",
]

#: The Alembic environment shipped inside the package.
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Table holding the schema revision (see ``migrations/env.py``).
VERSION_TABLE = "canteen_schema_version"
_ADVISORY_LOCK_KEY = 0x63616E74  # "cant": one key for every canteen database
# Alembic keeps its migration context in module globals: one upgrade at a time per process.
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for the packaged migrations, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: never migrated)."""
    with engine.connect() as connection:
        connection.execution_options(**READ_ONLY)  # no write lock
        begin(connection)
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        revision = context.get_current_revision()
        connection.rollback()
        return revision


def upgrade(
    url: str | Engine,
    revision: str = "head",
    *,
    schema: str | None = None,
    tenant: str | None = None,
) -> str | None:
    """Upgrade the database at ``url`` (or an engine) to ``revision``; returns the new revision.

    ``schema`` (PostgreSQL) is created if missing and used as the ``search_path``. ``tenant``
    (PostgreSQL) is the commune the migrations run for: migration 0013 gives it the rows of a
    single-commune database (an engine brings its own).
    """
    engine = (
        url if isinstance(url, Engine) else create_engine_for_url(url, schema=schema, tenant=tenant)
    )
    try:
        if revision == "head" and current_revision(engine) == head_revision():
            return head_revision()  # the common case when opening: nothing to do, no lock
        with _ALEMBIC_LOCK, engine.connect() as connection:
            begin(connection)  # Alembic runs in this transaction (SQLite: BEGIN IMMEDIATE)
            if connection.dialect.name == "postgresql":
                if schema is not None:
                    connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                )
            command.upgrade(alembic_config(connection), revision)
            connection.commit()
        return current_revision(engine)
    except sa.exc.DBAPIError as exc:
        raise StorageError(f"la migration de la base a échoué : {exc.orig}") from exc
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"la migration de la base a échoué : {exc}") from exc
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def check_revision(engine: Engine) -> None:
    """Raise :class:`ConfigurationError` unless the database is at the newest revision."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        raise ConfigurationError(
            f"la base est à la révision {current or 'aucune'}, cette version de canteen"
            f" demande {head} : lancez canteen db upgrade (ou mettez migrate = true dans"
            " [storage])",
            path="storage.migrate",
        )
