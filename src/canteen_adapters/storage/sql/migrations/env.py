"""Alembic environment: runs on the connection :func:`canteen_adapters.storage.sql.upgrade` gives.

There is no ``alembic.ini``: the configuration is built in code, and the connection (already in
a transaction, with the migration lock held on PostgreSQL) comes in ``config.attributes``.

Writing a migration for SQLite: foreign keys are on, so a "move and copy" batch operation on a
referenced table (``DROP TABLE`` of the parent) would cascade-delete the child rows. Add
columns with plain ``op.add_column`` and a constant ``server_default`` instead, and keep the
old-file upgrade test (``tests/storage/test_migrations.py``) passing.
"""

from __future__ import annotations

from alembic import context

from canteen_adapters.storage.sql.tables import metadata

#: canteen's own version table, so a host application's Alembic history can share the database.
VERSION_TABLE = "canteen_schema_version"

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running the alembic CLI by hand
    raise RuntimeError("run migrations with canteen_adapters.storage.sql.upgrade(url)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
