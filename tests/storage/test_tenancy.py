"""Two communes in one PostgreSQL database cannot see each other: through every repository,
a raw SQL query of canteen's role, the CLI and the HTTP API.

The database is migrated by the superuser (the tables' owner); canteen connects as a
dedicated role (``NOSUPERUSER NOBYPASSRLS``, granted the rows' DML only), as the hosting
documentation says. ``canteen demo`` runs for RONDE, then for CARRE in the same database: the
same seeded households, ids, billing keys and invoice numbers, stored twice, one set per
commune.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import TestClient

from canteen_adapters.cli import main
from canteen_adapters.cli.demo import ADMIN, CONCERTO_ID, SHOWN_AT, run_demo
from canteen_adapters.cli.demo import run as demo_run
from canteen_adapters.cli.demo.commune import demo_deployment_text
from canteen_adapters.paperstore.database import DatabaseDocumentStore
from canteen_adapters.storage.sql import SqlStorage, create_engine_for_url
from canteen_adapters.storage.sql.tenancy import tenant_metadata
from canteen_adapters.web import WebSettings, create_app
from canteen_core.domain.actors import Role
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConflictError, NotFoundError
from canteen_core.ports.document_store import DocumentStoreSettings
from canteen_core.services import Canteen
from canteen_core.testing import require_postgres_dsn
from canteen_core.testing.samples import household

from .conftest import app_schema

pytestmark = pytest.mark.postgres

COMMUNES = ("RONDE", "CARRE")
DOCUMENTS = ("enrollments", "attendance", "absences", "tariffs", "invoices", "payments")
ALL_DOCUMENTS = (
    *DOCUMENTS,
    "change_requests",
    "credit_notes",
    "refunds",
    "mandates",
    "notifications_audit",
    "family_papers",
    "enrollment_requests",
    "payment_requests",
)
TABLES = sorted(name for name in tenant_metadata().tables if name != "tenants")


@attrs.frozen
class Shared:
    """The shared database: the owner's DSN, canteen's role's DSN, the schema, and each
    commune's deployment file."""

    owner_dsn: str
    app_dsn: str
    schema: str
    configs: dict[str, Path]

    def owner(self) -> sa.Engine:
        return create_engine_for_url(self.owner_dsn, schema=self.schema)

    def storage(self, tenant: str) -> SqlStorage:
        return SqlStorage.from_url(self.app_dsn, schema=self.schema, tenant=tenant)


def _deployment(app_dsn: str, schema: str, tenant: str) -> str:
    text = demo_deployment_text("unused.db")
    storage = f'[storage]\nurl = "{app_dsn}"\nschema = "{schema}"\ntenant = "{tenant}"\n'
    return text.replace('[storage]\nurl = "sqlite:///unused.db"\n', storage)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    with app_schema("tenancy") as (_, app_url, schema):
        configs: dict[str, Path] = {}
        for tenant in COMMUNES:
            folder = tmp_path_factory.mktemp(tenant.lower())
            configs[tenant] = folder / "canteen.toml"
            configs[tenant].write_text(_deployment(app_url, schema, tenant), encoding="utf-8")
        yield Shared(
            owner_dsn=require_postgres_dsn(), app_dsn=app_url, schema=schema, configs=configs
        )


@pytest.fixture(scope="module")
def demos(shared: Shared) -> dict[str, Any]:
    """Each commune's demo report, RONDE's first (the demo reads the file it is given)."""
    reports = {}
    with pytest.MonkeyPatch.context() as patch:
        for tenant in COMMUNES:
            patch.setattr(demo_run, "deployment_file", lambda _, t=tenant: shared.configs[t])
            reports[tenant] = run_demo(shared.configs[tenant].with_name("x.db"), households=3)
    return reports


def _counts(connection: sa.Connection) -> dict[str, int]:
    return {
        table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
        for table in TABLES
    }


