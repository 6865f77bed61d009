"""Recursive Feature Machines (REFERENCE section 5): AGOP, FACT of a kernel machine, M updates.

A kernel machine with metric ``M = W^T W`` depends on x only through ``W x``, so it is a network
whose first layer is W, and the quantities of sections 1-2 are defined for it, with the centres
x_j and the coefficients alpha held fixed:

* AGOP (N1) ``= (1/n) sum_i sum_c grad f_c(x_i) grad f_c(x_i)^T`` at the training points.
* FACT (F1) ``= -(1/(n lam)) sum_i grad_x l_i x_i^T`` with the square loss
  ``l_i = |f(x_i) - y_i|^2 / 2``, so ``grad_x l_i = sum_c (f_c(x_i) - y_ic) grad f_c(x_i)``.
  Here ``r`` is the KRR ridge and ``lam`` is the weight decay that F1 attaches to W (a free
  positive number for a kernel machine). The residual identity ``f(x_i) - y_i = -r alpha_i``
  (exact for ``alpha = (K + r I)^{-1} Y``) turns this into
  ``FACT = (r / (n lam)) M S``, with ``S = sum_{i,c} alpha_ic u_ic x_i^T`` and
  ``grad f_c(x_i) = M u_ic``. For inner-product kernels S is S_k' of K2; for distance kernels
  ``S = X^T (diag(Q 1) - Q^T) X`` with ``Q = G o (A A^T)`` (a graph Laplacian of the pair weights).

The positive factor ``r / lam`` cannot change a normalised update, and it is 0 at ridge 0 where
the residuals vanish. :func:`kernel_fact` therefore returns the *FACT direction* ``M S / n``
computed through alpha (defined at r = 0), or the actual FACT when ``lam`` is given.

Updates (each followed by :func:`normalize_metric`, which divides by the largest eigenvalue so the
top eigenvalue of every iterate is 1, the same as for the starting metric I):

* ``nfa``:            M <- AGOP^s (s = 1/2 default; AGOP optionally centered, N1)
* ``fact``:           M <- (FACT FACT^T)^{1/2}         (F5)
* ``fact-geometric``: M <- (FACT M^2 FACT^T)^{1/4}
* ``fact-inner``:     M <- (FACT M)^{1/2}  (symmetric part; for inner-product kernels FACT M =
  M S_k' M is symmetric, and PSD when [k'(x_i^T M x_j)] is PSD, K2)

Each exponent makes ``FACT = M`` a fixed point (checked by :func:`fixed_point_residuals`).
Matrix powers use the symmetric eigendecomposition with negative eigenvalues clipped to 0 (N3).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import OutsideAssumptionsError, bad_input
from verify._linalg import psd_power  # the toolkit's one PSD power (N3), re-exported
from verify.rfm_kernels import Kernel, KernelMachine, _as_matrix, _fit, check_metric

__all__ = [
    "METHODS",
    "RFMResult",
    "agop",
    "accuracy",
    "check_kernel_expansion",
    "feature_agreement",
    "feature_update",
    "fixed_point_residuals",
    "kernel_fact",
    "normalize_metric",
    "psd_power",
    "rfm",
    "tau_kprime_r2",
]

METHODS: tuple[str, ...] = ("nfa", "fact", "fact-geometric", "fact-inner", "kernel")
_EPS = float(np.finfo(np.float64).eps)


# -- matrix helpers ------------------------------------------------------------------------------
def normalize_metric(M: np.ndarray) -> np.ndarray:
    """``M / lambda_max(M)`` (symmetrised): the normalisation used after every update."""
    M = (M + M.T) / 2.0
    top = float(np.linalg.eigvalsh(M)[-1])
    if not top > 0:
        raise ValueError(
            "the updated metric has no positive eigenvalue (zero AGOP or FACT: are "
            "all targets zero?)"
        )
    return M / top


def feature_update(
    method: str,
    M: np.ndarray,
    *,
    agop_matrix: np.ndarray | None = None,
    fact: np.ndarray | None = None,
    s: float = 0.5,
) -> np.ndarray:
    """The new, normalised metric for ``method`` from an AGOP or FACT matrix (module docstring)."""
    if method == "nfa":
        assert agop_matrix is not None
        return normalize_metric(psd_power(agop_matrix, s))
    assert fact is not None
    if method == "fact":
        return normalize_metric(psd_power(fact @ fact.T, 0.5))  # F5
    if method == "fact-geometric":
        return normalize_metric(psd_power(fact @ M @ M @ fact.T, 0.25))  # M^4 = FACT M^2 FACT^T
    if method == "fact-inner":
        return normalize_metric(psd_power(fact @ M, 0.5))  # K2: FACT M = M S_k' M
    raise ValueError(f"unknown update {method!r}")


def fixed_point_residuals(M: np.ndarray, *, s: float = 0.5) -> dict[str, float]:
    """Relative Frobenius distance between ``update(M)`` and ``normalize(M)`` when FACT = M.

    For NFA the fixed point is AGOP = M^{1/s}. Exact arithmetic gives 0 for every method.
    """
    target = normalize_metric(M)
    out: dict[str, float] = {}
    for method in METHODS[:-1]:
        if method == "nfa":
            new = feature_update("nfa", M, agop_matrix=psd_power(M, 1.0 / s), s=s)
        else:
            new = feature_update(method, M, fact=M)
        out[method] = float(np.linalg.norm(new - target) / np.linalg.norm(target))
    return out


# -- AGOP and FACT of a fitted machine ----------------------------------------------------------
def _train_weights(machine: KernelMachine) -> tuple[np.ndarray, np.ndarray]:
    return machine.kernel.matrix_and_weights(machine.X, machine.X, machine.M, same=True)


def agop(
    machine: KernelMachine, points: np.ndarray | None = None, *, centered: bool = False
) -> np.ndarray:
    """AGOP of the predictor (N1) at ``points`` (default: the training points), in closed form.

    ``centered`` subtracts the mean Jacobian first. For inner-product kernels at the training
    points this is ``M S_tau M`` of K1.
    """
    if points is None:
        _, G = _train_weights(machine)
        return _agop(machine, machine.X, G, centered)
    P = _as_matrix("points", points, "Pass the evaluation points as an m x d array.")
    _, G = machine.kernel.matrix_and_weights(P, machine.X, machine.M)
    return _agop(machine, P, G, centered)


def _agop(
    machine: KernelMachine, P: np.ndarray, G: np.ndarray, centered: bool, route: str = "auto"
) -> np.ndarray:
    """Sum over points and outputs of ``u u^T`` (grad f_c = M u), by the cheaper of two routes.

    ``route`` ("auto", "direct", "pairs") is for tests that check the two routes agree.
    """
    X, A, M = machine.X, machine.alpha, machine.M
    m, n = G.shape
    c, d = A.shape[1], X.shape[1]
    s = None if machine.kernel.inner_product else G @ A  # s_lc = sum_j G_lj alpha_jc
    if route == "direct" or (route == "auto" and c * m * n * d <= m * n * n + n * n * (c + d)):
        # direct: u_lc = s_lc x_l - sum_j G_lj alpha_jc x_j (distance) or sum_j G_lj alpha_jc x_j
        sigma = np.zeros((d, d))
        total = np.empty((c, d))
        for j in range(c):
            U = G @ (A[:, j : j + 1] * X)
            if s is not None:
                U = s[:, j : j + 1] * P - U
            sigma += U.T @ U
            total[j] = U.sum(axis=0)
    else:
        # pair route: sum_c B_c^T B_c = X^T ((G^T G) o (A A^T)) X    (K1 with T = G^T G / n)
        sigma = X.T @ (((G.T @ G) * (A @ A.T)) @ X)
        total = (A * G.sum(axis=0)[:, None]).T @ X
        if s is not None:
            C = P.T @ ((G * (s @ A.T)) @ X)
            sigma += P.T @ ((s**2).sum(axis=1)[:, None] * P) - C - C.T
            total = s.T @ P - total
    if centered:
        sigma -= total.T @ total / m
    return M @ sigma @ M / m


def kernel_fact(machine: KernelMachine, *, lam: float | None = None) -> np.ndarray:
    """FACT of a kernel machine through alpha (module docstring; K2 for inner-product kernels).

    With ``lam=None`` returns the direction ``M S / n`` (defined at ridge 0); with ``lam > 0``
    returns ``(r / (n lam)) M S``, equal to F1's ``-(1/(n lam)) sum_i grad_x l_i x_i^T``.
    """
    if lam is not None and not (np.isfinite(lam) and lam > 0):
        raise bad_input(
            "lam",
            "be > 0 for FACT (F1 needs weight decay)",
            lam,
            "Pass lam=1.0 or omit it for the scale-free direction.",
        )
    _, G = _train_weights(machine)
    F = _fact(machine, G)
    return F if lam is None else (machine.ridge / lam) * F


def _fact(machine: KernelMachine, G: np.ndarray) -> np.ndarray:
    X, A, M = machine.X, machine.alpha, machine.M
    Q = G * (A @ A.T)  # Q_ij = G_ij sum_c alpha_ic alpha_jc
    S = X.T @ (Q.T @ X)  # K2: S_k' = X^T ((A A^T) o K') X
    if not machine.kernel.inner_product:
        S = X.T @ (Q.sum(axis=1)[:, None] * X) - S  # sum_ij Q_ij (x_i - x_j) x_i^T
    return M @ S / X.shape[0]


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


# -- the RFM loop --------------------------------------------------------------------------------
def accuracy(pred: np.ndarray, Y: np.ndarray) -> float:
    """Argmax agreement for several outputs; sign agreement (labels +-1) for one output."""
    if pred.shape[1] > 1:
        return float(np.mean(pred.argmax(axis=1) == Y.argmax(axis=1)))
    return float(np.mean(np.sign(pred[:, 0]) == np.sign(Y[:, 0])))


@dataclass
class RFMResult:
    """History of an RFM run: entry t is the fit after t feature updates (t = 0: plain kernel)."""

    method: str
    kernel: Kernel
    ridge: float
    machine: KernelMachine
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    train_mse: list[float] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)
    solvers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def M(self) -> np.ndarray:
        return self.machine.M

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kernel": self.kernel.kind,
            "bandwidth": self.kernel.bandwidth,
            "ridge": self.ridge,
            "iterations": len(self.train_acc) - 1,
            "train_acc": self.train_acc,
            "test_acc": self.test_acc,
            "train_mse": self.train_mse,
            "test_mse": self.test_mse,
            "solvers": sorted(set(self.solvers)),
            "seconds": round(self.seconds, 3),
        }


def _targets(name: str, Y: np.ndarray, n: int) -> np.ndarray:
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.ndim != 2 or Y.shape[0] != n or not np.all(np.isfinite(Y)):
        raise bad_input(
            name,
            f"be finite with {n} rows (one per input)",
            f"shape {Y.shape}",
            "Pass one finite target row per input.",
        )
    return Y


def rfm(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    method: str = "nfa",
    kernel: Kernel | None = None,
    ridge: float = 0.0,
    iters: int = 5,
    s: float = 0.5,
    centered: bool = False,
    X_test: np.ndarray | None = None,
    Y_test: np.ndarray | None = None,
    M0: np.ndarray | None = None,
    on_iter: Callable[[int, KernelMachine, dict[str, float]], None] | None = None,
) -> RFMResult:
    """Run RFM: fit KRR with metric M, update M by ``method``, ``iters`` times, then fit again.

    ``method="kernel"`` fits once with ``M0`` (the plain kernel). ``on_iter(t, machine, record)``
    is called after every fit (record: the accuracies and errors of that fit).
    """
    if method not in METHODS:
        raise bad_input("method", f"be one of {', '.join(METHODS)}", method, "Pick a method.")
    if int(iters) != iters or iters < 0:
        raise bad_input("iters", "be an integer >= 0", iters, "Pass e.g. --iters 5.")
    if not (np.isfinite(s) and s > 0):
        raise bad_input("s", "be a number > 0 (the AGOP exponent)", s, "Use s = 0.5 or 1.")
    if not (np.isfinite(ridge) and ridge >= 0):
        raise bad_input("ridge", "be a finite number >= 0", ridge, "Pass e.g. --ridge 0 or 1e-3.")
    kernel = Kernel() if kernel is None else kernel
    X = _as_matrix("X", X, "Pass the inputs as an n x d array.")
    Y = _targets("Y", Y, X.shape[0])
    if (X_test is None) != (Y_test is None):
        raise bad_input(
            "X_test/Y_test",
            "be given together",
            "only one of them",
            "Pass both test arrays or neither.",
        )
    if X_test is not None:
        X_test = _as_matrix("X_test", X_test, "Pass the test inputs as an m x d array.")
        if X_test.shape[1] != X.shape[1]:
            raise bad_input(
                "X_test",
                f"have {X.shape[1]} columns like X",
                f"shape {X_test.shape}",
                "Use the same features.",
            )
        Y_test = _targets("Y_test", np.asarray(Y_test), X_test.shape[0])
    M = check_metric(M0, X.shape[1])
    iters = 0 if method == "kernel" else int(iters)

    start = time.perf_counter()
    result: RFMResult | None = None
    for t in range(iters + 1):
        K, G = kernel.matrix_and_weights(X, X, M, same=True)
        machine = _fit(kernel, M, X, Y, float(ridge), K)
        pred = K @ machine.alpha
        del K
        record = {"train_acc": accuracy(pred, Y), "train_mse": float(np.mean((pred - Y) ** 2))}
        if X_test is not None and Y_test is not None:
            pt = machine.predict(X_test)
            record["test_acc"] = accuracy(pt, Y_test)
            record["test_mse"] = float(np.mean((pt - Y_test) ** 2))
        if result is None:
            result = RFMResult(method, kernel, float(ridge), machine)
        result.machine = machine
        result.solvers.append(machine.solver)
        for key, value in record.items():
            getattr(result, key).append(value)
        if on_iter is not None:
            on_iter(t, machine, record)
        if t < iters:
            if method == "nfa":
                M = feature_update("nfa", M, agop_matrix=_agop(machine, X, G, centered), s=s)
            else:
                M = feature_update(method, M, fact=_fact(machine, G))
        del G
    assert result is not None
    result.seconds = time.perf_counter() - start
    return result
