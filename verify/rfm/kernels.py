"""Kernel machines with a learned metric M: kernels, kernel ridge regression, input gradients.

Kernels (``M`` symmetric PSD, ``L`` the bandwidth, ``||u||_M = sqrt(u^T M u)``):

=============  ===========================================  =====================================
kind           k(x, z)                                      grad_x k(x, z)
=============  ===========================================  =====================================
laplace        exp(-||x - z||_M / L)                        -k / (L ||x - z||_M) * M (x - z)
gaussian       exp(-||x - z||_M^2 / (2 L^2))                -k / L^2 * M (x - z)
exponential    exp(x^T M z / L)                             k / L * M z
polynomial     (1 + x^T M z / L)^p                          p / L (1 + x^T M z / L)^(p-1) * M z
=============  ===========================================  =====================================

The last two are inner-product kernels k(x^T M z), the form of REFERENCE section 4 (K1-K3).
Every gradient has the form ``G_ab * M (x_a - z_b)`` (distance kernels) or ``G_ab * M z_b``
(inner-product kernels); :meth:`Kernel.matrix_and_weights` returns the kernel matrix and ``G``.

Laplace self-term rule. exp(-||u||_M / L) has a cone point at u = 0 and no gradient there. A pair
with ||x - z||_M = 0 (to rounding, see ``_sq_distances``) contributes **zero** to the gradient:
zero is the minimum-norm element of the Clarke generalized gradient of the cone (the ball of radius
1/L in the M-norm) and the average of the one-sided derivatives in any directions +v and -v. So the
self term of a training point, and pairs that a singular M makes coincide, are excluded.

Kernel ridge regression: ``alpha = (K + r I)^{-1} Y``, solved by a Cholesky factorisation
(``scipy.linalg.cho_factor``/``cho_solve``) for every ridge r >= 0 (K + r I is positive definite
for distinct points with these strictly PD kernels; Cholesky is backward stable, so at r = 0 it
gives an alpha with small residual even when K is ill-conditioned). If the factorisation fails
or a pivot^2 falls to ``n eps max_i K_ii`` (K + r I numerically singular: duplicated points, a
singular M, r = 0), the fallback is the
symmetric eigendecomposition with eigenvalues below ``n eps lambda_max`` dropped: the minimum-norm
least-squares solution. No dense inverse is ever formed. ``KernelMachine.solver`` says which ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg as sl

from theory._errors import bad_input

__all__ = ["KERNEL_KINDS", "Kernel", "KernelMachine", "check_metric", "fit_krr"]

KernelKind = Literal["laplace", "gaussian", "exponential", "polynomial"]
KERNEL_KINDS: tuple[str, ...] = ("laplace", "gaussian", "exponential", "polynomial")
_EPS = float(np.finfo(np.float64).eps)
_CHUNK = 4096  # rows per block when evaluating on many query points (bounds memory)


@dataclass(frozen=True)
class Kernel:
    """A kernel family with its bandwidth (and degree, for ``polynomial``); see the module table."""

    kind: KernelKind = "laplace"
    bandwidth: float = 10.0
    degree: int = 2

    def __post_init__(self) -> None:
        if self.kind not in KERNEL_KINDS:
            raise bad_input(
                "kernel",
                f"be one of {', '.join(KERNEL_KINDS)}",
                self.kind,
                "Pick a kernel from the list.",
            )
        if not (np.isfinite(self.bandwidth) and self.bandwidth > 0):
            raise bad_input(
                "bandwidth",
                "be a finite number > 0",
                self.bandwidth,
                "Pass e.g. --bandwidth 10 (parity) or 2.5 (modular addition).",
            )
        if self.kind == "polynomial" and (int(self.degree) != self.degree or self.degree < 1):
            raise bad_input("degree", "be an integer >= 1", self.degree, "Pass e.g. degree=2.")

    @property
    def inner_product(self) -> bool:
        """True for kernels of the form k(x^T M z) (the form used in K1-K3)."""
        return self.kind in ("exponential", "polynomial")

    def matrix(
        self, X: np.ndarray, Z: np.ndarray, M: np.ndarray, *, same: bool = False
    ) -> np.ndarray:
        """The kernel matrix ``K[a, b] = k(x_a, z_b)``; ``same=True`` when ``Z`` is ``X``."""
        return self.matrix_and_weights(X, Z, M, same=same, weights=False)[0]

    def matrix_and_weights(
        self,
        X: np.ndarray,
        Z: np.ndarray,
        M: np.ndarray,
        *,
        same: bool = False,
        weights: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(K, G)``: kernel matrix and gradient weights (module table; G is K if not wanted)."""
        L = float(self.bandwidth)
        if self.inner_product:
            T = (X @ M) @ Z.T
            if self.kind == "exponential":
                K = np.exp(T / L)
                return K, (K / L if weights else K)
            base = 1.0 + T / L
            K = base**self.degree
            return K, (self.degree / L * base ** (self.degree - 1) if weights else K)
        D2, zero = _sq_distances(X, Z, M, same=same)
        if self.kind == "gaussian":
            K = np.multiply(D2, -0.5 / L**2, out=D2)
            np.exp(K, out=K)
            return K, (K * (-1.0 / L**2) if weights else K)
        D = np.sqrt(D2, out=D2)
        K = np.multiply(D, -1.0 / L)
        np.exp(K, out=K)
        if not weights:
            return K, K
        D[zero] = np.inf  # Laplace self-term rule: zero-distance pairs contribute 0 (docstring)
        G = np.divide(K, D, out=D)
        G *= -1.0 / L
        return K, G


