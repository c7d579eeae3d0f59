"""Migrations: the packaged Alembic history builds exactly the tables the adapter uses, and an
older SQLite database is upgraded without losing data."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from canteen_adapters.storage.sql import (
    SqlStorage,
    create_engine_for_url,
    current_revision,
    head_revision,
    upgrade,
)
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.migrate import VERSION_TABLE
from canteen_adapters.storage.sql.tables import metadata
from canteen_core.deployment import StorageSettings
from canteen_core.errors import ConfigurationError
from canteen_core.families import Household
from canteen_core.ports import COLLECTIONS
from canteen_core.serialization import unstructure

from .samples import SEPTEMBER, enrollment, household


def _differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(context, metadata))


def test_sqlite_migrations_match_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    assert upgrade(url) == head_revision()
    engine = create_engine_for_url(url)
    try:
        assert _differences(engine) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_the_tables(postgres_dsn: str, pg_schema: str) -> None:
    assert upgrade(postgres_dsn, schema=pg_schema) == head_revision()
    engine = create_engine_for_url(postgres_dsn, schema=pg_schema)
    try:
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    assert upgrade(url) == upgrade(url) == head_revision()


def test_an_old_sqlite_file_is_upgraded_without_data_loss(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert upgrade(url, "0001") == "0001"
    home = household("h-old", children=2)
    enrolled = enrollment(home)
    engine = create_engine_for_url(url)
    try:
        with engine.begin() as connection:
            # Rows exactly as revision 0001 stored them: no late markers existed yet.
            connection.execute(sa.insert(t.households), {"id": home.id, "body": unstructure(home)})
            connection.execute(
                sa.text(
                    "INSERT INTO children (id, household_id, diet, pai) VALUES (:i, :h, :d, :p)"
                ),
                [{"i": c.id, "h": home.id, "d": c.diet.value, "p": c.pai} for c in home.children],
            )
            row = {"id": enrolled.id, "body": unstructure(enrolled)}
            row.update(COLLECTIONS["enrollments"].key_values(enrolled))
            connection.execute(sa.insert(t.document_tables["enrollments"]), row)
            connection.execute(
                sa.text("INSERT INTO reservation_states (enrollment_id, version) VALUES (:e, 3)"),
                {"e": enrolled.id},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO reservation_days (enrollment_id, day, site_id) VALUES (:e, :d, :s)"
                ),
                [{"e": enrolled.id, "d": day, "s": enrolled.site.id} for day in SEPTEMBER],
            )
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()

    # Opening with migrate = false refuses an old schema with a clear message...
    with pytest.raises(ConfigurationError, match="canteen db upgrade") as info:
        SqlStorage.open(StorageSettings(url=url, migrate=False))
    assert info.value.path == "storage.migrate"
    # ... and opening normally upgrades it, keeping every row.
    storage = SqlStorage.open(StorageSettings(url=url))
    try:
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.households.get("h-old") == home
            assert uow.households.of_child(home.children[1].id) == home
            assert uow.enrollments.get(enrolled.id) == enrolled
            book = uow.reservations.load(enrolled.id)
            assert book.booked_days() == tuple(SEPTEMBER)
            assert book.version == 3
            assert book.late_booked_days() == book.late_cancelled_days() == ()
    finally:
        storage.close()
    engine = create_engine_for_url(url)
    try:
        assert current_revision(engine) == head_revision()
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_households_survive_as_typed_values() -> None:
    assert isinstance(household("h"), Household)


def test_a_bad_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        create_engine_for_url("mysql://x@y/z")
    assert info.value.path == "storage.url"
