"""Booked days without their site: ``reservation_days`` is ``(enrollment_id, day, late)``.

Since 0003 headcounts and ``booked(site_id=...)`` reach the site through the enrollment; the
copy of ``site_id`` in every booked day was only written (millions of times at the rentrée,
and rewritten whenever an enrollment changed site), never read. On SQLite the table is
rebuilt (still ``WITHOUT ROWID``, same primary key and foreign key); the downgrade takes each
day's site back from its enrollment."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from canteen_adapters.storage.sql.migrations._ops import on_sqlite, rebuild_reservation_days

revision = "0004"
down_revision: str | None = "0003"


#: The booked days without their site (the upgrade's copy on SQLite)...
_DAYS = "SELECT enrollment_id, day, late FROM reservation_days"
#: ... and with the site of each day's enrollment (the downgrade's).
_DAYS_WITH_SITE = (
    "SELECT d.enrollment_id, d.day, e.site_id, d.late FROM reservation_days AS d "
    "JOIN enrollments AS e ON e.id = d.enrollment_id"
)


def upgrade() -> None:
    """Drop ``reservation_days.site_id``."""
    if on_sqlite():
        rebuild_reservation_days(_DAYS, site=False, with_rowid=False)
    else:
        op.drop_column("reservation_days", "site_id")


def downgrade() -> None:
    """Bring ``site_id`` back, filled from each day's enrollment."""
    if on_sqlite():
        rebuild_reservation_days(_DAYS_WITH_SITE, site=True, with_rowid=False)
        return
    op.add_column("reservation_days", sa.Column("site_id", sa.String(), nullable=True))
    op.execute(
        "UPDATE reservation_days SET site_id = e.site_id FROM enrollments AS e "
        "WHERE e.id = reservation_days.enrollment_id"
    )
    op.alter_column("reservation_days", "site_id", nullable=False)
