"""Where trained ReLU networks end (run on demand: ``python benchmarks/bench_relu_kinks.py``).

The acceptance network of the ReLU certificate, (4, 16, 16, 2), n = 32, lam = 1e-2, over seeds
0-7, with and without biases, MSE and cross-entropy: the training status, ||grad L_lam||, and the
number of pinned pre-activations (live units' |z| below 1e-6 of the unit's largest |z|), which
is what keeps the point from being certified (verify/engine/pieces.py). Not collected by pytest.
"""

from __future__ import annotations

from verify.base.blas import set_blas_threads

set_blas_threads(1)  # as `factcheck`; before NumPy loads

import numpy as np  # noqa: E402

from verify.engine.network import MLP, backprop  # noqa: E402
from verify.engine.train import synthetic_problem, train  # noqa: E402


def pinned(problem, theta) -> int:  # type: ignore[no-untyped-def]
    count = 0
    for z in backprop(problem, theta).zs[:-1]:
        live = (z > 0).any(axis=0)
        az = np.abs(z[:, live])
        count += int((az <= 1e-6 * az.max(axis=0)).sum())
    return count


def main(seeds: int = 8) -> None:
    print("| bias | loss | statuses | ||grad|| range | pinned pre-activations |")
    print("|---|---|---|---|---|")
    for bias in (False, True):
        for loss in ("mse", "cross_entropy"):
            rows = []
            for seed in range(seeds):
                net = MLP((4, 16, 16, 2), "relu", bias=bias)
                problem = synthetic_problem(net, 32, lam=1e-2, seed=seed, loss=loss)
                result = train(problem, seed=seed, spectrum="none")
                rows.append((result.status.value, result.grad_norm, pinned(problem, result.theta)))
            statuses = ", ".join(sorted({r[0] for r in rows}))
            grads = f"{min(r[1] for r in rows):.1e}..{max(r[1] for r in rows):.1e}"
            pins = f"{min(r[2] for r in rows)}-{max(r[2] for r in rows)}"
            print(f"| {bias} | {loss} | {statuses} ({seeds} seeds) | {grads} | {pins} |")


if __name__ == "__main__":
    main()