def _sq_distances(
    X: np.ndarray, Z: np.ndarray, M: np.ndarray, *, same: bool
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Squared M-distances by the Gram identity, and the (row, col) pairs at distance 0."""
    XM = X @ M
    nx = np.einsum("ij,ij->i", XM, X)
    nz = nx if same else np.einsum("ij,ij->i", Z @ M, Z)
    D2 = XM @ Z.T
    D2 *= -2.0
    D2 += nx[:, None]
    D2 += nz[None, :]
    np.maximum(D2, 0.0, out=D2)
    # Why: each of nx, nz, x^T M z carries a rounding error <= (d + 2) eps times its size, and
    # |x^T M z| <= (nx + nz) / 2, so |error of D2| <= 2 (d + 2) eps (nx + nz). Below that, the
    # distance is zero to rounding. One cheap pass against the largest bound finds candidates.
    tol = 2.0 * (X.shape[1] + 2) * _EPS
    rows, cols = np.nonzero(D2 <= tol * (float(nx.max()) + float(nz.max())))
    keep = D2[rows, cols] <= tol * (nx[rows] + nz[cols])
    rows, cols = rows[keep], cols[keep]
    if same:
        diag = np.arange(X.shape[0])
        rows, cols = np.concatenate([rows, diag]), np.concatenate([cols, diag])
    D2[rows, cols] = 0.0
    return D2, (rows, cols)


@dataclass(frozen=True)
class KernelMachine:
    """A fitted predictor ``f(x) = sum_j alpha_j k(x, x_j)`` (``alpha`` is n x c).

    ``solver`` is "cholesky" or "eigh-pinv" (see the module docstring).
    """

    kernel: Kernel
    M: np.ndarray
    X: np.ndarray
    alpha: np.ndarray
    ridge: float
    solver: str

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """Predictions at the rows of ``Z`` (m x c)."""
        Z = np.asarray(Z, dtype=np.float64)
        out = np.empty((Z.shape[0], self.alpha.shape[1]))
        for a in range(0, Z.shape[0], _CHUNK):
            out[a : a + _CHUNK] = self.kernel.matrix(Z[a : a + _CHUNK], self.X, self.M) @ self.alpha
        return out

    def gradient(self, Z: np.ndarray, *, same: bool = False) -> np.ndarray:
        """Input gradients ``J[q, c, :] = grad_x f_c(z_q)`` in closed form (m x c x d).

        Distance kernels: ``J[q, c] = M sum_j alpha_jc G_qj (z_q - x_j)``; inner-product kernels:
        ``J[q, c] = M sum_j alpha_jc G_qj x_j`` (G from :meth:`Kernel.matrix_and_weights`).
        Pass ``same=True`` when ``Z`` is the training set (exact self-term rule for Laplace).
        """
        Z = np.asarray(Z, dtype=np.float64)
        m, c, d = Z.shape[0], self.alpha.shape[1], self.X.shape[1]
        J = np.empty((m, c, d))
        for a in range(0, m, _CHUNK):
            Zb = Z[a : a + _CHUNK]
            _, G = self.kernel.matrix_and_weights(Zb, self.X, self.M, same=same)
            U = np.einsum("qj,jc,jd->qcd", G, self.alpha, self.X)
            if not self.kernel.inner_product:
                U = (G @ self.alpha)[:, :, None] * Zb[:, None, :] - U
            J[a : a + _CHUNK] = U @ self.M  # M symmetric: (M u)^T = u^T M
        return J


def _as_matrix(name: str, value: np.ndarray, ndim_fix: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise bad_input(name, "be a non-empty 2-D array", f"shape {arr.shape}", ndim_fix)
    if not np.all(np.isfinite(arr)):
        raise bad_input(name, "contain only finite numbers", "NaN or inf", "Clean the data.")
    return arr


def check_metric(M: np.ndarray | None, d: int) -> np.ndarray:
    """Validate a metric: symmetric PSD d x d (None means the identity)."""
    if M is None:
        return np.eye(d)
    M = _as_matrix("M", M, f"Pass a symmetric PSD {d} x {d} matrix.")
    if M.shape != (d, d):
        raise bad_input(
            "M",
            f"be {d} x {d} (the input dimension)",
            f"shape {M.shape}",
            "Pass a metric matching the data.",
        )
    scale = float(np.max(np.abs(M))) or 1.0
    # Why: a symmetric matrix that went through float64 arithmetic is symmetric to a few eps of
    # its largest entry; the eigenvalues of a PSD matrix are >= -d eps |M| after rounding.
    if np.max(np.abs(M - M.T)) > 64 * _EPS * scale:
        raise bad_input("M", "be symmetric", "an asymmetric matrix", "Pass (M + M.T) / 2.")
    if np.linalg.eigvalsh(M)[0] < -64 * M.shape[0] * _EPS * scale:
        raise bad_input(
            "M",
            "be positive semidefinite",
            "a matrix with a negative eigenvalue",
            "Use a PSD metric (e.g. W.T @ W).",
        )
    return (M + M.T) / 2.0


def fit_krr(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    kernel: Kernel | None = None,
    M: np.ndarray | None = None,
    ridge: float = 0.0,
) -> KernelMachine:
    """Kernel ridge regression ``alpha = (K_M + ridge I)^{-1} Y`` (Cholesky; eigh fallback).

    ``Y`` may be a vector (one output) or n x c; ``alpha`` is always n x c. ``M`` defaults to I.
    """
    kernel = Kernel() if kernel is None else kernel
    X = _as_matrix("X", X, "Pass the inputs as an n x d array.")
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise bad_input(
            "Y",
            f"have {X.shape[0]} rows (one per input)",
            f"shape {Y.shape}",
            "Pass one target (row) per input.",
        )
    if not np.all(np.isfinite(Y)):
        raise bad_input("Y", "contain only finite numbers", "NaN or inf", "Clean the targets.")
    if not (np.isfinite(ridge) and ridge >= 0):
        raise bad_input("ridge", "be a finite number >= 0", ridge, "Pass e.g. --ridge 0 or 1e-3.")
    M = check_metric(M, X.shape[1])
    return _fit(kernel, M, X, Y, float(ridge))


def _fit(
    kernel: Kernel,
    M: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    ridge: float,
    K: np.ndarray | None = None,
) -> KernelMachine:
    """Validated core of :func:`fit_krr` (``K``: the training kernel matrix, if already known)."""
    n = X.shape[0]
    A = kernel.matrix(X, X, M, same=True) if K is None else K.copy()
    A.flat[:: n + 1] += ridge
    top = float(np.max(A.diagonal()))
    try:
        factor = sl.cho_factor(A, lower=True, overwrite_a=True, check_finite=False)
        # numerically singular: the smallest pivot^2 (>= lambda_min) is at rounding level
        if float(np.min(np.abs(factor[0].diagonal()))) ** 2 <= n * _EPS * top:
            raise np.linalg.LinAlgError("numerically singular")
        alpha = sl.cho_solve(factor, Y, check_finite=False)
        solver = "cholesky"
    except np.linalg.LinAlgError:
        A = kernel.matrix(X, X, M, same=True) if K is None else K.copy()
        A.flat[:: n + 1] += ridge
        w, V = np.linalg.eigh(A)
        keep = w > n * _EPS * max(float(w[-1]), 0.0)  # numpy's pinv cut-off (rcond = n eps)
        Vk = V[:, keep]
        alpha = Vk @ ((Vk.T @ Y) / w[keep][:, None])
        solver = "eigh-pinv"
    return KernelMachine(kernel, M, X, alpha, ridge, solver)
