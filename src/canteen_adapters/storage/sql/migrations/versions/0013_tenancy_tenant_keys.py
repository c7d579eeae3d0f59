"""Many communes in one PostgreSQL database: a ``tenant_id`` in every key, row-level security,
and the ``tenants`` registry (PostgreSQL only; a SQLite file holds one commune, unchanged).

Every table gets ``tenant_id``: existing rows get the tenant the migration runs for (the
``canteen.tenant`` setting of its transaction, i.e. the deployment's ``[storage] tenant``, else
``"default"``), new rows the transaction's tenant by default. The column leads each primary key,
unique constraint and unique index, and both sides of each foreign key. Each table then gets
``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and one policy letting a transaction read and write
only its tenant's rows. When existing rows were migrated, their commune is registered.

The keys are rebuilt from what the database holds (reflected). A later revision creating a
table keys it with ``_ops.tenant_columns``, ``tenant_keyed`` and ``tenant_policy``; a later
revision's data migration on PostgreSQL sees only its tenant's rows unless run by a superuser
(or after ``NO FORCE ROW LEVEL SECURITY`` inside its transaction)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import (
    JSON,
    TENANT_DEFAULT,
    primary_key,
    required,
    tenant_policy,
)

revision = "0013"
down_revision: str | None = "0012"

_VERSION_TABLE = "canteen_schema_version"
_TENANT = "tenant_id"
_DEFAULT = TENANT_DEFAULT
_POLICY = "canteen_tenant_isolation"
_TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")


def _tables(inspector: Any) -> list[str]:
    return [name for name in inspector.get_table_names() if name not in (_VERSION_TABLE, "tenants")]


def _foreign_keys(inspector: Any, tables: list[str]) -> list[tuple[str, dict[str, Any]]]:
    return [(table, fk) for table in tables for fk in inspector.get_foreign_keys(table)]


def _rekey(inspector: Any, tables: list[str], *, keyed: bool) -> None:
    """Rebuild every key with ``tenant_id`` leading it (``keyed``) or without it."""

    def columns(names: list[str]) -> list[str]:
        rest = [name for name in names if name != _TENANT]
        return [_TENANT, *rest] if keyed else rest

    foreign_keys = _foreign_keys(inspector, tables)
    for table, fk in foreign_keys:
        op.drop_constraint(fk["name"], table, type_="foreignkey")
    for table in tables:
        primary = inspector.get_pk_constraint(table)
        op.drop_constraint(primary["name"], table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, columns(primary["constrained_columns"]))
        for unique in inspector.get_unique_constraints(table):
            op.drop_constraint(unique["name"], table, type_="unique")
            kept = columns(unique["column_names"])
            op.create_unique_constraint(f"uq_{table}_{'_'.join(kept)}", table, kept)
        for index in inspector.get_indexes(table):
            if index["unique"] and not index.get("duplicates_constraint"):
                op.drop_index(index["name"], table_name=table)
                kept = columns(index["column_names"])
                op.create_index(f"uq_{table}_{'_'.join(kept)}", table, kept, unique=True)
    for table, fk in foreign_keys:
        referred = fk["referred_table"]
        local = columns(fk["constrained_columns"])
        op.create_foreign_key(
            f"fk_{table}_{local[0]}_{referred}",
            table,
            referred,
            local,
            columns(fk["referred_columns"]),
            ondelete=(fk.get("options") or {}).get("ondelete"),
        )


def upgrade() -> None:
    """Key every table by tenant and turn row-level security on (PostgreSQL)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    tenant = bind.exec_driver_sql(f"SELECT COALESCE({_DEFAULT}, 'default')").scalar_one()
    if not _TENANT_ID.fullmatch(tenant):
        raise ValueError(f"not a commune id: {tenant!r}")
    inspector = sa.inspect(bind)
    tables = _tables(inspector)
    migrated = False
    for table in tables:
        rows = bind.exec_driver_sql(f"SELECT EXISTS (SELECT FROM {table})").scalar()
        migrated = migrated or bool(rows)
        op.add_column(
            table,
            required(_TENANT, sa.String(), server_default=sa.text(f"'{tenant}'")),
        )
        op.alter_column(table, _TENANT, server_default=sa.text(_DEFAULT))
    _rekey(inspector, tables, keyed=True)
    for table in tables:
        tenant_policy(table)
    registry = op.create_table(
        "tenants",
        required("id", sa.String()),
        required("name", sa.String()),
        required("settings", JSON),
        required("secrets", JSON),
        required("created_at", sa.DateTime(timezone=True)),
        primary_key("tenants", "id"),
    )
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY {_POLICY} ON tenants USING (id = current_setting('canteen.tenant', true))"
    )
    if migrated:
        assert registry is not None
        op.bulk_insert(
            registry,
            [
                {
                    "id": tenant,
                    "name": tenant,
                    "settings": {},
                    "secrets": {},
                    "created_at": datetime.now(UTC),
                }
            ],
        )


def downgrade() -> None:
    """Back to one commune per database: refused when rows of several communes are stored."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    inspector = sa.inspect(bind)
    tables = _tables(inspector)
    op.drop_table("tenants")
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS {_POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    communes: set[str] = set()
    for table in tables:
        communes.update(bind.exec_driver_sql(f"SELECT DISTINCT {_TENANT} FROM {table}").scalars())
    if len(communes) > 1:
        raise ValueError(
            f"the database holds several communes ({', '.join(sorted(communes))}): "
            "move all but one out before downgrading below 0013"
        )
    _rekey(inspector, tables, keyed=False)
    for table in tables:
        op.drop_column(table, _TENANT)
