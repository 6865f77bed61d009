"""Fixed-feature baselines: random features and ReLU kernels (NNGP and NTK), by ridge regression.

The paper's Theorem 2 (S5) says linear models on data-independent features of polynomial size do
worse than the trained network on some law of the family; its experiments (S6) compare with the
network's random features and its NTK. Here, all on the same data as the network:

- **linear** (``linear``): ridge regression on ``(x, 1)``, the identity features;
- **random features of the same network** (``rf-N``): ``h(x) = sig(U x + c)`` with the first
  layer's initial law, ``U_j ~ N(0, I/k^2)``, ``c_j ~ N(0, 1/k^4)``, N features, the readout fitted
  by ridge regression (with an intercept) on the labels +-1;
- **infinite-width kernels** of a ReLU layer with that law, on ``u = (x, 1/k)`` (the bias folded
  into the input; the ratio sd(c)/sd(U) = 1/k is the paper's):
  ``nngp`` (random features, N -> infinity) ``k1(u, v) = |u||v| (sin t + (pi - t) cos t) / (2 pi)``
  (the arc-cosine kernel of order 1, t the angle between u and v) and ``ntk`` (both layers
  trained, lazy regime) ``k1(u, v) + <u, v> (pi - t) / (2 pi)``; kernel ridge regression.

Ridge: for each model the ridge is taken from :data:`RIDGES` (relative to the mean diagonal of
the Gram or kernel matrix) by **test** error. That favours the baselines, which is the
conservative direction for the claim that the network beats them. Predictions are signs of the
fitted outputs (0 counts as an error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sl

from verify.emergence.data import Dataset
from verify.emergence.twolayer import value

__all__ = [
    "KERNELS", "RIDGES", "BaselineFit", "kernel_matrix", "kernel_ridge", "linear",
    "random_features",
]  # fmt: skip

KERNELS: tuple[str, ...] = ("nngp", "ntk")
#: relative ridges tried (five decades; on the default law the best is interior, 10 to 100)
RIDGES: tuple[float, ...] = (1e-2, 1.0, 10.0, 100.0, 1000.0)


@dataclass(frozen=True)
class BaselineFit:
    """Test error of one fixed-feature model at its best ridge."""

    model: str
    n: int
    test_error: float
    ridge: float
    train_error: float

    def to_dict(self) -> dict[str, float | str | int]:
        return dict(self.__dict__)


def _error(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.mean(np.sign(f) != y))


def _solve_spd(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve A x = B for symmetric positive definite A (Cholesky; A + ridge I always is)."""
    return sl.cho_solve(sl.cho_factor(A, lower=True, check_finite=False), B, check_finite=False)


def _ridge_fit(
    name: str, H: np.ndarray, Ht: np.ndarray, y: np.ndarray, yt: np.ndarray
) -> BaselineFit:
    """Ridge regression on the feature matrices (an intercept column appended), best ridge."""
    H = np.hstack([H, np.ones((len(H), 1))])
    Ht = np.hstack([Ht, np.ones((len(Ht), 1))])
    G, r = H.T @ H, H.T @ y
    scale = float(np.trace(G)) / G.shape[0]
    best = None
    for ridge in RIDGES:
        beta = _solve_spd(G + ridge * scale * np.eye(G.shape[0]), r)
        fit = BaselineFit(name, len(y), _error(yt, Ht @ beta), ridge, _error(y, H @ beta))
        if best is None or fit.test_error < best.test_error:
            best = fit
    assert best is not None
    return best


def linear(train: Dataset, test: Dataset) -> BaselineFit:
    """Ridge regression on the inputs themselves."""
    return _ridge_fit("linear", train.X, test.X, train.y, test.y)


def random_features(
    train: Dataset, test: Dataset, N: int, activation: str, k: int, rng: np.random.Generator
) -> BaselineFit:
    """Ridge regression on N random features of the network's initial first layer."""
    d = train.X.shape[1]
    U = rng.standard_normal((N, d)) / k
    c = rng.standard_normal(N) / k**2
    return _ridge_fit(f"rf-{N}", value(activation, train.X @ U.T + c),
                      value(activation, test.X @ U.T + c), train.y, test.y)  # fmt: skip


def kernel_matrix(kind: str, X: np.ndarray, Z: np.ndarray, k: int) -> np.ndarray:
    """The ``nngp`` or ``ntk`` kernel of a ReLU layer between the rows of X and Z (docstring)."""
    if kind not in KERNELS:
        raise ValueError(f"unknown kernel {kind!r}")
    beta2 = 1.0 / k**2  # the bias coordinate 1/k, squared
    nx = np.sqrt(np.einsum("ij,ij->i", X, X) + beta2)
    nz = np.sqrt(np.einsum("ij,ij->i", Z, Z) + beta2)
    dot = X @ Z.T + beta2
    cos = np.clip(dot / np.outer(nx, nz), -1.0, 1.0)
    t = np.arccos(cos)
    K = np.outer(nx, nz) * (np.sqrt(1.0 - cos * cos) + (math.pi - t) * cos) / (2 * math.pi)
    if kind == "ntk":
        K += dot * (math.pi - t) / (2 * math.pi)
    return K


def kernel_ridge(kind: str, train: Dataset, test: Dataset, k: int) -> BaselineFit:
    """Kernel ridge regression with the ``nngp`` or ``ntk`` kernel, best ridge by test error."""
    K = kernel_matrix(kind, train.X, train.X, k)
    Kt = kernel_matrix(kind, test.X, train.X, k)
    scale = float(np.mean(np.diag(K)))
    best = None
    n = len(train.y)
    for ridge in RIDGES:
        A = K.copy()
        A.flat[:: n + 1] += ridge * scale
        alpha = _solve_spd(A, train.y)
        fit = BaselineFit(kind, n, _error(test.y, Kt @ alpha), ridge, _error(train.y, K @ alpha))
        if best is None or fit.test_error < best.test_error:
            best = fit
    assert best is not None
    return best
