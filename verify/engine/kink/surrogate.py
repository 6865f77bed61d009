"""The surrogate network of a point on a ReLU kink, and the square system's Jacobian.

At the pinned pairs p = (hidden layer, sample, unit) relu is replaced by the linear map
h_p = s_p z_p (:class:`PinnedProblem`): its value equals L_lam on {z_p = 0}, its gradient is
G(theta, s), backpropagation with relu'(z_p) := s_p (:mod:`verify.engine.kink`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from verify.engine.backends import Array, Backend
from verify.engine.backprop import Backprop, backprop
from verify.engine.hessian import dense_hessian
from verify.engine.pieces import _dead
from verify.engine.problem import Problem

__all__ = ["PinnedProblem", "frozen", "is_pinned", "jacobian", "pinned", "z_at"]


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
    if not pins:
        return np.zeros(0, dtype=np.asarray(bp.zs[0]).dtype)
    idx = np.array(pins, dtype=int)
    parts = [np.asarray(bp.zs[la])[idx[idx[:, 0] == la, 1], idx[idx[:, 0] == la, 2]]
             for la in range(len(bp.zs) - 1)]  # fmt: skip
    order = np.argsort(np.argsort(idx[:, 0], kind="stable"), kind="stable")
    return np.concatenate(parts)[order]


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


def frozen(problem: Problem, theta: np.ndarray) -> np.ndarray:
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
