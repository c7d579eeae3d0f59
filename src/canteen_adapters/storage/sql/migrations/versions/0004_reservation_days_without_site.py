"""Booked days without their site: ``reservation_days`` is ``(enrollment_id, day, late)``.

Since 0003 headcounts and ``booked(site_id=...)`` reach the site through the enrollment; the
copy of ``site_id`` in every booked day was only written (millions of times at the rentrée,
and rewritten whenever an enrollment changed site), never read. On SQLite the table is
rebuilt (still ``WITHOUT ROWID``, same primary key and foreign key); the downgrade takes each
day's site back from its enrollment.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def _rebuild_on_sqlite(*, with_site: bool) -> None:
    """Copy ``reservation_days`` into a new table with or without ``site_id``, then swap."""
    site = [sa.Column("site_id", sa.String(), nullable=False)] if with_site else []
    op.create_table(
        "reservation_days_rebuilt",
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *site,
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("enrollment_id", "day", name="pk_reservation_days"),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["reservation_states.enrollment_id"],
            name="fk_reservation_days_enrollment_id_reservation_states",
            ondelete="CASCADE",
        ),
        sqlite_with_rowid=False,
    )
    if with_site:
        op.execute(
            "INSERT INTO reservation_days_rebuilt (enrollment_id, day, site_id, late) "
            "SELECT d.enrollment_id, d.day, e.site_id, d.late FROM reservation_days AS d "
            "JOIN enrollments AS e ON e.id = d.enrollment_id"
        )
    else:
        op.execute(
            "INSERT INTO reservation_days_rebuilt (enrollment_id, day, late) "
            "SELECT enrollment_id, day, late FROM reservation_days"
        )
    op.drop_table("reservation_days")  # nothing references it
    op.rename_table("reservation_days_rebuilt", "reservation_days")


def upgrade() -> None:
    """Drop ``reservation_days.site_id``."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(with_site=False)
    else:
        op.drop_column("reservation_days", "site_id")


def downgrade() -> None:
    """Bring ``site_id`` back, filled from each day's enrollment."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(with_site=True)
        return
    op.add_column("reservation_days", sa.Column("site_id", sa.String(), nullable=True))
    op.execute(
        "UPDATE reservation_days SET site_id = e.site_id FROM enrollments AS e "
        "WHERE e.id = reservation_days.enrollment_id"
    )
    op.alter_column("reservation_days", "site_id", nullable=False)
