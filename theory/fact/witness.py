"""Exact stationary points of the FACT layer family: the witnesses of the planted-variant checks.

For the linear member of each layer family (identity activation, squared error) stationarity in
W is a linear equation, solved exactly in rationals, so every planted false variant of F1 can be
refuted at a point where grad_W L_lam = 0 holds exactly, not approximately.
"""

from __future__ import annotations

import random
from typing import Any

import sympy as sp

from theory.fact.models import LayerModel, _rand

__all__ = ["stationary_witness"]


def stationary_witness(model: LayerModel, seed: int) -> dict[str, Any]:
    """Solve grad_W L_lam = 0 exactly for a linear member of the family (W square, 2 x 2).

    With identity activation and squared error, l_i = |P (W h_i + b) - y_i|^2 / 2, so
    grad_W L_lam = P^T (P (W H + b 1^T) - Y) H^T / n + lam W, linear in W: in vec form
    ((H H^T / n) kron (P^T P) + lam I) vec W = vec(P^T (Y - P b 1^T) H^T / n).
    """
    rng = random.Random(7919 * seed + 3)
    d = m = 2
    N, c, lam_v = 3, 2, sp.Rational(1, 3)
    H = _rand(rng, d, N)
    P = _rand(rng, c, m) if model.arch != "linear" else sp.eye(m)
    if model.arch == "linear":
        c = m
    Y = _rand(rng, c, N)
    b = _rand(rng, m, 1) if model.bias else sp.zeros(m, 1)
    ones = sp.ones(1, N)
    A = sp.kronecker_product(H * H.T / N, P.T * P) + lam_v * sp.eye(m * d)
    rhs = P.T * (Y - P * b * ones) * H.T / N
    vecW = A.LUsolve(_vec(rhs))
    W = sp.ImmutableMatrix(m, d, lambda i, j: vecW[j * m + i])
    Delta = P.T * (P * (W * H + b * ones) - Y)
    grad = Delta * H.T / N + lam_v * W
    assert grad == sp.zeros(m, d), "witness is not stationary"  # internal invariant
    return {
        "W": W,
        "H": H,
        "Delta": Delta,
        "Gh": W.T * Delta,
        "n": N,
        "lam": lam_v,
        "instance": "identity activation, squared error, read-out P, data H, Y, bias b "
        "(exact rationals); grad_W L_lam = 0 exactly",
        "P": P,
        "Y": Y,
        "b": b,
    }


def _vec(M: sp.Matrix) -> sp.Matrix:
    """Column-major vectorisation (vec(A W B) = (B^T kron A) vec W)."""
    return sp.Matrix([M[i, j] for j in range(M.cols) for i in range(M.rows)])