@contextmanager
def _as_app(shared: Shared, tenant: str | None) -> Iterator[sa.Connection]:
    """A raw connection of canteen's role, in a transaction working for ``tenant``."""
    engine = sa.create_engine(sa.make_url(shared.app_dsn).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SET search_path = {shared.schema}")
            if tenant is not None:
                connection.exec_driver_sql(f"SET LOCAL canteen.tenant = '{tenant}'")
            yield connection
            connection.rollback()
    finally:
        engine.dispose()


def _entries(statements: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    return {
        household_id: [(e.day, e.kind, e.label, e.debit, e.credit) for e in statement.entries]
        for household_id, statement in statements.items()
    }


def test_the_same_month_runs_in_each_commune_apart(demos: dict[str, Any]) -> None:
    ronde, carre = demos["RONDE"], demos["CARRE"]
    assert [h.id for h in carre.households] == [h.id for h in ronde.households]
    assert len(ronde.households) == 4  # three synthetic households and CONCERTO
    # Nothing of RONDE's was seen while billing CARRE: the same entries (but the cash
    # payment's random id).
    assert _entries(carre.statements) == _entries(ronde.statements)
    assert carre.concerto_page == ronde.concerto_page


def test_a_raw_query_of_canteens_role_sees_only_its_commune(
    shared: Shared, demos: dict[str, Any]
) -> None:
    counts = {}
    for tenant in COMMUNES:
        with _as_app(shared, tenant) as connection:
            counts[tenant] = _counts(connection)
            for table in TABLES:
                seen = connection.exec_driver_sql(f"SELECT DISTINCT tenant_id FROM {table}")
                assert set(seen.scalars()) <= {tenant}, table
    assert counts["RONDE"] == counts["CARRE"]
    filled = {table for table, count in counts["RONDE"].items() if count}
    assert {"households", "enrollments", "invoices", "payments", "audit_log", "outbox"} <= filled
    with _as_app(shared, None) as connection:  # no tenant named: nothing at all
        assert set(_counts(connection).values()) == {0}
    with _as_app(shared, "NORD") as connection:  # a commune with no rows
        assert set(_counts(connection).values()) == {0}
    owner = shared.owner()
    try:
        with owner.connect() as connection:  # the superuser sees both (bypasses the policies)
            assert _counts(connection) == {t: 2 * n for t, n in counts["RONDE"].items()}
            forced = connection.exec_driver_sql(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relrowsecurity "
                "AND relforcerowsecurity AND relnamespace = current_schema()::regnamespace"
            )
            assert sorted(forced.scalars()) == TABLES
    finally:
        owner.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO households (id, body, tenant_id) VALUES ('X', '{}', 'CARRE')",
        "UPDATE households SET tenant_id = 'CARRE' WHERE id = 'CONCERTO'",
        "INSERT INTO outbox (id, body, status, next_attempt_at, created_at, tenant_id) "
        "VALUES ('X', '{}', 'pending', now(), now(), 'CARRE')",
    ],
)
def test_canteens_role_cannot_write_another_communes_rows(
    shared: Shared, demos: dict[str, Any], statement: str
) -> None:
    with (
        _as_app(shared, "RONDE") as connection,
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
    ):
        connection.exec_driver_sql(statement)


def test_canteens_role_cannot_change_or_delete_another_communes_rows(
    shared: Shared, demos: dict[str, Any]
) -> None:
    with _as_app(shared, "RONDE") as connection:
        for table in TABLES:
            assert (
                connection.exec_driver_sql(
                    f"DELETE FROM {table} WHERE tenant_id = 'CARRE'"
                ).rowcount
                == 0
            )
        changed = connection.exec_driver_sql(
            "UPDATE invoices SET body = '{}' WHERE tenant_id <> 'RONDE'"
        )
        assert changed.rowcount == 0
    with _as_app(shared, "CARRE") as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM invoices").scalar_one() > 0


def _first(items: Iterator[Any]) -> Any:
    return next(iter(items))


def test_every_repository_of_another_commune_is_empty(
    shared: Shared, demos: dict[str, Any]
) -> None:
    ronde, nord = shared.storage("RONDE"), shared.storage("NORD")
    try:
        with ronde.unit_of_work(read_only=True) as uow:
            documents = {
                name: _first(getattr(uow, name).list())
                for name in (
                    "enrollments",
                    "attendance",
                    "absences",
                    "tariffs",
                    "invoices",
                    "payments",
                )
            }
            site = _first(uow.sites.list())
            service = _first(uow.services.list())
            account = _first(uow.accounts.list())
            message = uow.outbox.records()[0]
            entry = _first(uow.audit.entries("RONDE"))
        with nord.unit_of_work(read_only=True) as uow:
            assert uow.households.count() == 0
            assert list(uow.households.ids()) == []
            assert uow.households.find(CONCERTO_ID) is None
            assert uow.households.of_guardian("concerto-maman") == []
            for name, item in documents.items():
                repository = getattr(uow, name)
                assert repository.count() == 0, name
                assert repository.find(item.id) is None, name
            for name in ALL_DOCUMENTS[len(DOCUMENTS) :]:
                assert getattr(uow, name).count() == 0, name
            assert uow.sites.find(site.id) is None
            assert uow.services.find(service.id) is None
            with pytest.raises(NotFoundError):
                uow.reservations.load(documents["enrollments"].id)
            invoice = documents["invoices"]
            assert uow.invoices.find_by_billing_key(invoice.billing_key) is None
            assert uow.invoices.billed_keys([invoice.billing_key]) == frozenset()
            assert list(uow.accounts.list()) == []
            assert uow.accounts.find_by_username(account.username) is None
            assert uow.outbox.get(message.id) is None
            assert uow.outbox.records() == []
            assert uow.audit.last(entry.commune) is None
            assert list(uow.audit.entries(entry.commune)) == []
    finally:
        ronde.close()
        nord.close()


