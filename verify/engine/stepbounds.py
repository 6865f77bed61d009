"""The error rules of single steps of the rounding floor (:mod:`verify.engine.rounding`, whose
module docstring derives them): an activation's value and slope, and the loss's delta."""

from __future__ import annotations

import numpy as np

__all__ = ["ELEMENTWISE_ULPS", "act_bounds", "delta_bound", "gamma"]

#: c: ulps of error of one elementwise function value (module docstring). Why 8: glibc's exp,
#: log and tanh are accurate to < 1 ulp, NumPy's SIMD versions and Cephes' expit and ndtr to
#: <= 4 ulps, glibc's long double functions (verify/engine/posterior.py) to a few ulps, mpmath's
#: functions to < 1 ulp of the working precision; the formulas built on them
#: (z * Phi(z), 1 - t * t, s * (1 - s), log(s) + m) add at most 3 roundings.
ELEMENTWISE_ULPS = 8
#: per smooth activation (L2, L3, T2): L2 >= sup|sigma''| and L3 >= sup|sigma'''| for the
#: second-order terms of the mean-value bounds; T2 >= the summands of the curvature formula of
#: verify/engine/activations.py (for the rounding of the computed curvature).
#: tanh: sigma'' = -2 t (1 - t^2), max 4 / (3 sqrt 3) = 0.770; |sigma'''| max 2 (at 0).
#: sigmoid: max |sigma''| = sqrt(3) / 18 = 0.0962, max |sigma'''| = 1/8 (at 0).
#: softplus: sigma'' = sigmoid' <= 1/4, sigma''' = sigmoid'' <= 0.0962.
#: gelu: sigma'' = phi(z) (2 - z^2) <= 2 phi(0) = 0.798, |sigma'''| = phi |z^3 - 4 z| <= 0.779.
_SMOOTH: dict[str, tuple[float, float, float]] = {
    "tanh": (0.77, 2.0, 4.0),
    "sigmoid": (0.0963, 0.125, 1.0),
    "softplus": (0.25, 0.0963, 1.0),
    "gelu": (0.798, 0.779, 1.0),
}


def gamma(k: int, u: float) -> float:
    """Higham's gamma_k = k u / (1 - k u): the relative error bound of a sum of k products."""
    return k * u / (1 - k * u)


def act_bounds(
    name: str, z: np.ndarray, h: np.ndarray, s: np.ndarray, c2: np.ndarray, ez: np.ndarray,
    u: float,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(e_h, e_s): bounds on the activation's value and slope (module docstring)."""
    cu = ELEMENTWISE_ULPS * u
    if name == "identity":
        return ez, np.zeros_like(ez)
    if name == "relu":
        kink = np.abs(z) <= ez  # the sign of z, hence the slope, is not known there
        return np.where(kink, ez, np.abs(s) * ez), np.where(kink, 1.0, 0.0)
    if name == "quadratic":  # z*z: one rounding; the slope 2z is exact up to the error of z
        return 2 * np.abs(z) * ez + ez * ez + u * np.abs(h), 2 * ez
    L2, L3, T2 = _SMOOTH[name]
    if name == "tanh":
        terms = 1 + h * h  # slope 1 - t*t
    elif name == "sigmoid":
        terms = np.abs(h) * (1 + np.abs(h))  # slope s (1 - s)
    elif name == "softplus":
        terms = np.abs(s)  # the slope is the logistic function itself
    else:  # gelu: slope Phi(z) + z phi(z)
        from scipy import special  # here: SciPy's import costs 0.5 s of CPU at start-up

        terms = special.ndtr(z) + np.abs(z) * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    slope = np.abs(s) + cu * terms  # >= |sigma'(z_computed)|
    curv = np.abs(c2) + cu * T2  # >= |sigma''(z_computed)|
    eh = slope * ez + L2 * ez * ez / 2 + cu * np.abs(h) / (1 - cu)
    es = curv * ez + L3 * ez * ez / 2 + cu * terms
    return eh, es


def delta_bound(
    loss: str, f: np.ndarray, Y: np.ndarray, delta: np.ndarray, e_f: np.ndarray, u: float
) -> np.ndarray:
    """Bound on the error of delta = dl/df (module docstring)."""
    if loss == "mse":
        return e_f + u * np.abs(delta)
    m = np.max(f, axis=1, keepdims=True)
    e = np.exp(f - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    mass = np.abs(np.sum(Y, axis=1, keepdims=True))
    c = f.shape[1]
    # propagated error of f; the difference weighted - p e_f is a sum over j != k, and its
    # rounding (u p_k e_f_k) lies far below the rounding term u p_k of ``rnd``
    weighted = np.sum(p * e_f, axis=1, keepdims=True)
    prop = np.clip(1 - p, 0, None) * e_f + np.clip(weighted - p * e_f, 0, None)
    prop = prop * np.exp(4 * np.max(e_f, axis=1, keepdims=True))
    # roundings: the shift f - m, exp, the row sum (weights p_j) and the division
    shift = u * np.abs(f - m)
    rnd = (
        shift + np.sum(p * shift, axis=1, keepdims=True)
        + (2 * ELEMENTWISE_ULPS + 1) * u + gamma(c, u)
    )  # fmt: skip
    e_p = p * (prop + rnd)
    return mass * e_p + p * gamma(c, u) * mass + u * p * mass + u * np.abs(delta)
