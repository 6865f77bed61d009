"""Numeric checks of the kernel expansion of AGOP and FACT (K1, K2, K3) in float64.

:func:`check_kernel_expansion` computes the residual identity, K1 (AGOP = M S_tau M) and K2
(FACT = (r/(n lam)) M S_k') by two routes with rounding-bound tolerances;
:func:`tau_kprime_r2` and :func:`feature_agreement` measure how closely NFA and FACT agree (K3).
Conventions as in :mod:`verify.rfm.machine`, which re-exports these names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theory._errors import OutsideAssumptionsError
from verify.rfm.features import _agop, _fact, _targets, _train_weights, feature_update
from verify.rfm.kernels import KernelMachine

__all__ = ["check_kernel_expansion", "feature_agreement", "tau_kprime_r2"]

_EPS = float(np.finfo(np.float64).eps)


def tau_kprime_r2(
    machine: KernelMachine, *, weighted: bool = False, max_pairs_points: int = 1500
) -> float | None:
    """K3: R^2 of the least-squares line ``tau_ij = a k'_ij + b`` over pairs i <= j.

    ``tau = K'^T K' / n`` (K1) and ``K'_ij = k'(x_i^T M x_j)`` (K2); only inner-product kernels
    have these pair weights (None otherwise). ``weighted=True`` compares the matrices that
    actually enter S_tau and S_k', ``(A A^T) o T`` against ``(A A^T) o K'`` (the paper's exact
    choice could not be confirmed). Above ``max_pairs_points`` training points the pairs are
    taken among an evenly spaced subset (tau still sums over all n points).
    """
    if not machine.kernel.inner_product:
        return None
    _, Kp = _train_weights(machine)
    n = Kp.shape[0]
    idx = np.linspace(0, n - 1, min(n, max_pairs_points)).astype(int)
    sub = Kp[:, idx]
    tau = sub.T @ sub / n  # K1: tau_ij = (1/n) sum_l k'_li k'_lj
    kp = Kp[np.ix_(idx, idx)]
    if weighted:
        P = machine.alpha[idx] @ machine.alpha[idx].T
        tau, kp = P * tau, P * kp
    iu = np.triu_indices(len(idx))
    t, k = tau[iu], kp[iu]
    if np.ptp(t) == 0 or np.ptp(k) == 0:
        return 1.0
    return float(np.corrcoef(t, k)[0, 1] ** 2)


def _pearson_cosine(A: np.ndarray, B: np.ndarray) -> tuple[float, float]:
    """N3: Pearson (entries centred) and plain cosine of two matrices."""
    a, b = A.ravel(), B.ravel()
    cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    a, b = a - a.mean(), b - b.mean()
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return (float(a @ b / den) if den > 0 else 1.0), cos


def feature_agreement(machine: KernelMachine, *, s: float = 0.5) -> dict[str, Any]:
    """NFA vs FACT at a fitted machine: K3's R^2 and the N3 correlations of the two new metrics."""
    _, G = _train_weights(machine)
    nfa_m = feature_update("nfa", machine.M, agop_matrix=_agop(machine, machine.X, G, False), s=s)
    fact_m = feature_update("fact", machine.M, fact=_fact(machine, G))
    pearson, cosine = _pearson_cosine(nfa_m, fact_m)
    return {
        "k3_r2_tau_vs_kprime": tau_kprime_r2(machine),
        "k3_r2_weighted_by_AAT": tau_kprime_r2(machine, weighted=True),
        "pearson_nfa_vs_fact": pearson,
        "cosine_nfa_vs_fact": cosine,
    }


def _gamma(N: int) -> float:
    """Higham's gamma_N = N eps / (1 - N eps): relative rounding bound of an N-term computation."""
    return N * _EPS / (1.0 - N * _EPS)


