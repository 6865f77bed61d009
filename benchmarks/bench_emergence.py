"""Benchmark the emergence speed goals and print a table (not collected by pytest).

    .venv/bin/python benchmarks/bench_emergence.py [--jobs J] [--only default|quick]

Targets (2 cores): ``factcheck emergence`` with its defaults (5 seeds, ``--jobs 2``) under 60 s;
the quick report's Emergence entries under 15 s. Wall time and the CPU time of this process and
its workers are both printed: on a shared machine the wall time grows with the other load, the
CPU time does not. BLAS is limited to one thread per process (as in the CLI).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

from verify.base.blas import set_blas_threads


def _cpu() -> float:
    """User + system CPU seconds of this process and of its finished worker processes."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2, help="worker processes for the default run")
    p.add_argument("--only", choices=("default", "quick"), default=None)
    args = p.parse_args()
    set_blas_threads(1, force=True)
    from verify.emergence import EmergenceConfig, run_experiment
    from verify.emergence.report import report_entries

    rows = []
    if args.only in (None, "default"):
        t0, c0 = time.perf_counter(), _cpu()
        res = run_experiment(EmergenceConfig(), jobs=args.jobs)
        verdicts = ", ".join(f"{c.key}: {c.verdict.value[:5]}" for c in res.claims())
        rows.append(("factcheck emergence (defaults)", time.perf_counter() - t0,
                     _cpu() - c0, 60.0, verdicts))  # fmt: skip
    if args.only in (None, "quick"):
        t0, c0 = time.perf_counter(), _cpu()
        entries = report_entries(quick=True)
        rows.append(("report --quick, Emergence entries", time.perf_counter() - t0,
                     _cpu() - c0, 15.0, ", ".join(e.verdict[:5] for e in entries)))  # fmt: skip
    load = os.getloadavg()[0]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load:.1f}")
    print(f"{'target':36s} {'wall s':>8s} {'cpu s':>8s} {'goal s':>7s}  verdicts")
    for name, wall, cpu, goal, verdicts in rows:
        print(f"{name:36s} {wall:8.1f} {cpu:8.1f} {goal:7.0f}  {verdicts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
