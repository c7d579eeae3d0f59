"""The tenant registry on PostgreSQL: the ``tenants`` table (see :mod:`.tenancy`).

What ``canteen tenants`` lists and adds. Run by the tables' owner (the role that migrates),
it sees every commune; run by canteen's own role, row-level security shows only the commune
the connection works for, and refuses adding another one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from canteen_adapters.storage.sql.driver import _translate
from canteen_adapters.storage.sql.engine import create_engine_for_url, transaction
from canteen_adapters.storage.sql.migrate import check_revision
from canteen_adapters.storage.sql.tenancy import tenants
from canteen_core.domain.errors import (
    ConfigurationError,
    ConflictError,
    NotAuthorizedError,
    NotFoundError,
    StorageError,
)
from canteen_core.domain.tenants import Tenant, check_tenant_id
from canteen_core.ports.settings import StorageSettings

__all__ = ["SqlTenantRegistry"]


class SqlTenantRegistry:
    """The communes of a PostgreSQL database shared by many."""

    def __init__(self, engine: Engine) -> None:
        _require_postgres(engine)
        self.engine = engine

    @classmethod
    def open(cls, settings: StorageSettings, *, url: str | None = None) -> SqlTenantRegistry:
        """The registry of the database of ``settings`` (or ``url``, e.g. the owner's), which
        must be migrated."""
        engine = create_engine_for_url(
            url or settings.url, schema=settings.schema, tenant=settings.tenant
        )
        try:
            _require_postgres(engine)
            check_revision(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def list(self) -> list[Tenant]:
        """Every commune the connection may see, by id."""
        statement = sa.select(tenants).order_by(tenants.c.id)
        with _translate("cannot read the tenants"), transaction(self.engine, read_only=True) as c:
            return [_tenant(row) for row in c.execute(statement)]

    def get(self, tenant_id: str) -> Tenant:
        """The commune ``tenant_id``; :class:`NotFoundError` if not registered (or hidden)."""
        statement = sa.select(tenants).where(tenants.c.id == check_tenant_id(tenant_id))
        with _translate("cannot read the tenants"), transaction(self.engine, read_only=True) as c:
            row = c.execute(statement).one_or_none()
        if row is None:
            raise NotFoundError(f"commune inconnue dans le registre : {tenant_id}")
        return _tenant(row)

    def add(self, tenant: Tenant) -> Tenant:
        """Register ``tenant``; :class:`ConflictError` if its id is taken."""
        added = attrs.evolve(tenant, name=tenant.name.strip(), created_at=datetime.now(UTC))
        try:
            with _translate("cannot add the tenant"), transaction(self.engine) as connection:
                connection.execute(sa.insert(tenants).values(**attrs.asdict(added, recurse=False)))
        except ConflictError:
            raise ConflictError(f"la commune {tenant.id} est déjà inscrite") from None
        except StorageError as error:
            if "row-level security" not in str(error):
                raise
            raise NotAuthorizedError(
                f"ce rôle ne peut pas inscrire la commune {tenant.id} : seul le propriétaire "
                "des tables inscrit d'autres communes (--url)"
            ) from None
        return added

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def _require_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise ConfigurationError(
            "le registre des communes est dans PostgreSQL ; une base SQLite ne sert "
            "qu'une commune (un fichier par commune)",
            path="storage.url",
        )


#: A tenant's fields, one column each of the ``tenants`` table.
_FIELDS = tuple(field.name for field in attrs.fields(Tenant))


def _tenant(row: Any) -> Tenant:
    return Tenant(**{name: getattr(row, name) for name in _FIELDS})
