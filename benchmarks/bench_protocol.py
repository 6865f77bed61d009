"""The engine against the papers' protocol (run on demand: ``python benchmarks/bench_protocol.py``).

Full-batch gradient descent with the L2 term in the gradient (step 1/||H||, the largest stable
constant step) on the standard net (tanh, d = 20, width 64, n = 256, lam = 1e-3): FACT relative
error after the engine's time, and the time gradient descent needs to reach 1e-6 and 1e-12.
Times are process CPU seconds (``time.process_time``; the machine is shared). Not collected by
pytest (the file name does not start with ``test_``).
"""

from __future__ import annotations

from verify.base.blas import set_blas_threads
from verify.base.malloc import tune_allocator

# one BLAS thread and the tuned allocator, as `factcheck`; before NumPy loads
set_blas_threads(1)
tune_allocator()

import time  # noqa: E402

import numpy as np  # noqa: E402

from verify.engine.network import MLP, Problem, backprop  # noqa: E402
from verify.engine.train import hessian_norm, synthetic_problem, train  # noqa: E402


def _fact_rel(problem: Problem, theta: np.ndarray) -> float:
    """Max over layers of ||W^T W - FACT||_F / ||W^T W||_F (F1)."""
    bp = backprop(problem, theta)
    worst = 0.0
    for (w, _), gh, h in zip(bp.params, bp.grad_h, bp.hs, strict=True):
        nfm = w.T @ w
        fact = -(gh.T @ h) / (problem.n * problem.lam)
        worst = max(worst, float(np.linalg.norm(nfm - fact) / np.linalg.norm(nfm)))
    return worst


def main(cap: float = 30.0) -> None:
    problem = synthetic_problem(MLP((20, 64, 1), "tanh"), 256, lam=1e-3, seed=0)
    t0 = time.process_time()
    result = train(problem, seed=0, spectrum="none")
    engine_s, engine_rel = time.process_time() - t0, _fact_rel(problem, result.theta)
    theta = problem.net.init(0)
    step = 1.0 / hessian_norm(problem, theta)
    t0 = time.process_time()
    at_engine: float | None = None
    reached: dict[float, float | None] = {1e-6: None, 1e-12: None}
    steps, rel = 0, float("inf")
    while time.process_time() - t0 < cap and rel > 1e-12:
        for _ in range(50):
            theta = theta - step * backprop(problem, theta).grad
        steps += 50
        rel, now = _fact_rel(problem, theta), time.process_time() - t0
        if at_engine is None and now >= engine_s:
            at_engine = rel
        for level in reached:
            if reached[level] is None and rel <= level:
                reached[level] = now

    def fmt(x: float | None) -> str:
        return f"{x:.2f} s" if x is not None else f"not within {cap:.0f} s"

    print("Against the papers' protocol (full-batch GD, L2 in the gradient, step 1/||H||):")
    print(f"  engine (L-BFGS + Newton): FACT rel {engine_rel:.1e} after {engine_s:.2f} s CPU")
    print(f"  GD after the same CPU time: FACT rel {at_engine:.1e}" if at_engine else "  GD: n/a")
    print(
        f"  GD time to FACT rel 1e-6: {fmt(reached[1e-6])}; to 1e-12: {fmt(reached[1e-12])} "
        f"({steps} steps, final {rel:.1e})"
    )


if __name__ == "__main__":
    main()
