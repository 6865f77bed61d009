"""AGOP, FACT and the metric updates of a fitted kernel machine (the core of RFM).

The formulas, conventions and the four updates are stated in the docstring of
:mod:`verify.rfm.machine`, which re-exports the public names; :mod:`verify.rfm.expansion`
checks K1/K2
against them and the RFM loop in :mod:`verify.rfm.machine` applies them.
"""

from __future__ import annotations

import numpy as np

from theory._errors import bad_input
from verify.engine.linalg import psd_power  # the toolkit's one PSD power (N3)
from verify.rfm.kernels import KernelMachine, _as_matrix

__all__ = [
    "METHODS",
    "agop",
    "feature_update",
    "fixed_point_residuals",
    "kernel_fact",
    "normalize_metric",
]

METHODS: tuple[str, ...] = ("nfa", "fact", "fact-geometric", "fact-inner", "kernel")


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
        # normalised before the power, which the final normalisation makes equivalent: a power
        # of an AGOP of tiny (or huge) scale would underflow (overflow) float64 otherwise
        return normalize_metric(psd_power(normalize_metric(agop_matrix), s))
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