def check_kernel_expansion(
    machine: KernelMachine, Y: np.ndarray, *, lam: float = 1.0
) -> dict[str, dict[str, float | bool]]:
    """Float64 checks of the residual identity, K1 and K2 for a fitted inner-product machine.

    Each identity is computed by two routes: from explicit per-point gradients (``gradient``)
    and residuals ``predict(X) - Y`` as in F1/N1, and from the literal matrix formulas K1/K2.
    Tolerances are rounding bounds, not fudge factors: a sum of N products computed in float64
    is off by at most gamma_N times the same sum of absolute values (Higham, Thm 3.5 / 8.x); both
    routes expand to the same terms, so their difference is within 2 gamma_N times that sum. The
    residual identity also carries the backward error of Cholesky, (K + rI + E) alpha = Y with
    |E| <= gamma_{3n+1} |R| |R^T| (Higham, Thm 10.4), R the Cholesky factor.
    Returns ``{name: {"max_error", "tolerance", "ok"}}``.
    """
    if not machine.kernel.inner_product:
        raise OutsideAssumptionsError(
            f"K1/K2 are stated for inner-product kernels k(x^T M z); got kernel "
            f"{machine.kernel.kind!r}. Use kernel 'exponential' or 'polynomial'."
        )
    if machine.solver != "cholesky":
        raise OutsideAssumptionsError(
            "the residual identity needs alpha = (K + r I)^{-1} Y; the fit used the pseudo-inverse "
            "fallback. Use a ridge > 0 or distinct points."
        )
    X, A, M, r = machine.X, machine.alpha, machine.M, machine.ridge
    Y = _targets("Y", Y, X.shape[0])
    n, d = X.shape
    c = A.shape[1]
    K, Kp = _train_weights(machine)
    absX, absM, absA, absKp = np.abs(X), np.abs(M), np.abs(A), np.abs(Kp)
    out: dict[str, dict[str, float | bool]] = {}

    resid = K @ A - Y  # f(x_i) - y_i
    delta = np.abs(resid + r * A)  # residual identity defect (exactly 0 in exact arithmetic)
    R = np.linalg.cholesky(K + r * np.eye(n))  # the factor the fit used (deterministic LAPACK)
    bound = (
        _gamma(3 * n + 1) * (np.abs(R) @ (np.abs(R).T @ absA))  # Cholesky backward error
        + _gamma(n + 1) * (np.abs(K) @ absA + np.abs(Y))
    )  # K alpha - y rounding
    out["residual"] = {
        "max_error": float(np.max(delta)),
        "tolerance": float(np.max(bound)),
        "ok": bool(np.all(delta <= bound)),
    }

    J = machine.gradient(X, same=True)  # J[i, c] = grad f_c(x_i)
    Jabs = np.einsum("jc,ij,jd->icd", absA, absKp, absX) @ absM  # |M| sum_j |a||k'||x_j|
    N = 2 * n + 2 * d + c + 3  # longest chain of sums in either route
    agop_a = np.einsum("ica,icb->ab", J, J) / n  # N1
    T = Kp.T @ Kp / n  # K1: tau_ij
    agop_b = M @ X.T @ ((A @ A.T) * T) @ X @ M  # K1: M S_tau M
    bound = absM @ absX.T @ ((absA @ absA.T) * (absKp.T @ absKp / n)) @ absX @ absM
    tol = 2 * _gamma(N) * np.max(bound)
    err = np.max(np.abs(agop_a - agop_b))
    out["K1"] = {"max_error": float(err), "tolerance": float(tol), "ok": bool(err <= tol)}

    fact_a = -np.einsum("ic,icd,ie->de", resid, J, X) / (n * lam)  # F1 with residuals
    fact_b = (r / (n * lam)) * M @ X.T @ ((A @ A.T) * Kp) @ X  # K2: (r/(n lam)) M S_k'
    bound = (r / (n * lam)) * absM @ absX.T @ ((absA @ absA.T) * absKp) @ absX
    # route A uses the computed residuals, route B -r alpha: their gap is the measured defect
    # delta (plus its own rounding) propagated through sum_i (.) J_i x_i^T / (n lam)
    gap = delta + _gamma(2) * (np.abs(resid) + r * absA)
    tol = 2 * _gamma(N) * np.max(bound) + np.max(np.einsum("ic,icd,ie->de", gap, Jabs, absX)) / (
        n * lam
    )
    err = np.max(np.abs(fact_a - fact_b))
    out["K2"] = {"max_error": float(err), "tolerance": float(tol), "ok": bool(err <= tol)}
    return out
