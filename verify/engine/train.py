"""Certified convergence to a stationary point of L_lam: L-BFGS, then Newton, then mpmath Newton.

1. Full-batch L-BFGS (SciPy) with the exact gradient, until the gradient is small relative to its
   own scale (``newton_from``) or L-BFGS stops (line-search failure at the precision limit is
   normal and expected).
2. Newton steps in float64 with the exact Hessian (Hessian-vector products, R-operator). The
   Hessian is singular along continuous symmetries (rotations of hidden units of linear networks,
   bias shifts, the softmax shift), so the step is least-squares: a pseudo-inverse step from the
   dense eigendecomposition for small networks, MINRES on a LinearOperator of Hessian-vector
   products for large ones (never a dense Hessian). A step is kept only if it lowers the
   gradient norm; otherwise a damped (Levenberg-Marquardt, saddle-free) step is tried, and if that
   fails too, L-BFGS resumes.
3. Optionally, Newton in mpmath at ``dps`` digits: the step solves H p = -g with the EXACT mpmath
   Hessian (mpmath Hessian-vector products, the same R-operator code), by iterative refinement
   preconditioned with the float64 pseudo-inverse of H: each refinement sweep gains about
   -log10(cond(H) * u_float64) digits of the step, so a few sweeps give a full-precision Newton
   step, and Newton's quadratic convergence takes a float64 point (gradient ~1e-16) to the 50-digit
   floor in two or three steps. That fast path fails on ill-conditioned problems (relative
   curvature ~1e-11, e.g. quadratic networks on anisotropic inputs): the start is not yet in
   Newton's basin, or genuine curvature falls under the float64 cut-off. Networks of <= ROBUST_MAX
   parameters then get least-squares Newton steps from the dense exact Hessian (float64 first,
   then mpmath with its eigendecomposition at full precision), several eigenvalue cut-offs tried
   per step, the best kept, and a few non-monotone steps allowed.

Certified means: every entry of the computed gradient lies within its own rounding floor, a
forward error bound computed alongside the gradient from the magnitudes of the terms summed
(:mod:`verify.engine.rounding`, derivation there). Below it the computed gradient is
indistinguishable from zero at that precision, and the exact gradient at the point is at most
twice the floor, entry by entry. A result that is not certified is never turned
into a verdict other than INCONCLUSIVE.

Layout: this module holds the float64 optimisers (L-BFGS, Newton) and :func:`train`;
:mod:`verify.engine.result` the result records, :mod:`verify.engine.hessian` the Hessian,
spectrum and rounding floor, :mod:`verify.engine.newton_mp` the mpmath stage (:func:`refine_mp`).
Everything is re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
from scipy import optimize
from scipy.sparse import linalg as sla

from theory._errors import bad_input
from verify.base.validate import check_seed
from verify.engine.hessian import (
    DENSE_MAX,
    LANCZOS_MAX,
    _eig_solver,
    dense_hessian,
    gradient_floor,
    handover_scale,
    hessian_norm,
    hessian_summary,
    mp_hessian,
    symmetry_directions,
)
from verify.engine.memory import check_network_memory
from verify.engine.network import MLP, Problem, backprop, hvp, mp_backend
from verify.engine.newton_mp import ROBUST_MAX, refine_mp
from verify.engine.result import HessianSummary, Status, TrainResult
from verify.engine.rounding import floor_ratio, safe_norm
from verify.engine.scaling import scaling_hint
from verify.engine.switched_off import snap_switched_off

__all__ = [
    "DENSE_MAX",
    "LANCZOS_MAX",
    "ROBUST_MAX",
    "HessianSummary",
    "Status",
    "TrainResult",
    "dense_hessian",
    "evaluate",
    "gradient_floor",
    "hessian_norm",
    "hessian_summary",
    "mp_hessian",
    "refine_mp",
    "symmetry_directions",
    "synthetic_problem",
    "train",
]


# -- data --------------------------------------------------------------------------------------
def synthetic_problem(
    net: MLP, n: int, *, loss: str = "mse", lam: float = 1e-2, seed: int = 0,
    decay_bias: bool = False,
) -> Problem:  # fmt: skip
    """Gaussian inputs (n x d) and targets from a random two-layer tanh teacher (4 units).

    MSE targets are the teacher's outputs plus 10% noise; cross-entropy targets are one-hot
    labels of the teacher's argmax. Deterministic for a seed.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise bad_input("n", "be a positive integer", n, "Pass e.g. --n 32.")
    check_seed(seed, "seed")
    check_network_memory(net, int(n), argument="n", value=n)
    rng = np.random.default_rng(seed)
    d, c = net.sizes[0], net.sizes[-1]
    X = rng.standard_normal((n, d))
    A, B = rng.standard_normal((4, d)) / np.sqrt(d), rng.standard_normal((c, 4))
    T = np.tanh(X @ A.T) @ B.T
    if loss == "cross_entropy":
        Y = np.eye(c)[np.argmax(T + 0.1 * rng.standard_normal(T.shape), axis=1)]
    else:
        Y = T + 0.1 * rng.standard_normal(T.shape)
    return Problem(net, X, Y, loss, lam, decay_bias)


