"""Many communes (tenants) in one PostgreSQL database: the tenant key and the registry table.

On PostgreSQL every table of :data:`~canteen_adapters.storage.sql.tables.metadata` has one more
column, ``tenant_id`` (migration 0013), which leads its primary key, unique constraints and
foreign keys, so two communes may hold the same invoice number or billing key, and no row can
reference another commune's. Its default is the transaction's tenant, the setting
``canteen.tenant`` that :func:`~canteen_adapters.storage.sql.engine.begin` names at the start
of every transaction: the repositories write and read through the tables of ``metadata``
without a tenant column, and never name it. Row-level security (``ENABLE`` and ``FORCE``, so
the tables' owner is bound too) keeps each transaction to its tenant's rows: a row is seen,
written, updated or deleted only when its ``tenant_id`` equals the setting; with no tenant set
nothing is visible (superusers and ``BYPASSRLS`` roles are not bound: never run canteen as
one). SQLite and memory storages hold one commune each (a file per commune) and have no tenant
column.

:func:`tenant_metadata` is the PostgreSQL schema as the migrations build it (the migration
tests compare the two); :data:`tenants` is the registry of the platform's communes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from canteen_adapters.storage.sql import tables as t

__all__ = [
    "POLICY",
    "TENANT_COLUMN",
    "TENANT_DEFAULT_SQL",
    "TENANT_MATCH_SQL",
    "bypasses_row_security",
    "tenant_metadata",
    "tenants",
]

#: The tenant column of every table on PostgreSQL.
TENANT_COLUMN = "tenant_id"
#: The column's default: the transaction's tenant (NULL, refused, when none is set).
TENANT_DEFAULT_SQL = "NULLIF(current_setting('canteen.tenant', true), '')"
#: The row-level security condition, for reads (``USING``) and writes (``WITH CHECK``).
TENANT_MATCH_SQL = "tenant_id = current_setting('canteen.tenant', true)"
#: The name of each table's row-level security policy.
POLICY = "canteen_tenant_isolation"

#: The platform's registry, apart from the commune-keyed tables (on PostgreSQL only).
registry_metadata = sa.MetaData(naming_convention=t.NAMING_CONVENTION)

#: The communes of a platform (migration 0013): ``id`` is the ``[storage] tenant`` of their
#: deployments; ``settings`` free text values, ``secrets`` the names of the environment
#: variables holding each secret (never a secret itself). Row-level security without
#: ``FORCE``: canteen's role sees its own commune's row, the tables' owner (who runs
#: ``canteen tenants``) every row.
tenants = sa.Table(
    "tenants",
    registry_metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("settings", t.JSON_TYPE, nullable=False),
    sa.Column("secrets", t.JSON_TYPE, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def _keyed(columns: Any) -> list[str]:
    return [TENANT_COLUMN, *(column.name for column in columns)]


def _tenant_table(table: sa.Table, target: sa.MetaData) -> sa.Table:
    """``table`` as it is on PostgreSQL: a ``tenant_id`` column leading its keys."""
    items: list[Any] = [
        sa.Column(
            column.name,
            column.type,
            nullable=column.nullable,
            server_default=None if column.server_default is None else column.server_default.arg,  # type: ignore[attr-defined]
        )
        for column in table.columns
    ]
    items.append(
        sa.Column(
            TENANT_COLUMN, sa.String(), nullable=False, server_default=sa.text(TENANT_DEFAULT_SQL)
        )
    )
    items.append(sa.PrimaryKeyConstraint(*_keyed(table.primary_key.columns)))
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and not isinstance(
            constraint, sa.PrimaryKeyConstraint
        ):
            items.append(sa.UniqueConstraint(*_keyed(constraint.columns)))
        elif isinstance(constraint, sa.ForeignKeyConstraint):
            referred = constraint.referred_table.name
            items.append(
                sa.ForeignKeyConstraint(
                    _keyed(constraint.columns),
                    [f"{referred}.{TENANT_COLUMN}"]
                    + [f"{referred}.{element.column.name}" for element in constraint.elements],
                    ondelete=constraint.ondelete,
                )
            )
    items += [
        sa.Index(index.name, *(column.name for column in index.columns), unique=index.unique)
        for index in table.indexes
    ]
    return sa.Table(table.name, target, *items)


def tenant_metadata() -> sa.MetaData:
    """The PostgreSQL schema: every table of ``metadata`` keyed by tenant, and the registry."""
    target = sa.MetaData(naming_convention=t.NAMING_CONVENTION)
    for table in t.metadata.sorted_tables:
        _tenant_table(table, target)
    tenants.to_metadata(target)
    return target


def bypasses_row_security(engine: Engine) -> bool:
    """Whether ``engine`` connects to PostgreSQL as a role the policies do not bind (a
    superuser, or ``BYPASSRLS``): it sees every commune's rows, and a lookup by id, lacking
    the policy's ``tenant_id``, cannot use the tenant-led primary keys (it scans them)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).scalar()
        connection.rollback()
    return bool(found)
