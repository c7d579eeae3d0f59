"""Booked days in one B-tree: the (site_id, day) index is dropped, SQLite stores the table
WITHOUT ROWID (the primary key is the table).

Headcounts and ``booked(site_id=...)`` start from the site's enrollments and read each one's
days through the primary key ``(enrollment_id, day)``, so the site index only slowed down
every insert (the rentrée writes millions of rows). On SQLite a rowid table kept the rows and
the primary key in two B-trees; ``WITHOUT ROWID`` keeps one. ``reservation_days`` is a leaf
(no table references it), so rebuilding it on SQLite with foreign keys on deletes nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

_INDEX = "ix_reservation_days_site_id_day"


def _rebuild_on_sqlite(*, with_rowid: bool) -> None:
    """Copy ``reservation_days`` into a new table with or without rowid, then swap them."""
    op.create_table(
        "reservation_days_rebuilt",
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("enrollment_id", "day", name="pk_reservation_days"),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["reservation_states.enrollment_id"],
            name="fk_reservation_days_enrollment_id_reservation_states",
            ondelete="CASCADE",
        ),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        "INSERT INTO reservation_days_rebuilt (enrollment_id, day, site_id, late) "
        "SELECT enrollment_id, day, site_id, late FROM reservation_days"
    )
    op.drop_table("reservation_days")  # its indexes go with it; nothing references it
    op.rename_table("reservation_days_rebuilt", "reservation_days")


def upgrade() -> None:
    """Drop the site index; on SQLite, rebuild the table without rowid."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(with_rowid=False)
    else:
        op.drop_index(_INDEX, table_name="reservation_days")


def downgrade() -> None:
    """Back to a rowid table with the (site_id, day) index."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(with_rowid=True)
    op.create_index(_INDEX, "reservation_days", ["site_id", "day"])
