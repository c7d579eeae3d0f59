"""Migration 0003: booked days live in one B-tree (no site index; WITHOUT ROWID on SQLite),
and the downgrade brings the old layout back with the rows."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from canteen_adapters.storage.sql import create_engine_for_url, current_revision, upgrade
from canteen_adapters.storage.sql.migrate import alembic_config


def _layout(engine: sa.Engine) -> tuple[str, list[str], int]:
    with engine.connect() as connection:
        ddl = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'reservation_days'"
        ).scalar_one()
        indexes = [
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'reservation_days' AND name NOT LIKE 'sqlite_autoindex%'"
            )
        ]
        count = connection.exec_driver_sql("SELECT count(*) FROM reservation_days").scalar_one()
    return str(ddl), indexes, int(count)


def test_booked_days_are_one_btree_and_the_downgrade_restores_the_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'days.db'}"
    assert upgrade(url, "0002") == "0002"
    engine = create_engine_for_url(url)
    try:
        # A bare connection (foreign keys off by default): the days need only their state row.
        with closing(sqlite3.connect(tmp_path / "days.db")) as bare, bare:
            bare.execute("INSERT INTO reservation_states (enrollment_id, version) VALUES ('e1', 1)")
            bare.execute(
                "INSERT INTO reservation_days (enrollment_id, day, site_id, late) VALUES "
                "('e1', '2023-09-04', 's1', 0), ('e1', '2023-09-05', 's1', 1)"
            )
        ddl, indexes, count = _layout(engine)
        assert "WITHOUT ROWID" not in ddl
        assert indexes == ["ix_reservation_days_site_id_day"]

        assert upgrade(url) == "0003"
        ddl, indexes, count = _layout(engine)
        assert "WITHOUT ROWID" in ddl
        assert indexes == []
        assert count == 2

        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0002")
            connection.commit()
        assert current_revision(engine) == "0002"
        ddl, indexes, count = _layout(engine)
        assert "WITHOUT ROWID" not in ddl
        assert indexes == ["ix_reservation_days_site_id_day"]
        assert count == 2
    finally:
        engine.dispose()
