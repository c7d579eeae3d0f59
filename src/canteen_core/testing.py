"""pytest plugin and helpers for canteen and for plugin authors.

Enable it with ``pytest_plugins = ["canteen_core.testing"]`` in a ``conftest.py``.

Fixtures:

``postgres_dsn``
    The DSN in ``CANTEEN_TEST_POSTGRES_DSN``. Without it the test is skipped with the reason,
    except when ``CI=true``, where a missing or unreachable database fails the test.
"""

from __future__ import annotations

import os

import pytest

__all__ = ["postgres_dsn", "require_postgres_dsn"]

POSTGRES_ENV = "CANTEEN_TEST_POSTGRES_DSN"


def require_postgres_dsn() -> str:
    """Return the test PostgreSQL DSN, or skip (fail under ``CI=true``) when it is not set."""
    dsn = os.environ.get(POSTGRES_ENV, "").strip()
    if not dsn:
        reason = (
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: {reason}")
        pytest.skip(reason)
    return dsn


@pytest.fixture
def postgres_dsn() -> str:
    """The PostgreSQL DSN for tests (see :func:`require_postgres_dsn`)."""
    return require_postgres_dsn()