# -- the optimisers ----------------------------------------------------------------------------
class _NonFinite(Exception):
    def __init__(self, theta: np.ndarray) -> None:
        super().__init__("non-finite objective or gradient")
        self.theta = theta.copy()


def _grad(problem: Problem, theta: np.ndarray) -> tuple[float, np.ndarray]:
    bp = backprop(problem, theta)
    value = float(bp.value)
    if not (np.isfinite(value) and np.isfinite(bp.grad).all()):
        raise _NonFinite(theta)
    return value, bp.grad


def _lbfgs(
    problem: Problem, theta: np.ndarray, gtol: float, maxiter: int, deadline: float
) -> tuple[np.ndarray, int]:
    def stop_at_deadline(intermediate_result: optimize.OptimizeResult) -> None:
        if time.perf_counter() > deadline:
            raise StopIteration

    res = optimize.minimize(
        lambda t: _grad(problem, t),
        theta,
        jac=True,
        method="L-BFGS-B",
        # ftol=0: stop on the gradient (or a failed line search at the precision limit), never on
        # a small relative decrease of the objective
        options={"maxiter": maxiter, "gtol": gtol, "ftol": 0.0, "maxcor": 20},
        callback=stop_at_deadline,
    )
    return np.asarray(res.x, dtype=np.float64), int(res.nit)


class _OutOfTime(Exception):
    """The wall-time budget of :func:`train` ran out (raised inside a Krylov solve)."""


def _timed_operator(problem: Problem, theta: np.ndarray, deadline: float) -> sla.LinearOperator:
    """Hessian-vector products as a LinearOperator that stops the solve at the deadline."""

    def matvec(v: np.ndarray) -> np.ndarray:
        if time.perf_counter() > deadline:
            raise _OutOfTime
        return hvp(problem, theta, v)

    p = problem.net.n_params
    return sla.LinearOperator((p, p), matvec=matvec, dtype=np.float64)


def _newton64(
    problem: Problem, theta: np.ndarray, steps: int, history: list[tuple[str, float]],
    deadline: float = float("inf"),
) -> tuple[np.ndarray, int, bool]:  # fmt: skip
    """Least-squares Newton steps in float64; returns (theta, steps taken, certified)."""
    dense = problem.net.n_params <= DENSE_MAX
    lam = max(problem.lam, 1e-12)
    for k in range(steps):
        gn, floor = gradient_floor(problem, theta)
        if gn <= floor / 10:  # certified at floor; a step more is cheap and buys margin
            return theta, k, True
        if time.perf_counter() > deadline:
            return theta, k, gn <= floor
        _, g = _grad(problem, theta)
        if dense:
            ev, V, keep = _eig_solver(dense_hessian(problem, theta))
            c = V.T @ -g
            top = float(np.max(np.abs(ev)))
            trials: Iterable[np.ndarray] = [V[:, keep] @ (c[keep] / ev[keep])] + [
                V @ (c / (np.abs(ev) + mu * top)) for mu in (1e-6, 1e-3, 1e-1)
            ]
        else:
            op = _timed_operator(problem, theta, deadline)
            # why rtol 1e-10: the new gradient is ~ rtol |g| + O(|g|^2); ten digits per step
            # reaches the float64 floor from the L-BFGS hand-over in two steps
            # why only two shifts and 300 iterations: outside Newton's basin every Krylov solve is
            # wasted work; L-BFGS (resumed by the caller) is cheaper there
            trials = (sla.minres(op, -g, rtol=1e-10, maxiter=300, shift=-mu)[0] for mu in
                      (0.0, lam))  # fmt: skip
        try:
            for p in trials:
                cand = theta + p
                try:
                    gn_new = safe_norm(_grad(problem, cand)[1])
                except _NonFinite:
                    continue
                # why halve: inside Newton's basin each step roughly squares the relative
                # gradient; a step that does not halve it means the point is outside the basin,
                # where L-BFGS (resumed by the caller with a tighter hand-over) is the better tool
                if gn_new <= 0.5 * gn:
                    theta = cand
                    history.append(("newton", gn_new))
                    break
            else:
                snapped = snap_switched_off(problem, theta)
                if snapped is None:
                    return theta, k, gn <= floor
                gn_new, floor_new = gradient_floor(problem, snapped)
                if not floor_ratio(gn_new, floor_new) < floor_ratio(gn, floor):
                    return theta, k, gn <= floor
                theta = snapped  # switched-off units set to 0 (verify/engine/switched_off.py)
                history.append(("snap", gn_new))
        except _OutOfTime:  # the time budget ran out inside a Krylov solve
            return theta, k, gn <= floor
    gn, floor = gradient_floor(problem, theta)
    return theta, steps, gn <= floor


