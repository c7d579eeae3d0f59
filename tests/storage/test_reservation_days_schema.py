"""Migrations 0003 and 0004: booked days live in one B-tree (no site index; WITHOUT ROWID on
SQLite), then without a site column; the downgrades bring the old layouts back with the rows
(since 0005 the days are month masks, see ``test_reservation_months_schema.py``)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from canteen_adapters.storage.sql import (
    SqlStorage,
    create_engine_for_url,
    current_revision,
    head_revision,
    upgrade,
)
from canteen_adapters.storage.sql.migrate import alembic_config

from .samples import SEPTEMBER, booked, enrollment, household


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

        assert upgrade(url, "0003") == "0003"
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


def _days_columns(engine: sa.Engine) -> list[str]:
    return [column["name"] for column in sa.inspect(engine).get_columns("reservation_days")]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_booked_days_lose_their_site_and_the_downgrade_takes_it_from_the_enrollment(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'site.db'}", None
    else:
        url, schema = request.getfixturevalue("postgres_dsn"), request.getfixturevalue("pg_schema")
    home = household("h1")
    enrolled = enrollment(home)
    storage = SqlStorage.from_url(url, schema=schema)  # at head: month masks
    try:
        with storage.unit_of_work() as uow:
            uow.households.add(home)
            uow.enrollments.add(enrolled)
            uow.reservations.save(booked(enrolled, SEPTEMBER), expected_version=0)
            uow.commit()
    finally:
        storage.close()
    engine = create_engine_for_url(url, schema=schema)
    try:
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0003")
            connection.commit()
        assert current_revision(engine) == "0003"
        with engine.connect() as connection:
            sites = connection.exec_driver_sql(
                "SELECT DISTINCT site_id FROM reservation_days"
            ).all()
        assert sites == [(enrolled.site.id,)]
        assert upgrade(engine, "0004") == "0004"
        assert "site_id" not in _days_columns(engine)
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()
    storage = SqlStorage.from_url(url, schema=schema)
    try:
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.reservations.load(enrolled.id).booked_days() == tuple(SEPTEMBER)
    finally:
        storage.close()
