"""MINRES in NumPy: Newton steps on Hessian-vector products for large networks.

Solves (A - shift I) x = b for symmetric, possibly indefinite or singular A given only as
``matvec`` (Paige and Saunders, SIAM J. Numer. Anal. 12, 1975). The Lanczos process builds an
orthonormal basis V_k of the Krylov space K_k(A, b) with

    A V_k = V_{k+1} Tbar_k,   Tbar_k tridiagonal (k+1 x k): diagonal alpha_j, off-diagonal beta_j,

and x_k = V_k y_k minimises ||b - A x|| over K_k, i.e. || beta_1 e_1 - Tbar_k y ||. Givens
rotations G_k = [[c_k, s_k], [-s_k, c_k]] reduce Tbar_k to upper triangular form one column at a
time: the previous two rotations turn column k (beta_k, alpha_k, beta_{k+1}) into
(eps_k, delta_k, gammabar_k, beta_{k+1}), the new one annihilates beta_{k+1}. With three
short recurrences (direction vectors w_k = (v_k - delta_k w_{k-1} - eps_k w_{k-2}) / gamma_k and
x_k = x_{k-1} + tau_k w_k) the method stores five vectors, however many iterations it runs,
and the residual norm |etabar_{k+1}| comes for free at every step.

It replaces ``scipy.sparse.linalg.minres`` in the Newton stage: importing that module costs
0.3 s of CPU, as much as the whole of training a 1,000-parameter network. The tests compare the
result with a dense least-squares solve.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["minres"]


def minres(
    matvec: Callable[[np.ndarray], np.ndarray], b: np.ndarray, *, rtol: float, maxiter: int,
    shift: float = 0.0,
) -> tuple[np.ndarray, int, float]:  # fmt: skip
    """``(x, iterations, relative residual)`` for (A - shift I) x = b (module docstring).

    Stops when ||b - (A - shift I) x|| <= rtol ||b||, after ``maxiter`` iterations, or when the
    Lanczos process breaks down (the Krylov space is invariant: x is then the exact minimiser).
    """
    b = np.asarray(b, dtype=np.float64)
    x = np.zeros_like(b)
    beta1 = float(np.linalg.norm(b))
    if beta1 == 0.0:
        return x, 0, 0.0
    v_old, v = np.zeros_like(b), b / beta1
    w_old, w_older = np.zeros_like(b), np.zeros_like(b)
    beta, etabar = beta1, beta1
    c_old, s_old, c, s = 1.0, 0.0, 1.0, 0.0  # rotations k-2 and k-1
    for k in range(1, maxiter + 1):
        p = matvec(v)
        if shift:
            p = p - shift * v
        alpha = float(v @ p)
        p = p - alpha * v - beta * v_old
        beta_next = float(np.linalg.norm(p))
        # the two previous rotations applied to column k of Tbar: (beta, alpha) -> eps, delta, gbar
        eps = s_old * beta
        dbar = c_old * beta
        delta = c * dbar + s * alpha
        gbar = -s * dbar + c * alpha
        gamma = float(np.hypot(gbar, beta_next))
        if gamma == 0.0:  # A - shift I is singular on this Krylov space: keep the last x
            return x, k - 1, abs(etabar) / beta1
        c_old, s_old = c, s
        c, s = gbar / gamma, beta_next / gamma
        tau, etabar = c * etabar, -s * etabar
        w = (v - delta * w_old - eps * w_older) / gamma
        x = x + tau * w
        w_older, w_old = w_old, w
        if abs(etabar) <= rtol * beta1 or beta_next == 0.0:
            return x, k, abs(etabar) / beta1
        v_old, v, beta = v, p / beta_next, beta_next
    return x, maxiter, abs(etabar) / beta1
