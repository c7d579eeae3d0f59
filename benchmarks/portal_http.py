"""The ``portal-http`` workload: the rentrée rush over loopback HTTP against ``canteen serve``.

Families log in (all of them first: logins are bounded by argon2, which saturates the cores
while they last, so they are timed as their own phase), then load their dashboard and each
child's grid, tick the month, see the recap and validate it, from concurrent clients
(:mod:`benchmarks.http_client`: one keep-alive connection each, all in one thread, so that
the load generator's CPU stays small beside the server's on the shared cores) against
``canteen serve --workers 2`` (one server process per core of the reference machine;
``$CANTEEN_BENCH_WORKERS`` to change) on 127.0.0.1 (PostgreSQL when
``CANTEEN_TEST_POSTGRES_DSN`` is set, the server connected as a role of its own as in
production; otherwise SQLite, labelled as such). The accounts are
created beforehand through the facade (invite, activate; one first login and password change,
whose hash the others share) with the deployment's real argon2 parameters, so each timed
login costs what it costs in production.

The visits run twice, each phase on a month of its own:

- *at a family's pace* (September): each client pauses between two calls as a person does,
  a think time drawn from an exponential distribution of mean :data:`THINK` seconds (seeded).
  32 families browsing at once is what "32 concurrent clients" means for a portal; the
  latencies are what a family waits.
- *without pause* (October): each client sends its next call as soon as the last one answered.
  That measures the server's capacity (calls per second); its latencies are the queue in
  front of a saturated server (Little's law: about clients / calls per second), not the cost
  of a route.

The baseline is ``GET /api/v1/session`` on the same server in the same run: the framework, the
session lookup and the security headers, no database. After the rush, the stored bookings are
compared with what the families validated (days lost must be 0). The CPU seconds of the
rush are split between the server's processes, PostgreSQL's, the clients' and other work on
the machine (:mod:`benchmarks.cpu_use`), per call.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time as clock
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, time
from pathlib import Path
from typing import Any

import attrs

from benchmarks.common import Database, city, paris, postgres_dsn, seed_city, settle, sql_storage
from benchmarks.cpu_use import snapshot
from benchmarks.harness import Result, workload
from benchmarks.http_client import Answer, Connection, run_clients
from canteen_adapters.storage.sql import SqlStorage
from canteen_adapters.web.sessions import COOKIE
from canteen_core.domain.actors import Actor, Role
from canteen_core.synthetic import SyntheticCity

__all__ = ["portal_http"]

#: The rush: the Monday before the rentrée, families booking September.
NOW = paris(date(2023, 8, 28), time(10, 0))
#: The months booked: the first phase at a family's pace, the second without pause.
PACED_MONTH, RUSHED_MONTH = "2023-09", "2023-10"
BOOKED = (date(2023, 9, 1), date(2023, 10, 31))
#: A family's mean pause between two calls in the paced phase, in seconds: reading a page,
#: ticking days. One second is short for a person (a month's grid takes longer to tick):
#: the phase errs on the side of load.
THINK = 1.0
PASSWORD = "Rentree-Cantine-2023!"
ADMIN = Actor.staff("bench-admin", Role.ADMIN)
#: Targets on the 2-core machine at 32 clients (issue #15).
BOOKING_P95 = 0.100
DASHBOARD_P95 = 0.050
REQUEST_TIMEOUT = 60.0
HOST = "127.0.0.1"
#: How long the server may take to start (untimed: each worker imports and opens the
#: deployment; minutes on a busy shared machine).
STARTUP = 240.0
BOOKING = "POST reservations"
BARE = "GET session (bare)"
LOGIN = "POST session (login)"


def _size(quick: bool) -> tuple[int, int, float]:
    """(families, concurrent clients, mean think time of the paced phase)."""
    if quick:
        return 20, 4, 0.02
    scale = float(os.environ.get("CANTEEN_BENCH_SCALE", "1"))
    return max(20, round(200 * scale)), 32, THINK


def _deployment_text(db: Database, url: str) -> str:
    schema = f'schema = "{db.schema}"\n' if db.schema else ""
    return f"""\
[storage]
url = "{url}"
migrate = false
{schema}
[issuer]
name = "Ville de Banc-d'Essai"
code = "BENCH"

[calendar]
source = "france"
zone = "C"

[mail]
adapter = "outbox"
sender = "Restauration scolaire <cantine@banc.example>"

