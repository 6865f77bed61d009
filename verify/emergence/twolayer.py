"""The paper's two-layer network, its smoothed activations, hinge loss and initialisation (S3).

``g(x) = sum_{i=1}^{2m} a_i sig(<w_i, x> + b_i)``; parameters ``W`` (2m x d), ``b`` and ``a``
(2m each). Activations (value and slope, the slope next to its forward rule):

- ``truncated-relu`` (the paper's): ``sig(z) = min(1, max(z, 0))``;
- ``relu``: ``max(z, 0)``;
- ``tanh``.

Smoothing (S3): each neuron sees ``sig(z + xi)``, ``xi ~ N(0, sd^2)``, replaced by its expectation.
For the ReLU family it is exact (REFERENCE section 7):
``E relu(z + xi) = R(z)``, ``R(u) = u Phi(u/sd) + sd phi(u/sd)``, slope ``Phi(z/sd)``, and
``E sig(z + xi) = R(z) - R(z - 1)`` for the truncated ReLU, slope ``Phi(z/sd) - Phi((z-1)/sd)``.
For tanh it is Gauss-Hermite quadrature with ``GH_NODES`` nodes (tanh is analytic in the strip
|Im| < pi/2, so the error falls geometrically; tests compare both forms with adaptive quadrature).

Loss (S3): the hinge loss ``(1/n) sum_i max(0, 1 - y_i g(x_i))`` (the paper's population loss,
here over the training sample [R]) plus ``lam_a ||a||^2 + lam_w ||W||_F^2`` (biases undecayed).
Note the paper's penalty has no 1/2, so its gradient is ``2 lam w``. The hinge subgradient at
margin exactly 1 is taken as 0.

Initialisation (S3): for i <= m, ``w_i ~ N(0, I/k^2)``, ``b_i ~ N(0, 1/k^4)``,
``a_i ~ N(0, (s^2/(gamma k^2))^2)``; mirrored ``w_{m+i} = w_i``, ``b_{m+i} = b_i``,
``a_{m+i} = -a_i``, so ``g = 0`` at initialisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from theory._errors import bad_input

__all__ = [
    "ACTIVATIONS", "GH_NODES", "Params", "activation", "hinge", "init_params", "outputs",
    "slope", "value",
]  # fmt: skip

ACTIVATIONS: tuple[str, ...] = ("truncated-relu", "relu", "tanh")
GH_NODES = 24
_SQRT_2PI = math.sqrt(2 * math.pi)


def _smoothed_relu(z: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """``R(z) = E relu(z + xi)`` and its slope ``Phi(z/sd)`` (exact)."""
    u = z / sd
    cdf = ndtr(u)
    return z * cdf + sd * np.exp(-0.5 * u * u) / _SQRT_2PI, cdf


def _check(name: str) -> None:
    if name not in ACTIVATIONS:
        raise bad_input("activation", f"be one of {', '.join(ACTIVATIONS)}", name,
                        "Use --activation truncated-relu.")  # fmt: skip


def _smoothed(name: str, z: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
    if name == "relu":
        return _smoothed_relu(z, sd)
    if name == "truncated-relu":
        v0, s0 = _smoothed_relu(z, sd)
        v1, s1 = _smoothed_relu(z - 1.0, sd)
        return v0 - v1, s0 - s1
    nodes, weights = np.polynomial.hermite_e.hermegauss(GH_NODES)
    weights = weights / weights.sum()  # probabilists' Hermite: the weights sum to sqrt(2 pi)
    value, slope = np.zeros_like(z), np.zeros_like(z)
    for node, weight in zip(nodes, weights, strict=True):
        t = np.tanh(z + sd * node)
        value += weight * t
        slope += weight * (1 - t * t)
    return value, slope


def value(name: str, z: np.ndarray) -> np.ndarray:
    """``sig(z)`` without smoothing."""
    _check(name)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "truncated-relu":
        return np.clip(z, 0.0, 1.0)
    return np.tanh(z)


def slope(name: str, z: np.ndarray) -> np.ndarray:
    """``sig'(z)`` without smoothing (0 at the kinks of the ReLU family)."""
    _check(name)
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "truncated-relu":
        return ((z > 0) & (z < 1)).astype(np.float64)
    t = np.tanh(z)
    return 1 - t * t


def activation(name: str, z: np.ndarray, sd: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Value and slope of ``E sig(z + xi)``, ``xi ~ N(0, sd^2)`` (``sd = 0``: no smoothing)."""
    _check(name)
    if sd > 0:
        return _smoothed(name, z, sd)
    return value(name, z), slope(name, z)


@dataclass
class Params:
    """Parameters of the network: first layer ``W`` (2m x d), biases ``b``, readout ``a``."""

    W: np.ndarray
    b: np.ndarray
    a: np.ndarray

    def copy(self) -> Params:
        return Params(self.W.copy(), self.b.copy(), self.a.copy())


def init_params(
    width: int, d: int, k: int, s2: float, gamma: float, rng: np.random.Generator
) -> Params:
    """The paper's mirrored initialisation (module docstring); ``width`` = 2m must be even."""
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)):
        raise bad_input("width", "be an integer", width, "Pass e.g. --width 128.")
    if width < 2 or width % 2:
        raise bad_input("width", "be an even integer >= 2 (2m mirrored neurons)", width,
                        "Pass e.g. --width 128.")  # fmt: skip
    m = width // 2
    W = rng.standard_normal((m, d)) / k
    b = rng.standard_normal(m) / k**2
    a = rng.standard_normal(m) * (s2 / (gamma * k**2))
    return Params(np.vstack([W, W]), np.concatenate([b, b]), np.concatenate([a, -a]))


def hinge(
    act: str, p: Params, X: np.ndarray, y: np.ndarray, sd: float = 0.0
) -> tuple[float, np.ndarray, Params]:
    """Mean hinge loss (no penalty), outputs ``g(X)`` and the gradient of the mean hinge loss."""
    Z = X @ p.W.T
    Z += p.b
    if sd > 0:
        H, S = _smoothed(act, Z, sd)
    else:
        H = value(act, Z)
    g = H @ p.a
    rows = np.flatnonzero(y * g < 1)  # samples inside the margin; the others have gradient 0
    loss = float(np.sum(1 - y[rows] * g[rows])) / len(y)
    coef = -y[rows] / len(y)  # d loss / d g_i on those samples
    S_rows = S[rows] if sd > 0 else slope(act, Z[rows])
    E = S_rows * np.outer(coef, p.a)  # d loss / d z_i
    return loss, g, Params(E.T @ X[rows], E.sum(axis=0), H[rows].T @ coef)


def outputs(act: str, p: Params, X: np.ndarray) -> np.ndarray:
    """``g(X)`` without smoothing."""
    return value(act, X @ p.W.T + p.b) @ p.a
