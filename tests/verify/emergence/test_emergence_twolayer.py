"""The paper's network (S3): smoothed activations, hinge gradient, mirrored initialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from theory._errors import InputError
from verify.emergence.twolayer import (
    ACTIVATIONS,
    Params,
    activation,
    hinge,
    init_params,
    outputs,
)

RAW = {
    "relu": lambda t: max(t, 0.0),
    "truncated-relu": lambda t: min(1.0, max(t, 0.0)),
    "tanh": math.tanh,
}


def _smoothed_by_quadrature(name: str, z: float, sd: float) -> float:
    """E sig(z + xi), xi ~ N(0, sd^2), by adaptive quadrature (the independent route)."""
    pdf = lambda x: math.exp(-0.5 * (x / sd) ** 2) / (sd * math.sqrt(2 * math.pi))  # noqa: E731
    f = lambda x: RAW[name](z + x) * pdf(x)  # noqa: E731
    kinks = [p for p in (-z, 1 - z) if abs(p) < 12 * sd]  # where sig(z + x) has a kink
    val, _ = integrate.quad(f, -12 * sd, 12 * sd, points=kinks or None, epsabs=1e-13, limit=200)
    return val


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("sd", [0.1, 5**-1.5, 0.5])
def test_smoothing_matches_quadrature(name: str, sd: float) -> None:
    """S3: the exact (ReLU family) and Gauss-Hermite (tanh) smoothing agree with quadrature."""
    z = np.array([-0.7, -0.05, 0.0, 0.3, 0.98, 1.02, 2.0])
    val, _ = activation(name, z, sd)
    ref = np.array([_smoothed_by_quadrature(name, float(t), sd) for t in z])
    # why 1e-9: quad is asked for 1e-13 absolute; the 24-node Gauss-Hermite rule for tanh at
    # sd <= 0.5 is accurate to ~1e-10 (analytic integrand, geometric convergence)
    assert np.abs(val - ref).max() <= 1e-9


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("sd", [0.0, 0.2])
def test_slope_is_the_derivative(name: str, sd: float) -> None:
    """S3: the slope next to each forward rule is its derivative (central differences)."""
    z = np.array([-0.6, 0.2, 0.45, 0.7, 1.6])  # away from the kinks for sd = 0
    h = 1e-6
    _, slope = activation(name, z, sd)
    fd = (activation(name, z + h, sd)[0] - activation(name, z - h, sd)[0]) / (2 * h)
    assert np.abs(slope - fd).max() <= 1e-7  # why: O(h^2) truncation + eps/h rounding


def test_unknown_activation() -> None:
    """S3: an unknown activation name is refused."""
    with pytest.raises(InputError, match="activation must be one of"):
        activation("sigmoid", np.zeros(2))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_hinge_gradient_matches_finite_differences(name: str) -> None:
    """S3: the gradient of the mean hinge loss (smoothed) against central differences."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5)) / 2
    y = np.sign(rng.standard_normal(30))
    p = Params(rng.standard_normal((6, 5)), rng.standard_normal(6) * 0.3,
               rng.standard_normal(6) * 0.2)  # fmt: skip
    sd = 0.2  # smoothing makes the loss differentiable in W and b away from margin ties
    _, g, grad = hinge(name, p, X, y, sd)
    assert np.all(np.abs(1 - y * g) > 1e-3)  # no sample sits at the hinge's kink
    h = 1e-6
    for field in ("W", "b", "a"):
        arr, want = getattr(p, field), getattr(grad, field)
        for idx in [(0, 0), (3, 4), (5, 2)] if field == "W" else [(0,), (4,)]:
            up, dn = p.copy(), p.copy()
            getattr(up, field)[idx] += h
            getattr(dn, field)[idx] -= h
            fd = (hinge(name, up, X, y, sd)[0] - hinge(name, dn, X, y, sd)[0]) / (2 * h)
            assert abs(fd - want[idx]) <= 1e-7 * max(1.0, abs(fd)), (field, idx, arr.shape)


def test_init_is_mirrored_and_scaled() -> None:
    """S3: w_{m+i} = w_i, b_{m+i} = b_i, a_{m+i} = -a_i, so g = 0; scales 1/k, 1/k^2."""
    k, s2, gamma = 5, 8.0, 0.25
    p = init_params(2000, 64, k, s2, gamma, np.random.default_rng(1))
    m = 1000
    assert np.array_equal(p.W[:m], p.W[m:]) and np.array_equal(p.b[:m], p.b[m:])
    assert np.array_equal(p.a[:m], -p.a[m:])
    X = np.random.default_rng(2).standard_normal((10, 64))
    assert np.abs(outputs("truncated-relu", p, X)).max() <= 1e-12
    # standard deviations within 5% (64000, 1000, 1000 draws: relative SE <= 2.3%)
    assert abs(p.W[:m].std() * k - 1) <= 0.05
    assert abs(p.b[:m].std() * k**2 - 1) <= 0.1
    assert abs(p.a[:m].std() / (s2 / (gamma * k**2)) - 1) <= 0.1


@pytest.mark.parametrize("width", [7, 0, 1])
def test_init_needs_even_width(width: int) -> None:
    """S3: 2m mirrored neurons need an even width."""
    with pytest.raises(InputError, match="even integer"):
        init_params(width, 4, 3, 1.0, 0.1, np.random.default_rng(0))
