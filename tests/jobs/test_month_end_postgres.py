"""A large commune on PostgreSQL spread over a worker's processes: its billing batches run at
the same time in three processes, and the invoices are still one per household, numbers
gapless (the two-worker case, with kills, is test_month_end_workers on SQLite)."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import FixedClock
from canteen_core.services import Canteen

from ._communes import PERIOD, build_commune, registry_text
from .conftest import Spawn, canteen_command

ADMIN = Actor.staff("admin", Role.ADMIN)


@pytest.fixture
def schema(postgres_dsn: str) -> Iterator[str]:
    """A PostgreSQL schema of this test, dropped afterwards."""
    from canteen_adapters.storage.sql import create_engine_for_url

    name = f"jobs_{uuid.uuid4().hex[:12]}"
    yield name
    engine = create_engine_for_url(postgres_dsn)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_large_commune_is_billed_by_several_processes_at_once(
    tmp_path: Path, job_env: dict[str, str], spawn: Spawn, postgres_dsn: str, schema: str
) -> None:
    # The worker starts while the commune is built (it waits for the run).
    spawn(canteen_command("worker", "--concurrency=3"), job_env, "worker.log")
    commune = build_commune(
        tmp_path, "GRANDE", "Grande-Ville", households=16, postgres=(postgres_dsn, schema)
    )
    registry = tmp_path / "platform.toml"
    registry.write_text(registry_text([commune]), encoding="utf-8")
    run = subprocess.run(
        canteen_command(
            "month-end", f"--period={PERIOD}", f"--registry={registry}", "--batch=2", "--json"
        ),
        env=job_env,
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    (report,) = json.loads(run.stdout)["communes"]
    assert (report["invoices"], report["already_billed"], report["mails"]) == (16, 0, 16)
    log = (tmp_path / "worker.log").read_text(encoding="utf-8")
    billers = set(re.findall(r"/(ForkPoolWorker-\d+)\] Task canteen\.month_end\.bill_batch", log))
    assert len(billers) > 1, f"batches billed by one process only: {billers}"
    clock = FixedClock(datetime(2023, 10, 2, 12, 0, tzinfo=UTC))
    with Canteen.open(commune.deployment, clock=clock) as canteen:
        pages = canteen.billing.invoices_pages(ADMIN, commune.households)
    assert [len(pages[h].rows) for h in commune.households] == [1] * 16
    numbers = sorted(row.number for page in pages.values() for row in page.rows)
    assert numbers == [f"2023-{n:06d}" for n in range(1, 17)]
