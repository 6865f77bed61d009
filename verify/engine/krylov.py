"""MINRES and preconditioned CG in NumPy: Newton steps on Hessian-vector products.

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

:func:`pcg` is the conjugate gradient method for a symmetric positive definite A with a
preconditioner M given as its solve (Hestenes and Stiefel 1952; Golub and Van Loan, Algorithm
11.5.1): Newton's steps at a point near one where the Hessian was factored
(:mod:`verify.engine.newton64`), with that factorization as M. The error falls per iteration
by about the spread of M^-1 A's eigenvalues around 1, so a few iterations (one Hessian-vector
product and one solve with M each) give the Newton step at the new point to ``rtol``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["minres", "pcg"]

Operator = Callable[[np.ndarray], np.ndarray]


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


def pcg(
    matvec: Operator, b: np.ndarray, precondition: Operator, *, rtol: float, maxiter: int
) -> tuple[np.ndarray, int, float]:
    """``(x, iterations, relative residual)`` for A x = b, A symmetric positive definite, by
    conjugate gradients preconditioned with ``precondition`` (r -> M^-1 r, M symmetric positive
    definite; module docstring). Stops when ||b - A x|| <= rtol ||b||, after ``maxiter``
    iterations, or at a direction of non-positive curvature (A is not positive definite
    there: the iterate so far is returned)."""
    b = np.asarray(b, dtype=np.float64)
    x = np.zeros_like(b)
    bn = float(np.linalg.norm(b))
    if bn == 0.0:
        return x, 0, 0.0
    r = b.copy()
    z = precondition(r)
    p = z.copy()
    rz = float(r @ z)
    rn = bn
    for k in range(1, maxiter + 1):
        q = matvec(p)
        curvature = float(p @ q)
        if not curvature > 0:
            return x, k - 1, rn / bn
        alpha = rz / curvature
        x += alpha * p
        r -= alpha * q
        rn = float(np.linalg.norm(r))
        if rn <= rtol * bn:
            return x, k, rn / bn
        z = precondition(r)
        rz_next = float(r @ z)
        p = z + (rz_next / rz) * p
        rz = rz_next
    return x, maxiter, rn / bn
