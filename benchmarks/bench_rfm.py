"""Benchmark the RFM targets and print a table (not collected by pytest).

    .venv/bin/python benchmarks/bench_rfm.py [--threads N] [--only modular|parity] [--nfa]

Targets (2 cores): modular addition mod 61, training fraction 0.5, 75 iterations of FACT-RFM
under 60 s; sparse parity d = 50, k = 3, n = 8000, one RFM fit of 5 iterations under 60 s.
Solver: kernel matrix by the Gram identity, Cholesky factorisation (scipy cho_factor/cho_solve)
of K + r I at every iteration, no n x n inverse. ``--threads`` sets the BLAS thread count
before NumPy loads; the default is 1 because on a shared, loaded 2-core machine an
oversubscribed 2-thread OpenBLAS was measured 5-10x slower (modular: 209 s vs 19 s); pass
``--threads 0`` to leave the BLAS default alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from verify.base.blas import set_blas_threads


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (0: library default)")
    p.add_argument("--only", choices=("modular", "parity"), default=None)
    p.add_argument("--nfa", action="store_true", help="also time NFA-RFM on modular addition")
    return p.parse_args()


def main() -> int:
    args = _args()
    if args.threads > 0:
        set_blas_threads(args.threads, force=True)
    import numpy as np

    from verify.rfm.experiments import run_modular, sparse_parity_data
    from verify.rfm.kernels import Kernel
    from verify.rfm.machine import rfm

    rows: list[tuple[str, float, float, str, str]] = []
    if args.only in (None, "modular"):
        for method in ("fact", "nfa") if args.nfa else ("fact",):
            res = run_modular(p=61, train_fraction=0.5, method=method, iters=75)
            s = res.to_dict()
            rows.append(
                (
                    f"modular p=61 frac=0.5 {method} x75",
                    res.seconds,
                    60.0,
                    f"test acc {res.test_acc[-1]:.3f} (1.0 from iter {s['first_iter_test_acc_1']})",
                    ",".join(s["settings"]["solvers"]),
                )
            )
    if args.only in (None, "parity"):
        rng = np.random.default_rng(0)
        hidden = sorted(int(h) for h in rng.choice(50, size=3, replace=False))
        Xt, Yt = sparse_parity_data(2000, 50, hidden, rng)
        X, Y = sparse_parity_data(8000, 50, hidden, rng)
        t0 = time.perf_counter()
        out = rfm(
            X,
            Y,
            method="fact",
            kernel=Kernel("laplace", 10.0),
            ridge=1e-3,
            iters=5,
            X_test=Xt,
            Y_test=Yt,
        )
        rows.append(
            (
                "parity d=50 k=3 n=8000 fact x5",
                time.perf_counter() - t0,
                60.0,
                f"test acc {out.test_acc[-1]:.3f}",
                ",".join(sorted(set(out.solvers))),
            )
        )
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(
        f"# RFM benchmarks ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, BLAS threads: {threads})"
    )
    print(f"| {'case':36s} | seconds | target | ok | result | solver |")
    print(f"|{'-' * 38}|---------|--------|----|--------|--------|")
    for name, sec, target, result, solver in rows:
        ok = "yes" if sec < target else "NO"
        print(f"| {name:36s} | {sec:7.1f} | {target:6.0f} | {ok:2s} | {result} | {solver} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
