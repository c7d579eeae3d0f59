"""Fixtures of the month-end job tests: real brokers, a unique queue, worker processes.

The tests talk to RabbitMQ (``$CANTEEN_BROKER_URL``, default 127.0.0.1:5672) and Redis
(``$CANTEEN_RESULT_BACKEND``, default 127.0.0.1:6379). When one does not answer they are skipped
with the reason, except under ``CI=true``, where a missing broker fails them (as PostgreSQL in
:mod:`canteen_core.testing`). Each test gets its own queue, so concurrent runs on one machine
never take each other's jobs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

celery = pytest.importorskip("celery", reason="the jobs tests need canteen[jobs]")

from canteen_adapters.jobs.app import DEFAULT_BACKEND, DEFAULT_BROKER  # noqa: E402

from ._communes import BILLING_NOW  # noqa: E402

_PROBLEMS: dict[str, str | None] = {}


def _broker_problem(broker: str, backend: str) -> str | None:
    """Why the brokers cannot be used, or ``None``."""
    import redis
    from kombu import Connection

    try:
        with Connection(broker, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:
        return f"RabbitMQ at {broker.rpartition('@')[2]} does not answer: {error}"
    try:
        redis.Redis.from_url(backend, socket_connect_timeout=3).ping()
    except Exception as error:
        return f"Redis at {backend} does not answer: {error}"
    return None


@pytest.fixture(scope="session")
def brokers() -> tuple[str, str]:
    """The broker and result-backend URLs; skip (fail under ``CI=true``) if one is down."""
    broker = os.environ.get("CANTEEN_BROKER_URL") or DEFAULT_BROKER
    backend = os.environ.get("CANTEEN_RESULT_BACKEND") or DEFAULT_BACKEND
    key = f"{broker} {backend}"
    if key not in _PROBLEMS:
        _PROBLEMS[key] = _broker_problem(broker, backend)
    problem = _PROBLEMS[key]
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the job brokers are not usable: {problem}")
        pytest.skip(problem)
    return broker, backend


@pytest.fixture
def queue(brokers: tuple[str, str]) -> Iterator[str]:
    """A queue of this test alone, deleted afterwards."""
    from kombu import Connection

    name = f"canteen-test-{uuid.uuid4().hex[:12]}"
    yield name
    with Connection(brokers[0], connect_timeout=3) as connection:
        connection.default_channel.queue_delete(name)


@pytest.fixture
def job_env(brokers: tuple[str, str], queue: str) -> dict[str, str]:
    """The environment of the test's workers and commands: brokers, queue, pinned clock."""
    env = dict(os.environ)
    env.update(
        CANTEEN_BROKER_URL=brokers[0],
        CANTEEN_RESULT_BACKEND=brokers[1],
        CANTEEN_JOBS_QUEUE=queue,
        CANTEEN_NOW=BILLING_NOW,
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each commune (faster than migrating each one)."""
    from canteen_adapters.storage.sql import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start a process in its own session (so it can be killed whole); all are killed after."""
    started: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        with (tmp_path / log).open("wb") as out:
            process = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def canteen_command(*args: str) -> list[str]:
    """``canteen ARGS`` with this interpreter."""
    return [sys.executable, "-c", "from canteen_adapters.cli import main; main()", *args]


def wait_for(path: Path, *, timeout: float, processes: list[subprocess.Popen[bytes]]) -> None:
    """Wait until ``path`` exists and is written; fail if every process ended first, or after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text(encoding="utf-8")):
        if all(process.poll() is not None for process in processes):
            pytest.fail(f"the workers ended before {path.name}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path.name} did not appear within {timeout:g} s")
        time.sleep(0.1)
