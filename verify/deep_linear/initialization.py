"""Deep linear flow: the problem (data, sizes, weight decay) and the initialisations (D7).

:func:`flow_problem` builds a teacher-student MSE problem for depth L; :func:`balanced_init`
(and its mpmath twin :func:`balanced_init_mp`) starts exactly on the balanced manifold D_j = 0,
:func:`gaussian_init` off it. Inputs are validated here, once, for every entry point of
:mod:`verify.deep_linear.flow`, which re-exports these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from theory._errors import bad_input
from theory.deep_linear.nfa import MAX_DEPTH
from verify.base.validate import check_seed

__all__ = [
    "INITS",
    "FlowProblem",
    "balanced_init",
    "balanced_init_mp",
    "flow_problem",
    "gaussian_init",
]

INITS = ("balanced", "gaussian")


# -- validation (once, at the public entry points) ----------------------------------------------
def _check_int(name: str, value: Any, lo: int, hi: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise bad_input(name, f"be an integer from {lo} to {hi}", value, fix)
    return int(value)


def _check_widths(widths: Any, depth: int) -> tuple[int, ...]:
    w = tuple(widths) if isinstance(widths, (list, tuple)) else (widths,)
    if len(w) == 1:
        w = w * depth
    if len(w) != depth or any(
        isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not 1 <= x <= 64 for x in w
    ):
        raise bad_input(
            "widths", f"be one width or {depth} widths (d, m_1, ..., m_{depth - 1}), each 1..64",
            widths, "Pass e.g. --widths 4 or --widths 4 5 3.",
        )  # fmt: skip
    return tuple(int(x) for x in w)


def _check_lam(lam: Any) -> float:
    lam_f = float(lam)
    if not math.isfinite(lam_f) or not 0 <= lam_f <= 10:
        raise bad_input("lam", "be a number in [0, 10]", lam, "Pass e.g. --lam 0.05.")
    return lam_f


# -- problem and initialisations ----------------------------------------------------------------
@dataclass(frozen=True)
class FlowProblem:
    """Data moments of the MSE loss and the architecture (d, m_1, ..., m_{L-1}, c)."""

    sizes: tuple[int, ...]
    X: np.ndarray
    Y: np.ndarray
    lam: float

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    @property
    def n(self) -> int:
        return int(self.X.shape[0])


def flow_problem(
    depth: int, widths: Any = 4, outputs: int = 2, lam: float = 0.0, *, n: int = 32, seed: int = 0
) -> FlowProblem:
    """Gaussian inputs and targets Y = X T^T + noise from a teacher T with distinct singular
    values 1, 1/2, 1/4, ... (so the AGOP has distinct eigenvalues). Deterministic for a seed."""
    depth = _check_int("depth", depth, 2, MAX_DEPTH, "Pass e.g. --depth 3.")
    w = _check_widths(widths, depth)
    c = _check_int("outputs", outputs, 1, 16, "Pass e.g. --outputs 2.")
    lam_f = _check_lam(lam)
    # why at most 10^6 samples: the flow needs only the moments X^T X / n and Y^T X / n, which
    # 10^6 samples fix to three digits; more would only fill memory (8 n (d + c) bytes)
    n = _check_int("n", n, 1, 10**6, "Pass e.g. n=32.")
    rng = np.random.default_rng(check_seed(seed, "seed"))
    d = w[0]
    X = rng.standard_normal((n, d))
    r = min(c, d)
    U = np.linalg.qr(rng.standard_normal((c, r)))[0]
    V = np.linalg.qr(rng.standard_normal((d, r)))[0]
    T = U @ np.diag(0.5 ** np.arange(r)) @ V.T
    Y = X @ T.T + 0.05 * rng.standard_normal((n, c))
    return FlowProblem((*w, c), X, Y, lam_f)


def balanced_init(sizes: tuple[int, ...], seed: int = 0, scale: float = 0.5) -> list[np.ndarray]:
    """Exactly balanced weights from the SVD of a random end-to-end matrix A0 (c x d):
    A0 = U S V^T of rank r = min(c, d), W_1 = O_1 S^{1/L} V^T, W_k = O_k S^{1/L} O_{k-1}^T,
    W_L = U S^{1/L} O_{L-1}^T with O_k (m_k x r) orthonormal columns; needs every width >= r."""
    d, c, L = sizes[0], sizes[-1], len(sizes) - 1
    r = min(c, d)
    if min(sizes[1:-1]) < r:
        raise bad_input(
            "widths", f"be >= rank min(d, c) = {r} for a balanced initialisation", sizes,
            "Widen the hidden layers or use --init gaussian.",
        )  # fmt: skip
    rng = np.random.default_rng(seed)
    U, s, Vt = np.linalg.svd(scale * rng.standard_normal((c, d)), full_matrices=False)
    root = np.diag(s[:r] ** (1.0 / L))
    O = [Vt[:r].T] + [np.linalg.qr(rng.standard_normal((m, r)))[0] for m in sizes[1:-1]] + [U]
    return [O[k + 1] @ root @ O[k].T for k in range(L)]


def balanced_init_mp(sizes: tuple[int, ...], seed: int, dps: int) -> list[Any]:
    """:func:`balanced_init` rebuilt at ``dps`` digits: the orthonormal factors are
    re-orthonormalised (Gram-Schmidt) and the product formed in mpmath, so the weights are
    balanced to ~10^-dps rather than to float64 rounding."""
    W64 = balanced_init(sizes, seed)
    L, r = len(sizes) - 1, min(sizes[0], sizes[-1])
    with mpmath.workdps(dps):
        U, s, Vt = mpmath.svd_r(mpmath.matrix((W64[-1] @ _chain(W64[:-1])).tolist()))
        O = [_gram_schmidt(np.array(Vt.tolist(), dtype=object)[:r].T)]
        rng = np.random.default_rng(seed + 7)
        for m in sizes[1:-1]:
            O.append(_gram_schmidt(MP(rng.standard_normal((m, r))).astype(object)))
        O.append(_gram_schmidt(np.array(U.tolist(), dtype=object)[:, :r]))
        root = np.diag([s[i] ** (mpmath.mpf(1) / L) for i in range(r)]).astype(object)
        return [O[k + 1] @ root @ O[k].T for k in range(L)]


MP = np.frompyfunc(mpmath.mpf, 1, 1)


def _chain(Ws: list[Any]) -> Any:
    A = Ws[0]
    for W in Ws[1:]:
        A = W @ A
    return A


def _gram_schmidt(M: Any) -> Any:
    """Orthonormal columns (modified Gram-Schmidt, twice) in the current mpmath precision."""
    Q = np.array(M, dtype=object).copy()
    for _ in range(2):
        for j in range(Q.shape[1]):
            for i in range(j):
                Q[:, j] = Q[:, j] - np.dot(Q[:, i], Q[:, j]) * Q[:, i]
            Q[:, j] = Q[:, j] / mpmath.sqrt(np.dot(Q[:, j], Q[:, j]))
    return Q


def gaussian_init(sizes: tuple[int, ...], seed: int = 0, scale: float = 1.0) -> list[np.ndarray]:
    """Unbalanced Gaussian weights, standard deviation scale / sqrt(fan_in)."""
    rng = np.random.default_rng(seed)
    return [
        scale * rng.standard_normal((o, i)) / math.sqrt(i)
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
