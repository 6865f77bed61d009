"""The Hessian of L_lam for one hidden layer in closed form (float64), for the square system of
a point on a kink (:func:`verify.engine.kink.surrogate.jacobian`).

For f = W_2 h + b_2, h = sigma(z), z = W_1 x + b_1 (sigma with slope s and curvature c, the pins
of :class:`~verify.engine.kink.surrogate.PinnedProblem` included: s_p their slope, c_p = 0) and
L_lam = (1/n) sum_i l(f_i) + (lam/2) ||theta||^2 (biases only with ``decay_bias``),

    H = (1/n) sum_i J_i^T l''_i J_i + (1/n) sum_i sum_k delta_ik d^2 f_ik + lam D,

J_i = df_i/dtheta (c x P), delta_i = l'(f_i), D the decayed coordinates. The rows of J_i:
df_ik/dW2_kj = h_ij, df_ik/db2_k = 1, df_ik/dW1_jl = W2_kj s_ij x_il, df_ik/db1_j = W2_kj s_ij.
The second derivatives of f_ik are nonzero in two blocks only (x~ = [x, 1] with a bias):
(W2_kj, [W1_j, b1_j]): s_ij x~_i, and ([W1_j, b1_j], [W1_j, b1_j]): W2_kj c_ij x~_i x~_i^T.
l'' is I for the mean squared error (l = ||f - y||^2 / 2) and mass_i (diag p_i - p_i p_i^T) for
the cross-entropy (p_i = softmax(f_i), mass_i the row sum of Y), so the first term is
A^T A - B^T B with rows sqrt(mass_i p_ik) J_ik of A and sqrt(mass_i) p_i^T J_i of B.

The same numbers as :func:`verify.engine.hessian.dense_hessian` (P exact Hessian-vector
products) up to rounding, at the cost of one product of an (n c) x P matrix with itself instead
of P forward-and-backward passes (measured on the 20-64-1 net, n = 256: ~5x less CPU). Newton's
steps and the certificate both use it. The certificate loses nothing: neither matrix is an
enclosure, both are float64 evaluations of the same exact Hessian with errors ~ u ||H||, and the
certificate reads the square Jacobian only through first-order estimates with a factor 2 for
the remainder (the kink distances of rule 3, the slope bounds of rule 4), which such errors move
by a relative ~ cond u (1e-8 at the standard net's condition 1e8).
"""

from __future__ import annotations

import numpy as np

from verify.engine.backprop import Backprop
from verify.engine.problem import Problem

__all__ = ["applies", "shallow_hessian"]


def applies(problem: Problem) -> bool:
    """One hidden layer, a loss with the l'' above, and J (n c x P) at most four times the size
    of H (P x P)."""
    net = problem.net
    return (net.depth == 2 and problem.loss in ("mse", "cross_entropy")
            and problem.n * net.sizes[-1] <= 4 * net.n_params)  # fmt: skip


def shallow_hessian(problem: Problem, bp: Backprop) -> np.ndarray:
    """The Hessian of L_lam (module docstring) at the point of the float64 pass ``bp``."""
    net, n = problem.net, problem.n
    (w1, b1), (w2, _) = bp.params
    m, d = w1.shape
    c = w2.shape[0]
    bias = b1 is not None
    x = np.asarray(bp.hs[0], dtype=float)
    xt = np.hstack([x, np.ones((n, 1))]) if bias else x  # x~ (n x (d + 1) with a bias)
    h, s = np.asarray(bp.hs[1], dtype=float), np.asarray(bp.slopes[0], dtype=float)
    curv = np.asarray(bp.curvs[0], dtype=float)
    delta = np.asarray(bp.deltas[-1], dtype=float)  # dl_i/df (n x c)
    # where each block starts: W1 (row-major) then b1, W2 then b2 (the flat layout)
    n1 = m * d + (m if bias else 0)
    P = net.n_params
    # J_ik, for all (i, k) at once: (n, c, P)
    J = np.zeros((n, c, P))
    g1 = w2[None, :, :] * s[:, None, :]  # df_ik/dz_ij (n x c x m)
    J[:, :, : m * d] = (g1[:, :, :, None] * x[:, None, None, :]).reshape(n, c, m * d)
    if bias:
        J[:, :, m * d : n1] = g1
    J[:, :, n1 : n1 + c * m] = (np.eye(c)[None, :, :, None] * h[:, None, None, :]).reshape(
        n, c, c * m
    )
    if net.bias:
        J[:, :, n1 + c * m :] = np.eye(c)[None, :, :]
    if problem.loss == "mse":
        A = J.reshape(n * c, P)
        H = A.T @ A
    else:
        z = np.asarray(bp.zs[-1], dtype=float)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        mass = np.asarray(problem.Y, dtype=float).sum(axis=1)
        A = (np.sqrt(mass[:, None] * p)[:, :, None] * J).reshape(n * c, P)
        B = np.sqrt(mass)[:, None] * np.einsum("ik,ikp->ip", p, J)
        H = A.T @ A - B.T @ B
    # the second derivatives of f, weighted by delta
    # scattered into H for all units at once (unit j's slots idx[j]; no slot pair repeats)
    idx = np.arange(m)[:, None] * d + np.arange(d)[None, :]  # W1_j (row-major)
    if bias:
        idx = np.hstack([idx, m * d + np.arange(m)[:, None]])  # and b1_j
    weight = (delta @ w2) * curv  # sum_k delta_ik W2_kj c_ij (n x m)
    if weight.any():  # (ReLU and its surrogate have no curvature)
        block = np.matmul((weight.T[:, :, None] * xt[None]).transpose(0, 2, 1), xt)  # (m, d1, d1)
        H[idx[:, :, None], idx[:, None, :]] += block
    cross = np.einsum("ik,ij,il->kjl", delta, s, xt)  # (W2_kj, [W1_j, b1_j]) (c x m x d1)
    rows = n1 + np.arange(c)[:, None] * m + np.arange(m)[None, :]  # W2_kj (c x m)
    H[rows[:, :, None], idx[None, :, :]] += cross
    H[idx[None, :, :], rows[:, :, None]] += cross
    H /= n
    decay = np.ones(P, dtype=bool)
    if not problem.decay_bias:
        for _, w_end, b_end in net.offsets:
            decay[w_end:b_end] = False
    H[np.diag_indices(P)] += problem.lam * decay
    return H
