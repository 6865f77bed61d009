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

Certified means: the computed gradient norm is at or below its own rounding floor
``u * (k * G + ||H|| ||theta||)``. Here u is the unit roundoff; k = n + depth * max_width the
longest chain of summations (Higham's gamma_k bound for inner products of length k, summed over
the layers of backprop); G = (1/n) sum_l sum_i |delta_il| |h_il| + lam ||theta|| the size of the
terms that cancel in the gradient; and ||H|| ||theta|| u the change of the gradient when theta
moves by its own representation error u ||theta|| (even the stationary point rounded to the
working precision has a gradient that large). Below that level the computed gradient is
indistinguishable from zero at that precision. A result that is not certified is never turned
into a verdict other than INCONCLUSIVE.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize
from scipy.sparse import linalg as sla

from theory._errors import bad_input
from verify.network import FLOAT64, MLP, Array, Backend, Problem, backprop, hvp, mp_backend

__all__ = [
    "HessianSummary",
    "Status",
    "TrainResult",
    "dense_hessian",
    "evaluate",
    "gradient_floor",
    "hessian_norm",
    "hessian_summary",
    "refine_mp",
    "symmetry_directions",
    "synthetic_problem",
    "train",
]

#: float64 dense Hessians (eigendecomposition) up to this many parameters, Krylov above
DENSE_MAX = 800
#: Lanczos spectrum estimates up to this many parameters (above: not computed unless asked)
LANCZOS_MAX = 20_000


class Status(str, enum.Enum):
    """How the optimisation ended."""

    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    DIVERGED = "diverged"
    NON_FINITE = "non_finite"
    NOT_STATIONARY = "not_stationary"  # a given point (not trained here) above its gradient floor

    def __str__(self) -> str:
        return self.value


@dataclass
class HessianSummary:
    """Spectrum of the Hessian of L_lam at the final point (float64)."""

    method: str  # "dense eigendecomposition", "lanczos (extremes only)", "not computed"
    n_params: int
    min_eig: float | None
    max_eig: float | None
    near_zero: int | None  # eigenvalues with |ev| <= zero_tol
    symmetry_zero_modes: int  # exact zero modes from continuous symmetries at this point
    dead_unit_modes: int  # biases of switched-off units, which L_lam does not see
    zero_tol: float | None
    kind: str  # "local minimum" (up to the zero modes explained), "degenerate local minimum",
    # "saddle" or "unknown"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TrainResult:
    """Outcome of :func:`train` (and :func:`refine_mp`): point, status, gradient, spectrum."""

    problem: Problem
    theta: np.ndarray  # float64 parameters (rounded from theta_mp if refined)
    status: Status
    reason: str
    remedy: str
    grad_norm: float  # ||grad L_lam|| in float64 at theta
    grad_floor: float  # certification threshold in float64
    objective: float
    iterations: int = 0  # L-BFGS iterations
    newton_steps: int = 0
    seconds: float = 0.0
    hessian: HessianSummary | None = None
    dps: int | None = None
    theta_mp: Array | None = None  # object array of mpf at dps digits
    grad_norm_mp: float | None = None
    grad_floor_mp: float | None = None
    newton_steps_mp: int = 0
    history: list[tuple[str, float]] = field(default_factory=list)
    moved: float = 0.0  # ||theta_final - theta_start|| / ||theta_start|| of the mpmath polish

    @property
    def converged(self) -> bool:
        return self.status is Status.CONVERGED

    def certified_at(self, be: Backend) -> bool:
        """Is the point certified stationary at the precision of ``be``?"""
        if not self.converged:
            return False
        if be.name == "float64":
            return True
        return (
            self.dps is not None
            and self.dps >= be.dps
            and self.grad_norm_mp is not None
            and self.grad_floor_mp is not None
            and self.grad_norm_mp <= self.grad_floor_mp
        )

    def point(self, be: Backend) -> Array:
        """Parameters in the numbers of ``be`` (the mpmath point if refined at that precision)."""
        if be.name != "float64" and self.theta_mp is not None and be.dps <= (self.dps or 0):
            return self.theta_mp
        return be.asarray(self.theta)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "remedy": self.remedy,
            "grad_norm": self.grad_norm,
            "grad_floor": self.grad_floor,
            "grad_norm_dps": self.grad_norm_mp,
            "grad_floor_dps": self.grad_floor_mp,
            "dps": self.dps,
            "objective": self.objective,
            "lbfgs_iterations": self.iterations,
            "newton_steps": self.newton_steps,
            "newton_steps_dps": self.newton_steps_mp,
            "seconds": self.seconds,
            "hessian": self.hessian.to_dict() if self.hessian else None,
            "moved_by_refinement": self.moved,
        }


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


