"""The per-unit metric that preconditions the smoothing homotopy's L-BFGS
(:mod:`verify.engine.kink.start`).

At smoothing level beta the softplus curvature beta s (1 - s) of every pair near its kink adds
(1/n) |dl_i/dh_ij| beta s_ij (1 - s_ij) x_i x_i^T to the Hessian block of unit j's incoming
weights (x_i the layer's input, with a 1 for a bias): hundreds of stiff directions, none of them
along a coordinate axis, which a diagonal cannot see and 20 L-BFGS pairs cannot hold. But they
all lie inside the blocks of single units, so the block-diagonal metric

    M_j = (1/n) sum_i (q_ij + |dl_i/dh_ij| c_ij) x~_i x~_i^T + floor I

(q the Gauss-Newton weight of z_ij, propagated through the squared weights as in
:mod:`verify.engine.precondition`, exact for one hidden layer; c the curvature of the smoothed
activation; floor = max(lam, 1e-4 of the largest diagonal entry), lam being the decay's own
curvature) holds them exactly: with one hidden layer and every dl_i/dh_ij c_ij >= 0 it IS the
Hessian block of unit j (the cross terms with the outgoing weights aside). With
M_j = L_j L_j^T, L-BFGS runs in u_j = L_j^T theta_j, where the Hessian is ~ I on each block;
the output layer takes the Gauss-Newton diagonal. It changes only the path to the smoothed
stationary point, never what is certified.

Measured on the standard ReLU 20-64-1 net (n = 256, lam 1e-3) from its trained point, L-BFGS
iterations to 1e-6 of each level's starting gradient: with gamma I, beta = 1e2 stopped at its
cap of 3,000 above it and 1e3 took 1,956; with this metric, refreshed every 200 iterations,
1e2, 1e3 and 1e4 took 1,400, 800 and 650; with only the diagonal of M, 3,000 (cap), 1,400 and
3,000 (cap). Where few pairs are near a kink it does not pay: on a (4, 6, 2) net with 13
samples at beta = 1e2 / median |z| from its initial point, gamma I reached 1e-4, 1e-7, 1e-9 of
the starting gradient in 112, 279, 484 iterations and the metric in 374, 536, 600 (such
iterations cost microseconds); on benchmarks/bench_relu_kinks.py it changed neither the
certified runs nor their CPU times beyond the runs' spread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from verify.engine.backprop import Backprop
from verify.engine.problem import Problem

__all__ = ["MAX_ENTRIES", "UnitMetric", "unit_metric"]

#: the blocks' entries (sum over hidden units of fan-in squared) from which no metric is built
#: (None: gamma I). Why 2e6: 16 MB of blocks, and inverting them (~ fan-in^3 per unit) stays
#: below a few hundred gradients of such a network; the standard net has 25,600
MAX_ENTRIES = 2_000_000
#: the metric's eigenvalue floor relative to its largest diagonal entry, when above lam: as in
#: :mod:`verify.engine.precondition`, keeps 1 / M finite for a dead unit or lam = 0
_RELATIVE_FLOOR = 1e-4


@dataclass(frozen=True)
class UnitMetric:
    """theta = :meth:`to_theta` (u), grad_u = :meth:`to_u_grad` (grad_theta); per hidden layer
    (unit, k, k) inverse Cholesky factors over the flat slots ``index`` (unit, k), and the
    reciprocal square roots of the output layer's diagonal over ``tail``."""

    inv: list[np.ndarray]  # L_j^{-1} per hidden layer, (units, k, k)
    index: list[np.ndarray]  # flat positions of each unit's block, (units, k)
    tail: np.ndarray  # flat positions of the output layer
    root: np.ndarray  # 1 / sqrt(diagonal) there
    norm: float  # an upper bound of ||L|| (2-norm): ||grad_theta|| <= norm ||grad_u||
    inv_t: list[np.ndarray] = field(default_factory=list)  # L_j^{-T}, contiguous

    def __post_init__(self) -> None:
        # batched matmul on contiguous stacks: half the time of the einsum (12 against 24 us on
        # the standard net's 64 blocks of 20; two products per L-BFGS iteration)
        self.inv_t.extend(np.ascontiguousarray(np.swapaxes(inv, 1, 2)) for inv in self.inv)

    def to_theta(self, u: np.ndarray) -> np.ndarray:
        theta = np.empty_like(u)
        for inv_t, idx in zip(self.inv_t, self.index, strict=True):
            theta[idx] = (inv_t @ u[idx][..., None])[..., 0]  # L^{-T} u
        theta[self.tail] = self.root * u[self.tail]
        return theta

    def to_u(self, theta: np.ndarray) -> np.ndarray:
        u = np.empty_like(theta)
        for inv, idx in zip(self.inv, self.index, strict=True):
            u[idx] = np.linalg.solve(np.swapaxes(inv, 1, 2), theta[idx][..., None])[..., 0]
        u[self.tail] = theta[self.tail] / self.root
        return u

    def to_u_grad(self, grad: np.ndarray) -> np.ndarray:
        out = np.empty_like(grad)
        for inv, idx in zip(self.inv, self.index, strict=True):
            out[idx] = (inv @ grad[idx][..., None])[..., 0]  # L^{-1} g
        out[self.tail] = self.root * grad[self.tail]
        return out