def _snapshot(storage: SqlStorage) -> dict[str, list[Any]]:
    """Every document of every collection, every household, site and service."""
    with storage.unit_of_work(read_only=True) as uow:
        found = {name: list(getattr(uow, name).list()) for name in ALL_DOCUMENTS}
        found["households"] = sorted(uow.households.all(), key=lambda home: home.id)
        found["sites"] = list(uow.sites.list())
        found["services"] = list(uow.services.list())
        return found


def test_writes_of_another_commune_never_reach_its_rows(
    shared: Shared, demos: dict[str, Any]
) -> None:
    ronde, ouest = shared.storage("RONDE"), shared.storage("OUEST")
    try:
        before = _snapshot(ronde)
        with ouest.unit_of_work() as uow:
            for name in ALL_DOCUMENTS:
                repository = getattr(uow, name)
                for item in before[name][:1]:
                    with pytest.raises(NotFoundError):
                        repository.remove(item.id)
                    with contextlib.suppress(ConflictError):  # refers to a row OUEST lacks
                        repository.save(item)  # OUEST's own row, or refused
            for home in before["households"][:1]:
                with pytest.raises(NotFoundError):
                    uow.households.remove(home.id)
                uow.households.save(attrs.evolve(home, resident=not home.resident))
            for site in before["sites"][:1]:
                saved = attrs.evolve(site, version=site.version + 1)
                with pytest.raises(ConflictError):  # OUEST has no version of it to save over
                    uow.sites.save(saved, expected_version=site.version)
            uow.commit()
        assert _snapshot(ronde) == before
    finally:
        ronde.close()
        ouest.close()


def test_a_commune_saving_a_shared_id_leaves_the_others_row(
    shared: Shared, demos: dict[str, Any]
) -> None:
    ronde, carre = shared.storage("RONDE"), shared.storage("CARRE")
    try:
        with carre.unit_of_work() as uow:
            home = uow.households.get(CONCERTO_ID)
            assert home.resident
            uow.households.save(attrs.evolve(home, resident=False))
            uow.households.add(household("CARRE-SEUL"))
            uow.commit()
        with ronde.unit_of_work(read_only=True) as uow:
            assert uow.households.get(CONCERTO_ID).resident
            assert uow.households.find("CARRE-SEUL") is None
        with ronde.unit_of_work() as uow:  # RONDE adds the same id: its own row
            uow.households.add(household("CARRE-SEUL"))
            uow.households.remove("CARRE-SEUL")
            uow.commit()
        with carre.unit_of_work(read_only=True) as uow:
            assert uow.households.get("CARRE-SEUL").id == "CARRE-SEUL"
    finally:
        ronde.close()
        carre.close()


def test_the_cli_of_one_commune_never_shows_the_others(
    shared: Shared, demos: dict[str, Any]
) -> None:
    runner = CliRunner()
    with Canteen.open(shared.configs["CARRE"], clock=FixedClock(SHOWN_AT)) as canteen:
        canteen.families.create_household(ADMIN, household("CARRE-CLI"))
    listed = {}
    for tenant in COMMUNES:
        result = runner.invoke(
            main, ["households", "list", "--config", str(shared.configs[tenant]), "--json"]
        )
        assert result.exit_code == 0, result.output
        listed[tenant] = result.output
    assert "CARRE-CLI" in listed["CARRE"]
    assert "CARRE-CLI" not in listed["RONDE"]
    owner_url = shared.owner_dsn
    added = runner.invoke(
        main,
        [
            "tenants",
            "add",
            "CARRE",
            "--name",
            "Carré",
            "--secret",
            "smtp.password=CARRE_SMTP",
            "--config",
            str(shared.configs["CARRE"]),
            "--url",
            owner_url,
        ],
    )
    assert added.exit_code == 0, added.output
    runner.invoke(
        main,
        [
            "tenants",
            "add",
            "RONDE",
            "--name",
            "Ronde",
            "--config",
            str(shared.configs["RONDE"]),
            "--url",
            owner_url,
        ],
    )
    mine = runner.invoke(main, ["tenants", "list", "--config", str(shared.configs["RONDE"])])
    assert mine.exit_code == 0, mine.output
    assert "RONDE" in mine.output  # canteen's role: its own commune
    assert "CARRE" not in mine.output
    every = runner.invoke(
        main, ["tenants", "list", "--config", str(shared.configs["RONDE"]), "--url", owner_url]
    )
    assert "RONDE" in every.output  # the owner: the whole registry
    assert "CARRE" in every.output
    refused = runner.invoke(
        main,
        ["tenants", "add", "SUD", "--name", "Sud", "--config", str(shared.configs["RONDE"])],
    )
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output


