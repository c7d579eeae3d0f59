"""``month-end``: a hosting platform's month-end through Celery workers, one of them killed.

100 communes of about 500 children (250 households of the synthetic city each, a seed per
commune) on PostgreSQL, each in a schema of its own with its deployment file (what the jobs
support before a shared tenant database; the benchmark needs only the list of communes, as
``canteen month-end`` does). September 2023 is billed by the month-end jobs
(:mod:`canteen_adapters.jobs`: billing batches, direct debit, reminders, the outbox's e-mails,
rendered at the send and written as ``.eml`` files) with one worker, then, the invoices and
e-mails removed, with two. Each worker is a ``canteen worker --concurrency 1`` process; in each
run the first worker is SIGKILLed once, when a third of the communes have finished, and
started again. The rows give the wall time from queueing to the last report, invoices per
second, the workers' CPU seconds (their job processes included: the machine-independent
cost, with and without the workers' startups), duplicates (a household invoiced twice: must
be 0), missing invoices (a household with meals and no invoice: must be 0) and the e-mails
sent; a last row gives the speedup of two workers over one. PostgreSQL's own CPU is not in
the workers' CPU seconds.

Needs ``CANTEEN_TEST_POSTGRES_DSN``, RabbitMQ and Redis (``CANTEEN_BROKER_URL``,
``CANTEEN_RESULT_BACKEND``, defaults on 127.0.0.1) and the ``jobs`` extra; otherwise its rows
say why they are skipped. ``--quick``: 2 communes of 6 households (CI: the harness runs, no
target checked).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import attrs

from benchmarks.common import app_role, city, postgres_dsn, seed_city
from benchmarks.harness import Result, workload
from benchmarks.workloads import SEPTEMBER, _seed_attendance, _seed_books, _size, _verdict

PERIOD = "2023-09"
#: The workers' clock (``CANTEEN_NOW``): Monday 2 October 2023, September is over.
BILLING_NOW = "2023-10-02T09:00:00+02:00"
#: What the month-end changes in a commune's schema: emptied between the runs.
_WRITTEN = ("invoices", "credit_notes", "payments", "outbox", "invoice_counters")

_DEPLOYMENT = """\
[storage]
url = "{url}"
schema = "{schema}"
migrate = false

[issuer]
name = "Régie de {name}"
code = "{code}"

[calendar]
department = "75"

