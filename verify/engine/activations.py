"""Activations (value, slope and curvature, the derivative next to its forward rule) and losses.

Each activation maps pre-activations ``z`` to ``(sigma(z), sigma'(z), sigma''(z))`` in the
numbers of a backend (:mod:`verify.engine.backends`); the second derivative feeds the exact
Hessian-vector products of :mod:`verify.engine.backprop`.
"""

from __future__ import annotations

from collections.abc import Callable

from verify.engine.backends import Array, Backend

__all__ = ["ACTIVATIONS", "LOSSES", "Act"]


# -- activations: value, slope and curvature, the derivative next to its forward rule ----------
Act = Callable[[Backend, Array], tuple[Array, Array, Array]]


def _identity(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    return z, z * 0 + 1, z * 0


def _relu(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    s = be.step(z)  # slope 0 at the kink z = 0; curvature 0 almost everywhere
    return z * s, s, z * 0


def _tanh(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    t = be.tanh(z)
    d1 = 1 - t * t
    return t, d1, -2 * t * d1


def _sigmoid(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    s = be.sigmoid(z)
    d1 = s * (1 - s)
    return s, d1, d1 * (1 - 2 * s)


def _softplus(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    s = be.sigmoid(z)  # softplus' = sigmoid, softplus'' = sigmoid (1 - sigmoid)
    return be.softplus(z), s, s * (1 - s)


def _gelu(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    cdf, pdf = be.ncdf(z), be.npdf(z)  # gelu = z Phi(z), exact erf form
    return z * cdf, cdf + z * pdf, pdf * (2 - z * z)


def _quadratic(be: Backend, z: Array) -> tuple[Array, Array, Array]:
    return z * z, 2 * z, z * 0 + 2


ACTIVATIONS: dict[str, Act] = {
    "identity": _identity,
    "relu": _relu,
    "tanh": _tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "gelu": _gelu,
    "quadratic": _quadratic,
}
LOSSES = ("mse", "cross_entropy")