def _welcome(canteen: Canteen, account_id: str) -> tuple[str, str]:
    """The username and temporary password of ``account_id``'s welcome e-mail."""
    text = [
        r.message.text_body
        for r in canteen.accounts.outbox(ADMIN)
        if r.message.kind == "invitation" and r.message.account_id == account_id
    ][-1]
    username = re.search(r"Nom d'utilisateur : (\S+)", text)
    password = re.search(r"Mot de passe provisoire : (\S+)", text)
    token = re.search(r"[?&]token=(\S+)", text)
    assert username
    assert password
    assert token
    return token.group(1), password.group(1)


def test_the_http_api_of_one_commune_never_shows_the_others(
    shared: Shared, demos: dict[str, Any]
) -> None:
    canteens = {t: Canteen.open(shared.configs[t], clock=FixedClock(SHOWN_AT)) for t in COMMUNES}
    try:
        canteens["CARRE"].families.create_household(ADMIN, household("CARRE-WEB"))
        statuses: dict[str, dict[str, int]] = {}
        for tenant, canteen in canteens.items():
            canteen.accounts.invite(
                ADMIN,
                email="cantine@example.org",
                display_name="Service restauration",
                roles=(Role.STAFF, Role.FINANCE, Role.ADMIN),
                username="agent-web",
                account_id="agent-web",
            )
            token, password = _welcome(canteen, "agent-web")
            app = create_app(canteen, WebSettings(public_url="https://famille.example.org"))
            with TestClient(app) as client:
                activated = client.post("/api/v1/account/activation", json={"token": token})
                assert activated.status_code == 200, activated.text
                session = client.post(
                    "/api/v1/session", json={"username": "agent-web", "password": password}
                )
                assert session.status_code == 200, session.text
                changed = client.post(
                    "/api/v1/account/password",
                    json={"current_password": password, "new_password": "Agent-Cantine-2023!"},
                    headers={"X-CSRF-Token": session.json()["csrf_token"]},
                )
                assert changed.status_code == 200, changed.text
                statuses[tenant] = {
                    household_id: client.get(
                        f"/api/v1/households/{household_id}/dashboard"
                    ).status_code
                    for household_id in ("CARRE-WEB", CONCERTO_ID)
                }
        assert statuses["CARRE"] == {"CARRE-WEB": 200, CONCERTO_ID: 200}
        assert statuses["RONDE"] == {"CARRE-WEB": 404, CONCERTO_ID: 200}
    finally:
        for canteen in canteens.values():
            canteen.close()


def test_the_database_paper_store_keeps_each_communes_papers(
    shared: Shared, demos: dict[str, Any]
) -> None:
    def store(tenant: str) -> DatabaseDocumentStore:
        settings = DocumentStoreSettings(
            store="database", url=shared.app_dsn, schema=shared.schema, tenant=tenant
        )
        return DatabaseDocumentStore.from_settings(settings)

    ronde, carre = store("RONDE"), store("CARRE")
    try:
        key = ronde.put(b"%PDF-1.4 attestation", content_type="application/pdf")
        with pytest.raises(NotFoundError):
            carre.get(key)
        carre.delete(key)  # nothing of CARRE's under that key: nothing happens
        assert ronde.get(key) == b"%PDF-1.4 attestation"
    finally:
        ronde.close()
        carre.close()


def test_opening_as_a_role_bypassing_the_policies_is_logged(
    shared: Shared, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="canteen.storage"):
        shared.storage("RONDE").close()  # canteen's role: bound by the policies
        assert caplog.records == []
        SqlStorage.from_url(shared.owner_dsn, schema=shared.schema, tenant="RONDE").close()
    assert "bypasses row-level security" in caplog.text
