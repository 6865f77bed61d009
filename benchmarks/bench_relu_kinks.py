"""Where trained ReLU networks end (run on demand: ``python benchmarks/bench_relu_kinks.py``).

The acceptance network of the ReLU certificate, (4, 16, 16, 2), n = 32, lam = 1e-2, over seeds
0-7, with and without biases, MSE and cross-entropy: the training status, how many runs were
certified ON a kink (Clarke-type stationary points, verify/engine/kink/), the number of pinned
pre-activations (live units' |z| below 1e-6 of the unit's largest |z|: what keeps a point from
being certified inside a piece, verify/engine/pieces.py), the range of the certified slopes and
the CPU seconds of each ``train`` call. Not collected by pytest.
"""

from __future__ import annotations

from verify.base.blas import set_blas_threads

set_blas_threads(1)  # as `factcheck`; before NumPy loads

import time  # noqa: E402

import numpy as np  # noqa: E402

from verify.engine.network import MLP, Problem, backprop  # noqa: E402
from verify.engine.train import synthetic_problem, train  # noqa: E402


def pinned(problem, theta) -> int:  # type: ignore[no-untyped-def]
    problem = Problem(problem.net, problem.X, problem.Y, problem.loss, problem.lam,
                      problem.decay_bias)  # fmt: skip  # plain ReLU, without certified slopes
    count = 0
    for z in backprop(problem, theta).zs[:-1]:
        live = (z > 0).any(axis=0)
        az = np.abs(z[:, live])
        count += int((az <= 1e-6 * az.max(axis=0)).sum())
    return count


def main(seeds: int = 8) -> None:
    print("| bias | loss | statuses | certified on a kink | pinned pre-activations | slopes "
          "| CPU s per run |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for bias in (False, True):
        for loss in ("mse", "cross_entropy"):
            rows = []
            for seed in range(seeds):
                net = MLP((4, 16, 16, 2), "relu", bias=bias)
                problem = synthetic_problem(net, 32, lam=1e-2, seed=seed, loss=loss)
                t0 = time.process_time()
                result = train(problem, seed=seed, spectrum="none")
                cpu = time.process_time() - t0
                rep = result.pieces
                kink = result.converged and rep is not None and not rep.inside
                slopes = rep.slopes if kink else []
                rows.append((result.status.value, kink, pinned(problem, result.theta), slopes,
                             cpu))  # fmt: skip
            statuses = ", ".join(f"{k} {sum(r[0] == k for r in rows)}" for k in
                                 sorted({r[0] for r in rows}))  # fmt: skip
            pins = f"{min(r[2] for r in rows)}-{max(r[2] for r in rows)}"
            sl = [x for r in rows for x in r[3]]
            srange = f"{min(sl):.4g}..{max(sl):.4g}" if sl else "-"
            cpus = f"{min(r[4] for r in rows):.1f}..{max(r[4] for r in rows):.1f}"
            print(f"| {bias} | {loss} | {statuses} | {sum(r[1] for r in rows)}/{seeds} | {pins} "
                  f"| {srange} | {cpus} |")  # fmt: skip


if __name__ == "__main__":
    main()