def train(
    problem: Problem,
    *,
    seed: int = 0,
    theta0: np.ndarray | None = None,
    max_iter: int = 20_000,
    newton_from: float = 1e-7,
    newton_steps: int = 6,
    dps: int | None = None,
    spectrum: str = "auto",
    max_seconds: float | None = None,
) -> TrainResult:
    """Train to a certified stationary point of L_lam (module docstring), optionally at ``dps``.

    ``newton_from``: L-BFGS hands over to Newton when ||grad|| <= newton_from * (gradient scale).
    ``spectrum``: "auto", "dense", "lanczos" or "none" (Hessian summary at the final point).
    ``max_seconds``: wall-time budget of the float64 stage (status max_iter when exceeded).
    """
    check_seed(seed, "seed")
    if dps is not None:
        mp_backend(dps)  # validates dps before any work
    value = f"MLP {problem.net.sizes}, n={problem.n}"
    check_network_memory(problem.net, problem.n, dps=dps, argument="problem", value=value)
    deadline = time.perf_counter() + (max_seconds if max_seconds is not None else float("inf"))
    return _train(
        problem, seed, theta0, max_iter, newton_from, newton_steps, dps, spectrum, deadline
    )


def _train(
    problem: Problem, seed: int, theta0: np.ndarray | None, max_iter: int, newton_from: float,
    newton_steps: int, dps: int | None, spectrum: str, deadline: float,
) -> TrainResult:  # fmt: skip
    start = time.perf_counter()
    p = problem.net.n_params
    if theta0 is None:
        theta = problem.net.init(seed)
    else:
        theta = np.asarray(theta0, dtype=np.float64).reshape(-1)
        if theta.shape != (p,) or not np.isfinite(theta).all():
            raise bad_input(
                "theta0", f"be {p} finite numbers (the flat parameter vector)",
                f"shape {np.shape(theta0)}", "Pass net.init(seed) or a saved run's parameters.",
            )  # fmt: skip
    if dps is not None:
        mp_backend(dps)  # validates dps before any work
    if spectrum not in ("auto", "dense", "lanczos", "none"):
        raise bad_input("spectrum", "be auto, dense, lanczos or none", spectrum, "Use auto.")
    history: list[tuple[str, float]] = []
    iterations, steps, certified, status = 0, 0, False, Status.MAX_ITER
    reason = ""
    start_value = None
    try:
        start_value = _grad(problem, theta)[0]
        handover = newton_from * handover_scale(problem, theta)  # newton_from * gradient scale
        for _ in range(5):  # L-BFGS, then Newton; tighten the hand-over if Newton stalls
            budget = max_iter - iterations
            if budget <= 0 or time.perf_counter() > deadline:
                break
            # why / sqrt(p): L-BFGS-B stops on the largest gradient component, and
            # ||g||_2 <= sqrt(p) ||g||_inf; the hand-over is meant for the norm (with 1e5
            # parameters L-BFGS otherwise stopped at ||g|| ~ 300 times the hand-over)
            gtol = handover / np.sqrt(problem.net.n_params)
            theta, nit = _lbfgs(problem, theta, gtol, budget, deadline)
            iterations += nit
            history.append(("lbfgs", safe_norm(_grad(problem, theta)[1])))
            if np.linalg.norm(theta) > 1e8:
                status, reason = Status.DIVERGED, f"||theta|| = {np.linalg.norm(theta):.3g}"
                break
            theta, k, certified = _newton64(problem, theta, newton_steps, history, deadline)
            steps += k
            if certified:
                status = Status.CONVERGED
                break
            handover *= 1e-2
    except _NonFinite as exc:
        theta, status = exc.theta, Status.NON_FINITE
        reason = "the objective or its gradient became NaN or infinite"
    return _finish(problem, theta, status, reason, iterations, steps, history, start, spectrum,
                   start_value, dps)  # fmt: skip