# -- gradient scale, Hessian and symmetries ----------------------------------------------------
def gradient_floor(
    problem: Problem, theta: Array, be: Backend = FLOAT64, hnorm: float | None = None
) -> tuple[float, float]:
    """``(||grad L_lam||, floor)``: the gradient norm and its rounding floor (module docstring).

    ``hnorm`` is ||H||_2 (estimated by :func:`hessian_norm` if not given)."""
    if hnorm is None:
        hnorm = hessian_norm(problem, FLOAT64.to_float(be.to_float(theta)))
    _, gn, floor = _grad_floor_mp(problem, theta, be, hnorm)
    return float(gn), float(floor)


def hessian_norm(problem: Problem, theta: np.ndarray, iterations: int = 12) -> float:
    """||H||_2 by power iteration on exact Hessian-vector products (float64).

    Why 12 iterations from a fixed random start: the floor needs the order of magnitude only; the
    estimate approaches ||H|| from below, geometrically, and 12 steps put it within a factor ~2.
    """
    v = np.random.default_rng(0).standard_normal(problem.net.n_params)
    est = 0.0
    for _ in range(iterations):
        v /= np.linalg.norm(v)
        w = hvp(problem, theta, v)
        est = float(np.linalg.norm(w))
        if not np.isfinite(est) or est == 0:
            return est if np.isfinite(est) else float("inf")
        v = w
    return 2 * est  # why 2: the power-iteration estimate is a lower bound


