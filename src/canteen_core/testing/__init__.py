"""pytest plugin and helpers for canteen and for plugin authors.

The storage contract suite a storage backend runs is :mod:`canteen_core.testing.storage_contract`
(its sample values: :mod:`canteen_core.testing.samples`).

Enable it with ``pytest_plugins = ["canteen_core.testing"]`` in a ``conftest.py``.

Fixtures:

``postgres_dsn``
    The DSN in ``CANTEEN_TEST_POSTGRES_DSN``. Without it (or when the server does not answer)
    the test is skipped with the reason, except when ``CI=true``, where a missing or
    unreachable database fails the test.
``canteen_plugin_manager``
    A plugin manager with the built-in plugins and no third-party entry points (so tests do not
    depend on what else is installed). Register the plugin under test on it.
``canteen_events``
    An :class:`EventRecorder` registered on ``canteen_plugin_manager``: every event dispatched
    through the manager, in order.
``memory_storage``
    An empty in-memory :class:`~canteen_core.ports.storage.Storage` implementing every port: the
    ``"memory"`` storage backend, found through the plugin manager by name (the same adapter as
    ``[storage] url = "memory://"``).
``memory_uow``
    An open unit of work on ``memory_storage``; whatever the test did not commit is rolled back.
``fake_mailer``
    A :class:`FakeMailer` that keeps messages instead of sending them.

The memory storage is an adapter (a built-in plugin): the fixture asks the plugin manager for
the backend named ``"memory"``, so this module names no adapter module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from canteen_core.config.hookspecs import hookimpl
from canteen_core.domain.events import Event

if TYPE_CHECKING:
    from canteen_core.config.plugins import CanteenPluginManager
    from canteen_core.domain.notifications import OutgoingMessage
    from canteen_core.ports.storage import Storage, UnitOfWork

__all__ = [
    "EventRecorder",
    "FakeMailer",
    "canteen_events",
    "canteen_plugin_manager",
    "fake_mailer",
    "memory_storage",
    "memory_uow",
    "postgres_dsn",
    "require_postgres_dsn",
]

POSTGRES_ENV = "CANTEEN_TEST_POSTGRES_DSN"


def _unreachable(dsn: str) -> str | None:
    """Why the server at ``dsn`` cannot be used, or ``None`` when it answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install canteen[postgres])"
    url = dsn.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"cannot connect to {POSTGRES_ENV}: {exc}".strip()
    return None


_REACHABLE: dict[str, str | None] = {}


def require_postgres_dsn() -> str:
    """Return the test PostgreSQL DSN, or skip (fail under ``CI=true``) when it is not usable."""
    dsn = os.environ.get(POSTGRES_ENV, "").strip()
    if not dsn:
        reason = (
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    else:
        if dsn not in _REACHABLE:  # one probe per session
            _REACHABLE[dsn] = _unreachable(dsn)
        problem = _REACHABLE[dsn]
        if problem is None:
            return dsn
        reason = problem
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but PostgreSQL is not usable: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_dsn() -> str:
    """The PostgreSQL DSN for tests (see :func:`require_postgres_dsn`)."""
    return require_postgres_dsn()


class EventRecorder:
    """A plugin that records every committed event it is told about (``canteen_events``)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    @hookimpl
    def canteen_event_committed(self, event: Event) -> None:
        """Keep ``event``."""
        self.events.append(event)

    def of_type(self, cls: type[Event]) -> list[Event]:
        """The recorded events that are instances of ``cls``."""
        return [event for event in self.events if isinstance(event, cls)]

    def clear(self) -> None:
        """Forget what was recorded."""
        self.events.clear()


class FakeMailer:
    """A mailer that keeps messages (and can be told to fail, to test retries)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.failures: list[Exception] = []

    def fail_next(self, error: Exception) -> None:
        """Make the next :meth:`send` raise ``error``."""
        self.failures.append(error)

    def send(self, message: OutgoingMessage) -> None:
        """Keep ``message``, or raise the next queued failure."""
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)

    def has_sent(self, message_id: str) -> bool:
        """Whether ``message_id`` was sent (a deduplicating mailer)."""
        return any(message.id == message_id for message in self.sent)


@pytest.fixture
def canteen_plugin_manager() -> CanteenPluginManager:
    """A plugin manager with the built-ins and no third-party entry points."""
    from canteen_core.config.plugins import build_plugin_manager

    return build_plugin_manager(load_entrypoints=False)


@pytest.fixture
def canteen_events(canteen_plugin_manager: CanteenPluginManager) -> EventRecorder:
    """Records the events dispatched through ``canteen_plugin_manager``."""
    recorder = EventRecorder()
    canteen_plugin_manager.register(recorder, name="canteen-test-event-recorder")
    return recorder


@pytest.fixture
def memory_storage(canteen_plugin_manager: CanteenPluginManager) -> Iterator[Storage]:
    """An empty in-memory storage (every port), closed after the test."""
    from canteen_core.ports.settings import StorageSettings

    storage = canteen_plugin_manager.open_storage(StorageSettings(url="memory://"))
    yield storage
    storage.close()


@pytest.fixture
def memory_uow(memory_storage: Storage) -> Iterator[UnitOfWork]:
    """An open unit of work on ``memory_storage``."""
    with memory_storage.unit_of_work() as uow:
        yield uow


@pytest.fixture
def fake_mailer() -> FakeMailer:
    """A :class:`FakeMailer`."""
    return FakeMailer()
