"""Who used the cores during a timed phase: the server's processes, the benchmark's own, the
PostgreSQL server's, and the whole machine (Linux ``/proc``; elsewhere nothing is reported).

On a shared 2-core machine, wall-clock latencies depend on everything that runs: these CPU
seconds say what each part cost, and how much of the machine went to other work.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import attrs

__all__ = ["CpuUse", "Snapshot", "snapshot"]

_PROC = Path("/proc")


def _ticks() -> float:
    return float(os.sysconf("SC_CLK_TCK"))


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, user + system CPU seconds) of ``pid``."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / _ticks()


def _processes() -> dict[int, tuple[str, int, float]]:
    found = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def _busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores)."""
    fields = [int(v) for v in (_PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _ticks()


@attrs.frozen
class CpuUse:
    """CPU seconds used in a phase: ``server`` (its process and their descendants),
    ``client`` (this process), ``postgres`` (the processes named ``postgres``), ``machine``
    (all cores, busy), in ``seconds`` of wall-clock time. A process that ended during the
    phase is not counted (PostgreSQL's backends of other work come and go)."""

    server: float
    client: float
    postgres: float
    machine: float
    seconds: float

    @property
    def other(self) -> float:
        """The machine's busy seconds that none of the three used."""
        return max(0.0, self.machine - self.server - self.client - self.postgres)

    def per_call(self, calls: int) -> str:
        """What each part cost per call, and the cores the machine kept busy."""
        if not calls or not self.seconds:
            return ""

        def ms(seconds: float) -> str:
            return f"{seconds / calls * 1000:.1f}"

        return (
            f"CPU per call: server {ms(self.server)} ms, PostgreSQL {ms(self.postgres)} ms, "
            f"clients {ms(self.client)} ms, other work {ms(self.other)} ms "
            f"(machine busy {self.machine / self.seconds:.2f} cores)"
        )


@attrs.frozen
class Snapshot:
    """The CPU seconds used so far, per process."""

    server: dict[int, float]
    client: float
    postgres: dict[int, float]
    machine: float
    at: float

    def __sub__(self, before: Snapshot) -> CpuUse:
        def spent(now: dict[int, float], then: dict[int, float]) -> float:
            return sum(cpu - then.get(pid, 0.0) for pid, cpu in now.items())

        return CpuUse(
            server=spent(self.server, before.server),
            client=self.client - before.client,
            postgres=spent(self.postgres, before.postgres),
            machine=self.machine - before.machine,
            seconds=self.at - before.at,
        )


def snapshot(server_pid: int) -> Snapshot | None:
    """The CPU seconds used so far (``None`` without ``/proc``)."""
    if not (_PROC / "stat").exists():
        return None
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    server: dict[int, float] = {}
    stack = [server_pid]
    while stack:
        pid = stack.pop()
        if pid in processes:
            server[pid] = processes[pid][2]
        stack.extend(children.get(pid, ()))
    return Snapshot(
        server=server,
        client=time.process_time(),
        postgres={pid: cpu for pid, (name, _, cpu) in processes.items() if name == "postgres"},
        machine=_busy_seconds(),
        at=time.monotonic(),
    )