[portal]
url = "http://127.0.0.1"
"""


def _accounts(config: Path, db: Database, town: SyntheticCity) -> list[tuple[str, str]]:
    """Invite, activate and set the password of each payer through the facade (untimed):
    ``(username, household id)`` per family."""
    from canteen_core.domain.clock import FixedClock
    from canteen_core.services import Canteen

    with Canteen.open(config, clock=FixedClock(NOW)) as canteen:

        def invite(household: Any) -> tuple[str, tuple[str, str]]:
            view = canteen.accounts.invite_guardian(
                ADMIN, household.id, household.payer.id, username=f"u{household.id.lower()}"
            )
            return view.id, (view.username, household.id)

        with ThreadPoolExecutor(2) as pool:  # argon2 releases the GIL: both cores hash
            usernames = dict(pool.map(invite, town.households))
        welcomes = {
            r.message.account_id: r.message.text_body
            for r in canteen.accounts.outbox(ADMIN)
            if r.message.kind == "invitation"
        }

        ids = list(usernames)
        for account_id in ids:
            token = re.search(r"[?&]token=(\S+)", welcomes[account_id])
            assert token is not None, welcomes[account_id]
            canteen.accounts.activate(token.group(1))
        # The first family changes its temporary password through the facade; the others get
        # the same argon2 hash (verifying it costs the same): three hashings per family fewer.
        temporary = re.search(r"Mot de passe provisoire : (\S+)", welcomes[ids[0]])
        assert temporary is not None, welcomes[ids[0]]
        done = canteen.accounts.login(usernames[ids[0]][0], temporary.group(1))
        canteen.accounts.change_password(done.actor, temporary.group(1), PASSWORD)
    storage = SqlStorage.from_url(db.url, schema=db.schema, migrate=False)
    try:
        with storage.unit_of_work() as uow:
            chosen = uow.accounts.get(ids[0])
            assert chosen is not None
            assert not chosen.must_change_password
            for account_id in ids[1:]:
                account = uow.accounts.get(account_id)
                assert account is not None
                uow.accounts.save(
                    attrs.evolve(
                        account, password_hash=chosen.password_hash, must_change_password=False
                    )
                )
            uow.commit()
    finally:
        storage.close()
    return list(usernames.values())


def _workers() -> int:
    """Server processes: one per core of the 2-core reference machine, or
    ``$CANTEEN_BENCH_WORKERS`` (sessions are in the storage, so any worker answers)."""
    return max(1, int(os.environ.get("CANTEEN_BENCH_WORKERS", "2")))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serve(config: Path) -> Iterator[tuple[int, int]]:
    """``canteen serve`` on a free port of :data:`HOST`, its clock at :data:`NOW`: (port, pid)."""
    import httpx

    port = _free_port()
    env = {**os.environ, "CANTEEN_NOW": NOW.isoformat()}
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from canteen_adapters.cli import main; main()",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(_workers()),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = clock.monotonic() + STARTUP
        while True:
            if server.poll() is not None:
                error = server.stderr.read().decode() if server.stderr else ""
                raise RuntimeError(f"canteen serve stopped: {error[-300:]}")
            try:
                if httpx.get(f"{base}/api/v1/session", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            if clock.monotonic() > deadline:
                raise RuntimeError(f"canteen serve did not answer within {STARTUP:.0f} s")
            clock.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()


class _Rush:
    """The families' sessions from concurrent clients (:mod:`benchmarks.http_client`);
    latencies per route, errors, what was validated. ``think`` is the mean pause before each
    call (0: none); ``month`` the month the families book."""

    def __init__(
        self, port: int, sessions: dict[str, tuple[str, str]], month: str, think: float
    ) -> None:
        self.port = port
        self.month = month
        self.think = think
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.validated: dict[str, set[date]] = {}
        self.sessions = sessions
        self._pauses = random.Random(f"{month}-{think}")

    def connect(self) -> Connection:
        return Connection(HOST, self.port, REQUEST_TIMEOUT)

    async def _call(
        self,
        connection: Connection,
        route: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        if self.think:
            await asyncio.sleep(self._pauses.expovariate(1 / self.think))
        answer = await connection.request(method, path, json_body=json_body, headers=headers)
        self.latencies.setdefault(route, []).append(answer.seconds)
        if answer.status != 200:
            raise RuntimeError(f"{route}: {answer.status} {answer.body[:150]!r}")
        return answer

    async def login(self, connection: Connection, account: tuple[str, str]) -> None:
        """Phase 1: one family logs in (its session kept for phase 2); failures are counted."""
        username, household_id = account
        connection.cookie = ""
        try:
            done = await self._call(
                connection,
                LOGIN,
                "POST",
                "/api/v1/session",
                json_body={"username": username, "password": PASSWORD},
            )
            cookie = done.cookie(COOKIE)
            assert cookie, done.headers
            self.sessions[household_id] = (f"{COOKIE}={cookie}", str(done.json()["csrf_token"]))
        except Exception as error:
            self.errors.append(f"{type(error).__name__}: {error}")

    async def family(self, connection: Connection, household_id: str) -> None:
        """Phase 2: one family's visit in its session; any failure is counted, never raised."""
        try:
            connection.cookie, csrf = self.sessions[household_id]
            await self._visit(connection, household_id, {"X-CSRF-Token": csrf})
        except Exception as error:
            self.errors.append(f"{type(error).__name__}: {error}")

    async def _visit(
        self, connection: Connection, household_id: str, headers: dict[str, str]
    ) -> None:
        await self._call(connection, BARE, "GET", "/api/v1/session")
        dashboard = await self._call(
            connection, "GET dashboard", "GET", f"/api/v1/households/{household_id}/dashboard"
        )
        for enrollment in dashboard.json()["enrollments"]:
            enrollment_id = enrollment["id"]
            grid = await self._call(
                connection,
                "GET month grid",
                "GET",
                f"/api/v1/enrollments/{enrollment_id}/months/{self.month}",
            )
            days = [
                cell["day"]
                for row in grid.json()["rows"]
                for cell in row["cells"]
                if cell is not None and cell["editable"] and not cell["booked"]
            ]
            body = {"changes": [{"day": day, "booked": True} for day in days]}
            await self._call(
                connection,
                "POST preview",
                "POST",
                f"/api/v1/enrollments/{enrollment_id}/reservations/preview",
                json_body=body,
                headers=headers,
            )
            await self._call(connection, BARE, "GET", "/api/v1/session")
            done = await self._call(
                connection,
                BOOKING,
                "POST",
                f"/api/v1/enrollments/{enrollment_id}/reservations",
                json_body=body,
                headers={**headers, "If-Match": grid.headers["etag"]},
            )
            self.validated.setdefault(enrollment_id, set()).update(
                date.fromisoformat(day) for day in done.json()["booked"] + done.json()["unchanged"]
            )


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        value = values[0] if values else 0.0
        return value, value, value
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[94], cuts[98]


