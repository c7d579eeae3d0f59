"""PostgreSQL compresses new invoice bodies with LZ4 instead of pglz.

An invoice body (about 2 kB of ``jsonb``) makes its row long enough for PostgreSQL to
compress it: with pglz a billing batch's insert spent as much server CPU compressing as
parsing the bodies, LZ4 compresses to nearly the same size at a fraction of the cost (and
decompresses faster for the régularisation reads). Only new values are compressed so; stored
rows are untouched and read back the same. Nothing on SQLite, nor on a server built without
LZ4 (the setting then lists no ``lz4``): the bodies keep pglz there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision: str | None = "0018"

_LZ4 = sa.text(
    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
)


def _lz4_available() -> bool:
    bind = op.get_bind()
    return bind.dialect.name == "postgresql" and bool(bind.execute(_LZ4).scalar())


def upgrade() -> None:
    """Compress the invoices' new bodies with LZ4 where the server has it."""
    if _lz4_available():
        op.execute("ALTER TABLE invoices ALTER COLUMN body SET COMPRESSION lz4")


def downgrade() -> None:
    """Back to the server's default compression for new bodies."""
    if _lz4_available():
        op.execute("ALTER TABLE invoices ALTER COLUMN body SET COMPRESSION default")