def dense_hessian(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """Float64 Hessian of L_lam, column by column from exact Hessian-vector products."""
    p = problem.net.n_params
    H = np.empty((p, p))
    e = np.zeros(p)
    for j in range(p):
        e[j] = 1.0
        H[:, j] = hvp(problem, theta, e)
        e[j] = 0.0
    return (H + H.T) / 2


def symmetry_directions(problem: Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero-mode directions of the Hessian of L_lam at ``theta`` that have a structural reason.

    Returns ``(symmetry, dead)``, rows are tangent vectors. ``symmetry``: continuous symmetries of
    L_lam near theta. Units that act linearly on every sample (all units for the identity
    activation; ReLU units whose pre-activation is > 0 on every sample) can be rotated
    (W_l -> Q W_l, b_l -> Q b_l, W_{l+1} -> W_{l+1} Q^T, Q orthogonal, which keeps the weight
    decay) and, with undecayed biases, shifted (b_l -> b_l + v, b_{l+1} -> b_{l+1} - W_{l+1} v);
    with cross-entropy and an undecayed output bias, b_L -> b_L + t 1 (softmax is shift
    invariant). ``dead``: the undecayed bias of a switched-off unit (zero outgoing weights, or a
    ReLU unit inactive on every sample) does not enter L_lam at all.
    """
    net = problem.net
    theta = np.asarray(theta, dtype=np.float64)
    params, bp = net.unflatten(theta), backprop(problem, theta)
    shift_bias = net.bias and not problem.decay_bias
    sym: list[np.ndarray] = []
    dead: list[np.ndarray] = []

    def vec(changes: dict[tuple[int, int], np.ndarray]) -> np.ndarray:
        parts = [np.zeros_like(a) if a is not None else None for wb in params for a in wb]
        for (layer, which), delta in changes.items():
            parts[2 * layer + which] = parts[2 * layer + which] + delta
        return net.flatten([(parts[2 * i], parts[2 * i + 1]) for i in range(net.depth)])

    for layer in range(net.depth - 1):
        (w, b), (w2, _) = params[layer], params[layer + 1]
        z, m = bp.zs[layer], w.shape[0]
        if net.activation == "identity":
            linear = np.ones(m, dtype=bool)
        elif net.activation == "relu":
            linear = (z > 0).all(axis=0)
        else:
            linear = np.zeros(m, dtype=bool)
        cols = np.linalg.norm(w2, axis=0)
        # why sqrt(u): at a float64 stationary point a switched-off unit's weights are ~u, not 0
        off = cols <= np.sqrt(FLOAT64.unit_roundoff) * max(float(cols.max()), 1e-300)
        if net.activation == "relu":
            off |= (z < 0).all(axis=0)
        idx = np.flatnonzero(linear)
        for p, q in ((int(p), int(q)) for p in idx for q in idx if p < q):
            a = np.zeros((m, m))
            a[p, q], a[q, p] = 1.0, -1.0
            ch = {(layer, 0): a @ w, (layer + 1, 0): -w2 @ a}
            if b is not None:
                ch[(layer, 1)] = a @ b
            sym.append(vec(ch))
        for i in range(m) if shift_bias else ():
            e = np.eye(m)[i]
            if linear[i]:
                sym.append(vec({(layer, 1): e, (layer + 1, 1): -w2 @ e}))
            elif off[i]:
                dead.append(vec({(layer, 1): e}))
    if problem.loss == "cross_entropy" and shift_bias:
        sym.append(vec({(net.depth - 1, 1): np.ones(net.sizes[-1])}))
    p = net.n_params
    return np.array(sym).reshape(len(sym), p), np.array(dead).reshape(len(dead), p)


def _rank(rows: np.ndarray) -> int:
    if rows.shape[0] == 0:
        return 0
    s = np.linalg.svd(rows, compute_uv=False)
    # why 1e-8: generators are built from exact entries of theta; dependent ones cancel to ~1e-16
    return int(np.sum(s > 1e-8 * s[0])) if s[0] > 0 else 0


def hessian_summary(
    problem: Problem, theta: np.ndarray, method: str = "auto", H: np.ndarray | None = None
) -> HessianSummary:
    """Min/max eigenvalue, near-zero count, symmetry zero modes and the kind of point."""
    p = problem.net.n_params
    sym_dirs, dead_dirs = symmetry_directions(problem, theta)
    sym = _rank(sym_dirs)
    dead = _rank(np.vstack([sym_dirs, dead_dirs])) - sym
    if method == "auto":
        method = "dense" if p <= DENSE_MAX else ("lanczos" if p <= LANCZOS_MAX else "none")
    if method == "none":
        return HessianSummary("not computed", p, None, None, None, sym, dead, None, "unknown")
    if method == "dense":
        ev = np.linalg.eigvalsh(dense_hessian(problem, theta) if H is None else H)
        lo, hi = float(ev[0]), float(ev[-1])
    else:
        op = _hess_operator(problem, theta)
        try:  # why tol 1e-6: the summary needs a few digits, not the eigenvalues to full precision
            hi = float(sla.eigsh(op, k=1, which="LA", tol=1e-6, return_eigenvectors=False)[0])
            lo = float(sla.eigsh(op, k=1, which="SA", tol=1e-6, return_eigenvectors=False)[0])
        except sla.ArpackNoConvergence:
            return HessianSummary(
                "lanczos (no convergence)", p, None, None, None, sym, dead, None, "unknown"
            )
        ev = None
    # why sqrt(u) * max|ev|: float64 eigenvalues carry absolute error ~ k u ||H||, far below this
    # threshold, so no true zero mode is missed; genuine curvature (>= lam in directions weight
    # decay controls) sits far above it for the problem sizes used here.
    tol = float(np.sqrt(np.finfo(float).eps)) * max(abs(lo), abs(hi))
    near = int(np.sum(np.abs(ev) <= tol)) if ev is not None else None
    if lo < -tol:
        kind = "saddle"
    elif near is None:
        kind = "local minimum" if sym + dead == 0 and lo > tol else "unknown"
    else:
        kind = "local minimum" if near <= sym + dead else "degenerate local minimum"
    name = "dense eigendecomposition" if ev is not None else "lanczos (extremes only)"
    return HessianSummary(name, p, lo, hi, near, sym, dead, tol, kind)


def _hess_operator(problem: Problem, theta: np.ndarray) -> sla.LinearOperator:
    p = problem.net.n_params
    return sla.LinearOperator((p, p), matvec=lambda v: hvp(problem, theta, v), dtype=np.float64)


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


def _pinv_rcond(p: int, u: float) -> float:
    # why 100 * p * u: the assembled Hessian has backward error ~ p u ||H|| (p Hessian-vector
    # products of rounding u); eigenvalues below 100 times that are noise, not curvature.
    return 100.0 * p * u


def _eig_solver(H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ev, V = np.linalg.eigh(H)
    keep = np.abs(ev) > _pinv_rcond(len(ev), FLOAT64.unit_roundoff) * np.max(np.abs(ev))
    return ev, V, keep


def _newton64(
    problem: Problem, theta: np.ndarray, steps: int, history: list[tuple[str, float]],
    deadline: float = float("inf"),
) -> tuple[np.ndarray, int, bool]:  # fmt: skip
    """Least-squares Newton steps in float64; returns (theta, steps taken, certified)."""
    dense = problem.net.n_params <= DENSE_MAX
    lam = max(problem.lam, 1e-12)
    hnorm = hessian_norm(problem, theta)
    for k in range(steps):
        gn, floor = gradient_floor(problem, theta, hnorm=hnorm)
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
            op = _hess_operator(problem, theta)
            # why rtol 1e-10: the new gradient is ~ rtol |g| + O(|g|^2); ten digits per step
            # reaches the float64 floor from the L-BFGS hand-over in two steps
            # why only two shifts and 300 iterations: outside Newton's basin every Krylov solve is
            # wasted work; L-BFGS (resumed by the caller) is cheaper there
            trials = (sla.minres(op, -g, rtol=1e-10, maxiter=300, shift=-mu)[0] for mu in
                      (0.0, lam))  # fmt: skip
        for p in trials:
            cand = theta + p
            try:
                gn_new = float(np.linalg.norm(_grad(problem, cand)[1]))
            except _NonFinite:
                continue
            # why halve: inside Newton's basin each step roughly squares the relative gradient; a
            # step that does not halve it means the point is outside the basin, where L-BFGS
            # (resumed by the caller with a tighter hand-over) is the better tool
            if gn_new <= 0.5 * gn:
                theta = cand
                history.append(("newton", gn_new))
                break
        else:
            return theta, k, gn <= floor
    gn, floor = gradient_floor(problem, theta, hnorm=hnorm)
    return theta, steps, gn <= floor


def _blas_threads(n_params: int) -> contextlib.AbstractContextManager[Any]:
    """One BLAS thread below LANCZOS_MAX parameters. Why: the vectors are small, and on a shared
    machine OpenBLAS's thread hand-offs inside L-BFGS-B cost ~1 ms per call (measured 7x
    slower); large networks keep the threads for their matrix products."""
    if n_params > LANCZOS_MAX:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:  # optional: only a speed-up
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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
    deadline = time.perf_counter() + (max_seconds if max_seconds is not None else float("inf"))
    with _blas_threads(problem.net.n_params):
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
        gn, floor = gradient_floor(problem, theta)
        handover = newton_from * floor / FLOAT64.unit_roundoff  # newton_from * gradient scale
        for _ in range(5):  # L-BFGS, then Newton; tighten the hand-over if Newton stalls
            budget = max_iter - iterations
            if budget <= 0 or time.perf_counter() > deadline:
                break
            theta, nit = _lbfgs(problem, theta, handover, budget, deadline)
            iterations += nit
            history.append(("lbfgs", float(np.linalg.norm(_grad(problem, theta)[1]))))
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
            f"||grad L_lam|| = {gn:.3g} <= rounding floor {floor:.3g} after {iterations} L-BFGS "
            f"iterations and {steps} Newton steps"
        )
    elif status is Status.MAX_ITER:
        reason = (
            f"||grad L_lam|| = {gn:.3g} stayed above its rounding floor {floor:.3g} "
            f"({gn / floor:.3g} times) after {iterations} L-BFGS iterations and {steps} "
            "Newton steps"
        )
    summary = None
    if status is not Status.NON_FINITE and spectrum != "none":
        summary = hessian_summary(problem, theta, spectrum)
    result = TrainResult(
        problem, theta, status, reason, _REMEDIES[status], gn, floor, value, iterations, steps,
        time.perf_counter() - start, summary, history=history,
    )  # fmt: skip
    if dps is not None and status is Status.CONVERGED:
        result = refine_mp(result, dps)
    result.seconds = time.perf_counter() - start
    return result


def refine_mp(
    result: TrainResult, dps: int, max_steps: int = 6, robust_steps: int = 12
) -> TrainResult:
    """Newton in mpmath at ``dps`` digits from ``result.theta`` (module docstring, step 3).

    Fast stage (``max_steps``): the exact mpmath Hessian enters through Hessian-vector products;
    the float64 pseudo-inverse of the Hessian preconditions the refinement sweeps that solve each
    Newton system. It fails on ill-conditioned problems, where the float64 point is not yet in
    Newton's basin or genuine curvature sits near the float64 cut-off. Then the robust stage
    (``robust_steps``, networks of <= :data:`ROBUST_MAX` parameters) takes least-squares Newton
    steps from the dense exact mpmath Hessian and its eigendecomposition at ``dps`` digits,
    trying several eigenvalue cut-offs and allowing a few non-monotone steps
    (:func:`_robust_newton`).
    """
    problem, be = result.problem, mp_backend(dps)
    if problem.net.n_params > 4 * DENSE_MAX:
        raise bad_input(
            "dps", f"be used with networks of <= {4 * DENSE_MAX} parameters",
            problem.net.n_params, "Drop --dps for this network (float64 only).",
        )  # fmt: skip
    start = time.perf_counter()
    history = list(result.history)
    theta64 = np.asarray(result.theta, dtype=np.float64)
    H = dense_hessian(problem, theta64)
    hnorm = float(np.max(np.abs(np.linalg.eigvalsh(H))))
    robust = problem.net.n_params <= ROBUST_MAX and robust_steps > 0
    steps64 = 0
    gn64, floor64 = gradient_floor(problem, theta64, hnorm=hnorm)
    if robust and gn64 > floor64:  # not float64-stationary: the cheap float64 steps first
        with FLOAT64.working():
            theta64, steps64, _ = _robust_newton(
                problem, theta64, FLOAT64, hnorm, robust_steps, history
            )
        if steps64:
            H = dense_hessian(problem, theta64)
    theta, steps, certified = _fast_newton_mp(problem, theta64, be, H, hnorm, max_steps, history)
    if not certified and robust:
        with be.working():
            theta, k, certified = _robust_newton(problem, theta, be, hnorm, robust_steps, history)
        steps += k
    gn64, floor64 = gradient_floor(problem, be.to_float(theta), hnorm=hnorm)
    start_theta = be.asarray(result.theta)
    with be.working():
        moved = float(
            be.sqrt(np.sum((theta - start_theta) ** 2))
            / max(be.sqrt(np.sum(start_theta**2)), 1e-300)
        )
    status = Status.CONVERGED if certified else Status.MAX_ITER
    _, gn_mp, floor_mp = _grad_floor_mp(problem, theta, be, hnorm)
    reason = (
        f"at {dps} digits: ||grad L_lam|| = {float(gn_mp):.3g} "
        + ("<=" if certified else "stayed above")
        + f" rounding floor {float(floor_mp):.3g} after {steps} mpmath Newton steps"
    )
    if not certified and result.status is not Status.CONVERGED:
        reason += f"; float64 stage: {result.reason}"
    return TrainResult(
        problem, be.to_float(theta), status, reason,
        "" if certified else "raise the step budget or train to a float64 stationary point first",
        gn64, floor64, float(backprop(problem, be.to_float(theta)).value), result.iterations,
        result.newton_steps + steps64, result.seconds + time.perf_counter() - start,
        result.hessian, dps, theta, float(gn_mp), float(floor_mp), steps, history, moved,
    )  # fmt: skip


def _fast_newton_mp(
    problem: Problem, theta64: np.ndarray, be: Backend, H: np.ndarray, hnorm: float,
    max_steps: int, history: list[tuple[str, float]],
) -> tuple[Array, int, bool]:  # fmt: skip
    """Newton at the precision of ``be``: each step solves H p = -g (exact mpmath H through
    Hessian-vector products) by refinement sweeps preconditioned with the float64 truncated
    pseudo-inverse of ``H``. Stops at the first step that does not lower the gradient.
    Returns (theta, steps taken, certified)."""
    ev, V, keep = _eig_solver(H)
    Vk, evk = V[:, keep], ev[keep]

    def precond(r: Array) -> Array:
        return be.asarray(Vk @ ((Vk.T @ be.to_float(r)) / evk))

    theta, steps = be.asarray(theta64), 0
    with be.working():
        while True:
            g, gn, floor = _grad_floor_mp(problem, theta, be, hnorm)
            history.append((f"newton@{be.dps}", float(gn)))
            if gn <= floor:
                return theta, steps, True
            if steps == max_steps:
                return theta, steps, False
            rel = gn * be.unit_roundoff / floor  # |g| / (floor / u): relative stationarity
            target = max(floor / 10, gn * min(1e-3, rel))  # residual for a quadratic step
            p, rn_prev = precond(-g), None
            for _ in range(16):  # refinement sweeps, each gains ~13 digits
                r = -g - hvp(problem, theta, p, be)
                rn = be.sqrt(np.sum(r * r))
                if rn <= target or (rn_prev is not None and rn > rn_prev / 2):
                    break
                p, rn_prev = p + precond(r), rn
            cand = theta + p
            if _grad_floor_mp(problem, cand, be, hnorm)[1] >= gn:
                return theta, steps, False  # a step that does not lower the gradient: refused
            theta, steps = cand, steps + 1


#: the robust mpmath stage (dense mpmath Hessian, mpmath eigendecomposition, O(p^3) mpf
#: operations per step: ~1.5 s at p = 36, ~25 s at p = 100 for 50 digits) up to this size
ROBUST_MAX = 120


def mp_hessian(problem: Problem, theta: Array, be: Backend) -> Array:
    """The exact Hessian of L_lam in the backend's numbers: p Hessian-vector products
    (R-operator), symmetrised (object array p x p for mpmath)."""
    p = problem.net.n_params
    e = be.asarray(np.zeros(p))
    cols = []
    for j in range(p):
        unit = e.copy()
        unit[j] = unit[j] + 1
        cols.append(hvp(problem, theta, unit, be))
    with be.working():
        H = np.array(cols).T
        return (H + H.T) / 2


def _truncated_cuts(be: Backend, p: int) -> list[float]:
    """Relative eigenvalue cut-offs of the least-squares Newton step, most inclusive first.

    Why these: 10^(-dps/2) keeps every eigenvalue above the level at which zero modes of
    continuous symmetries sit near (not at) a stationary point (their eigenvalues scale with the
    residual gradient); genuine curvature of ill-conditioned problems can be as small as 1e-11
    relative (the quadratic family), so 1e-14 and 1e-10 bracket it; 1e-6 is the coarse, safe
    step far from the basin. None is below the Hessian's own rounding level (``_pinv_rcond``:
    eigenvalues under it are noise). The caller tries every cut, so a cut that is wrong for this
    problem costs one gradient evaluation.
    """
    floor = _pinv_rcond(p, be.unit_roundoff)
    return sorted({max(c, floor) for c in (10.0 ** (-(be.dps // 2)), 1e-14, 1e-10, 1e-6)})


def _robust_newton(
    problem: Problem, theta: Array, be: Backend, hnorm: float, max_steps: int,
    history: list[tuple[str, float]],
) -> tuple[Array, int, bool]:  # fmt: skip
    """Least-squares Newton with the exact dense Hessian (float64 or mpmath), several cut-offs.

    Every step evaluates the gradient at each truncated step -H_cut^+ g and keeps the one with
    the smallest gradient. A step that does not lower the gradient is still taken up to
    ``_DETOURS`` times (non-monotone Newton: on ill-conditioned problems the full step first
    raises the gradient, then converges quadratically), but only while the gradient stays far
    below its own terms (1e-3 of floor / u, the size of the summands that cancel in it). The
    best point seen is returned. Returns (theta, steps taken, certified).
    """
    g, gn, floor = _grad_floor_mp(problem, theta, be, hnorm)
    best = (gn, floor, theta)
    detours, steps = 0, 0
    while steps < max_steps and not gn <= floor:
        vals, vecs = be.eigh(mp_hessian(problem, theta, be))
        top = max(abs(v) for v in vals)
        coef = vecs.T @ g  # components of g in the eigenbasis
        trials: list[tuple[Any, int, Any, Array, Array]] = []
        for cut in _truncated_cuts(be, len(vals)):
            keep = np.array([abs(v) > cut * top for v in vals], dtype=bool)
            if not keep.any():
                continue
            cand = theta - vecs[:, keep] @ (coef[keep] / vals[keep])
            with be.working():
                g2, gn2, floor2 = _grad_floor_mp(problem, cand, be, hnorm)
            if np.isfinite(float(gn2)):
                trials.append((gn2, len(trials), floor2, cand, g2))
        if not trials:
            break
        # the most inclusive step that halves the gradient (Newton's basin: quadratic decrease);
        # else the best clear decrease (0.9: a negligible one would only burn a Hessian); else a
        # detour with the most inclusive step (non-monotone Newton, see the docstring)
        halving = [t for t in trials if t[0] <= gn / 2]
        best_trial = min(trials, key=lambda t: (t[0], t[1]))
        if halving:
            gn2, _, floor2, cand, g2 = halving[0]
        elif best_trial[0] < 0.9 * gn:
            gn2, _, floor2, cand, g2 = best_trial
        else:
            gn2, _, floor2, cand, g2 = trials[0]
            if detours >= _DETOURS or not gn2 < 1e-3 * floor / be.unit_roundoff:
                break
            detours += 1
        theta, g, gn, floor, steps = cand, g2, gn2, floor2, steps + 1
        history.append((f"newton-lsq@{be.dps}", float(gn)))
        if gn < best[0]:
            best = (gn, floor, theta)
    gn, floor, theta = best
    return theta, steps, bool(gn <= floor)


#: non-monotone steps allowed in the robust stage (each costs one Hessian)
_DETOURS = 3


def evaluate(problem: Problem, theta: np.ndarray, spectrum: str = "auto") -> TrainResult:
    """Status of a GIVEN point, without moving it: converged iff the float64 gradient is at its
    rounding floor, otherwise ``not_stationary`` (for run files written by other code)."""
    theta = np.asarray(theta, dtype=np.float64)
    start = time.perf_counter()
    try:
        _grad(problem, theta)
    except _NonFinite:
        return _finish(problem, theta, Status.NON_FINITE, "", 0, 0, [], start, spectrum,
                       None, None)  # fmt: skip
    gn, floor = gradient_floor(problem, theta)
    if gn <= floor:
        return _finish(problem, theta, Status.CONVERGED, "", 0, 0, [], start, spectrum, None, None)
    result = _finish(problem, theta, Status.NOT_STATIONARY, "", 0, 0, [], start, spectrum,
                     None, None)  # fmt: skip
    result.reason = (
        f"the given point is not stationary: ||grad L_lam|| = {gn:.3g} is {gn / floor:.3g} "
        f"times its rounding floor {floor:.3g}"
    )
    return result


def _grad_floor_mp(
    problem: Problem, theta: Array, be: Backend, hnorm: float
) -> tuple[Array, Any, Any]:
    """(gradient, its norm, its rounding floor) in the backend's numbers (module docstring)."""
    bp = backprop(problem, theta, be)
    with be.working():
        terms: Any = 0
        for d, h in zip(bp.deltas, bp.hs, strict=True):
            terms = terms + np.sum(be.sqrt(np.sum(d * d, axis=1)) * be.sqrt(np.sum(h * h, axis=1)))
        _, _, lam = problem.data(be)
        size = be.sqrt(np.sum(be.asarray(theta) ** 2))
        k = problem.n + problem.net.depth * max(problem.net.sizes)
        floor = be.unit_roundoff * (k * (terms / problem.n + lam * size) + hnorm * size)
        return bp.grad, be.sqrt(np.sum(bp.grad * bp.grad)), floor
