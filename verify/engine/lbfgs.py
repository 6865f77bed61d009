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

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LARGE_MEMORY",
    "LARGE_P",
    "REFRESH",
    "RESTART",
    "LbfgsResult",
    "lbfgs",
    "memory_size",
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


class _Memory:
    """The last m pairs (s, y): the big vectors in ring buffers (no copying when a pair is
    replaced); the small matrices in chronological order (oldest first): R^{-1}, the diagonal D
    and Y Y^T. R^{-1} is updated, never recomputed: dropping the oldest pair leaves the trailing
    block, which for a triangular matrix is the inverse of R's trailing block; a new pair adds
    the column -R^{-1} r / d and the corner 1 / d (r = S y_new, d = s_new . y_new)."""

    def __init__(self, m: int, p: int) -> None:
        self.S, self.Y = np.zeros((m, p)), np.zeros((m, p))
        self.Rinv, self.YY, self.D = np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0)
        self.slots = np.zeros(0, dtype=np.intp)  # ring slot of each pair, oldest first
        self.m = m
        self.P: np.ndarray | None = None  # H_0 = gamma diag(P); YY holds Y diag(P) Y^T
        # (g, S g, Y P g) by ring slot: of the last gradient applied (``applied``) and of the
        # gradient that :meth:`add` was given (``ahead``, for the next :meth:`apply`)
        self.applied: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.ahead: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def scale(self, P: np.ndarray | None) -> None:
        """Use H_0 = gamma diag(``P``) from now on (recomputes the Gram matrix Y diag(P) Y^T)."""
        self.P, self.applied, self.ahead = P, None, None
        if len(self.slots):
            Yk = self.Y[self.slots]
            self.YY = (Yk * P) @ Yk.T if P is not None else Yk @ Yk.T

    def _products(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(g, S g, Y diag(P) g) over all ring slots: two passes over the stored pairs."""
        return g, self.S @ g, self.Y @ (g if self.P is None else self.P * g)

    def add(self, s: np.ndarray, y: np.ndarray, g: np.ndarray | None = None) -> None:
        """Store the pair (s, y). With ``g``, the gradient after the step (y = g - g_old, g_old
        the gradient last applied), S g and Y P g are computed here, once, for the next
        :meth:`apply` (g), and the old pairs' s_i . y and y_i P y are their differences from the
        kept S g_old and Y P g_old: two passes over the pairs per iteration instead of four.
        Why the differences are accurate enough: their rounding error is u (|S g| + |S g_old|),
        which only perturbs the off-diagonal curvature estimates of H, never the newest pair's
        s . y (computed directly), and L-BFGS checks every direction for descent."""
        full = len(self.slots) == self.m
        slot = int(self.slots[0]) if full else len(self.slots)
        keep = slice(1, None) if full else slice(None)
        rinv, yy_old = self.Rinv[keep, keep], self.YY[keep, keep]
        self.slots = np.append(self.slots[keep], slot)
        self.S[slot], self.Y[slot] = s, y
        Py = y if self.P is None else self.P * y
        old = self.applied
        if g is not None and old is not None and old[0] is not g:
            self.ahead = self._products(g)
            r = (self.ahead[1] - old[1])[self.slots]
            yy = (self.ahead[2] - old[2])[self.slots]
            r[-1], yy[-1] = float(s @ y), float(y @ Py)
        else:
            self.ahead = None
            r = (self.S @ y)[self.slots]  # s_i . y_new, chronological; the last entry is d
            yy = (self.Y @ Py)[self.slots]
        d = r[-1]
        col = -(rinv @ r[:-1]) / d
        self.Rinv = _grow(rinv, np.append(np.zeros(len(col)), 1.0 / d), np.append(col, 1.0 / d))
        self.YY = _grow(yy_old, yy, yy)
        self.D = np.append(self.D[keep], d)

    def apply(self, g: np.ndarray) -> np.ndarray:
        """H g by the compact representation (module docstring)."""
        if not len(self.slots):
            self.applied = None
            return g.copy() if self.P is None else self.P * g
        gamma = self.D[-1] / self.YY[-1, -1]
        P = self.P
        Pg = g if P is None else P * g
        ahead = self.ahead if self.ahead is not None and self.ahead[0] is g else None
        self.applied = ahead if ahead is not None else self._products(g)
        a, b = self.applied[1][self.slots], self.applied[2][self.slots]
        c = self.Rinv @ a
        p = self.Rinv.T @ (self.D * c + gamma * (self.YY @ c) - gamma * b)
        coef_s, coef_y = np.zeros(self.m), np.zeros(self.m)
        coef_s[self.slots], coef_y[self.slots] = p, -gamma * c
        if P is None:
            return gamma * g + coef_s @ self.S + coef_y @ self.Y
        return gamma * Pg + P * (coef_y @ self.Y) + coef_s @ self.S


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


def _grow(a: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """``a`` with one more row (``row``) and column (``col``); they share the corner entry."""
    k = a.shape[0] + 1
    out = np.empty((k, k))
    out[:-1, :-1] = a
    out[-1, :] = row
    out[:, -1] = col
    return out


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
    nfev, mem = 1, _Memory(m, x.size)
    P = None if scaling is None else 1.0 / scaling(x)
    mem.scale(P)
    best, best_at = float("inf"), 0
    anchor = float("inf")  # ||g|| at the last restart (``restart``)
    for nit in range(maxiter):
        if scaling is not None and nit and nit % refresh == 0:
            P = 1.0 / scaling(x)
            mem.scale(P)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            gn = float(np.linalg.norm(g))
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
            mem = _Memory(m, x.size)
            mem.scale(P)
            d = -(g if P is None else P * g)
            slope = float(g @ d)
        # first step: unit length along d (the scale of H is unknown); then the quasi-Newton step
        step = 1.0 if len(mem.slots) else min(1.0, 1.0 / float(np.linalg.norm(d)))
        found = _line_search(fun, x, f, g, d, slope, step)
        nfev += found[3]
        if found[0] is None:
            return LbfgsResult(x, f, g, nit, nfev, "line search")
        alpha, f_new, g_new, _ = found
        s = alpha * d
        x_new = x + s
        y = g_new - g
        if float(s @ y) > 1e-10 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            # why 1e-10: the pair must have positive curvature for H to stay positive definite;
            # strong Wolfe guarantees it in exact arithmetic, the margin guards against rounding
            # the kept products (``_Memory.add``) only from LARGE_P on, where the passes over
            # the pairs cost against a gradient; below, the arithmetic stays as it was
            mem.add(s, y, g_new if x.size >= LARGE_P else None)
        x, f, g = x_new, f_new, g_new
    return LbfgsResult(x, f, g, maxiter, nfev, "maxiter")


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