@attrs.frozen
class _Phase:
    """One phase of visits: its rush, wall time and CPU use."""

    name: str
    rush: _Rush
    wall: float
    used: Any

    @property
    def calls(self) -> int:
        return sum(len(v) for v in self.rush.latencies.values())


def _visits(server: int, name: str, rush: _Rush, households: list[str], clients: int) -> _Phase:
    """Every family's visit through ``rush`` from ``clients`` clients, with the CPU the
    server (pid ``server``), PostgreSQL and the rest of the machine spent meanwhile."""
    before = snapshot(server)
    began = clock.perf_counter()
    run_clients(households, clients, rush.connect, rush.family)
    wall = clock.perf_counter() - began
    after = snapshot(server)
    used = after - before if after is not None and before is not None else None
    return _Phase(name, rush, wall, used)


def _phase_rows(
    phase: _Phase, label: str, size: str, clients: int, full: bool, lost: int, extra: int
) -> list[Result]:
    """The phase's summary row (judged against the targets at full size) and a row per route."""
    rush = phase.rush
    stats = {route: _quantiles(values) for route, values in rush.latencies.items()}
    booking_p95 = stats.get(BOOKING, (0.0, 0.0, 0.0))[1]
    bare_p95 = stats.get(BARE, (0.0, 0.0, 0.0))[1]
    dashboard_p95 = stats.get("GET dashboard", (0.0, 0.0, 0.0))[1]
    ok = not rush.errors and lost == extra == 0
    met = ok and booking_p95 <= BOOKING_P95 and dashboard_p95 <= DASHBOARD_P95
    failure = f"; FAILED: {rush.errors[0][:200]}" if rush.errors else ""
    workload_name = f"portal http, {phase.name}"
    rows = [
        Result(
            workload=workload_name,
            backend=label,
            seconds=phase.wall,
            baseline_seconds=None,
            size=f"{size}, {phase.calls} calls",
            target=(
                f"booking p95 <= {BOOKING_P95 * 1000:.0f} ms, dashboard p95 <= "
                f"{DASHBOARD_P95 * 1000:.0f} ms at {clients} clients, 0 days lost"
            ),
            met=met if full else (None if ok else False),
            notes=(
                f"{phase.calls / phase.wall:.0f} calls/s, {len(rush.errors)} errors, "
                f"{lost} days lost, {extra} days booked unasked"
                + (f"; {phase.used.per_call(phase.calls)}" if phase.used is not None else "")
                + failure
            ),
        )
    ]
    for route, (p50, p95, p99) in sorted(stats.items()):
        rows.append(
            Result(
                workload=f"{workload_name}: {route}",
                backend=label,
                seconds=p95,
                baseline_seconds=bare_p95 if route == BOOKING else None,
                size=f"{len(rush.latencies[route])} calls",
                target="ratio: p95 / bare route p95" if route == BOOKING else "",
                notes=f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
            )
        )
    return rows


