"""Booked days as month bit masks: ``reservation_months (enrollment_id, month, days, late)``
replaces ``reservation_days (enrollment_id, day, late)``.

One row per enrollment and month: ``month`` is the month's first day, bit ``d - 1`` of ``days``
is set when day ``d`` of the month is booked and the same bit of ``late`` when that day was
booked late (the old per-day ``late`` flag). A school year is about ten rows per enrollment
instead of about 140 (the rentrée wrote millions of rows). SQLite stores the table
``WITHOUT ROWID`` like ``reservation_days`` since 0003. The upgrade folds each month's days into
masks; the downgrade expands them back to one row per day."""

from __future__ import annotations

from alembic import op

from canteen_adapters.storage.sql.migrations._ops import (
    on_sqlite,
    reservation_days,
    reservation_months,
)

revision = "0005"
down_revision: str | None = "0004"

#: 0 to 30: the bit of each day of a month.
_BITS = "WITH RECURSIVE bits (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM bits WHERE i < 30) "


def upgrade() -> None:
    """Create ``reservation_months`` from ``reservation_days``, then drop the latter."""
    reservation_months("reservation_months", "reservation_states")
    if on_sqlite():
        month = "date(day, 'start of month')"
        bit = "(1 << (CAST(strftime('%d', day) AS INTEGER) - 1))"
        days, late = f"sum({bit})", f"sum(CASE WHEN late THEN {bit} ELSE 0 END)"
    else:
        month = "CAST(date_trunc('month', day) AS date)"
        bit = "(CAST(1 AS bigint) << (CAST(extract(day FROM day) AS integer) - 1))"
        days = f"bit_or({bit})"
        late = f"coalesce(bit_or(CASE WHEN late THEN {bit} END), 0)"
    # A day is one row: its bit is counted once, so a sum is the same as a bitwise or.
    op.execute(
        "INSERT INTO reservation_months (enrollment_id, month, days, late) "
        f"SELECT enrollment_id, {month}, {days}, {late} FROM reservation_days "
        f"GROUP BY enrollment_id, {month}"
    )
    op.drop_table("reservation_days")  # nothing references it


def downgrade() -> None:
    """Back to one ``reservation_days`` row per booked day."""
    reservation_days("reservation_days", site=False, late=True, with_rowid=False)
    if on_sqlite():
        day = "date(m.month, '+' || bits.i || ' days')"
        late = "((m.late >> bits.i) & 1)"
    else:
        day = "m.month + bits.i"
        late = "((m.late >> bits.i) & 1) = 1"
    op.execute(
        _BITS + "INSERT INTO reservation_days (enrollment_id, day, late) "
        f"SELECT m.enrollment_id, {day}, {late} FROM reservation_months AS m "
        "JOIN bits ON (m.days >> bits.i) & 1 = 1"
    )
    op.drop_table("reservation_months")
