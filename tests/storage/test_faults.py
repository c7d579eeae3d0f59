"""Faults: the database goes away in the middle of a use case. The use case fails with a clear
StorageError and nothing partial is stored; the next use case works again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from canteen_adapters.storage.sql import SqlStorage, SqlUnitOfWork, create_engine_for_url
from canteen_adapters.storage.sql import engine as engine_module
from canteen_adapters.storage.sql.driver import _translate
from canteen_core.config.deployment import StorageSettings
from canteen_core.domain.errors import ConflictError, StorageError
from canteen_core.ports.storage import Storage

from .conftest import OpenStorage
from .samples import SEPTEMBER, booked, enrollment, household


def _kill_sqlite_connection(uow: SqlUnitOfWork) -> None:
    # The file handle disappears under the unit of work (disk unmounted, process limits...).
    uow.connection().connection.dbapi_connection.close()  # type: ignore[union-attr]


def _kill_postgres_backend(storage: Storage, uow: SqlUnitOfWork) -> None:
    pid = uow.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    assert isinstance(storage, SqlStorage)
    killer = create_engine_for_url(storage.engine.url)
    try:
        with killer.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()
    finally:
        killer.dispose()


def _kill(backend: str, storage: Storage, uow: SqlUnitOfWork) -> None:
    if backend == "sqlite":
        _kill_sqlite_connection(uow)
    else:
        _kill_postgres_backend(storage, uow)


def _enroll_and_book(uow: SqlUnitOfWork, name: str) -> None:
    home = household(name)
    uow.households.add(home)
    enrolled = enrollment(home)
    uow.enrollments.add(enrolled)
    uow.reservations.save(booked(enrolled, SEPTEMBER), expected_version=0)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_connection_lost_mid_use_case(backend: str, open_storage: OpenStorage) -> None:
    storage = open_storage()

    def use_case() -> None:
        with storage.unit_of_work() as uow:
            assert isinstance(uow, SqlUnitOfWork)
            _enroll_and_book(uow, "h1")  # written, not committed
            _kill(backend, storage, uow)
            uow.households.add(household("h2"))  # the database is gone
            uow.commit()

    with pytest.raises(StorageError, match="the change was not saved"):
        use_case()
    with storage.unit_of_work() as uow:  # a new connection: the storage recovered
        assert uow.households.count() == 0
        assert list(uow.reservations.booked()) == []
        _enroll_and_book(uow, "h3")
        uow.commit()
    with storage.unit_of_work() as uow:
        assert [h.id for h in uow.households.all()] == ["h3"]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_connection_lost_at_commit(backend: str, open_storage: OpenStorage) -> None:
    storage = open_storage()

    def use_case() -> None:
        with storage.unit_of_work() as uow:
            assert isinstance(uow, SqlUnitOfWork)
            _enroll_and_book(uow, "h1")
            _kill(backend, storage, uow)
            uow.commit()

    with pytest.raises(StorageError, match="commit failed"):
        use_case()
    with storage.unit_of_work() as uow:
        assert uow.households.count() == 0
        assert uow.enrollments.count() == 0


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_connection_lost_in_a_read_only_unit(backend: str, open_storage: OpenStorage) -> None:
    storage = open_storage()
    with storage.unit_of_work() as uow:
        uow.households.add(household("h1"))
        uow.commit()
    with pytest.raises(StorageError), storage.unit_of_work(read_only=True) as uow:  # noqa: PT012
        assert isinstance(uow, SqlUnitOfWork)
        assert uow.households.count() == 1
        _kill(backend, storage, uow)
        uow.households.count()
    for n in range(2, 5):  # whichever pooled connection comes next: read-only or writing, it works
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.households.find("h1") is not None
        with storage.unit_of_work() as uow:
            uow.households.add(household(f"h{n}"))
            uow.commit()


def _backend_pid(uow: SqlUnitOfWork) -> int:
    return int(uow.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(dsn: str, pid: int) -> None:
    killer = create_engine_for_url(dsn)
    try:
        with killer.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()
    finally:
        killer.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("read_only", [True, False])
def test_pooled_connections_lost_while_idle(
    postgres_dsn: str, pg_clean_schema: str, read_only: bool
) -> None:
    # Pooled connections are used without a ping: the server restarted (every pooled backend
    # gone) between two use cases, the next one still works, on new connections.
    storage = SqlStorage.from_url(postgres_dsn, schema=pg_clean_schema)
    try:
        with storage.unit_of_work() as first, storage.unit_of_work() as second:
            first.households.add(household("h1"))
            first.commit()
            pids = {_backend_pid(first), _backend_pid(second)}  # two connections in the pool
        for pid in pids:
            _terminate(postgres_dsn, pid)
        with storage.unit_of_work(read_only=read_only) as uow:
            assert isinstance(uow, SqlUnitOfWork)
            assert uow.households.find("h1") is not None
            assert _backend_pid(uow) not in pids
            if not read_only:
                uow.households.add(household("h2"))
                uow.commit()
        with storage.unit_of_work(read_only=True) as uow:
            assert isinstance(uow, SqlUnitOfWork)
            assert uow.households.count() == (1 if read_only else 2)
            assert _backend_pid(uow) not in pids
    finally:
        storage.close()


@pytest.mark.postgres
def test_a_read_only_unit_stays_read_only_after_a_reconnection(
    postgres_dsn: str, pg_clean_schema: str
) -> None:
    storage = SqlStorage.from_url(postgres_dsn, schema=pg_clean_schema)
    try:
        with storage.unit_of_work() as uow:
            pid = _backend_pid(uow)
        _terminate(postgres_dsn, pid)
        with storage.unit_of_work(read_only=True) as uow:
            assert isinstance(uow, SqlUnitOfWork)
            assert _backend_pid(uow) != pid
            read_only = uow.connection().exec_driver_sql("SHOW transaction_read_only")
            assert read_only.scalar_one() == "on"
    finally:
        storage.close()


@pytest.mark.postgres
def test_a_server_gone_for_good_is_a_storage_error(
    postgres_dsn: str, pg_clean_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first statement fails on the pooled connection, and again on a new one: raised.
    storage = SqlStorage.from_url(postgres_dsn, schema=pg_clean_schema)
    engine = storage.engine
    try:
        with storage.unit_of_work() as uow:
            pid = _backend_pid(uow)
        _terminate(postgres_dsn, pid)
        refused = engine.dialect.loaded_dbapi.OperationalError(
            "connection refused"
        )  # the server is still down

        def connect(*args: object, **kwargs: object) -> None:
            raise refused

        monkeypatch.setattr(engine.dialect, "connect", connect)
        with (
            pytest.raises(StorageError, match="cannot open a unit of work"),
            storage.unit_of_work(),
        ):
            pass
    finally:
        storage.close()


@pytest.mark.postgres
def test_connection_lost_while_streaming(postgres_dsn: str, pg_clean_schema: str) -> None:
    storage = SqlStorage.from_url(postgres_dsn, schema=pg_clean_schema)
    try:
        with storage.unit_of_work() as uow:
            uow.households.add_many(household(f"h{n:04d}") for n in range(2500))
            uow.commit()
        with pytest.raises(StorageError), storage.unit_of_work() as uow:  # noqa: PT012
            assert isinstance(uow, SqlUnitOfWork)
            stream = uow.households.all()
            next(stream)
            _kill_postgres_backend(storage, uow)
            list(stream)  # the next batch cannot be fetched
    finally:
        storage.close()


def test_an_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "canteen.db"
    with pytest.raises(StorageError, match="la migration de la base a échoué"):
        SqlStorage.open(StorageSettings(url=f"sqlite:///{missing}"))


@pytest.mark.postgres
def test_an_unreachable_server_is_a_storage_error(postgres_dsn: str) -> None:
    url = sa.make_url(postgres_dsn).set(port=1, host="127.0.0.1")
    with pytest.raises(StorageError):
        SqlStorage.open(StorageSettings(url=url.render_as_string(hide_password=False)))


def test_a_sqlite_writer_kept_waiting_is_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # BEGIN IMMEDIATE runs on the DBAPI connection: its failure is still the library's error,
    # and the connection goes back to the pool usable.
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    url = f"sqlite:///{tmp_path / 'canteen.db'}"
    storage = SqlStorage.from_url(url)
    holder = sqlite3.connect(tmp_path / "canteen.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(StorageError, match="stayed busy"), storage.unit_of_work():
            pass
        with storage.unit_of_work(read_only=True) as uow:  # readers are not blocked
            assert uow.households.count() == 0
        holder.execute("ROLLBACK")
        with storage.unit_of_work() as uow:
            uow.households.add(household("h1"))
            uow.commit()
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.households.find("h1") is not None
    finally:
        holder.close()
        storage.close()


class _Driver(Exception):
    sqlstate: str | None = None


def _dbapi(error: type[sa.exc.DBAPIError], message: str, sqlstate: str | None = None) -> Exception:
    orig = _Driver(message)
    orig.sqlstate = sqlstate
    return error("INSERT ...", None, orig)


@pytest.mark.parametrize(
    ("raised", "expected", "message"),
    [
        (_dbapi(sa.exc.IntegrityError, "UNIQUE failed"), ConflictError, "^saving: UNIQUE failed$"),
        (_dbapi(sa.exc.OperationalError, "x", "40001"), ConflictError, "concurrent change"),
        (_dbapi(sa.exc.OperationalError, "x", "40P01"), ConflictError, "concurrent change"),
        (_dbapi(sa.exc.OperationalError, "database is locked"), StorageError, "stayed busy"),
        (
            _dbapi(sa.exc.OperationalError, "disk I/O error\nmore"),
            StorageError,
            r"\(disk I/O error\)",
        ),
        (sa.exc.ResourceClosedError("closed"), StorageError, "^saving: closed; the change"),
        (ValueError("not the database's"), ValueError, "^not the database's$"),
    ],
)
def test_driver_errors_become_the_library_s(
    raised: Exception, expected: type[Exception], message: str
) -> None:
    with pytest.raises(expected, match=message) as info, _translate("saving"):
        raise raised
    assert info.value is raised or info.value.__cause__ is raised