[mail]
adapter = "outbox"
folder = "mail"
sender = "Cantine de {name} <cantine@{host}.example>"
"""


@attrs.frozen
class _Commune:
    code: str
    schema: str
    folder: Path
    households: int
    children: int


def _problem() -> str | None:
    """Why the workload cannot run here, or ``None``."""
    if not postgres_dsn():
        return "skipped: CANTEEN_TEST_POSTGRES_DSN is not set"
    try:
        import redis
        from kombu import Connection

        from canteen_adapters.jobs.app import app
    except ImportError as error:
        return f"skipped: the jobs extra is not installed ({error})"
    try:
        with Connection(app.conf.broker_url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
        redis.Redis.from_url(app.conf.result_backend, socket_connect_timeout=3).ping()
    except Exception as error:
        return f"skipped: the brokers do not answer ({type(error).__name__}: {error})"[:200]
    return None


def _connect() -> Any:
    import psycopg

    return psycopg.connect(postgres_dsn(), autocommit=True)


@contextmanager
def _platform(communes: int, households: int) -> Iterator[list[_Commune]]:
    """Build ``communes`` communes (schemas and deployment files); dropped afterwards."""
    from canteen_adapters.storage.sql import SqlStorage

    dsn = postgres_dsn()
    assert dsn is not None
    tag = uuid.uuid4().hex[:8]
    built: list[_Commune] = []
    admin = _connect()
    with tempfile.TemporaryDirectory(prefix="canteen-bench-monthend-") as root:
        try:
            for index in range(communes):
                code = f"C{index + 1:03d}"
                schema = f"bench_me_{tag}_{index + 1:03d}"
                admin.execute(f"CREATE SCHEMA {schema}")
                folder = Path(root) / code.lower()
                folder.mkdir()
                town = city(households, seed=2023 + index)
                storage = SqlStorage.from_url(dsn, schema=schema)
                try:
                    seed_city(storage, town)
                    _seed_books(storage, town)
                    _seed_attendance(storage, town, *SEPTEMBER)
                finally:
                    storage.close()
                built.append(_Commune(code, schema, folder, households, town.children))
            admin.execute("ANALYZE")
            # The workers connect as canteen's own role, as a deployment must (docs/tenancy.md).
            with app_role(dsn, [c.schema for c in built]) as url:
                for index, commune in enumerate(built):
                    (commune.folder / "canteen.toml").write_text(
                        _DEPLOYMENT.format(
                            url=url,
                            schema=commune.schema,
                            name=f"Commune {index + 1}",
                            code=commune.code,
                            host=commune.code.lower(),
                        ),
                        encoding="utf-8",
                    )
                yield built
        finally:
            for commune in built:
                admin.execute(f"DROP SCHEMA IF EXISTS {commune.schema} CASCADE")
            admin.close()


def _reset(communes: list[_Commune]) -> None:
    """Remove what a month-end wrote, so that the next run bills the same month again."""
    with _connect() as connection:
        for commune in communes:
            for table in _WRITTEN:
                connection.execute(f"DELETE FROM {commune.schema}.{table}")
            mail = commune.folder / "mail"
            for file in mail.glob("*.eml") if mail.is_dir() else ():
                file.unlink()


def _environment(queue: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CANTEEN_JOBS_QUEUE=queue, CANTEEN_NOW=BILLING_NOW, PYTHONUNBUFFERED="1")
    return env


def _start_worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-c", "from canteen_adapters.cli import main; main()",
        "worker", "--concurrency=1", f"--name={name}@%h", "--loglevel=info",
    ]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_ready(processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    """Wait until each worker says it is ready (its log), so the clock starts on the run."""
    deadline = time.monotonic() + 120
    while not all(log.exists() and b" ready." in log.read_bytes() for log in logs):
        if any(process.poll() is not None for process in processes):
            raise RuntimeError("a worker stopped before it was ready; see its log")
        if time.monotonic() > deadline:
            raise RuntimeError("the workers were not ready after 120 s")
        time.sleep(0.2)


def _children_cpu() -> float:
    """CPU seconds (user and system) of the child processes waited for so far: a worker's, its
    job processes' included once it has exited (the job process of a worker killed with
    SIGKILL is reaped by init: its last job's CPU is not counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _startup_cpu(root: Path) -> float:
    """CPU seconds of starting a worker until it is ready, and stopping it (no job)."""
    env = _environment(f"canteen-bench-monthend-{uuid.uuid4().hex[:10]}")
    before = _children_cpu()
    log = root / "startup.log"
    process = _start_worker(env, f"bench-startup-{uuid.uuid4().hex[:6]}", log)
    try:
        _wait_ready([process], [log])
    finally:
        _stop(process, signal.SIGTERM)
        _stop(process)
    return _children_cpu() - before


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)


@attrs.frozen
class _Run:
    seconds: float
    invoices: int
    duplicates: int
    missing: int
    mails: str
    failed: tuple[str, ...]
    killed_after: float | None
    #: CPU seconds of the worker processes (their job processes included), startups included.
    worker_cpu: float
    #: How many times a worker process was started (the workers, and the killed one again).
    starts: int


def _check(communes: list[_Commune], reports: dict[str, Any]) -> tuple[int, int, int, str]:
    """Invoices, duplicates (households invoiced twice for the period), missing (households
    neither invoiced nor reported without charges), and what became of the e-mails."""
    invoices = duplicates = missing = queued = sent = files = 0
    with _connect() as connection:
        for commune in communes:
            rows = connection.execute(
                f"SELECT household_id, count(*) FROM {commune.schema}.invoices "
                "GROUP BY household_id"
            ).fetchall()
            invoices += sum(count for _, count in rows)
            duplicates += sum(count - 1 for _, count in rows if count > 1)
            report = reports.get(commune.code)
            empty = report.without_charges if report is not None else 0
            missing += max(0, commune.households - len(rows) - empty)
            for status, count in connection.execute(
                f"SELECT status, count(*) FROM {commune.schema}.outbox GROUP BY status"
            ).fetchall():
                queued += count
                sent += count if status == "sent" else 0
            files += len(list((commune.folder / "mail").glob("*.eml")))
    # A message claimed by the killed worker waits for its claim's lease (10 minutes) before
    # another dispatcher takes it (and finds it already written when it was).
    mails = f"{sent} of {queued} e-mails sent ({files} files)"
    return invoices, duplicates, missing, mails


