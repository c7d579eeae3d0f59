"""The benchmark harness: each workload is timed next to a baseline run in the same process.

A workload is a function ``(quick: bool) -> list[Result]``. It builds its data once, times
canteen's code path (the one users get) and a baseline doing the same job with the bare
storage engine or plain Python, and returns one :class:`Result` per backend. Each workload runs
in its own spawned process so its peak memory is its own.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

__all__ = ["WORKLOADS", "Result", "Timer", "isolated", "run_workload", "workload"]


@attrs.frozen(kw_only=True)
class Result:
    """One line of the table: a workload on a backend, against its baseline."""

    workload: str
    backend: str
    seconds: float
    baseline_seconds: float | None
    size: str
    target: str = ""
    met: bool | None = None
    peak_mb: float = 0.0
    notes: str = ""
    #: CPU seconds of this process in the timed part (close to ``seconds`` on an idle
    #: machine for in-process work; on a loaded one, what the work itself cost).
    cpu_seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        if not self.baseline_seconds:
            return None
        return self.seconds / self.baseline_seconds


Workload = Callable[[bool], list[Result]]
#: Registered workloads by name, in the order they run.
WORKLOADS: dict[str, Workload] = {}


def workload(name: str) -> Callable[[Workload], Workload]:
    """Register a workload under ``name``."""

    def register(function: Workload) -> Workload:
        WORKLOADS[name] = function
        return function

    return register


class Timer:
    """Accumulates wall-clock and CPU seconds over ``with timer():`` blocks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start
            self.cpu_seconds += time.process_time() - cpu


def peak_memory_mb() -> float:
    """This process's peak resident memory in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(name: str, quick: bool, queue: Any) -> None:
    import benchmarks.workloads  # noqa: F401  (registers the workloads in the child)

    try:
        results = WORKLOADS[name](quick)
        peak = round(peak_memory_mb(), 1)
        # A row measured in its own process (see isolated()) keeps that process's peak.
        rows = [attrs.asdict(r if r.peak_mb else attrs.evolve(r, peak_mb=peak)) for r in results]
        queue.put(("ok", rows))
    except BaseException as error:  # report any failure to the parent, then fail
        queue.put(("error", f"{type(error).__name__}: {error}"))
        raise


def run_workload(name: str, quick: bool) -> list[Result]:
    """Run workload ``name`` in a fresh spawned process and return its results.

    The quick size runs in this process (CI time goes to the workloads, not to importing
    everything again; its peak memory is not a measurement).
    """
    if quick:
        import benchmarks.workloads  # noqa: F401  (registers the workloads)

        peak = round(peak_memory_mb(), 1)
        return [r if r.peak_mb else attrs.evolve(r, peak_mb=peak) for r in WORKLOADS[name](quick)]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(name, quick, queue))
    process.start()
    status, payload = queue.get()
    process.join()
    if status != "ok":
        raise RuntimeError(f"workload {name} failed: {payload}")
    return [Result(**row) for row in payload]


def _isolated_child(function: Callable[..., Any], args: tuple[Any, ...], queue: Any) -> None:
    try:
        value = function(*args)
        queue.put(("ok", value, peak_memory_mb()))
    except BaseException as error:
        queue.put(("error", f"{type(error).__name__}: {error}", 0.0))
        raise


def isolated(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """Run ``function(*args)`` in a fresh spawned process: its result and that process's peak MiB.

    For a step whose memory matters on its own (billing a city), apart from the setup that
    built the city. ``function`` must be importable (module level); results must pickle.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_isolated_child, args=(function, args, queue))
    process.start()
    status, value, peak = queue.get()
    process.join()
    if status != "ok":
        raise RuntimeError(f"{getattr(function, '__name__', function)} failed: {value}")
    return value, round(peak, 1)


def to_json(results: list[Result]) -> str:
    """The results as a JSON document (one object per row, with the ratio)."""
    rows = [{**attrs.asdict(r), "ratio": r.ratio} for r in results]
    return json.dumps(rows, indent=2)