def _run(backend: str, families: int, clients: int, think: float) -> list[Result]:
    town = city(families, seed=15)
    label = backend if backend == "postgresql" else "sqlite (no PostgreSQL)"
    size = (
        f"{families} families, {len(town.enrollments)} children, {clients} clients, "
        f"{_workers()} server processes"
    )
    with (
        sql_storage(backend) as db,
        tempfile.TemporaryDirectory(prefix="canteen-http-") as tmp,
    ):
        url = db.url  # on PostgreSQL, canteen's own role (benchmarks.common.app_role)
        seed_city(db.storage, town)
        config = Path(tmp) / "canteen.toml"
        config.write_text(_deployment_text(db, url), encoding="utf-8")
        setup = clock.perf_counter()
        accounts = _accounts(config, db, town)
        setup = clock.perf_counter() - setup
        settle(db)
        households = [household_id for _, household_id in accounts]
        sessions: dict[str, tuple[str, str]] = {}
        with _serve(config) as (port, server):
            logins = _Rush(port, sessions, "", 0.0)
            began = clock.perf_counter()
            run_clients(accounts, clients, logins.connect, logins.login)
            login_wall = clock.perf_counter() - began
            phases = [
                _visits(
                    server,
                    f"families pausing {think:g} s on average",
                    _Rush(port, sessions, PACED_MONTH, think),
                    households,
                    clients,
                ),
                _visits(
                    server,
                    "no pause (capacity)",
                    _Rush(port, sessions, RUSHED_MONTH, 0.0),
                    households,
                    clients,
                ),
            ]
        with db.storage.unit_of_work(read_only=True) as uow:
            stored: dict[str, set[date]] = {}
            for enrollment_id, day in uow.reservations.booked(start=BOOKED[0], end=BOOKED[1]):
                stored.setdefault(enrollment_id, set()).add(day)
    full = clients >= 32 and backend == "postgresql"
    rows = [
        Result(
            workload="portal http, logins",
            backend=label,
            seconds=login_wall,
            baseline_seconds=None,
            size=f"{len(accounts)} logins, {clients} clients",
            notes=(
                f"{len(accounts) / login_wall:.1f} logins/s (argon2-bound), "
                f"{len(logins.errors)} errors; accounts set up in {setup:.1f} s"
                + (f"; FAILED: {logins.errors[0][:200]}" if logins.errors else "")
            ),
            met=None if not logins.errors else False,
        )
    ]
    for phase, month in zip(phases, (PACED_MONTH, RUSHED_MONTH), strict=True):
        first = date.fromisoformat(f"{month}-01")
        in_month = {
            e: {d for d in days if (d.year, d.month) == (first.year, first.month)}
            for e, days in stored.items()
        }
        validated = phase.rush.validated
        lost = sum(len(days - in_month.get(e, set())) for e, days in validated.items())
        extra = sum(len(days - validated.get(e, set())) for e, days in in_month.items())
        rows += _phase_rows(phase, label, size, clients, full, lost, extra)
    return rows


@workload("portal-http")
def portal_http(quick: bool) -> list[Result]:
    """The rentrée rush over HTTP: 200 families (20 quick) from 32 clients (4 quick)."""
    families, clients, think = _size(quick)
    if postgres_dsn():
        return _run("postgresql", families, clients, think)
    rows = _run("sqlite", families, clients, think)
    return [
        *rows,
        Result(
            workload="portal http",
            backend="postgresql",
            seconds=0.0,
            baseline_seconds=None,
            size=f"{families} families, {clients} clients",
            notes="skipped: CANTEEN_TEST_POSTGRES_DSN is not set (the rows above are SQLite)",
        ),
    ]