def _run(communes: list[_Commune], workers: int, root: Path) -> _Run:
    """Queue the month-end of ``communes`` and follow it with ``workers`` workers, the first
    killed once a third of the communes are done (then started again)."""
    from kombu import Connection

    from canteen_adapters.jobs import Commune
    from canteen_adapters.jobs.app import app
    from canteen_adapters.jobs.monthend import follow, queue_month_end

    queue = f"canteen-bench-monthend-{uuid.uuid4().hex[:10]}"
    env = _environment(queue)
    logs = [root / f"worker-{workers}-{n}.log" for n in range(workers)]
    processes = [_start_worker(env, f"bench-{queue[-10:]}-{n}", log) for n, log in enumerate(logs)]
    targets = [
        Commune(code=c.code, name=c.code, deployment=c.folder / "canteen.toml") for c in communes
    ]
    done: set[str] = set()
    killed: list[float] = []
    cpu_before = _children_cpu()
    _wait_ready(processes, logs)
    start = time.perf_counter()

    def on_change(status: Any) -> None:
        if status.done:
            done.add(status.commune.code)
        if not killed and len(done) >= max(1, len(communes) // 3):
            killed.append(time.perf_counter() - start)
            _stop(processes[0])  # SIGKILL, whatever it was doing
            processes[0] = _start_worker(env, f"bench-{queue[-10:]}-0b", logs[0])

    try:
        run = queue_month_end(targets, PERIOD, queue=queue, batch_size=100)
        reports = follow(run, on_change=on_change, timeout=3600, interval=0.2)
        seconds = time.perf_counter() - start
    finally:
        for process in processes:
            _stop(process, signal.SIGTERM)
            _stop(process)
        with (
            Connection(app.conf.broker_url, connect_timeout=3) as connection,
            suppress(Exception),
        ):
            connection.default_channel.queue_delete(queue)
    invoices, duplicates, missing, mails = _check(communes, reports)
    failed = tuple(code for code, report in reports.items() if not report.ok)
    killed_after = killed[0] if killed else None
    worker_cpu = _children_cpu() - cpu_before  # every worker was waited for above
    return _Run(
        seconds,
        invoices,
        duplicates,
        missing,
        mails,
        failed,
        killed_after,
        worker_cpu,
        workers + len(killed),
    )


@workload("month-end")
def month_end(quick: bool) -> list[Result]:
    """The month-end of a platform through 1 then 2 workers, one killed each time."""
    count = _size(quick, 2, 100)
    households = 6 if quick else 250
    size = f"{count} communes x {households} households"
    problem = _problem()
    if problem is not None:
        return [
            Result(
                workload=f"month-end {n} worker{'s' if n > 1 else ''}",
                backend="postgresql",
                seconds=0.0,
                baseline_seconds=None,
                size=size,
                notes=problem,
            )
            for n in (1, 2)
        ]
    results: list[Result] = []
    runs: dict[int, _Run] = {}
    with _platform(count, households) as communes, tempfile.TemporaryDirectory() as logs:
        children = sum(c.children for c in communes)
        size = f"{count} communes, {children} children, {count * households} households"
        startup = _startup_cpu(Path(logs))
        for workers in (1, 2):
            _reset(communes)
            run = runs[workers] = _run(communes, workers, Path(logs))
            ok = run.duplicates == 0 and run.missing == 0 and not run.failed
            killed = "-" if run.killed_after is None else f"{run.killed_after:.1f} s"
            per_child = max(0.0, run.worker_cpu - run.starts * startup) / children
            results.append(
                Result(
                    workload=f"month-end {workers} worker{'s' if workers > 1 else ''}",
                    backend="postgresql",
                    seconds=run.seconds,
                    cpu_seconds=run.worker_cpu,
                    baseline_seconds=None,
                    size=size,
                    target="0 duplicates, 0 missing, a worker killed",
                    met=None if quick else ok and run.killed_after is not None,
                    notes=(
                        f"{run.invoices} invoices, {run.invoices / run.seconds:.1f} invoices/s, "
                        f"{run.duplicates} duplicates, "
                        f"{run.missing} missing, worker killed at {killed}, "
                        f"{1000 * run.seconds / children:.2f} ms per child (wall), "
                        f"workers' CPU {1000 * per_child:.2f} ms per child "
                        f"(without {run.starts} startups of {startup:.1f} CPU s), {run.mails}"
                        + (f", FAILED communes: {', '.join(run.failed)}" if run.failed else "")
                    ),
                )
            )
    one, two = runs[1], runs[2]
    results.append(
        Result(
            workload="month-end speedup",
            backend="postgresql",
            seconds=two.seconds,
            baseline_seconds=one.seconds,
            size=size,
            target="(ratio: 2 workers over 1)",
            met=_verdict(quick, two.invoices == one.invoices),
            notes=f"speedup {one.seconds / two.seconds:.2f}x; same invoices: "
            f"{two.invoices == one.invoices}",
        )
    )
    return results
