"""The a posteriori floor and the weights' rounding allowance of the stationarity certificate,
tested against the truth (50-digit gradients).

The a posteriori floor must bound the float64 error in every entry like the a priori one (the
Hypothesis test of test_rounding.py checks both), and be close to it (within 1000 times on the
standard network, where the a priori floor is ~3e3 times); the allowance must bound how far the
exact gradient moves when the weights move by their own rounding; and a point whose gradient
only the a priori floor explains must not be certified.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.engine import posterior
from verify.engine.activations import ACTIVATIONS
from verify.engine.backends import extended_backend
from verify.engine.network import FLOAT64, LOSSES, MLP, Problem, backprop, mp_backend
from verify.engine.rounding import rounding_analysis, safe_norm
from verify.engine.train import synthetic_problem, train

BE50 = mp_backend(50)
EXT = extended_backend()
needs_extended = pytest.mark.skipif(
    EXT is None, reason="NumPy's longdouble is float64 on this platform (no a posteriori floor)"
)


def _exact(problem: Problem, theta: object) -> list[mpmath.mpf]:
    return list(backprop(problem, theta, BE50).grad)


def _float64_error(problem: Problem, theta: np.ndarray) -> np.ndarray:
    g64, g50 = backprop(problem, theta).grad, _exact(problem, theta)
    with mpmath.workdps(50):
        return np.array([abs(float(mpmath.mpf(a) - b)) for a, b in zip(g64, g50, strict=True)])


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    act=st.sampled_from(sorted(ACTIVATIONS)),
    loss=st.sampled_from(LOSSES),
    bias=st.booleans(),
    decay_bias=st.booleans(),
    kind=st.sampled_from(["random", "stationary"]),
    seed=st.integers(0, 1000),
)
def test_allowance_bounds_the_gradient_change_when_weights_move_by_their_rounding(  # noqa: PLR0913
    act: str, loss: str, bias: bool, decay_bias: bool, kind: str, seed: int
) -> None:
    """F1 (certificate): every exact gradient entry moves by at most the allowance R when each
    weight is multiplied by 1 + d, |d| <= u (signs and sizes drawn, the extreme +-u among them),
    both gradients at 50 digits."""
    c = 2 if loss == "cross_entropy" else 1
    net = MLP((3, 5, c), act, bias=bias)
    base = synthetic_problem(net, 10, loss=loss, seed=seed)
    problem = Problem(net, base.X, base.Y, loss, 1e-2, decay_bias=decay_bias)
    theta = net.init(seed) if kind == "random" else train(problem, seed=seed, spectrum="none").theta
    ra = rounding_analysis(problem, theta, posterior=False)
    rng = np.random.default_rng(seed)
    u = FLOAT64.unit_roundoff
    g0 = _exact(problem, theta)
    for _ in range(3):
        d = rng.choice([-1.0, 1.0], size=theta.size) * rng.choice([1.0, rng.uniform()], theta.size)
        with mpmath.workdps(50):
            moved = np.array(
                [
                    mpmath.mpf(t) * (1 + mpmath.mpf(x) * mpmath.mpf(u))
                    for t, x in zip(theta, d, strict=True)
                ],
                dtype=object,
            )
        g1 = _exact(problem, moved)
        with mpmath.workdps(50):
            change = np.array([abs(float(a - b)) for a, b in zip(g1, g0, strict=True)])
        assert (change <= ra.allowance).all(), np.max(change / ra.allowance)


def _standard() -> tuple[Problem, np.ndarray]:
    problem = synthetic_problem(MLP((20, 64, 1), "tanh"), 256, lam=1e-3, seed=0)
    return problem, train(problem, seed=0, spectrum="none").theta


@needs_extended
def test_standard_net_floor_is_within_1000x_of_the_error_and_certifies() -> None:
    """F1 (certificate): on the standard network (tanh 20-64-1, n = 256, lam 1e-3) the trained
    point is certified with a floor within 1000 times the measured float64 error (the a priori
    floor alone is ~3e3 times), and the floor bounds the error in every entry."""
    problem, theta = _standard()
    ra = rounding_analysis(problem, theta)
    err = _float64_error(problem, theta)
    assert ra.certified and ra.posterior
    assert (err <= ra.floor).all()
    assert safe_norm(ra.floor) <= 1000 * safe_norm(err), safe_norm(ra.floor) / safe_norm(err)


@needs_extended
def test_a_gradient_only_the_prior_floor_explains_is_not_certified() -> None:
    """F1 (certificate): move one weight of a certified point until its gradient leaves the
    threshold F + P + R (a posteriori floor F, a priori P): the threshold 2 P + R of the a
    priori floor alone would still certify that point; the certificate does not, and its
    floor still bounds the true error there."""
    problem = synthetic_problem(MLP((10, 30, 2), "tanh", bias=True), 100, seed=3)
    theta = train(problem, seed=3, spectrum="none").theta
    assert rounding_analysis(problem, theta).certified
    j = int(np.argmax(np.abs(theta)))
    for k in range(60):
        moved = theta.copy()
        moved[j] = moved[j] * (1 + 2.0**k * FLOAT64.unit_roundoff)
        ra = rounding_analysis(problem, moved)
        if not ra.certified:
            break
    else:
        pytest.fail("no move of the weight left the certificate")
    prior = rounding_analysis(problem, moved, posterior=False)
    assert prior.certified  # the looser floor alone would have certified this point
    assert ra.finite and ra.ratio > 1
    # the a priori threshold certifies before the a posteriori is computed; so tightening ran
    assert ra.posterior
    assert (_float64_error(problem, moved) <= ra.floor).all()


def test_without_extended_precision_the_floor_is_the_a_priori_one(monkeypatch) -> None:  # noqa: ANN001
    """F1 (certificate): where long double is float64 (or for GELU) the a priori floor stands
    alone, unchanged, and still certifies a trained point."""
    trained = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    theta = train(trained, seed=0, spectrum="none").theta
    problem = Problem(trained.net, trained.X, trained.Y)  # a fresh one: no analysis kept
    monkeypatch.setattr(posterior, "extended_backend", lambda: None)
    ra = rounding_analysis(problem, theta)
    assert not ra.posterior
    assert np.array_equal(ra.floor, ra.prior)
    assert ra.certified


def test_allowance_covers_the_weight_decay_term() -> None:
    """F1 (certificate): with all inputs 0 the first layer's data gradient vanishes identically,
    so grad_W1 = lam W1 and moving W1 by the factor 1 + u moves it by exactly lam u |W1|: the
    allowance must contain that term (and is then tight there, within its safety factor)."""
    net = MLP((3, 4, 1), "tanh")
    problem = Problem(net, np.zeros((6, 3)), np.ones((6, 1)), "mse", 0.5)
    theta = net.init(1)
    ra = rounding_analysis(problem, theta, posterior=False)
    u = FLOAT64.unit_roundoff
    with mpmath.workdps(50):
        moved = np.array([mpmath.mpf(t) * (1 + mpmath.mpf(u)) for t in theta], dtype=object)
        g1, g0 = _exact(problem, moved), _exact(problem, theta)
        change = np.array([abs(float(a - b)) for a, b in zip(g1, g0, strict=True)])
    first = slice(0, 4 * 3)
    assert (change <= ra.allowance).all()
    assert np.all(change[first] > 0.5 * ra.allowance[first])


@needs_extended
def test_a_converged_newton_iterate_keeps_its_certificate() -> None:
    """F1 (certificate): the deep sigmoid cross-entropy network (5, 6, 6, 6, 3) certifies. Its
    float64 Newton iterates leave exact gradients several times the current point's measured
    error (the previous point's error stays behind), so a threshold of twice the a posteriori
    floor refuses it; the a priori bound of the previous step's error keeps it."""
    problem = synthetic_problem(MLP((5, 6, 6, 6, 3), "sigmoid"), 32, loss="cross_entropy", seed=0)
    result = train(problem, seed=0)
    ra = rounding_analysis(problem, result.theta)
    assert result.converged and ra.certified and ra.posterior
