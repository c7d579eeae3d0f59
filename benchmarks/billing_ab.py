"""Compare the billing run of two source trees in CPU seconds, on one seeded city.

On a machine shared with other work, wall-clock times say more about the load than about the
code. This seeds a synthetic city once, then bills a fresh copy of it alternately with each
tree (its ``src`` first on ``PYTHONPATH``), every run in a process of its own, and prints the
billing process's CPU seconds and, on PostgreSQL, those of the server backends serving it
(read from ``/proc``: the server must run on this machine). ``digest`` prints a hash of every
table, so two trees can be checked to store the same rows::

    python -m benchmarks.billing_ab seed sqlite 3000 /tmp/city.db
    python -m benchmarks.billing_ab compare sqlite /tmp/city.db /old/tree /new/tree --rounds 5
    python -m benchmarks.billing_ab seed postgresql 3000 city_seed   # a database of its own

PostgreSQL takes the server of ``CANTEEN_TEST_POSTGRES_DSN`` (its database is the one the
admin connection uses); each run copies the seeded database with ``CREATE DATABASE ...
TEMPLATE``, which needs a role allowed to create databases. The copy is named
``billing_ab_run`` (a file of that name next to a seeded SQLite file), or
``BILLING_AB_COPY``: two comparisons on one server need two names.

Each run also prints the garbage collector's CPU seconds (``gc``, part of ``cpu``) and its
full collections (``full_gc``): see :class:`_Collections` before reading a difference of
about 0.1 s at a few thousand households.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

#: The copy billed by each run (``BILLING_AB_COPY`` overrides it: two comparisons at once).
_COPY = os.environ.get("BILLING_AB_COPY", "billing_ab_run")


def _server(database: str) -> str:
    dsn = os.environ.get("CANTEEN_TEST_POSTGRES_DSN")
    if not dsn:
        raise SystemExit("set CANTEEN_TEST_POSTGRES_DSN for PostgreSQL")
    return f"{dsn.rsplit('/', 1)[0]}/{database}"


def _admin(statement: str) -> None:
    import psycopg

    dsn = os.environ["CANTEEN_TEST_POSTGRES_DSN"]
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(statement)


def seed(backend: str, households: int, target: str) -> None:
    """Store a synthetic city of ``households``, its September books and attendance."""
    from benchmarks.common import Database, city, seed_city, settle
    from benchmarks.workloads import SEPTEMBER, _seed_attendance, _seed_books
    from canteen_adapters.storage.sql import SqlStorage

    if backend == "sqlite":
        url = f"sqlite:///{target}"
    else:
        _admin(f"DROP DATABASE IF EXISTS {target}")
        _admin(f"CREATE DATABASE {target}")
        url = _server(target)
    town = city(households)
    storage = SqlStorage.from_url(url)
    # settle() analyses a PostgreSQL database on a bare driver connection (its owner's).
    bare = None
    if backend == "postgresql":
        import psycopg

        bare = psycopg.connect(url)
    try:
        seed_city(storage, town)
        _seed_books(storage, town)
        _seed_attendance(storage, town, *SEPTEMBER)
        settle(Database(backend, url, None, storage, bare))
    finally:
        storage.close()
        if bare is not None:
            bare.close()
    print(f"seeded {households} households, {town.children} children")


def _copy(backend: str, seeded: str) -> str:
    """A fresh copy of the seeded database; its URL."""
    if backend == "sqlite":
        run = Path(seeded).with_name(f"{_COPY}.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{run}{suffix}").unlink(missing_ok=True)
        shutil.copy(seeded, run)
        return f"sqlite:///{run}"
    _admin(f"DROP DATABASE IF EXISTS {_COPY}")
    _admin(f"CREATE DATABASE {_COPY} TEMPLATE {seeded}")
    return _server(_COPY)


def _backends_cpu(url: str) -> float | None:
    """CPU seconds of the PostgreSQL backends connected to ``url``'s database."""
    if not url.startswith("postgresql"):
        return None
    import psycopg

    database = url.rsplit("/", 1)[1]
    with psycopg.connect(os.environ["CANTEEN_TEST_POSTGRES_DSN"]) as connection:
        pids = [
            row[0]
            for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            )
        ]
    seconds = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


