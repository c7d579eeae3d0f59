"""Creating SQLAlchemy engines from storage URLs, with the settings canteen relies on.

* ``sqlite:///path.db``: the embedded default. Every connection gets WAL journaling (readers
  never block the writer), foreign keys, a busy timeout, and canteen controls transactions
  itself: a writing unit of work starts with ``BEGIN IMMEDIATE``, taking SQLite's write lock
  at once, so two writers queue instead of failing half-way (this is what makes invoice
  numbering gapless and optimistic versioning safe on SQLite).
* ``postgresql://...`` (or ``postgres://``) is translated to ``postgresql+psycopg://``
  (psycopg 3); a ``schema`` becomes the connections' ``search_path``. A pooled connection is
  not pinged before use (``pool_pre_ping`` cost a round trip per unit of work): the first
  statement of a transaction is the tenant's ``set_config`` (below), and when it finds the
  connection gone (a restarted server, a killed backend) nothing was done on it yet, so
  :func:`connect` drops the pool's connections and begins again on a new one: a restarted
  server does not fail the next use case. Each new connection compresses the long values it
  writes with LZ4 rather than pglz when the server has it (see :func:`_compress_with_lz4`).
  Every transaction on it begins by naming its tenant (the commune, ``tenant``, else
  :data:`DEFAULT_TENANT`) in the transaction-local setting ``canteen.tenant``, which the
  row-level security policies read (see :mod:`canteen_adapters.storage.sql.tenancy`).

Transactions on these engines start with :func:`begin`, not SQLAlchemy's ``begin()`` alone:
the SQLite driver is in autocommit mode, so a transaction begun only by SQLAlchemy (or its
autobegin) would run every statement on its own.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from canteen_adapters.storage._common import json_text
from canteen_core.domain.errors import ConfigurationError

__all__ = [
    "DEFAULT_TENANT",
    "READ_ONLY",
    "READ_ONLY_OPTION",
    "TENANT_OPTION",
    "TENANT_SETTING",
    "begin",
    "connect",
    "create_engine_for_url",
    "normalize_url",
    "psycopg_executemany",
    "transaction",
]

#: Connection execution option marking a read-only unit of work (see :func:`begin`).
READ_ONLY_OPTION = "canteen_read_only"
#: The execution options of a read-only connection: SQLite begins its transactions with a plain
#: ``BEGIN`` (no write lock), PostgreSQL's are ``READ ONLY`` (psycopg sends ``BEGIN READ ONLY``:
#: no round trip of its own; SQLAlchemy resets it when the connection goes back to the pool).
READ_ONLY: Mapping[str, Any] = MappingProxyType(
    {READ_ONLY_OPTION: True, "postgresql_readonly": True}
)
#: Engine execution option naming the tenant a PostgreSQL engine's transactions work for.
TENANT_OPTION = "canteen_tenant"
#: The PostgreSQL setting (transaction-local) the row-level security policies compare with.
TENANT_SETTING = "canteen.tenant"
#: The tenant of a deployment that names none (a single commune needs no configuration).
DEFAULT_TENANT = "default"
_SET_TENANT = "SELECT set_config('canteen.tenant', %s, true)"
#: How long a SQLite writer waits for another one before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def normalize_url(url: str | sa.URL) -> sa.URL:
    """Parse a storage URL; PostgreSQL URLs get the psycopg 3 driver."""
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigurationError(
            f"[storage] url illisible « {url} » : écrivez sqlite:///canteen.db ou"
            " postgresql://utilisateur@serveur/base",
            path="storage.url",
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend == "sqlite":
        return parsed
    raise ConfigurationError(
        f"[storage] base de données « {backend} » non prise en charge : écrivez une url"
        " sqlite:/// ou postgresql://",
        path="storage.url",
    )


def create_engine_for_url(
    url: str | sa.URL,
    *,
    schema: str | None = None,
    echo: bool = False,
    tenant: str | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine for ``url`` set up for canteen (see the module documentation); on
    PostgreSQL its transactions work for ``tenant`` (:data:`DEFAULT_TENANT` when ``None``)."""
    parsed = normalize_url(url)
    # JSON bodies refuse text no database stores alike (NUL, lone surrogates) before writing.
    kwargs.setdefault("json_serializer", json_text)
    if schema is not None and not _SCHEMA.fullmatch(schema):
        raise ConfigurationError(
            f"[storage] schema « {schema} » invalide : une lettre puis des lettres, chiffres"
            " ou _ (63 au plus)",
            path="storage.schema",
        )
    if parsed.get_backend_name() == "sqlite":
        if schema is not None:
            raise ConfigurationError(
                "[storage] schema ne sert qu'avec PostgreSQL : SQLite n'a pas de schémas",
                path="storage.schema",
            )
        return _sqlite_engine(parsed, echo=echo, **kwargs)
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    if schema is not None:
        connect_args["options"] = f"-c search_path={schema}"
    options = dict(kwargs.pop("execution_options", {}))
    options[TENANT_OPTION] = tenant or DEFAULT_TENANT
    engine = sa.create_engine(
        parsed,
        echo=echo,
        connect_args=connect_args,
        execution_options=options,
        **kwargs,
    )
    if parsed.get_driver_name() == "psycopg":
        event.listen(engine, "do_executemany", _executemany_ending_cleanly)
    event.listen(engine, "connect", _compress_with_lz4)
    event.listen(engine, "begin", _name_tenant)
    return engine


