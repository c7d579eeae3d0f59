"""Migrations: the packaged Alembic history builds exactly the tables the adapter uses, an
older SQLite database is upgraded without losing data, and enrollments keep their calendars
through migration 0006 (calendars stored apart) and back, and the catalog is filled from them
(0010), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa
from alembic import command, op
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from canteen_adapters.storage.sql import (
    SqlStorage,
    create_engine_for_url,
    current_revision,
    head_revision,
    upgrade,
)
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.enrollments import _calendar_key
from canteen_adapters.storage.sql.migrate import VERSION_TABLE, alembic_config
from canteen_adapters.storage.sql.migrations._ops import (
    tenant_columns,
    tenant_keyed,
    tenant_policy,
)
from canteen_adapters.storage.sql.tables import metadata
from canteen_adapters.storage.sql.tenancy import tenant_metadata
from canteen_core.config.deployment import StorageSettings
from canteen_core.config.serialization import unstructure
from canteen_core.domain.calendar import Period
from canteen_core.domain.catalog import ServiceEntry, SiteEntry
from canteen_core.domain.errors import ConfigurationError, StorageError
from canteen_core.domain.families import Household
from canteen_core.ports.storage import COLLECTIONS

from .samples import CALENDAR, SEPTEMBER, booked, enrollment, household


def _differences(engine: sa.Engine) -> list[object]:
    """What the migrated schema lacks or has more than the adapter's tables (on PostgreSQL,
    keyed by tenant with the registry, see :mod:`canteen_adapters.storage.sql.tenancy`)."""
    expected = tenant_metadata() if engine.dialect.name == "postgresql" else metadata
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(context, expected))


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


def _upgrade_failing_at_the_last_revision(url: str, schema: str | None) -> None:
    """From 0001, an upgrade whose last migration fails: the table it creates already exists."""
    assert upgrade(url, "0001", schema=schema) == "0001"
    engine = create_engine_for_url(url, schema=schema)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE reservation_months (x INTEGER)")
            connection.commit()
        with pytest.raises(StorageError, match="la migration de la base a échoué"):
            upgrade(engine)
        # Every migration ran in one transaction: 0002 to 0004 were undone with 0005.
        assert current_revision(engine) == "0001"
        assert "absences" not in sa.inspect(engine).get_table_names()
        with engine.connect() as connection:
            connection.exec_driver_sql("DROP TABLE reservation_months")
            connection.commit()
        assert upgrade(engine) == head_revision()
        assert "absences" in sa.inspect(engine).get_table_names()
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_a_failed_sqlite_upgrade_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    _upgrade_failing_at_the_last_revision(f"sqlite:///{tmp_path / 'failed.db'}", None)


@pytest.mark.postgres
def test_a_failed_postgres_upgrade_leaves_the_schema_as_it_was(
    postgres_dsn: str, pg_schema: str
) -> None:
    _upgrade_failing_at_the_last_revision(postgres_dsn, pg_schema)


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


def _as_json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _stored(engine: sa.Engine) -> dict[str, tuple[object, ...]]:
    """Each enrollment's stored body (parsed), its reservation state and month rows."""
    with engine.connect() as connection:
        bodies = dict(connection.exec_driver_sql("SELECT id, body FROM enrollments").all())
        states = {
            row[0]: tuple(row[1:])
            for row in connection.exec_driver_sql(
                "SELECT enrollment_id, version, late_cancelled FROM reservation_states"
            )
        }
        months: dict[str, list[tuple[object, ...]]] = {}
        for row in connection.exec_driver_sql(
            "SELECT enrollment_id, month, days, late FROM reservation_months ORDER BY month"
        ):
            months.setdefault(row[0], []).append((str(row[1]), int(row[2]), int(row[3])))
    return {
        enrollment_id: (_as_json(body), states.get(enrollment_id), months.get(enrollment_id))
        for enrollment_id, body in bodies.items()
    }


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_enrollments_keep_their_calendars_through_0006_and_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'calendars.db'}", None
    else:
        url, schema = request.getfixturevalue("postgres_dsn"), request.getfixturevalue("pg_schema")
    home = household("h1", children=3)
    strike = Period(name="Grève", first_day=date(2023, 10, 5), last_day=date(2023, 10, 5))
    enrolled = [
        enrollment(home, 0),
        enrollment(home, 1),
        attrs.evolve(enrollment(home, 2), calendar=CALENDAR.with_closures(strike)),
    ]
    book = booked(enrolled[0], SEPTEMBER, version=2)
    assert upgrade(url, "0005", schema=schema) == "0005"
    engine = create_engine_for_url(url, schema=schema)
    try:
        with engine.begin() as connection:
            # Rows as revision 0005 stored them: each body with its whole calendar.
            connection.execute(sa.insert(t.households), {"id": home.id, "body": unstructure(home)})
            connection.execute(
                sa.text(
                    "INSERT INTO children (id, household_id, diet, pai) VALUES (:i, :h, :d, :p)"
                ),
                [{"i": c.id, "h": home.id, "d": c.diet.value, "p": c.pai} for c in home.children],
            )
            for item in enrolled:
                row = {"id": item.id, "body": unstructure(item)}
                row.update(COLLECTIONS["enrollments"].key_values(item))
                connection.execute(
                    sa.text(
                        f"INSERT INTO enrollments ({', '.join(row)}) "
                        f"VALUES ({', '.join(':' + name for name in row)})"
                    ).bindparams(sa.bindparam("body", type_=t.JSON_TYPE)),
                    row,
                )
        # Bookings are saved through the storage once upgraded, then everything goes back.
        assert upgrade(engine) == head_revision()
        storage = SqlStorage.from_url(url, schema=schema)
        try:
            with storage.unit_of_work() as uow:
                uow.reservations.save(book, expected_version=0)
                uow.commit()
            with storage.unit_of_work(read_only=True) as uow:
                # 0010: the site and service the enrollments named, at version 1, the site
                # with the closures found in their calendars.
                site = enrolled[0].site
                assert list(uow.sites.list()) == [SiteEntry(site=site, closures=(strike,))]
                assert list(uow.services.list()) == [ServiceEntry(service=enrolled[0].service)]
        finally:
            storage.close()
        upgraded = _stored(engine)
        with engine.connect() as connection:
            keys = dict(
                connection.exec_driver_sql("SELECT id, calendar_key FROM enrollments").all()
            )
            calendars = {
                row[0]: _as_json(row[1])
                for row in connection.exec_driver_sql("SELECT key, body FROM service_calendars")
            }
        assert calendars == {
            _calendar_key(unstructure(item.calendar)): unstructure(item.calendar)
            for item in enrolled
        }
        assert len(calendars) == 2
        for item in enrolled:
            assert keys[item.id] == _calendar_key(unstructure(item.calendar))
            assert upgraded[item.id][0] == {
                name: value for name, value in unstructure(item).items() if name != "calendar"
            }
        assert _differences(engine) == []

        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0005")
            connection.commit()
        assert current_revision(engine) == "0005"
        assert "service_calendars" not in sa.inspect(engine).get_table_names()
        downgraded = _stored(engine)
        for item in enrolled:
            body, state, months = downgraded[item.id]
            assert body == unstructure(item)
            assert (state, months) == upgraded[item.id][1:]
        assert downgraded[enrolled[0].id][2]  # the booked months came through

        assert upgrade(engine) == head_revision()
        assert _stored(engine) == upgraded
    finally:
        engine.dispose()
    storage = SqlStorage.from_url(url, schema=schema)
    try:
        with storage.unit_of_work() as uow:
            assert list(uow.enrollments.list()) == enrolled
            assert uow.enrollments.find_many([item.id for item in enrolled]) == {
                item.id: item for item in enrolled
            }
            assert uow.reservations.load(enrolled[0].id) == book
            # The upgrade's keys are the storage's: storing them again adds no calendar.
            uow.enrollments.save(enrolled[1])
            assert (
                uow.connection()
                .exec_driver_sql("SELECT count(*) FROM service_calendars")
                .scalar_one()
                == 2
            )
    finally:
        storage.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_downgrading_to_the_first_revision_keeps_the_booked_days(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # On SQLite, 0002's downgrade once rebuilt reservation_states in batch mode: dropping the
    # old table cascaded to every booked day.
    if backend == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'down.db'}", None
    else:
        url, schema = request.getfixturevalue("postgres_dsn"), request.getfixturevalue("pg_schema")
    home = household("h1")
    enrolled = enrollment(home)
    book = booked(enrolled, SEPTEMBER, version=1)
    storage = SqlStorage.from_url(url, schema=schema)
    try:
        with storage.unit_of_work() as uow:
            uow.households.add(home)
            uow.enrollments.add(enrolled)
            uow.reservations.save(book, expected_version=0)
            uow.commit()
    finally:
        storage.close()
    engine = create_engine_for_url(url, schema=schema)
    try:
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0001")
            connection.commit()
        assert current_revision(engine) == "0001"
        with engine.connect() as connection:
            days = connection.exec_driver_sql(
                "SELECT day FROM reservation_days ORDER BY day"
            ).scalars()
            assert [day if isinstance(day, date) else date.fromisoformat(day) for day in days] == [
                *book.booked_days()
            ]
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()
    storage = SqlStorage.from_url(url, schema=schema)
    try:
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.reservations.load(enrolled.id).booked_days() == book.booked_days()
    finally:
        storage.close()


