"""The Hessian summary is reproducible within and across processes (report --jobs, F1)."""

from __future__ import annotations

from verify.engine.hessian import hessian_summary
from verify.engine.network import MLP
from verify.engine.train import synthetic_problem, train


def test_lanczos_summary_is_reproducible() -> None:
    """F1: the Lanczos extremes come from a fixed start vector: two calls in one process give
    the same bits (ARPACK's own random start advanced between calls, so results.json differed
    between `report --jobs 1` and `--jobs 2`)."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    result = train(problem, seed=0, spectrum="none")
    a = hessian_summary(problem, result.theta, "lanczos")
    b = hessian_summary(problem, result.theta, "lanczos")
    assert (a.min_eig, a.max_eig) == (b.min_eig, b.max_eig)
    dense = hessian_summary(problem, result.theta, "dense")
    # why 1e-5: eigsh runs at tol 1e-6 relative to the largest eigenvalue
    assert abs(a.max_eig - dense.max_eig) <= 1e-5 * abs(dense.max_eig)
