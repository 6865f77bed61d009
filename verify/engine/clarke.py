"""ReLU points ON a kink: Clarke-type stationary points, found by Newton's method on a square
system in the weights and the slopes at the pinned pre-activations.

Trained ReLU networks with weight decay usually end where a few pre-activations z_p, p =
(hidden layer, sample, unit), sit exactly at the kink 0 (:mod:`verify.engine.pieces`): a
non-differentiable local minimum. There no gradient exists, but backpropagation with a slope
s_p in [0, 1] chosen for relu'(z_p) at each pinned pair (the generalized derivative of relu at
0 is the interval [0, 1]) gives a vector G(theta, s). The point is a **Clarke-type stationary
point** when some slopes s in [0, 1]^m make G vanish: 0 lies in the set of gradients that
backpropagation with admissible slopes produces (the conservative field of backpropagation,
Bolte and Pauwels, Math. Program. 2021, which contains the Clarke subdifferential; with one
pinned pair per sample it equals conv{gradients of the adjacent pieces}).

F1 then holds exactly, layer by layer, with grad_h l_i taken by the same backpropagation: the
slopes s make grad_W L_lam := (1/n) sum_i delta_i h_i^T + lam W = 0 for every layer, and the
four-line proof of F1 (REFERENCE.md section 1) uses nothing else. The AGOP of the NFA uses the
same slopes. A useful view: at the pinned pairs replace relu by the linear map h = s_p z
(:class:`PinnedProblem`, the *surrogate*). Its value equals L_lam on the set {z_p = 0}, and G is
its gradient, so Hessian-vector products of the surrogate are exact second derivatives of G in
theta, and G is affine in each s_p separately.

The square system, P + m equations in P + m unknowns (theta, s):

    G(theta, s) = 0   (P equations),      z_p(theta, s) = 0   (m equations),

is solved by Newton's method in float64 (:func:`solve_on_kink`), with an active set: the pinned
set and the starting slopes come from a smoothing homotopy (:mod:`verify.engine.clarke_start`,
which says why the L-BFGS end point is not a usable start); a pair
whose slope leaves [0, 1] is released to the side its slope points to (slope < 0: off, > 1: on),
held there (slope fixed at 0 or 1, no z equation) until Newton converges, and dropped from the
pins once its z has the sign of that side; a non-pinned pair whose sign a step changes is pinned.
Dead units (inactive on every sample) are settled to zero weights and frozen, structural zeros
(:func:`verify.engine.pieces.structural_zeros`) are not kinks; both keep their existing handling.

The certificate (:mod:`verify.engine.clarke_cert`) and its refinement at ``dps`` digits
(mixed-precision Newton on the same system) live next door.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from verify.engine.backends import FLOAT64, Array, Backend
from verify.engine.backprop import Backprop, backprop
from verify.engine.hessian import dense_hessian
from verify.engine.pieces import _dead, settle, structural_zeros
from verify.engine.problem import Problem
from verify.engine.rounding import rounding_analysis
from verify.engine.switched_off import snap_switched_off

__all__ = ["KinkSolve", "PinnedProblem", "Solver", "is_pinned", "pinned", "solve_on_kink"]

#: Newton steps per active set, and active-set rounds
_STEPS, _ROUNDS = 12, 12


@dataclass(frozen=True, eq=False)
class PinnedProblem(Problem):
    """The surrogate (module docstring): relu'(z_p) := s_p and h_p = s_p z_p at ``pins``.

    ``pins``: (hidden layer 0-based, sample, unit) triples; ``slopes``: their slopes (float64
    or an object array of mpf at the working precision). The backpropagation
    (:func:`verify.engine.backprop.backprop`) and its rounding analysis call :meth:`pin` and
    :meth:`pin_bounds`; everything built on them (gradient, Hessian-vector products, rounding
    floor, layer features, input Jacobians) then uses the slopes."""

    pins: tuple[tuple[int, int, int], ...] = ()
    slopes: Any = None

    def _at(self, layer: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
        idx = [k for k, p in enumerate(self.pins) if p[0] == layer]
        rows = np.array([self.pins[k][1] for k in idx], dtype=int)
        cols = np.array([self.pins[k][2] for k in idx], dtype=int)
        return rows, cols, idx

    def pin(
        self, be: Backend, layer: int, z: Array, h: Array, ds: Array, d2s: Array
    ) -> tuple[Array, Array, Array]:
        rows, cols, idx = self._at(layer)
        if not idx:
            return h, ds, d2s
        s = be.asarray(np.asarray(self.slopes, dtype=object)[idx])
        h, ds = h.copy(), ds.copy()
        ds[rows, cols] = s
        h[rows, cols] = s * z[rows, cols]
        return h, ds, d2s  # the surrogate is linear at the pins: curvature 0, as ReLU's

    def pin_bounds(
        self, layer: int, eh: np.ndarray, es: np.ndarray, ez: np.ndarray, h: np.ndarray, u: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rounding at pinned pairs: the slope is an exact input (e_s = 0) and h = s z is one
        product (e_h = |s| e_z + u |h|), instead of ReLU's unknown slope at |z| <= e_z."""
        rows, cols, idx = self._at(layer)
        if not idx:
            return eh, es
        s = np.abs(np.array([float(x) for x in np.asarray(self.slopes, dtype=object)[idx]]))
        eh, es = eh.copy(), es.copy()
        es[rows, cols] = 0.0
        eh[rows, cols] = s * ez[rows, cols] + u * np.abs(h[rows, cols])
        return eh, es

    def with_slopes(self, slopes: Any) -> PinnedProblem:
        out = replace(self, slopes=slopes)
        object.__setattr__(out, "_cache", {})
        return out


