"""The SQL unit of work's transactions, below the ports: SQLite's write lock and PostgreSQL's
read-only transactions, every transaction begun (the SQLite driver is in autocommit mode, so a
missing ``BEGIN`` would store each statement on its own), one rollback per unit of work."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from canteen_adapters.storage.sql import SqlStorage, SqlUnitOfWork
from canteen_core.ports.storage import Storage

from .conftest import OpenStorage, sql_engine
from .samples import ISSUER, SEPTEMBER, booked, enrollment, household

SQL = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _sql_uow(storage: Storage, *, read_only: bool = False) -> SqlUnitOfWork:
    uow = storage.unit_of_work(read_only=read_only)
    assert isinstance(uow, SqlUnitOfWork)
    return uow


def _write_everything(uow: SqlUnitOfWork, name: str) -> None:
    """Writes through each kind of statement: SQLAlchemy, savepoints, the reservation driver."""
    home = household(name)
    uow.households.add(home)
    enrolled = enrollment(home)
    uow.enrollments.add(enrolled)
    uow.reservations.save(booked(enrolled, SEPTEMBER), expected_version=0)
    uow.invoices.next_number(ISSUER, 2023)


def _stored(storage: Storage) -> tuple[list[str], int, int]:
    with storage.unit_of_work() as uow:  # reading the sequence locks its counter: not read-only
        return (
            [h.id for h in uow.households.all()],
            uow.enrollments.count(),
            uow.invoices.sequence(ISSUER, 2023).last_used,
        )


@pytest.mark.parametrize("backend", SQL, indirect=True)
def test_a_failing_unit_stores_nothing_before_or_after_a_commit(
    backend: str, open_storage: OpenStorage
) -> None:
    storage = open_storage()

    def failing(*, commit_first: bool) -> None:
        with _sql_uow(storage) as uow:
            if commit_first:  # the unit of work begins again: the next writes are atomic too
                _write_everything(uow, "h1")
                uow.commit()
            _write_everything(uow, "h2")
            raise RuntimeError("the use case failed half-way")

    with pytest.raises(RuntimeError):
        failing(commit_first=False)
    assert _stored(storage) == ([], 0, 0)
    with pytest.raises(RuntimeError):
        failing(commit_first=True)
    assert _stored(storage) == (["h1"], 1, 1)


def _write_lock_is_free(path: Path) -> bool:
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:  # database is locked
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


def test_a_writing_unit_holds_sqlite_s_write_lock_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "canteen.db"
    storage = SqlStorage.from_url(f"sqlite:///{path}")
    try:
        with storage.unit_of_work() as uow:
            assert not _write_lock_is_free(path)  # before any statement: BEGIN IMMEDIATE
            uow.commit()
            assert _write_lock_is_free(path)
            uow.households.find("h1")  # a read begins the next transaction: the lock again
            assert not _write_lock_is_free(path)
        assert _write_lock_is_free(path)
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.households.count() == 0
            assert _write_lock_is_free(path)  # readers take no write lock
    finally:
        storage.close()


def _read_only_setting(uow: SqlUnitOfWork) -> str:
    return str(uow.connection().exec_driver_sql("SHOW transaction_read_only").scalar_one())


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_read_only_units_are_read_only_transactions_on_postgres(
    backend: str, open_storage: OpenStorage
) -> None:
    storage = open_storage()
    with _sql_uow(storage, read_only=True) as uow:
        assert _read_only_setting(uow) == "on"
        pid = uow.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        uow.commit()
        assert _read_only_setting(uow) == "on"  # the next transaction too
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            uow.connection().exec_driver_sql("CREATE TABLE nope (id int)")
    with _sql_uow(storage) as uow:  # the same pooled connection, writing again
        assert uow.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == pid
        assert _read_only_setting(uow) == "off"
        _write_everything(uow, "h1")
        uow.commit()
    assert _stored(storage) == (["h1"], 1, 1)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_connections_compress_long_values_with_lz4(
    backend: str, open_storage: OpenStorage
) -> None:
    storage = open_storage()
    with _sql_uow(storage) as uow:
        connection = uow.connection()
        lz4 = connection.exec_driver_sql(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).scalar()
        if not lz4:
            pytest.skip("this PostgreSQL server is built without LZ4")
        home = household("h1")
        uow.households.add(home)
        uow.commit()
        # Every unit of work's connection, however many transactions it served.
        setting = connection.exec_driver_sql("SHOW default_toast_compression").scalar_one()
        assert setting == "lz4"
        long_text = "repas " * 2000  # compressed by the server, read back the same
        connection.exec_driver_sql("CREATE TEMPORARY TABLE long_values (body text)")
        connection.exec_driver_sql("INSERT INTO long_values VALUES (%(text)s)", {"text": long_text})
        row = connection.exec_driver_sql(
            "SELECT body, pg_column_compression(body) FROM long_values"
        ).one()
        assert tuple(row) == (long_text, "lz4")
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.households.get("h1") == home


@pytest.mark.parametrize("backend", SQL, indirect=True)
def test_each_unit_of_work_rolls_back_once_and_returns_its_connection_idle(
    backend: str, open_storage: OpenStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = open_storage()
    dialect = sql_engine(storage).dialect
    rollbacks: list[Any] = []
    do_rollback = dialect.do_rollback

    def counting_rollback(dbapi_connection: Any) -> None:
        rollbacks.append(dbapi_connection)
        do_rollback(dbapi_connection)

    monkeypatch.setattr(dialect, "do_rollback", counting_rollback)
    idle: list[bool] = []

    @sa.event.listens_for(sql_engine(storage), "checkin")
    def _checked_in(dbapi_connection: Any, _: Any) -> None:
        if backend == "sqlite":
            idle.append(not dbapi_connection.in_transaction)
        else:
            idle.append(dbapi_connection.info.transaction_status.name == "IDLE")

    def committed() -> None:
        with storage.unit_of_work() as uow:
            uow.households.add(household("h1"))
            uow.commit()

    def left_without_commit() -> None:
        with storage.unit_of_work() as uow:
            uow.households.add(household("h2"))

    def read() -> None:
        with storage.unit_of_work(read_only=True) as uow:
            uow.households.count()

    def failing() -> None:
        with storage.unit_of_work() as uow:
            uow.households.add(household("h3"))
            raise RuntimeError("the use case failed")

    def failed() -> None:
        with pytest.raises(RuntimeError):
            failing()

    for use_case in (committed, left_without_commit, read, failed):
        rollbacks.clear()
        use_case()
        # After a commit, the pool's reset (a no-op for the driver); otherwise the unit's own
        # rollback, and the pool skips its reset.
        assert len(rollbacks) == 1, use_case.__name__
        assert idle[-1], use_case.__name__
    assert _stored(storage)[0] == ["h1"]


def test_repositories_are_made_once_per_unit(storage: Storage) -> None:
    names = ("households", "reservations", "enrollments", "invoices", "accounts", "outbox")
    with storage.unit_of_work() as uow:
        first = [getattr(uow, name) for name in names]
        assert first == [getattr(uow, name) for name in names]
        uow.households.add(household("h1"))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert all(getattr(uow, name) is not made for name, made in zip(names, first, strict=True))
        assert [h.id for h in uow.households.all()] == ["h1"]
