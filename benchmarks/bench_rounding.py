"""The per-entry rounding floor measured against the truth (run on demand:
``python benchmarks/bench_rounding.py``).

For each case: the float64 gradient at the point, its error (against the same gradient at 50
digits, same float64 inputs), the floor the certificate uses (a posteriori where the a priori
threshold certifies, verify/engine/posterior.py) and the a priori floor, each as
||floor|| / ||error||, the weights' rounding allowance R over the error, the certificate's
ratio max_i |g_i| / (floor_i + a priori_i + R_i) and decision, and what the previous global floor
u (k G + ||H|| ||theta||) decided. Then the cost of the analysis against one backpropagation.
Not collected by pytest.
"""

from __future__ import annotations

from verify.base.blas import set_blas_threads

set_blas_threads(1)  # as `factcheck` and the tests; before NumPy loads

import time  # noqa: E402

import mpmath  # noqa: E402
import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402

from verify.engine.hessian import handover_scale  # noqa: E402
from verify.engine.network import (  # noqa: E402
    FLOAT64,
    MLP,
    Problem,
    backprop,
    gradient,
    mp_backend,  # noqa: E402
)
from verify.engine.rounding import rounding_analysis, safe_norm  # noqa: E402
from verify.engine.train import synthetic_problem, train  # noqa: E402

BE50 = mp_backend(50)


def _error(problem: Problem, theta: np.ndarray) -> np.ndarray:
    g64 = backprop(problem, theta).grad
    g50 = backprop(problem, theta, BE50).grad
    with mpmath.workdps(50):
        return np.array([abs(float(mpmath.mpf(a) - b)) for a, b in zip(g64, g50, strict=True)])


def _timestamp() -> tuple[Problem, np.ndarray]:
    net = MLP((4, 8, 2), "relu", bias=True)
    base = synthetic_problem(net, 32, seed=0)
    X = base.X.copy()
    X[:, 0] = 1.7e9 + np.sort(np.random.default_rng(0).uniform(0, 3.15e7, 32))
    problem = Problem(net, X, base.Y, "mse", 1e-2)
    res = optimize.minimize(
        lambda t: gradient(problem, t), net.init(0), jac=True, method="L-BFGS-B",
        options={"maxiter": 500, "gtol": 0.0, "ftol": 0.0},
    )  # fmt: skip
    return problem, res.x


def _scaled(problem: Problem, theta: np.ndarray, s: float) -> tuple[Problem, np.ndarray]:
    params = problem.net.unflatten(theta.copy())
    params[0][0][:] = params[0][0] / s
    return (
        Problem(problem.net, problem.X * s, problem.Y, problem.loss, problem.lam),
        problem.net.flatten(params),
    )


def main() -> None:
    default = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    standard = synthetic_problem(MLP((20, 64, 1), "tanh"), 256, lam=1e-3, seed=0)
    ce = synthetic_problem(MLP((4, 8, 3), "gelu", bias=True), 32, loss="cross_entropy", seed=0)
    trained = {p: train(p, seed=0, spectrum="none").theta for p in (default, standard, ce)}
    cases = [
        ("default net (4,8,2) tanh n=32, trained", default, trained[default]),
        ("default net at its initial weights", default, default.net.init(0)),
        ("standard net (20,64,1) tanh n=256 lam 1e-3, trained", standard, trained[standard]),
        ("gelu cross-entropy (4,8,3)+bias n=32, trained", ce, trained[ce]),
        ("timestamp feature, ReLU, user L-BFGS 500 it.", *_timestamp()),
        ("default net, inputs x1e80, W1 x1e-80", *_scaled(default, trained[default], 1e80)),
    ]
    u = FLOAT64.unit_roundoff
    print(
        "| case | norm of grad | norm of error | floor / error | a priori / error "
        "| R / error | max g / threshold | certified | old floor | old decision |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, problem, theta in cases:
        ra = rounding_analysis(problem, theta)
        err = safe_norm(_error(problem, theta))
        gn = safe_norm(ra.abs_grad)
        old = u * handover_scale(problem, theta)
        kind = "a posteriori" if ra.posterior else "a priori"
        print(
            f"| {name} | {gn:.3g} | {err:.3g} | {safe_norm(ra.floor) / err:.3g} ({kind}) | "
            f"{safe_norm(ra.prior) / err:.3g} | {safe_norm(ra.allowance) / err:.3g} | "
            f"{ra.ratio:.3g} | {'yes' if ra.certified else 'no'} | {old:.3g} | "
            f"{'certified' if gn <= old else 'not certified'} |"
        )
    print()
    print("| network | backprop (ms) | backprop + analysis (ms) | ratio |")
    print("|---|---|---|---|")
    for name, problem in (
        ("default (4,8,2) n=32", default),
        ("standard (20,64,1) n=256", standard),
    ):
        theta = trained[problem]
        reps = 200
        t0 = time.perf_counter()
        for _ in range(reps):
            backprop(problem, theta)
        t1 = time.perf_counter()
        for _ in range(reps):
            rounding_analysis(problem, theta)
        t2 = time.perf_counter()
        a, b = (t1 - t0) / reps * 1e3, (t2 - t1) / reps * 1e3
        print(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