def test_a_batch_of_households_reads_a_month_of_attendance_through_one_index(
    tmp_path: Path,
) -> None:
    # Billing's read: 200 households, a month. With one index per column and statistics,
    # SQLite chose the day index and read the whole month for every batch (0007).
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    assert upgrade(url) == head_revision()
    engine = create_engine_for_url(url)
    try:
        with engine.connect() as connection:
            rows = [
                (
                    f"a{h}-{m}-{d}",
                    "{}",
                    f"e{h}",
                    f"h{h:05d}",
                    "s1",
                    f"2023-{m:02d}-{d:02d}",
                    "absent",
                )
                for h in range(2_000)
                for m in (9, 10)
                for d in (4, 11)
            ]
            connection.exec_driver_sql(
                "INSERT INTO attendance (id, body, enrollment_id, household_id, site_id, day, "
                "presence) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            connection.exec_driver_sql("ANALYZE")
            households = [f"h{h:05d}" for h in range(0, 2_000, 10)]
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT body FROM attendance WHERE household_id IN "
                f"({', '.join('?' * len(households))}) AND day >= ? AND day <= ?",
                (*households, "2023-09-01", "2023-09-30"),
            ).all()
            connection.commit()
        assert "ix_attendance_household_id_day" in " ".join(str(row[-1]) for row in plan)
    finally:
        engine.dispose()