def is_pinned(problem: Problem) -> bool:
    """Is ``problem`` a surrogate with pinned pairs (a point certified on a kink)?"""
    return isinstance(problem, PinnedProblem) and bool(problem.pins)


def pinned(problem: Problem, pins: list[tuple[int, int, int]], slopes: Any) -> PinnedProblem:
    """The surrogate of the plain ``problem`` with ``pins`` at ``slopes``."""
    base = problem
    return PinnedProblem(
        base.net, base.X, base.Y, base.loss, base.lam, base.decay_bias, pins=tuple(pins),
        slopes=np.asarray(slopes, dtype=object if np.asarray(slopes).dtype == object else float),
    )  # fmt: skip


# -- the square system -------------------------------------------------------------------------
def z_at(bp: Backprop, pins: tuple[tuple[int, int, int], ...]) -> Array:
    """The pre-activations z_p at the pins (backend numbers)."""
    return np.array([bp.zs[layer][i, j] for layer, i, j in pins], dtype=np.asarray(bp.zs[0]).dtype)


def _z_rows(problem: Problem, bp: Backprop, pins: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    """dz_p / dtheta (m x P, float64): one reverse pass through sample i for each pin."""
    net, rows = problem.net, []
    for layer, i, j in pins:
        parts: list[tuple[np.ndarray, np.ndarray | None]] = [
            (np.zeros(w.shape), None if b is None else np.zeros(b.shape)) for w, b in bp.params
        ]
        g = np.zeros(bp.params[layer][0].shape[0])
        g[j] = 1.0
        for k in range(layer, -1, -1):
            w, b = bp.params[k]
            parts[k] = (np.outer(g, bp.hs[k][i]), None if b is None else g.copy())
            if k > 0:
                g = (g @ w) * bp.slopes[k - 1][i]
        rows.append(net.flatten(parts))
    return np.array(rows).reshape(len(pins), net.n_params)


def jacobian(
    problem: PinnedProblem, theta: np.ndarray, free: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(J, F): the float64 Jacobian of the square system in (theta[keep], s[free]) and its value.

    Rows: G[keep], then z at the free pins. dG/dtheta is the surrogate's Hessian (exact
    Hessian-vector products); dG/ds_q and dz/ds_q are exact differences (affine in s_q)."""
    bp = backprop(problem, theta)
    fpins = tuple(p for p, f in zip(problem.pins, free, strict=True) if f)
    G, z = bp.grad, z_at(bp, fpins)
    H = dense_hessian(problem, theta)[np.ix_(keep, keep)]
    m = len(fpins)
    B, D = np.zeros((int(keep.sum()), m)), np.zeros((m, m))
    s = np.asarray(problem.slopes, dtype=float)
    for col, q in enumerate(np.flatnonzero(free)):
        s1 = s.copy()
        s1[q] += 1.0
        bq = backprop(problem.with_slopes(s1), theta)
        B[:, col] = (bq.grad - G)[keep]
        D[:, col] = z_at(bq, fpins) - z
    C = _z_rows(problem, bp, fpins)[:, keep]
    J = np.block([[H, B], [C, D]])
    return J, np.concatenate([G[keep], z])


@dataclass
class KinkSolve:
    """Outcome of :func:`solve_on_kink`: the surrogate, the point, and how it went."""

    problem: PinnedProblem | None
    theta: np.ndarray
    converged: bool  # gradient within its floor, pinned z within rounding, slopes in [0, 1]
    steps: int
    rounds: int
    reason: str
    cond: float = float("inf")  # 1-norm condition estimate of the last Jacobian
    beta: float = float("nan")  # the smoothing level Newton started from


def _masks(problem: Problem, theta: np.ndarray, bp: Backprop) -> list[np.ndarray]:
    """Per hidden layer: pairs that can be kinks (live unit, not a structural zero)."""
    out = []
    for layer, z in enumerate(bp.zs[:-1]):
        dead = np.logical_not((np.asarray(z) > 0).any(axis=0))
        struct = structural_zeros(problem, np.asarray(bp.hs[layer], dtype=float))
        out.append(~dead[None, :] & ~struct[:, None])
    return out


def _frozen(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """Coordinates of dead units (zero weights after :func:`settle`): frozen, exact."""
    net = problem.net
    flat = np.zeros(net.n_params, dtype=bool)
    params = net.unflatten(flat)
    for layer, dead in enumerate(_dead(problem, theta)):
        (w, b), (w_next, _) = params[layer], params[layer + 1]
        w[dead] = True
        w_next[:, dead] = True
        if b is not None:
            b[dead] = True
    return flat


#: the least-squares cut of the square system's SVD, relative to its largest singular value,
#: times its size. Why 1e3 (P + m) u: singular values of exact zero modes (continuous symmetries:
#: parallel ReLU units with the same activation pattern rotate into each other under weight
#: decay) come out at ~ (P + m) u ||J|| from rounding; genuine ones measured here are >= 1e-7
#: relative, so the cut separates them with room on both sides
_CUT = 1e3 * FLOAT64.unit_roundoff


@dataclass
class Solver:
    """Solves J d = r for the square system: LU when J is well conditioned, else the
    least-squares (truncated SVD) solution, with its zero modes reported."""

    size: int
    m: int  # slope unknowns (the last m)
    lu: Any = None
    svd: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    cond: float = float("inf")  # condition number (on the kept singular values for the SVD)
    zero_modes: int = 0
    slope_null: float = 0.0  # largest slope component of a zero mode (unit vectors)

    @staticmethod
    def of(J: np.ndarray, m: int) -> Solver:
        from scipy import linalg

        n = J.shape[0]
        if not np.isfinite(J).all():
            return Solver(n, m)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)  # singular: handled below
            lu = linalg.lu_factor(J, check_finite=False)
            rcond, _ = linalg.lapack.dgecon(lu[0], float(np.linalg.norm(J, 1)), norm="1")
        cond = 1.0 / rcond if rcond > 0 else float("inf")
        # why 1e-3: LU then solves to >= 3 correct digits per Newton step, enough for a
        # quadratically convergent iteration; otherwise the least-squares solution below
        if cond * n * FLOAT64.unit_roundoff < 1e-3:
            return Solver(n, m, lu=lu, cond=cond)
        U, S, Vt = np.linalg.svd(J)
        if not S[0] > 0:
            return Solver(n, m)
        kept = S > _CUT * n * S[0]
        null = Vt[~kept][:, n - m :]
        return Solver(
            n, m, svd=(U[:, kept], S[kept], Vt[kept]), cond=float(S[0] / S[kept][-1]),
            zero_modes=int((~kept).sum()),
            slope_null=float(np.abs(null).max()) if null.size else 0.0,
        )  # fmt: skip

    @property
    def ok(self) -> bool:
        return self.lu is not None or self.svd is not None

    def solve(self, r: np.ndarray, trans: bool = False) -> np.ndarray:
        from scipy import linalg

        if self.lu is not None:
            return linalg.lu_solve(self.lu, r, trans=1 if trans else 0)
        assert self.svd is not None
        U, S, Vt = self.svd
        if trans:
            return U @ ((Vt @ r).T / S).T
        return Vt.T @ ((U.T @ r).T / S).T

    def slope_rows(self) -> np.ndarray:
        """The rows of J^-1 (or J^+) that give the slope unknowns (m x size)."""
        E = np.zeros((self.size, self.m))
        E[self.size - self.m + np.arange(self.m), np.arange(self.m)] = 1.0
        return np.asarray(self.solve(E, trans=True)).T

    @property
    def slopes_determined(self) -> bool:
        """No zero mode moves the slopes (beyond the SVD's own rounding, ~ cond u)."""
        return self.zero_modes == 0 or self.slope_null <= 1e2 * self.cond * FLOAT64.unit_roundoff


def _certified64(problem: PinnedProblem, theta: np.ndarray, free: np.ndarray) -> bool:
    """Float64 test: every gradient entry within its floor, every free z within its rounding."""
    from verify.engine.clarke_cert import pinned_z_bounds

    ra = rounding_analysis(problem, theta)
    if not ra.certified:
        return False
    z, ez = pinned_z_bounds(problem, theta, FLOAT64)
    return bool((np.abs(z[free]) <= ez[free]).all())


def solve_on_kink(problem: Problem, theta: np.ndarray, deadline: float = float("inf")) -> KinkSolve:
    """Newton's method with an active set on the square system (module docstring), started
    from each level of the smoothing homotopy (:mod:`verify.engine.clarke_start`) in turn."""
    from verify.engine.clarke_start import smoothed_levels

    theta = settle(problem, np.asarray(theta, dtype=float))
    keep = ~_frozen(problem, theta)
    live = [~d for d in _dead(problem, theta)]
    out = KinkSolve(None, theta, False, 0, 0, "no pre-activation is pinned at a kink")
    steps = 0
    for beta, x, cand, slopes in smoothed_levels(problem, theta, live, deadline):
        keep = ~_frozen(problem, x)  # units switched off by the homotopy are frozen too
        masks = _masks(problem, x, backprop(problem, x))
        ok = [bool(masks[la][i, j]) for la, i, j in cand]
        pins = [p for p, o in zip(cand, ok, strict=True) if o]
        if not pins:
            out = KinkSolve(None, x, False, steps, 0, "no pre-activation is pinned at a kink")
            continue
        out = _active_set(problem, x, pins, slopes[np.array(ok, dtype=bool)], keep, masks)
        steps = out.steps = steps + out.steps
        out.beta = beta
        if out.converged:
            return out
    return out


def _active_set(
    problem: Problem, theta: np.ndarray, pins: list[tuple[int, int, int]], slopes: np.ndarray,
    keep: np.ndarray, masks: list[np.ndarray],
) -> KinkSolve:  # fmt: skip
    """Newton on the square system, pinning pairs that cross 0 and releasing slopes outside
    [0, 1] (module docstring)."""
    free = np.ones(len(pins), dtype=bool)
    steps, cond = 0, float("inf")
    for rounds in range(1, _ROUNDS + 1):
        pp = pinned(problem, pins, slopes)
        sides = [np.sign(np.asarray(z, dtype=float)) for z in backprop(pp, theta).zs[:-1]]
        crossed: list[tuple[int, int, int]] = []
        for _ in range(_STEPS):
            if _certified64(pp, theta, free):
                break
            J, F = jacobian(pp, theta, free, keep)
            solver = Solver.of(J, int(free.sum()))
            cond = solver.cond
            if not solver.ok:
                return KinkSolve(pp, theta, False, steps, rounds, (
                    f"the square system (P + m = {J.shape[0]}) is not finite or zero at this "
                    f"point with m = {int(free.sum())} pinned pairs"
                ), cond)  # fmt: skip
            step = solver.solve(-F)
            norm0, t = float(np.linalg.norm(F)), 1.0
            for _ in range(6):  # damped: a step must lower ||F|| (halved up to 6 times)
                cand = theta.copy()
                cand[keep] += t * step[: int(keep.sum())]
                s_cand = slopes.copy()
                s_cand[free] += t * step[int(keep.sum()) :]
                cp = pp.with_slopes(s_cand)
                _, F2 = _value(cp, cand, free, keep)
                if np.linalg.norm(F2) < norm0:
                    break
                t /= 2
            else:  # no step lowers ||F||: outside Newton's basin, or at rounding level with
                # switched-off units left at ~1e-20 (switched_off.py): set them to 0 if it helps
                snapped = snap_switched_off(pp, theta)
                if snapped is None or not _ratio(pp, snapped) < _ratio(pp, theta):
                    break
                theta = snapped
                continue
            theta, slopes, pp, steps = cand, s_cand, cp, steps + 1
            crossed = _crossings(pp, theta, masks, sides)
            if crossed:
                break
        if crossed:  # a step carried live pairs across 0: pin them (active set)
            pins += crossed
            slopes = np.concatenate([slopes, np.full(len(crossed), 0.5)])
            free = np.concatenate([free, np.ones(len(crossed), dtype=bool)])
            continue
        if not _certified64(pp, theta, free):
            return KinkSolve(
                pp,
                theta,
                False,
                steps,
                rounds,
                f"Newton on the square system stalled after {steps} steps",
                cond,
            )
        out = slopes < 0, slopes > 1
        if free.all() and not (out[0] | out[1]).any():
            return KinkSolve(pp, theta, True, steps, rounds, "", cond)
        # release slopes outside [0, 1] to their side; held pairs on their side are dropped
        zs = z_at(backprop(pp, theta), pp.pins)
        held_ok = ~free & (((slopes == 1) & (zs > 0)) | ((slopes == 0) & (zs < 0)))
        slopes = np.where(out[0] & free, 0.0, np.where(out[1] & free, 1.0, slopes))
        free = free & ~(out[0] | out[1])
        repin = ~free & ~held_ok & ~(out[0] | out[1])  # held, but on the wrong side: pin again
        free = free | repin
        drop = held_ok
        pins = [p for p, d in zip(pins, drop, strict=True) if not d]
        slopes, free = slopes[~drop], free[~drop]
        slopes[repin[~drop]] = 0.5
        if not pins:
            return KinkSolve(
                None,
                theta,
                False,
                steps,
                rounds,
                "every pinned pair was released: the point is inside a piece",
            )
    return KinkSolve(
        None,
        theta,
        False,
        steps,
        _ROUNDS,
        f"the active set did not settle in {_ROUNDS} rounds",
        cond,
    )


def _ratio(problem: PinnedProblem, theta: np.ndarray) -> float:
    """max_i |G_i| / floor_i (NaN-safe: NaN compares as not better)."""
    return float(rounding_analysis(problem, theta).ratio)


def _value(
    problem: PinnedProblem, theta: np.ndarray, free: np.ndarray, keep: np.ndarray
) -> tuple[Backprop, np.ndarray]:
    bp = backprop(problem, theta)
    fpins = tuple(p for p, f in zip(problem.pins, free, strict=True) if f)
    return bp, np.concatenate([bp.grad[keep], z_at(bp, fpins)])


def _crossings(
    problem: PinnedProblem, theta: np.ndarray, masks: list[np.ndarray], sides: list[np.ndarray]
) -> list[tuple[int, int, int]]:
    """Non-pinned candidate pairs whose sign differs from ``sides``."""
    pinset = set(problem.pins)
    out = []
    for layer, (z, ok, sd) in enumerate(zip(backprop(problem, theta).zs[:-1], masks, sides,
                                            strict=True)):  # fmt: skip
        moved = ok & (np.sign(np.asarray(z, dtype=float)) != sd) & (sd != 0)
        out += [(layer, int(i), int(j)) for i, j in np.argwhere(moved)
                if (layer, int(i), int(j)) not in pinset]  # fmt: skip
    return out
