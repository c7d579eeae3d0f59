"""Fixtures for the fuzz suite: the seed's world on memory, SQLite and PostgreSQL.

The canteens are built by :func:`services.conftest.make_canteen` (the service tests' public
constructors, fixed clock, cheap hashing) with a mailer that keeps messages; PostgreSQL follows the
storage tests' convention: skipped with the reason without ``CANTEEN_TEST_POSTGRES_DSN``, failed
under ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canteen_core.domain.clock import FixedClock
from canteen_core.testing import FakeMailer
from services._world import World, build_world
from services.conftest import (  # noqa: F401 (the session schema fixture, shared)
    ALL_BACKENDS,
    START,
    EventRecorder,
    _services_pg_schema,
    make_canteen,
)


@pytest.fixture(params=ALL_BACKENDS)
def fuzz_backend(request: pytest.FixtureRequest) -> str:
    """Memory, SQLite and PostgreSQL."""
    return str(request.param)


@pytest.fixture
def fuzz_world(
    fuzz_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[World]:
    """The seed's two households enrolled for 2023-2024, on each backend."""
    clock = FixedClock(START)
    with make_canteen(
        fuzz_backend, request, tmp_path, clock, EventRecorder(), mailer=FakeMailer()
    ) as canteen:
        yield build_world(canteen)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: the facade fuzz suite (deselect with -m 'not fuzz' for a quick run)"
    )