def _single_commune_database(url: str, schema: str | None) -> sa.Engine:
    """A database at revision 0012 (one commune) holding a household."""
    assert upgrade(url, "0012", schema=schema) == "0012"
    engine = create_engine_for_url(url, schema=schema)
    with engine.begin() as connection:
        home = household("h-old")
        connection.execute(sa.insert(t.households), {"id": home.id, "body": unstructure(home)})
    return engine


def _downgrade(engine: sa.Engine, revision: str) -> None:
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), revision)
        connection.commit()


def test_a_sqlite_file_keeps_its_one_commune_through_0013(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    engine = _single_commune_database(url, None)
    try:
        assert upgrade(url, tenant="RONDE") == head_revision()
        assert _differences(engine) == []
        columns = {c["name"] for c in sa.inspect(engine).get_columns("households")}
        assert "tenant_id" not in columns  # one file per commune: no tenant column
        _downgrade(engine, "0012")
        assert current_revision(engine) == "0012"
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()
    storage = SqlStorage.from_url(url, tenant="RONDE")
    try:
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.households.get("h-old").id == "h-old"
    finally:
        storage.close()


@pytest.mark.postgres
def test_a_single_commune_postgres_database_becomes_the_deployments_tenant(
    postgres_dsn: str, pg_schema: str
) -> None:
    engine = _single_commune_database(postgres_dsn, pg_schema)
    try:
        assert upgrade(postgres_dsn, schema=pg_schema, tenant="RONDE") == head_revision()
        assert _differences(engine) == []
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT id, tenant_id FROM households").all()
            assert [tuple(row) for row in rows] == [("h-old", "RONDE")]
            registered = connection.exec_driver_sql("SELECT id, name FROM tenants").all()
            assert [tuple(row) for row in registered] == [("RONDE", "RONDE")]
        storage = SqlStorage.from_url(postgres_dsn, schema=pg_schema, tenant="RONDE")
        try:
            with storage.unit_of_work() as uow:
                assert uow.households.get("h-old").id == "h-old"
                uow.households.add(household("h-new"))
                uow.commit()
        finally:
            storage.close()
        # Back to one commune per database: the rows stay, the tenant column goes.
        _downgrade(engine, "0012")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("households")}
        assert "tenant_id" not in columns
        assert "tenants" not in sa.inspect(engine).get_table_names()
        with engine.connect() as connection:
            ids = connection.exec_driver_sql("SELECT id FROM households ORDER BY id").scalars()
            assert list(ids) == ["h-new", "h-old"]
        # With a second commune's rows, going back below 0013 is refused, changing nothing.
        assert upgrade(postgres_dsn, schema=pg_schema, tenant="RONDE") == head_revision()
        other = SqlStorage.from_url(postgres_dsn, schema=pg_schema, tenant="CARRE")
        try:
            with other.unit_of_work() as uow:
                uow.households.add(household("h-old"))  # the same id, another commune
                uow.commit()
        finally:
            other.close()
        with pytest.raises(ValueError, match="several communes"):
            _downgrade(engine, "0012")
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def _later_table(engine: sa.Engine) -> None:
    """What a revision after 0013 does to create a table: keyed by tenant on PostgreSQL."""
    with engine.connect() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            op.create_table(
                "later",
                sa.Column("id", sa.String(), nullable=False),
                *tenant_columns(),
                sa.PrimaryKeyConstraint(*tenant_keyed("id"), name="pk_later"),
            )
            tenant_policy("later")
        connection.commit()


