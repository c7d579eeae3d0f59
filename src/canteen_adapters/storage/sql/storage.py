"""The SQL storage: units of work and repositories over SQLAlchemy Core (SQLite, PostgreSQL).

How the guarantees of :mod:`canteen_core.ports.storage` are kept:

* one unit of work = one database transaction on one connection (SQLite: ``BEGIN IMMEDIATE``);
* every repository call that can hit a constraint runs in a savepoint, so a call raising
  :class:`~canteen_core.domain.errors.ConflictError` changed nothing and the unit of work stays
  usable (PostgreSQL would otherwise refuse every later statement of the transaction);
* reservations: ``UPDATE reservation_states SET version = version + 1 WHERE version = :seen``
  touching no row means someone saved in between: ``ConflictError``. On PostgreSQL the second
  writer waits for the first one's row lock, then sees the new version;
* invoice numbers: ``UPDATE invoice_counters SET last = last + 1 ... RETURNING last``: the
  counter row stays locked until commit, a rollback gives the number back;
* billing keys and ids: unique constraints, turned into ``ConflictError``;
* driver and connection failures become :class:`~canteen_core.domain.errors.StorageError`; the
  transaction is rolled back when the unit of work ends, so nothing partial is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from canteen_adapters.storage._common import StorageBase
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.accounts import _Accounts
from canteen_adapters.storage.sql.audit import SqlAuditLog
from canteen_adapters.storage.sql.catalog import SqlCatalog
from canteen_adapters.storage.sql.documents import _Capacities, _ChangeRequests, _Documents
from canteen_adapters.storage.sql.driver import _Session, _translate
from canteen_adapters.storage.sql.engine import (
    TENANT_OPTION,
    begin,
    connect,
    create_engine_for_url,
)
from canteen_adapters.storage.sql.enrollments import _Enrollments
from canteen_adapters.storage.sql.households import _Households
from canteen_adapters.storage.sql.invoices import _Invoices
from canteen_adapters.storage.sql.migrate import check_revision, upgrade
from canteen_adapters.storage.sql.outbox import _Outbox
from canteen_adapters.storage.sql.reservations import _Reservations
from canteen_adapters.storage.sql.tenancy import bypasses_row_security
from canteen_core.config.deployment import StorageSettings
from canteen_core.domain.catalog import ServiceEntry, SiteEntry
from canteen_core.domain.errors import StorageError
from canteen_core.ports.storage import COLLECTIONS, Collection

if TYPE_CHECKING:
    from canteen_core.ports.storage import Storage, UnitOfWork


__all__ = ["SqlStorage", "SqlUnitOfWork"]

_log = logging.getLogger("canteen.storage")


class SqlStorage(StorageBase["SqlUnitOfWork"]):
    """A SQL database opened for canteen (SQLite file or PostgreSQL); a unit of work is one
    transaction.

    ``types`` overrides collection classes (see :class:`~canteen_core.ports.storage.Collection`).
    """

    name = "sql"
    _what = "SQL"

    def __init__(self, engine: Engine, *, types: dict[str, type[Any]] | None = None) -> None:
        super().__init__(types)
        self.engine = engine

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> SqlStorage:
        """The backend's factory: :meth:`open` with the default collection classes."""
        return cls.open(settings)

    @classmethod
    def open(
        cls, settings: StorageSettings, *, types: dict[str, type[Any]] | None = None
    ) -> SqlStorage:
        """Open the database of ``settings``: migrate it (or check it is current)."""
        engine = create_engine_for_url(
            settings.url, schema=settings.schema, echo=settings.echo, tenant=settings.tenant
        )
        try:
            if settings.migrate:
                upgrade(engine, schema=settings.schema)
            else:
                check_revision(engine)
            if bypasses_row_security(engine):
                _log.warning(
                    "canteen connects to PostgreSQL as a role that bypasses row-level security "
                    "(superuser or BYPASSRLS): it sees every commune's rows and its lookups by "
                    "id scan the tenant-led keys; connect as a dedicated role (docs/tenancy.md)"
                )
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, types=types)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        schema: str | None = None,
        migrate: bool = True,
        types: dict[str, type[Any]] | None = None,
        tenant: str | None = None,
    ) -> SqlStorage:
        """Shortcut: :meth:`open` with settings built from ``url``."""
        settings = StorageSettings(url=url, schema=schema, migrate=migrate, tenant=tenant)
        return cls.open(settings, types=types)

    @property
    def tenant(self) -> str | None:
        """The commune this storage reads and writes on PostgreSQL (``None`` on SQLite)."""
        tenant = self.engine.get_execution_options().get(TENANT_OPTION)
        return None if tenant is None else str(tenant)

    def _new_unit_of_work(self, *, read_only: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, read_only=read_only)

    def _dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


_Repository = TypeVar("_Repository")


def _collection(
    cls: Callable[[SqlUnitOfWork, Collection], _Repository], name: str
) -> cached_property[_Repository]:
    """The repository of the collection ``name``, made when a use case first touches it."""
    return cached_property(lambda uow: cls(uow, COLLECTIONS[name]))