class _Collections:
    """The garbage collector's CPU seconds and its full collections, as a ``gc`` callback.

    Python runs a full collection once the objects that outlived younger collections reach
    a quarter of the heap: at a given size one tree may cross that line once more than the
    other (about 0.1 CPU s at 3,000 households), a step that says little about the code."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
            return
        self.seconds += time.process_time() - self._started
        self.full += info["generation"] == 2


def bill(url: str) -> None:
    """Bill September 2023 on ``url`` (this process's code) and print what it cost, as JSON."""
    from benchmarks.common import paris
    from benchmarks.workloads import ADMIN
    from canteen_core.config.deployment import Deployment, IssuerSettings, StorageSettings
    from canteen_core.domain.clock import FixedClock
    from canteen_core.services import Canteen

    deployment = Deployment(
        issuer=IssuerSettings(name="Ville de Banc-d'Essai", code="BENCH"),
        storage=StorageSettings(url=url, schema=None, migrate=False),
    )
    canteen = Canteen.from_deployment(deployment, clock=FixedClock(paris(date(2023, 10, 2))))
    collector = _Collections()
    gc.callbacks.append(collector)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        report = canteen.billing.run_postpaid(ADMIN, "2023-09")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        server = _backends_cpu(url)
    finally:
        gc.callbacks.remove(collector)
        canteen.close()
    result = {
        "cpu": cpu,
        "wall": wall,
        "server": server,
        "invoices": report.count,
        "gc": collector.seconds,
        "full_gc": collector.full,
    }
    print(json.dumps({**result, "total": str(report.total.amount)}))


def digest(url: str) -> None:
    """Print each table's row count and a hash of its rows (the audit log without its
    random entry ids and the hashes chained from them)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    tables: dict[str, tuple[int, str]] = {}
    try:
        with engine.connect() as connection:
            for name in sorted(sa.inspect(connection).get_table_names()):
                result = connection.exec_driver_sql(f"SELECT * FROM {name}")
                columns = list(result.keys())
                skipped = {"id", "previous_hash", "hash"} if name == "audit_log" else set()
                rows = sorted(
                    "|".join(
                        repr(value)
                        for column, value in zip(columns, row, strict=True)
                        if column not in skipped
                    )
                    for row in result
                )
                text = "\n".join(rows).encode()
                tables[name] = (len(rows), hashlib.sha256(text).hexdigest()[:16])
    finally:
        engine.dispose()
    print(json.dumps(tables, sort_keys=True))


def _run(tree: Path, *args: str) -> Any:
    # This file runs as a script: a tree from before it existed can be compared too.
    environment = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
    output = subprocess.run(
        [sys.executable, __file__, *args],
        env=environment,
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def compare(backend: str, seeded: str, trees: list[Path], rounds: int) -> None:
    """Bill a fresh copy with each tree in turn, ``rounds`` times; the medians, and whether
    the trees stored the same rows."""
    runs: dict[Path, list[dict[str, Any]]] = {tree: [] for tree in trees}
    digests: dict[Path, Any] = {}
    for _ in range(rounds):
        for tree in trees:
            url = _copy(backend, seeded)
            result = _run(tree, "bill", url)
            runs[tree].append(result)
            digests[tree] = _run(tree, "digest", url)
            print(tree, json.dumps(result), flush=True)
    for tree, results in runs.items():
        cpu = statistics.median(r["cpu"] for r in results)
        servers = [r["server"] for r in results if r["server"] is not None]
        server = f", server {statistics.median(servers):.2f} CPU s" if servers else ""
        collected = [r["gc"] for r in results if "gc" in r]
        collecting = (
            f", of which collecting garbage {statistics.median(collected):.2f}" if collected else ""
        )
        print(f"{tree}: median {cpu:.2f} CPU s{collecting}{server} over {len(results)} runs")
    if len(runs) == 2 and rounds:
        changes = [
            new["cpu"] / old["cpu"] - 1
            for old, new in zip(runs[trees[0]], runs[trees[1]], strict=True)
        ]
        print(
            f"second tree against the first, pair by pair: median {statistics.median(changes):+.1%}"
            f" (from {min(changes):+.1%} to {max(changes):+.1%})"
        )
    same = len({json.dumps(value, sort_keys=True) for value in digests.values()}) == 1
    print("same rows stored" if same else "THE TREES STORED DIFFERENT ROWS")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed")
    seeding.add_argument("backend", choices=("sqlite", "postgresql"))
    seeding.add_argument("households", type=int)
    seeding.add_argument("target", help="SQLite file, or PostgreSQL database name")
    billing = commands.add_parser("bill")
    billing.add_argument("url")
    digesting = commands.add_parser("digest")
    digesting.add_argument("url")
    comparing = commands.add_parser("compare")
    comparing.add_argument("backend", choices=("sqlite", "postgresql"))
    comparing.add_argument("seeded", help="the seeded SQLite file or PostgreSQL database")
    comparing.add_argument("trees", nargs="+", type=Path, help="source trees (with src/)")
    comparing.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.command == "seed":
        seed(args.backend, args.households, args.target)
    elif args.command == "bill":
        bill(args.url)
    elif args.command == "digest":
        digest(args.url)
    else:
        compare(args.backend, args.seeded, [tree.resolve() for tree in args.trees], args.rounds)


if __name__ == "__main__":
    main()
