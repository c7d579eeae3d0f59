"""Booked days in one B-tree: the (site_id, day) index is dropped, SQLite stores the table
WITHOUT ROWID (the primary key is the table).

Headcounts and ``booked(site_id=...)`` start from the site's enrollments and read each one's
days through the primary key ``(enrollment_id, day)``, so the site index only slowed down
every insert (the rentrée writes millions of rows). On SQLite a rowid table kept the rows and
the primary key in two B-trees; ``WITHOUT ROWID`` keeps one. ``reservation_days`` is a leaf
(no table references it), so rebuilding it on SQLite with foreign keys on deletes nothing."""

from __future__ import annotations

from alembic import op

from canteen_adapters.storage.sql.migrations._ops import on_sqlite, rebuild_reservation_days

revision = "0003"
down_revision: str | None = "0002"

_INDEX = "ix_reservation_days_site_id_day"
#: The booked days as they are, copied into the rebuilt table (with or without rowid).
_DAYS = "SELECT enrollment_id, day, site_id, late FROM reservation_days"


def upgrade() -> None:
    """Drop the site index; on SQLite, rebuild the table without rowid."""
    if on_sqlite():
        rebuild_reservation_days(_DAYS, site=True, with_rowid=False)
    else:
        op.drop_index(_INDEX, table_name="reservation_days")


def downgrade() -> None:
    """Back to a rowid table with the (site_id, day) index."""
    if on_sqlite():
        rebuild_reservation_days(_DAYS, site=True, with_rowid=True)
    op.create_index(_INDEX, "reservation_days", ["site_id", "day"])
