"""The catalog stored on its own: ``catalog_sites`` and ``catalog_services``.

Each row is one versioned entry ``(id, version, body)``: a site with its own closures (strike,
works), or a service. Until now a site and a service existed only inside the enrollments that
named them, and a closure only inside the calendars of the enrollments existing when it was
added. The upgrade makes each site and service enrollments name an entry at version 1 (the
body of the first enrollment naming it, by id), a site's closures being those found in the
calendars of its enrollments (each once, in the order first met); the downgrade drops the
tables (the enrollments still carry their sites, services and calendars)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import JSON, primary_key, required

revision = "0010"
down_revision: str | None = "0009"

_TABLES = ("catalog_sites", "catalog_services")


def _entries(connection: sa.Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of each catalog table, from the stored enrollments and their calendars."""
    enrollments = sa.table("enrollments", sa.column("body", JSON), sa.column("calendar_key"))
    calendars = sa.table("service_calendars", sa.column("key"), sa.column("body", JSON))
    rows = connection.execute(
        sa.select(enrollments.c.body, calendars.c.body)
        .select_from(enrollments)
        .join(calendars, calendars.c.key == enrollments.c.calendar_key)
        .order_by(sa.literal_column("1"))
    )
    sites: dict[str, dict[str, Any]] = {}
    closures: dict[str, list[Any]] = {}
    services: dict[str, dict[str, Any]] = {}
    for body, calendar in rows:
        site, service = body.get("site"), body.get("service")
        if isinstance(site, dict) and isinstance(site.get("id"), str):
            sites.setdefault(site["id"], site)
            found = closures.setdefault(site["id"], [])
            for period in (calendar or {}).get("site_closures") or ():
                if period not in found:
                    found.append(period)
        if isinstance(service, dict) and isinstance(service.get("id"), str):
            services.setdefault(service["id"], service)
    return (
        [
            {
                "id": key,
                "version": 1,
                "body": {"site": site, "closures": closures[key], "version": 1},
            }
            for key, site in sites.items()
        ],
        [
            {"id": key, "version": 1, "body": {"service": service, "version": 1}}
            for key, service in services.items()
        ],
    )


def upgrade() -> None:
    """Create the catalog tables and fill them from the enrollments."""
    for name in _TABLES:
        op.create_table(
            name,
            required("id", sa.String()),
            required("version", sa.Integer()),
            required("body", JSON),
            primary_key(name, "id"),
        )
    connection = op.get_bind()
    for name, rows in zip(_TABLES, _entries(connection), strict=True):
        if rows:
            table = sa.table(name, sa.column("id"), sa.column("version"), sa.column("body", JSON))
            connection.execute(sa.insert(table), rows)


def downgrade() -> None:
    """Drop the catalog tables."""
    for name in _TABLES:
        op.drop_table(name)