def unit_metric(problem: Problem, bp: Backprop) -> UnitMetric | None:
    """The metric (module docstring) at the float64 pass ``bp`` of the smoothed problem, or
    None above :data:`MAX_ENTRIES` or where it cannot be factored (non-finite numbers)."""
    net, n, lam = problem.net, problem.n, problem.lam
    if sum(net.sizes[k + 1] * (net.sizes[k] + net.bias) ** 2 for k in range(net.depth - 1)) > (
        MAX_ENTRIES
    ):
        return None
    params = [(np.asarray(w, dtype=float), b) for w, b in bp.params]
    z_out = np.asarray(bp.zs[-1], dtype=float)
    if problem.loss == "mse":
        q = np.ones_like(z_out)
    else:
        e = np.exp(z_out - z_out.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        q = p * (1.0 - p)
    inv: list[np.ndarray] = []
    index: list[np.ndarray] = []
    offsets = net.offsets
    # the output layer: the Gauss-Newton diagonal
    wo, bo, be = offsets[-1]
    h = np.asarray(bp.hs[-1], dtype=float)
    diag = [(np.outer(q.mean(axis=0), (h * h).mean(axis=0)) + lam).ravel()]
    if be > bo:
        diag.append(q.mean(axis=0) + (lam if problem.decay_bias else 0.0))
    d = np.concatenate(diag)
    d = np.maximum(d, max(lam, _RELATIVE_FLOOR * float(d.max()) if d.size else lam))
    if not np.isfinite(d).all() or not (d > 0).all():
        return None
    norm2 = float(d.max())
    for layer in range(net.depth - 2, -1, -1):
        w_next = params[layer + 1][0]
        s = np.asarray(bp.slopes[layer], dtype=float)
        q = (q @ (w_next * w_next)) * s * s  # Gauss-Newton weight of z (n x units)
        weight = q + np.abs(np.asarray(bp.grad_h[layer + 1], dtype=float)) * np.asarray(
            bp.curvs[layer], dtype=float
        )
        x = np.asarray(bp.hs[layer], dtype=float)
        wo, bo, be = offsets[layer]
        units, fan = params[layer][0].shape
        if be > bo:
            x = np.hstack([x, np.ones((len(x), 1))])
        # M_j = x^T diag(weight_j) x / n for every unit at once: one batched product (the
        # einsum over i, j, k, l took 4 ms on the standard net, this ~1 ms)
        M = np.matmul((weight.T[:, :, None] * x[None, :, :]).transpose(0, 2, 1), x) / n
        floor = max(lam, _RELATIVE_FLOOR * float(np.max(np.einsum("jkk->jk", M), initial=0.0)))
        M += floor * np.eye(x.shape[1])[None]
        if not np.isfinite(M).all():
            return None
        try:
            chol = np.linalg.cholesky(M)
        except np.linalg.LinAlgError:
            return None
        inv.append(np.linalg.inv(chol))
        norm2 = max(norm2, float(np.max(np.einsum("jkk->j", M))))
        idx = wo + np.arange(units)[:, None] * fan + np.arange(fan)[None, :]
        if be > bo:
            idx = np.hstack([idx, (bo + np.arange(units))[:, None]])
        index.append(idx)
    tail = np.arange(offsets[-1][0], offsets[-1][2])
    return UnitMetric(inv, index, tail, 1.0 / np.sqrt(d), float(np.sqrt(norm2)))
