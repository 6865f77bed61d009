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

__all__ = ["PinnedProblem", "frozen", "is_pinned", "jacobian", "pinned", "slope_columns", "z_at"]


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
        key = "pins-by-layer"  # the pins never change: one index per problem
        if key not in self._cache:
            self._cache[key] = np.array(self.pins, dtype=int).reshape(-1, 3)
        at = self._cache[key]
        idx = np.flatnonzero(at[:, 0] == layer)
        return at[idx, 1], at[idx, 2], idx.tolist()

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
    """dz_p / dtheta (m x P, float64): a reverse pass through sample i from unit j for each pin,
    the pins of one layer stacked on a leading axis (row p is zero outside layers <= its own)."""
    out = np.zeros((len(pins), problem.net.n_params))
    if not pins:
        return out
    idx, offsets = np.array(pins, dtype=int), problem.net.offsets
    for layer in np.unique(idx[:, 0]):
        sel = np.flatnonzero(idx[:, 0] == layer)
        rows = idx[sel, 1]
        g = np.zeros((len(sel), bp.params[layer][0].shape[0]))
        g[np.arange(len(sel)), idx[sel, 2]] = 1.0
        for k in range(layer, -1, -1):
            w, _ = bp.params[k]
            (wo, bo, be), h = offsets[k], np.asarray(bp.hs[k], dtype=float)[rows]
            out[sel, wo:bo] = (g[:, :, None] * h[:, None, :]).reshape(len(sel), -1)
            if be > bo:
                out[sel, bo:be] = g
            if k > 0:
                g = (g @ w) * np.asarray(bp.slopes[k - 1], dtype=float)[rows]
    return out


def _sample_rows(problem: Problem, bp: Backprop, n: int) -> np.ndarray:
    """Row c: the gradient of l_c / n in theta (the per-sample terms of G, without lam theta)."""
    out = np.zeros((bp.hs[0].shape[0], problem.net.n_params))
    for (wo, bo, be), d, h in zip(problem.net.offsets, bp.deltas, bp.hs, strict=True):
        out[:, wo:bo] = (d[:, :, None] * h[:, None, :]).reshape(len(d), -1) / n
        if be > bo:
            out[:, bo:be] = d / n
    return out


def slope_columns(
    problem: PinnedProblem, theta: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(dG/ds, dz/ds) at the free pins: the differences s_q -> s_q + 1 of :func:`jacobian`.

    Only sample i of pin q = (layer, i, j) changes, so column q is the difference of sample i's
    terms, computed for all q at once on a batch of copies (copy c: sample i of the c-th free pin,
    with every pin of that sample, its own slope raised by 1). Returns (P x m, m x m)."""
    pins, s = problem.pins, np.asarray(problem.slopes, dtype=float)
    fq = np.flatnonzero(free)
    if not len(fq):  # every pin held at a side: no slope unknowns
        return np.zeros((problem.net.n_params, 0)), np.zeros((0, 0))
    col = np.full(len(pins), -1)
    col[fq] = np.arange(len(fq))
    by_sample: dict[int, list[int]] = {}
    for k, (_, i, _) in enumerate(pins):
        by_sample.setdefault(i, []).append(k)
    sub, which, owner = [], [], []
    for c, q in enumerate(fq):
        for k in by_sample[pins[q][1]]:
            sub.append((pins[k][0], c, pins[k][2]))
            which.append(k)
            owner.append(c)
    which_a, owner_a = np.array(which, dtype=int), np.array(owner, dtype=int)
    rows = np.array([pins[q][1] for q in fq], dtype=int)
    s0 = s[which_a]
    s1 = s0 + (which_a == fq[owner_a])
    base = PinnedProblem(problem.net, problem.X[rows], problem.Y[rows], problem.loss, problem.lam,
                         problem.decay_bias, pins=tuple(sub), slopes=s0)  # fmt: skip
    bp0, bp1 = backprop(base, theta), backprop(base.with_slopes(s1), theta)
    B = (_sample_rows(problem, bp1, problem.n) - _sample_rows(problem, bp0, problem.n)).T
    D = np.zeros((len(fq), len(fq)))
    dz = np.asarray(z_at(bp1, base.pins), dtype=float) - np.asarray(z_at(bp0, base.pins))
    hit = col[which_a] >= 0
    np.add.at(D, (col[which_a][hit], owner_a[hit]), dz[hit])
    return B, D


def jacobian(
    problem: PinnedProblem, theta: np.ndarray, free: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(J, F): the float64 Jacobian of the square system in (theta[keep], s[free]) and its value.

    Rows: G[keep], then z at the free pins. dG/dtheta is the surrogate's Hessian (exact
    Hessian-vector products; on one hidden layer the same Hessian in closed form,
    :mod:`verify.engine.kink.shallow`, equal to rounding and ~5x cheaper); dG/ds_q and dz/ds_q
    are exact differences (affine in s_q), :func:`slope_columns`; dz/dtheta by reverse passes,
    :func:`_z_rows`."""
    from verify.engine.kink.shallow import applies, shallow_hessian

    bp = backprop(problem, theta)
    fpins = tuple(p for p, f in zip(problem.pins, free, strict=True) if f)
    G, z = bp.grad, z_at(bp, fpins)
    H = shallow_hessian(problem, bp) if applies(problem) else dense_hessian(problem, theta)
    B, D = slope_columns(problem, theta, free)
    nk, m = int(keep.sum()), len(fpins)
    J = np.empty((nk + m, nk + m))  # filled in place: np.block's copies cost ~0.06 s at 2,000
    J[:nk, :nk] = H[np.ix_(keep, keep)]
    J[:nk, nk:] = B[keep]
    J[nk:, :nk] = _z_rows(problem, bp, fpins)[:, keep]
    J[nk:, nk:] = D
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
