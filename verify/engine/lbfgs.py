"""Limited-memory BFGS in NumPy: the first stage of training (:mod:`verify.engine.train`).

Quasi-Newton iteration theta_{k+1} = theta_k - alpha_k H_k g_k, with H_k the L-BFGS inverse
Hessian approximation built from the last m pairs s_i = theta_{i+1} - theta_i,
y_i = g_{i+1} - g_i (Nocedal and Wright, Numerical Optimization, 2nd ed., sections 7.2 and 3.5).

H_k g uses the compact representation (Byrd, Nocedal and Schnabel 1994, Theorem 2.2) with the
initial matrix H_0 = gamma diag(P):

    H g = gamma P g + S^T p - gamma P Y^T c,   c = R^{-1} (S g),
    p = R^{-T} ((D + gamma Y diag(P) Y^T) c - gamma (Y (P g))),

with S, Y the m x n matrices of the pairs (n parameters, oldest first), R the upper triangle of
S Y^T, D its diagonal and gamma = s^T y / y^T diag(P) y of the newest pair. P = 1 is the
textbook scalar initial matrix; with ``scaling`` (an estimate of the Hessian's diagonal, in
training the Gauss-Newton one of :mod:`verify.engine.precondition`) P is its reciprocal: L-BFGS
in the variables rescaled to unit curvature (any positive P keeps H_k positive definite). P is
re-estimated every :data:`REFRESH` iterations; the Gram matrix Y diag(P) Y^T is then recomputed
and the pairs kept (they are curvature information whatever the scaling). That is four products
of an m x n matrix with a vector and two m x m triangular solves: a few NumPy calls per
iteration whatever m is, where the classical two-loop recursion makes 4m calls. At 10^5
parameters SciPy's L-BFGS-B spent 19% of the time in its own bookkeeping; this costs about a
third of that.

The step length satisfies the strong Wolfe conditions (sufficient decrease c1 = 1e-4,
curvature c2 = 0.9; bracketing and zoom with safeguarded cubic interpolation, N&W Algorithms 3.5
and 3.6). Near the float64 precision limit the decrease of L_lam drops below its own rounding
error; there the decrease test is relaxed to "no increase beyond rounding" (the approximate Wolfe
conditions of Hager and Zhang 2005), so the iteration keeps following the gradient instead of
stopping early. It stops when ||g||_2 <= gtol, after ``maxiter`` iterations, at the deadline, or
when no step along the direction lowers L_lam beyond rounding (the precision limit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from verify.engine.compact import Pairs

__all__ = [
    "LARGE_MEMORY",
    "LARGE_P",
    "REFRESH",
    "RESTART",
    "LbfgsResult",
    "lbfgs",
    "memory_size",
    "pair_dtype",
    "restart_factor",
]

#: sufficient-decrease and curvature constants of the strong Wolfe conditions (N&W eq. 3.7)
C1, C2 = 1e-4, 0.9
#: function evaluations allowed in one line search before it gives up (precision limit)
MAX_EVALS = 25
#: why 64 u |f|: L_lam is a sum of nonnegative terms (per-sample losses and the decay), each
#: computed with a relative error of a few u, and the summation adds O(log n) u; 64 u bounds
#: that for every size used here. A change of L_lam smaller than this is rounding noise.
_F_NOISE = 64 * np.finfo(np.float64).eps / 2

Fun = Callable[[np.ndarray], tuple[float, np.ndarray]]

#: iterations between two estimates of the diagonal preconditioner (``scaling`` of
#: :func:`lbfgs`). Why 20: on the tanh 100-100-1 benchmark (n = 2000, seeds 0-2) refreshing every
#: 5, 10, 20 and 100 iterations took 2,426, 2,535, 2,331 and 2,541 L-BFGS iterations in all
#: (within the seeds' spread of each other), while one estimate at the start took 8,189: the
#: curvature moves far from the random initial point's. An estimate costs about half a gradient
#: and one m x m x p Gram product, a few per cent of 20 iterations
REFRESH = 20


@dataclass
class LbfgsResult:
    """Where L-BFGS stopped: point, value, gradient, iterations, evaluations and why."""

    x: np.ndarray
    f: float
    g: np.ndarray
    nit: int
    nfev: int
    stop: str  # "gtol", "maxiter", "deadline", "line search" (precision limit), "stall"


#: parameters from which L-BFGS keeps LARGE_MEMORY pairs instead of 20 (:func:`memory_size`)
LARGE_P = 50_000
LARGE_MEMORY = 50


def memory_size(p: int) -> int:
    """Pairs kept for ``p`` parameters: 20, or :data:`LARGE_MEMORY` from :data:`LARGE_P` on.

    Why: on the tanh 100-1000-1 benchmark (101,000 parameters, n = 2000) 50 pairs took 2,096
    iterations to the certified point where 20 took 2,977 (the whole run 146 s of CPU instead
    of 177 s), and on the depth-3 one (120,300 parameters) 263 s instead of 279 s: a gradient
    there costs far more than the memory's 6 passes over m x p numbers. At 10,100 parameters 50
    pairs also saved 10-26% of the iterations over three seeds, but the passes cost as much as
    they saved (CPU within noise), so smaller networks keep 20.
    """
    return LARGE_MEMORY if p >= LARGE_P else 20


def pair_dtype(p: int) -> type:
    """How the pairs are stored for ``p`` parameters: float32 from :data:`LARGE_P` on, else
    float64.

    Why: there the four passes over the m x p pairs per iteration are memory-bound, and float32
    halves them (120,300 parameters, 50 pairs: 15 -> 9 ms an iteration, a passes' share of 40 s
    -> 29 s of 209 -> 186 s in training, iterations 2,522 -> 2,526). The pairs only shape the
    search direction: each entry is rounded relatively by 2^-24, the newest pair's s . y and
    y . Py (which set gamma and the curvature test) are taken in float64 before rounding, every
    direction is checked for descent (restart otherwise), and no certificate reads them.
    """
    return np.float32 if p >= LARGE_P else np.float64


#: the fall of ||g|| after which L-BFGS drops its pairs from LARGE_P parameters on
RESTART = 10.0


def restart_factor(p: int) -> float | None:
    """``restart`` of :func:`lbfgs` for ``p`` parameters: :data:`RESTART` from :data:`LARGE_P`
    on, else None (pairs kept until the memory is full or a direction fails).

    Why: training's L-BFGS restarts anyway at each hand-over to Newton that fails, and on the
    tanh 100-1000-1 benchmark a run without those restarts (hand-over at 1e-12 of the gradient
    scale) needed 2,678 gradients where one with them needed 2,210; a drop at every tenfold fall
    took the same run to 1,784 (seed 0) and the depth-3 100-300-300-1 one from 3,424 to 2,543
    gradients. At 10,100 parameters it was neutral (seeds 0-2:
    2,375 gradients with it, 2,236 without) and on the standard 20-64-1 net it cost seed 0 25%
    more iterations, so smaller networks keep their pairs.
    """
    return RESTART if p >= LARGE_P else None


def lbfgs(
    fun: Fun, x0: np.ndarray, *, gtol: float, maxiter: int, m: int | None = None,
    deadline: float = float("inf"), stall: int | None = None,
    scaling: Callable[[np.ndarray], np.ndarray] | None = None, refresh: int = REFRESH,
    restart: float | None = None,
) -> LbfgsResult:  # fmt: skip
    """Minimise ``fun`` (returning value and gradient) from ``x0`` (module docstring).

    ``scaling``: a positive estimate of the Hessian's diagonal at a point; the initial matrix is
    then gamma diag(1 / scaling(x)), re-estimated every ``refresh`` iterations (module docstring).
    ``restart``: drop the pairs whenever ||g|| has fallen by this factor since the last time
    (or the start): pairs from far away describe a Hessian that no longer holds.

    ``stall``: also stop ("stall") when the smallest gradient norm seen has not halved in that
    many iterations (for nonsmooth objectives, where L-BFGS zigzags across a kink without end).
    """
    x = np.array(x0, dtype=np.float64)
    if m is None:
        m = memory_size(x.size)
    f, g = fun(x)
    nfev, mem = 1, Pairs(m, x.size, pair_dtype(x.size))
    P = None if scaling is None else 1.0 / scaling(x)
    mem.scale(P)
    best, best_at = float("inf"), 0
    anchor = float("inf")  # ||g|| at the last restart (``restart``)
    for nit in range(maxiter):
        if scaling is not None and nit and nit % refresh == 0:
            P = 1.0 / scaling(x)
            mem.scale(P)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            gn = _norm(g)
            d = -mem.apply(g)
            slope = float(g @ d)
        if not (np.isfinite(gn) and np.isfinite(slope)):
            # float64's range is exhausted (weights or gradients near 1e150 and beyond): nothing
            # more to gain here; the caller's floor and scaling checks say why
            return LbfgsResult(x, f, g, nit, nfev, "line search")
        if gn <= gtol:
            return LbfgsResult(x, f, g, nit, nfev, "gtol")
        if gn <= best / 2:
            best, best_at = gn, nit
        elif stall is not None and nit - best_at >= stall:
            return LbfgsResult(x, f, g, nit, nfev, "stall")
        if time.perf_counter() > deadline:
            return LbfgsResult(x, f, g, nit, nfev, "deadline")
        if restart is not None and gn <= anchor / restart:
            slope = slope if anchor == float("inf") else 0.0  # a planned restart, just below
            anchor = gn
        if not slope < 0:  # not a descent direction (rounding in the memory), or planned: restart
            mem = Pairs(m, x.size, pair_dtype(x.size))
            mem.scale(P)
            d = -(g if P is None else P * g)
            slope = float(g @ d)
        # first step: unit length along d (the scale of H is unknown); then the quasi-Newton step
        step = 1.0 if len(mem.slots) else min(1.0, 1.0 / _norm(d))
        found = _line_search(fun, x, f, g, d, slope, step)
        nfev += found[3]
        if found[0] is None:
            return LbfgsResult(x, f, g, nit, nfev, "line search")
        alpha, f_new, g_new, _ = found
        s = alpha * d
        x_new = x + s
        y = g_new - g
        if float(s @ y) > 1e-10 * (_norm(s) * _norm(y)):
            # why 1e-10: the pair must have positive curvature for H to stay positive definite;
            # strong Wolfe guarantees it in exact arithmetic, the margin guards against rounding
            # the kept products (``Pairs.add``) only from LARGE_P on, where the passes over
            # the pairs cost against a gradient; below, the arithmetic stays as it was
            mem.add(s, y, g_new if x.size >= LARGE_P else None)
        x, f, g = x_new, f_new, g_new
    return LbfgsResult(x, f, g, maxiter, nfev, "maxiter")


def _norm(x: np.ndarray) -> float:
    """||x||_2 as np.linalg.norm computes it for a float vector (sqrt of x . x), bit for bit,
    without its ~3 us of argument handling (three norms per iteration)."""
    return math.sqrt(float(x @ x))


def _line_search(
    fun: Fun, x: np.ndarray, f0: float, g0: np.ndarray, d: np.ndarray, d0: float, a1: float
) -> tuple[float | None, float, np.ndarray, int]:
    """Strong Wolfe step along ``d`` (N&W Algorithm 3.5, zoom 3.6): (alpha, f, g, evaluations),
    alpha None if no acceptable step was found."""
    noise = _F_NOISE * abs(f0)
    evals = 0

    def phi(a: float) -> tuple[float, np.ndarray, float]:
        nonlocal evals
        evals += 1
        fa, ga = fun(x + a * d)
        return fa, ga, float(ga @ d)

    def armijo(a: float, fa: float) -> bool:
        return fa <= f0 + C1 * a * d0

    def approx(fa: float, da: float) -> bool:
        # approximate Wolfe (Hager and Zhang 2005, delta = 0.1): at the precision limit, where a
        # decrease of f is below its rounding, accept no increase beyond rounding when the slope
        # has risen to C2 d0 <= da <= -0.8 d0 (the step went down the valley, not past it)
        return fa <= f0 + noise and C2 * d0 <= da <= -0.8 * d0

    a_prev, f_prev, d_prev, a = 0.0, f0, d0, a1
    for i in range(MAX_EVALS):
        fa, ga, da = phi(a)
        if not np.isfinite(fa):
            a = 0.5 * (a_prev + a)  # overshoot into overflow: come back
            continue
        if approx(fa, da):
            return a, fa, ga, evals
        if not armijo(a, fa) or (i > 0 and fa >= f_prev):
            return _zoom(phi, armijo, approx, d0, a_prev, a, f_prev, d_prev, fa, evals)
        if abs(da) <= -C2 * d0:
            return a, fa, ga, evals
        if da >= 0:
            return _zoom(phi, armijo, approx, d0, a, a_prev, fa, da, f_prev, evals)
        a_prev, f_prev, d_prev = a, fa, da
        a = 2.0 * a
    return None, f0, g0, evals


def _zoom(
    phi: Callable[[float], tuple[float, np.ndarray, float]],
    armijo: Callable[[float, float], bool], approx: Callable[[float, float], bool],
    d0: float, lo: float, hi: float, f_lo: float, d_lo: float, f_hi: float, evals: int,
) -> tuple[float | None, float, np.ndarray, int]:  # fmt: skip
    """Shrink the bracket [lo, hi] (lo: best decreasing step so far) to a strong Wolfe step."""
    best: tuple[float, float, np.ndarray] | None = None
    for _ in range(MAX_EVALS - evals):
        width = hi - lo
        if abs(width) <= 1e-16 * max(abs(lo), abs(hi)):  # the bracket is at rounding level
            break
        # bisection safeguarded by a quadratic fit through f_lo, d_lo and f_hi
        denom = 2 * (f_hi - f_lo - d_lo * width)
        a = lo - d_lo * width * width / denom if denom > 0 else lo + 0.5 * width
        if not (min(lo, hi) + 0.1 * abs(width) <= a <= max(lo, hi) - 0.1 * abs(width)):
            a = lo + 0.5 * width
        fa, ga, da = phi(a)
        evals += 1
        if np.isfinite(fa) and approx(fa, da):
            return a, fa, ga, evals
        if not np.isfinite(fa) or not armijo(a, fa) or fa >= f_lo:
            hi, f_hi = a, fa if np.isfinite(fa) else f_hi
            continue
        if best is None or fa < best[1]:
            best = (a, fa, ga)
        if abs(da) <= -C2 * d0:
            return a, fa, ga, evals
        if da * (hi - lo) >= 0:
            hi, f_hi = lo, f_lo
        lo, f_lo, d_lo = a, fa, da
    if best is not None:  # a decreasing step without the curvature condition: still progress
        return best[0], best[1], best[2], evals
    return None, 0.0, np.empty(0), evals