class SqlUnitOfWork(_Session):
    """One transaction on one connection, with the repositories working in it.

    Repositories are made on first use: a use case touches a few of the fifteen.
    """

    def __init__(self, storage: SqlStorage, *, read_only: bool = False) -> None:
        self._storage = storage
        self.read_only = read_only
        self._conn: sa.Connection | None = None
        self.open_results: set[sa.CursorResult[Any]] = set()

    # The repositories, each made when a use case first touches it.
    households = cached_property(_Households)
    reservations = cached_property(_Reservations)
    accounts = cached_property(_Accounts)
    outbox = cached_property(_Outbox)
    audit = cached_property(SqlAuditLog)
    enrollments = _collection(_Enrollments, "enrollments")
    change_requests = _collection(_ChangeRequests, "change_requests")
    attendance = _collection(_Documents, "attendance")
    absences = _collection(_Documents, "absences")
    tariffs = _collection(_Documents, "tariffs")
    invoices = _collection(_Invoices, "invoices")
    credit_notes = _collection(_Documents, "credit_notes")
    payments = _collection(_Documents, "payments")
    refunds = _collection(_Documents, "refunds")
    mandates = _collection(_Documents, "mandates")
    notifications_audit = _collection(_Documents, "notifications_audit")
    family_papers = _collection(_Documents, "family_papers")
    enrollment_requests = _collection(_Documents, "enrollment_requests")
    payment_requests = _collection(_Documents, "payment_requests")
    debit_returns = _collection(_Documents, "debit_returns")
    web_sessions = _collection(_Documents, "web_sessions")
    idempotency_keys = _collection(_Documents, "idempotency_keys")
    capacities = _collection(_Capacities, "capacities")
    waiting_list = _collection(_Documents, "waiting_list")
    menus = _collection(_Documents, "menus")
    year_closings = _collection(_Documents, "year_closings")
    campaigns = _collection(_Documents, "campaigns")
    campaign_answers = _collection(_Documents, "campaign_answers")

    @cached_property
    def sites(self) -> SqlCatalog[SiteEntry]:
        return SqlCatalog(self, t.catalog_sites, SiteEntry)

    @cached_property
    def services(self) -> SqlCatalog[ServiceEntry]:
        return SqlCatalog(self, t.catalog_services, ServiceEntry)

    def __enter__(self) -> SqlUnitOfWork:
        with _translate("cannot open a unit of work"):
            connection = connect(self._storage.engine, read_only=self.read_only)
        self._conn = connection
        return self

    def __exit__(self, *exc_info: object) -> None:
        connection, self._conn = self._conn, None
        if connection is None:
            return
        # Streams a failed use case left unfinished: their cursors are closed while the
        # connection is there (closed later, after it, they print a driver traceback).
        results, self.open_results = self.open_results, set()
        for result in results:
            with suppress(sa.exc.SQLAlchemyError):
                result.close()
        # close() rolls back a transaction left open and tells the pool, which then skips its
        # own rollback (its reset on return stays on for every other connection of the engine:
        # after a commit it is a no-op for the driver). If that rollback fails (the connection
        # is gone), the pool resets the connection or discards it; the server rolls the
        # transaction back by itself.
        with suppress(sa.exc.SQLAlchemyError):
            connection.close()

    def commit(self) -> None:
        """Commit; raises :class:`StorageError` (nothing saved) if the database fails."""
        connection = self._open_connection()
        with _translate("commit failed"):
            connection.commit()

    def rollback(self) -> None:
        """Drop what was done since the last commit."""
        connection = self._open_connection()
        with _translate("rollback failed"):
            connection.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside undoes only this block."""
        connection = self.connection()
        with _translate("cannot start a savepoint"):
            nested = connection.begin_nested()
        try:
            yield
        except BaseException:
            with suppress(sa.exc.SQLAlchemyError):
                if nested.is_active:
                    nested.rollback()
            raise
        with _translate("cannot release a savepoint"):
            if nested.is_active:
                nested.commit()

    def collection_type(self, name: str) -> type[Any]:
        """The class the collection ``name`` stores in this storage (see ``types``)."""
        return self._storage._type(name)

    def _open_connection(self) -> sa.Connection:
        if self._conn is None:
            raise StorageError("the unit of work is not open: use it in a `with` block")
        return self._conn

    def connection(self) -> sa.Connection:
        """The connection, in a transaction (a new one after a commit)."""
        connection = self._open_connection()
        if not connection.in_transaction():
            with _translate("cannot begin a transaction"):
                begin(connection)
        return connection


if TYPE_CHECKING:  # the adapter implements the ports (checked by mypy)
    _storage: Storage = SqlStorage(sa.create_engine("sqlite://"))
    _uow: UnitOfWork = SqlUnitOfWork(SqlStorage(sa.create_engine("sqlite://")))