def test_a_later_sqlite_table_has_no_tenant(tmp_path: Path) -> None:
    engine = create_engine_for_url(f"sqlite:///{tmp_path / 'later.db'}")
    try:
        _later_table(engine)
        assert [c["name"] for c in sa.inspect(engine).get_columns("later")] == ["id"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_later_postgres_table_is_keyed_by_tenant(postgres_dsn: str, pg_schema: str) -> None:
    assert upgrade(postgres_dsn, schema=pg_schema) == head_revision()
    engine = create_engine_for_url(postgres_dsn, schema=pg_schema, tenant="RONDE")
    try:
        _later_table(engine)
        assert sa.inspect(engine).get_pk_constraint("later")["constrained_columns"] == [
            "tenant_id",
            "id",
        ]
        with engine.connect() as connection:
            connection.exec_driver_sql("INSERT INTO later (id) VALUES ('x')")
            connection.commit()
            row = connection.exec_driver_sql("SELECT id, tenant_id FROM later").one()
            assert tuple(row) == ("x", "RONDE")
            forced = connection.exec_driver_sql(
                "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'later'::regclass"
            ).scalar_one()
            assert forced is True
    finally:
        engine.dispose()


def test_0015_adds_the_campaign_tables_and_removes_them_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'campaigns.db'}"
    assert upgrade(url, "0014") == "0014"
    engine = create_engine_for_url(url)
    try:
        assert "campaigns" not in sa.inspect(engine).get_table_names()
        assert upgrade(engine, "0015") == "0015"
        names = sa.inspect(engine).get_table_names()
        assert {"campaigns", "campaign_answers"} <= set(names)
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("campaign_answers")}
        assert "ix_campaign_answers_campaign_id" in indexes
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0014")
            connection.commit()
        assert "campaign_answers" not in sa.inspect(engine).get_table_names()
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()