_REMEDIES = {
    Status.CONVERGED: "",
    Status.MAX_ITER: (
        "raise max_iter (--max-iter), increase lam (weight decay conditions the problem), or use "
        "a smaller network; for ReLU avoid pre-activations at the kink (add --bias or change "
        "seed); with undecayed biases a quadratic network may have no minimiser (decay_bias)"
    ),
    Status.DIVERGED: "increase lam or standardise the data",
    Status.NOT_STATIONARY: (
        "train these weights to convergence (factcheck check --refine, or more iterations of "
        "your optimiser with the L2 term in the gradient, not decoupled AdamW decay)"
    ),
    Status.NON_FINITE: (
        "standardise the data, increase lam, or use a bounded activation (quadratic and identity "
        "networks can overflow)"
    ),
}


def _finish(
    problem: Problem, theta: np.ndarray, status: Status, reason: str, iterations: int,
    steps: int, history: list[tuple[str, float]], start: float, spectrum: str,
    start_value: float | None, dps: int | None,
) -> TrainResult:  # fmt: skip
    if status is Status.NON_FINITE:
        gn, floor, value = float("nan"), float("nan"), float("nan")
    else:
        gn, floor = gradient_floor(problem, theta)
        value = float(backprop(problem, theta).value)
    if status is Status.CONVERGED:
        reason = (
            f"||grad L_lam|| = {gn:.3g} <= rounding floor {floor:.3g} (every entry within its own "
            f"floor) after {iterations} L-BFGS iterations and {steps} Newton steps"
        )
    elif status is Status.MAX_ITER:
        reason = f"{_above_floor(gn, floor)} after {iterations} L-BFGS iterations and {steps} " + (
            "Newton steps"
        )
    summary = None
    if status is not Status.NON_FINITE and spectrum != "none":
        summary = hessian_summary(problem, theta, spectrum)
    remedy = _REMEDIES[status]
    hint = "" if status is Status.CONVERGED else scaling_hint(problem, theta)
    if hint:  # badly scaled data or weights (verify/engine/scaling.py)
        remedy = f"{hint}; otherwise {remedy}"
    result = TrainResult(
        problem, theta, status, reason, remedy, gn, floor, value, iterations, steps,
        time.perf_counter() - start, summary, history=history,
    )  # fmt: skip
    if dps is not None and status is Status.CONVERGED:
        result = refine_mp(result, dps)
    result.seconds = time.perf_counter() - start
    return result


def evaluate(problem: Problem, theta: np.ndarray, spectrum: str = "auto") -> TrainResult:
    """Status of a GIVEN point, without moving it: converged iff the float64 gradient is at its
    rounding floor, otherwise ``not_stationary`` (for run files written by other code)."""
    theta = np.asarray(theta, dtype=np.float64)
    start = time.perf_counter()
    try:
        _grad(problem, theta)
    except _NonFinite:
        result = _finish(problem, theta, Status.NON_FINITE, "", 0, 0, [], start, spectrum,
                         None, None)  # fmt: skip
        result.reason = "the loss or its gradient at the given point is not finite (overflow)"
        return result
    gn, floor = gradient_floor(problem, theta)
    if gn <= floor:
        return _finish(problem, theta, Status.CONVERGED, "", 0, 0, [], start, spectrum, None, None)
    result = _finish(problem, theta, Status.NOT_STATIONARY, "", 0, 0, [], start, spectrum,
                     None, None)  # fmt: skip
    result.reason = f"the given point is not stationary: {_above_floor(gn, floor)}"
    return result


def _above_floor(gn: float, floor: float) -> str:
    """Why a gradient is not certified: the worst entry's multiple of its own floor."""
    ratio = floor_ratio(gn, floor)
    if not np.isfinite(ratio):
        return (
            f"||grad L_lam|| = {gn:.3g}, and the gradient or its rounding floor is not finite "
            "(float64 overflowed)"
        )
    return (
        f"||grad L_lam|| = {gn:.3g} is above its rounding floor {floor:.3g}: an entry is "
        f"{ratio:.3g} times its own floor"
    )
