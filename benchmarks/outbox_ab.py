"""Compare the outbox dispatch of two source trees in CPU seconds per message.

A month-end spends most of a commune's time sending the invoice e-mails (docs/performance.md).
This seeds a synthetic city and bills September once (so the outbox holds one unrendered
invoice e-mail per household, as after a month-end's billing), then dispatches a fresh copy
of it alternately with each tree (its ``src`` first on ``PYTHONPATH``), every run in a process
of its own, through ``canteen.accounts.send_outbox`` and the ``outbox`` mailer writing
``.eml`` files (as the ``month-end`` benchmark does). It prints the dispatching process's CPU
seconds per message and, on PostgreSQL, the server backends' (read from ``/proc``)::

    python -m benchmarks.billing_ab seed sqlite 1000 /tmp/city.db
    python -m benchmarks.outbox_ab bill /tmp/city.db
    python -m benchmarks.outbox_ab compare sqlite /tmp/city.db /old/tree /new/tree --rounds 5

On PostgreSQL (``billing_ab seed postgresql 1000 outbox_seed``, then ``bill outbox_seed``),
each run copies the database with ``CREATE DATABASE ... TEMPLATE`` (named
``BILLING_AB_COPY``, default ``billing_ab_run``) and dispatches as a role of its own
(``NOSUPERUSER NOBYPASSRLS``, :func:`benchmarks.common.app_role`), as a deployment does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.billing_ab import _backends_cpu, _copy, _server
from benchmarks.billing_ab import bill as _bill
from benchmarks.common import app_role


def _url(backend: str, seeded: str) -> str:
    return f"sqlite:///{seeded}" if backend == "sqlite" else _server(seeded)


def bill(backend: str, seeded: str) -> None:
    """Bill September on the seeded database itself: its outbox then holds the e-mails."""
    _bill(_url(backend, seeded))


def send(url: str) -> None:
    """Dispatch the outbox on ``url`` (this process's code) to ``.eml`` files; print, as
    JSON, what it cost."""
    from benchmarks.common import paris
    from benchmarks.workloads import ADMIN
    from canteen_core.config.deployment import Deployment, IssuerSettings, StorageSettings
    from canteen_core.domain.clock import FixedClock
    from canteen_core.ports.settings import MailSettings
    from canteen_core.services import Canteen

    with tempfile.TemporaryDirectory(prefix="canteen-outbox-ab-") as folder:
        deployment = Deployment(
            issuer=IssuerSettings(name="Ville de Banc-d'Essai", code="BENCH"),
            storage=StorageSettings(url=url, schema=None, migrate=False),
            mail=MailSettings(adapter="outbox", folder=folder, sender="cantine@banc.example"),
        )
        canteen = Canteen.from_deployment(deployment, clock=FixedClock(paris(date(2023, 10, 2))))
        try:
            canteen.accounts.outbox(ADMIN, "sent")  # open the connections before timing
            cpu, wall = time.process_time(), time.perf_counter()
            server_before = _backends_cpu(url)
            report = canteen.accounts.send_outbox(ADMIN, max_batches=10_000)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            server = _backends_cpu(url)
            files = len(list(Path(folder).glob("*.eml")))
        finally:
            canteen.close()
    if server is not None and server_before is not None:
        server -= server_before
    result = {"cpu": cpu, "wall": wall, "server": server, "sent": len(report.sent), "files": files}
    print(json.dumps(result))


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


def _as_canteen(backend: str, url: str) -> AbstractContextManager[str]:
    """The URL a run connects with: on PostgreSQL, canteen's own role (``NOSUPERUSER
    NOBYPASSRLS``) on the copy, as a deployment connects."""
    return nullcontext(url) if backend == "sqlite" else app_role(url, ["public"])


def compare(backend: str, seeded: str, trees: list[Path], rounds: int) -> None:
    """Dispatch a fresh copy with each tree in turn, ``rounds`` times; per-message medians."""
    runs: dict[Path, list[dict[str, Any]]] = {tree: [] for tree in trees}
    for _ in range(rounds):
        for tree in trees:
            with _as_canteen(backend, _copy(backend, seeded)) as url:
                result = _run(tree, "send", url)
            runs[tree].append(result)
            print(tree.name, json.dumps(result), flush=True)
    for tree, results in runs.items():
        sent = results[0]["sent"]
        cpu = statistics.median(1000 * r["cpu"] / r["sent"] for r in results)
        servers = [1000 * r["server"] / r["sent"] for r in results if r["server"] is not None]
        server = f", server {statistics.median(servers):.3f} CPU ms" if servers else ""
        print(f"{tree}: {sent} messages, median {cpu:.3f} CPU ms per message{server}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    billing = commands.add_parser("bill")
    billing.add_argument("backend", choices=("sqlite", "postgresql"))
    billing.add_argument("seeded")
    sending = commands.add_parser("send")
    sending.add_argument("url")
    comparing = commands.add_parser("compare")
    comparing.add_argument("backend", choices=("sqlite", "postgresql"))
    comparing.add_argument("seeded", help="the billed SQLite file or PostgreSQL database")
    comparing.add_argument("trees", nargs="+", type=Path, help="source trees (with src/)")
    comparing.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.command == "bill":
        bill(args.backend, args.seeded)
    elif args.command == "send":
        send(args.url)
    else:
        compare(args.backend, args.seeded, [tree.resolve() for tree in args.trees], args.rounds)


if __name__ == "__main__":
    main()
