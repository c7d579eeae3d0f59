"""Run the benchmarks: ``python -m benchmarks [--quick] [--json PATH] [--only NAME ...]``.

Prints a table (workload, backend, size, seconds, baseline seconds, ratio, peak memory, target)
and exits non-zero if a workload fails. Targets are checked on the full size only: the quick
size exists so the harness never rots in CI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchmarks import workloads
from benchmarks.harness import WORKLOADS, Result, run_workload, to_json


def _format(results: list[Result]) -> str:
    header = (
        "workload",
        "backend",
        "size",
        "seconds",
        "cpu s",
        "baseline",
        "ratio",
        "peak MB",
        "target",
        "notes",
    )
    rows = [header]
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        baseline = f"{r.baseline_seconds:.3f}" if r.baseline_seconds is not None else "-"
        verdict = "" if r.met is None else (" ok" if r.met else " MISSED")
        rows.append(
            (
                r.workload,
                r.backend,
                r.size,
                f"{r.seconds:.3f}",
                "-" if r.cpu_seconds is None else f"{r.cpu_seconds:.3f}",
                baseline,
                ratio,
                f"{r.peak_mb:.0f}",
                f"{r.target}{verdict}",
                r.notes,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (CI); targets not checked"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument(
        "--scale",
        type=float,
        help="multiply the full sizes (e.g. 0.2 on a slow or busy machine; targets are for 1)",
    )
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="run these workloads")
    args = parser.parse_args(argv)
    assert workloads  # imported for its registrations
    names = args.only or list(WORKLOADS)
    if args.scale is not None:  # read by the workloads, in this process and the spawned ones
        os.environ["CANTEEN_BENCH_SCALE"] = str(args.scale)
    results: list[Result] = []
    for name in names:
        print(f"running {name}...", file=sys.stderr, flush=True)
        rows = run_workload(name, args.quick)
        for row in rows:  # progress, for full-size runs that take minutes
            print(f"  {row.workload} [{row.backend}]: {row.seconds:.3f} s", file=sys.stderr)
        results.extend(rows)
        if args.json:  # written after each workload: a long run interrupted keeps its rows
            args.json.write_text(to_json(results) + "\n", encoding="utf-8")
    print(_format(results))
    if args.json:
        args.json.write_text(to_json(results) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
