"""Benchmark a 2-worker sweep against the serial time of its points (not collected by pytest).

    .venv/bin/python benchmarks/bench_sweep.py [--points 40] [--workers 2] [--serial K]

Target (2 cores): a sweep of 40 standard-net points (``verify-fact``: tanh, d = 20, width 64,
n = 256, one output, lam = 1e-3, MSE; seeds 0..39) on a LocalCluster of 2 worker processes runs
within 1.2x of points x single-point time / 2. The single-point time is measured in this process,
one point after another, on the same points (``--serial K`` times only the first K and scales
up); the sweep is timed with and without the cluster's start-up and shut-down. The sum of the
times the workers measured for their own points is printed too (the same work, timed inside the
sweep). One BLAS thread everywhere (verify.base.blas).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from verify.base.blas import set_blas_threads

set_blas_threads(1)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=40, help="number of points (seeds)")
    p.add_argument("--workers", type=int, default=2, help="local worker processes")
    p.add_argument("--serial", type=int, default=None, help="time only K points serially")
    args = p.parse_args()

    from verify.sweep.runner import open_cluster, run_sweep
    from verify.sweep.spec import SweepSpec
    from verify.sweep.store import SweepStore
    from verify.sweep.tasks import run_point

    spec = SweepSpec.from_mapping(
        {
            "name": "bench",
            "task": "verify-fact",
            "seeds": list(range(args.points)),
            "fixed": {
                "activation": "tanh",
                "d": 20,
                "width": 64,
                "n": 256,
                "outputs": 1,
                "lam": 1e-3,
                "loss": "mse",
            },
        }
    )
    points = spec.points()
    load_start = os.getloadavg()[0]
    k = min(args.serial or len(points), len(points))
    t0 = time.perf_counter()
    for point in points[:k]:
        run_point(spec.task, point.params)
    serial = (time.perf_counter() - t0) / k * len(points)
    with tempfile.TemporaryDirectory() as tmp:
        store = SweepStore(Path(tmp) / "bench.sqlite")
        t1 = time.perf_counter()
        with open_cluster(workers=args.workers) as client:
            t2 = time.perf_counter()
            out = run_sweep(spec, store, client)
            t3 = time.perf_counter()
        t4 = time.perf_counter()
        rows = store.rows()
        worker_sum = sum(r.seconds or 0.0 for r in rows)
        verdicts = sorted({r.verdict or "-" for r in rows})
        store.close()
    assert out.stored == len(points) and not out.errors, out
    ideal = serial / args.workers
    table = [
        ("points", f"{len(points)} ({k} timed serially)"),
        ("single-point time (serial mean)", f"{serial / len(points):.2f} s"),
        (f"ideal: points x single / {args.workers}", f"{ideal:.1f} s"),
        ("sweep, cluster start-up and shut-down included", f"{t4 - t1:.1f} s"),
        ("sweep, points only (submit to last result stored)", f"{t3 - t2:.1f} s"),
        ("ratio (points only) / ideal (goal <= 1.2)", f"{(t3 - t2) / ideal:.2f}"),
        ("ratio (start-up included) / ideal", f"{(t4 - t1) / ideal:.2f}"),
        ("sum of per-point times on the workers", f"{worker_sum:.1f} s"),
        ("verdicts", ", ".join(verdicts)),
    ]
    width = max(len(a) for a, _ in table)
    print(
        f"bench_sweep: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    for a, b in table:
        print(f"{a.ljust(width)}  {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