#: Sets the session's ``default_toast_compression`` to LZ4 when the server has it (else
#: selects no row and changes nothing).
_LZ4 = (
    "SELECT set_config('default_toast_compression', 'lz4', false) FROM pg_settings"
    " WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
)


def _compress_with_lz4(dbapi_connection: Any, _: Any) -> None:
    """The ``connect`` event of PostgreSQL engines: values the connection writes long enough
    to be compressed (an invoice body, about 2 kB of ``jsonb``) are compressed with LZ4, not
    pglz, when the server is built with it (PostgreSQL 14 and later). pglz cost a billing
    batch's insert about as much server CPU as parsing its invoices; LZ4 compresses to
    nearly the same size (4.2 against 4.0 MB for 3,000 invoices) for a fraction of that,
    and decompresses faster. Values already stored keep their compression and read back the
    same; a column given a compression of its own keeps it. One round trip per new
    connection, committed: a session setting, it outlives the pool's rollbacks."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_LZ4)
    finally:
        cursor.close()
    dbapi_connection.commit()


def _name_tenant(connection: sa.Connection) -> None:
    """The ``begin`` event of PostgreSQL engines: every transaction, however begun (a unit of
    work, the migrations, SQLAlchemy's autobegin), first names the engine's tenant for this
    transaction only (``set_config(..., true)``, i.e. ``SET LOCAL``), so a pooled connection
    never carries a tenant from one transaction to the next. Sent on the DBAPI connection:
    the transaction being begun is not yet the SQLAlchemy connection's.

    It is the transaction's first round trip (psycopg sends its ``BEGIN`` with it): when it
    finds the connection gone, the connection is invalidated (never handed out again), the
    engine's pool is replaced (its other connections are likely gone too: a restarted server)
    and the error says ``connection_invalidated``, for :func:`connect` to begin again."""
    tenant = connection.get_execution_options().get(TENANT_OPTION)
    if tenant is None:
        return
    dbapi_connection: Any = connection.connection.dbapi_connection
    dbapi = connection.dialect.loaded_dbapi
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_SET_TENANT, (tenant,))
    except dbapi.Error as exc:
        gone = _lost(connection, exc, dbapi_connection, cursor)
        if gone:
            connection.invalidate(exc)
            connection.engine.dispose()
        raise sa.exc.DBAPIError.instance(
            _SET_TENANT,
            None,
            exc,
            dbapi.Error,
            hide_parameters=True,
            connection_invalidated=gone,
        ) from exc
    finally:
        with suppress(dbapi.Error):  # the cursor of a lost connection
            cursor.close()


#: SQLSTATEs of a connection the server ended: its "connection exception" class (08) and
#: the operator's (57P01 terminated by an administrator, 57P02 crash, 57P03 starting up).
_LOST_STATES = ("08", "57P01", "57P02", "57P03")


def _lost(connection: sa.Connection, exc: Any, dbapi_connection: Any, cursor: Any) -> bool:
    """Whether ``exc`` says the connection is gone. The dialect's test alone misses a backend
    ended while idle: psycopg reads the server's "terminating connection" message as the
    answer to its ``BEGIN`` before it notices the socket closed."""
    if connection.dialect.is_disconnect(exc, dbapi_connection, cursor):
        return True
    state = getattr(exc, "sqlstate", None) or ""
    return state.startswith(_LOST_STATES)


def begin(connection: sa.Connection) -> None:
    """Begin a transaction on ``connection`` (not in one): every canteen transaction starts here.

    On SQLite, ``BEGIN IMMEDIATE`` (a plain ``BEGIN`` on a :data:`READ_ONLY` connection) runs on
    the DBAPI connection, whose errors are raised as SQLAlchemy's. It is not an engine ``begin``
    event: a listener made SQLAlchemy build an event dispatch for every connection, which cost
    more than the ``BEGIN``. PostgreSQL needs nothing more: psycopg begins with the first
    statement.
    """
    if connection.dialect.name == "sqlite":
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION)
        statement = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        # Before SQLAlchemy's begin(): if the BEGIN fails, neither is in a transaction.
        dbapi_connection: Any = connection.connection.dbapi_connection
        try:
            dbapi_connection.execute(statement)
        except sqlite3.Error as exc:
            raise sa.exc.DBAPIError.instance(
                statement, None, exc, sqlite3.Error, hide_parameters=True
            ) from exc
    connection.begin()


def connect(engine: Engine, *, read_only: bool = False) -> sa.Connection:
    """A connection of ``engine`` (:data:`READ_ONLY` if ``read_only``) in a transaction begun
    by :func:`begin`: how every unit of work starts.

    A pooled connection is used without a liveness ping. If the transaction's first round
    trip finds it gone (see :func:`_name_tenant`), nothing was done on it: it begins once
    more, on a new connection of the new pool; a second loss (the server is down) is raised.
    """
    for attempt in (1, 2):
        connection = engine.connect()
        try:
            if read_only:
                connection.execution_options(**READ_ONLY)
            begin(connection)
        except sa.exc.DBAPIError as exc:
            with suppress(sa.exc.SQLAlchemyError):
                connection.close()
            if attempt == 2 or not exc.connection_invalidated:
                raise
            continue
        except BaseException:
            with suppress(sa.exc.SQLAlchemyError):
                connection.close()
            raise
        return connection
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def transaction(engine: Engine, *, read_only: bool = False) -> Iterator[sa.Connection]:
    """A connection of ``engine`` in a transaction begun by :func:`connect`, committed when
    the block ends (rolled back on an exception): for the stores that work outside the
    storage's units of work (the database document store, the tenant registry)."""
    with connect(engine, read_only=read_only) as connection:
        yield connection
        connection.commit()


def _executemany_ending_cleanly(cursor: Any, statement: str, parameters: Any, _: Any) -> bool:
    """SQLAlchemy's ``do_executemany`` hook: :func:`psycopg_executemany`."""
    psycopg_executemany(cursor, statement, parameters)
    return True  # done: SQLAlchemy does not run its own executemany


def psycopg_executemany(cursor: Any, statement: str, parameters: Any) -> None:
    """psycopg's ``executemany``, ending cleanly when a statement of the batch fails.

    psycopg sends the batch in a pipeline. When one statement fails (a concurrent writer's
    key, a deadlock), those queued after it come back "aborted", and psycopg, leaving its
    pipeline while the error propagates, logs "error ignored terminating <Pipeline>: pipeline
    aborted". Here the batch runs in a pipeline block of ours that collects the aborted
    results before it ends; the failing statement's error is raised as before.
    """
    with cursor.connection.pipeline() as pipeline:
        try:
            cursor.executemany(statement, parameters)
        except Exception:
            with suppress(Exception):  # the aborted statements: the error above says it all
                pipeline.sync()
            raise


def _sqlite_engine(url: sa.URL, *, echo: bool, **kwargs: Any) -> Engine:
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)  # pooled connections move threads
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = sa.create_engine(url, echo=echo, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        # Autocommit at the driver level: canteen emits BEGIN itself (see begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if url.database and url.database != ":memory:":
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    return engine
