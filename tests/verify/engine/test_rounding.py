"""The per-entry rounding floor of the gradient, tested against the truth (50-digit gradients).

F1 rests on the certificate "every gradient entry within its rounding floor"; these tests check
that the floor bounds the real float64 error, that it is not uselessly large, and that it
follows the data entry by entry (a feature scaled by 1e9 raises only the floors it reaches).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verify.engine.activations import ACTIVATIONS
from verify.engine.backends import extended_backend
from verify.engine.hessian import handover_scale
from verify.engine.network import FLOAT64, LOSSES, MLP, Problem, backprop, mp_backend
from verify.engine.posterior import posterior_floor
from verify.engine.rounding import (
    directional_floor,
    floor_ratio,
    rounding_analysis,
    safe_norm,
)
from verify.engine.stepbounds import _SMOOTH
from verify.engine.switched_off import snap_switched_off
from verify.engine.train import evaluate, gradient_floor, synthetic_problem, train

BE50 = mp_backend(50)


def _float64_error(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """|float64 gradient - gradient at 50 digits| entrywise (the same float64 inputs)."""
    g64 = backprop(problem, theta).grad
    g50 = backprop(problem, theta, BE50).grad
    with mpmath.workdps(50):
        return np.array([abs(float(mpmath.mpf(a) - b)) for a, b in zip(g64, g50, strict=True)])


def _problem(act: str, loss: str, bias: bool, n: int, scales: list[int], seed: int) -> Problem:
    """A small network whose feature j is scaled by 10**scales[j] (first-layer weights of that
    feature scaled back by 10**-scales[j] in :func:`_point`, so z = W x keeps its size)."""
    c = 2 if loss == "cross_entropy" else 1
    net = MLP((len(scales), 4, c), act, bias=bias)
    base = synthetic_problem(net, n, loss=loss, seed=seed)
    return Problem(net, base.X * 10.0 ** np.array(scales), base.Y, loss, 1e-2)


def _point(problem: Problem, scales: list[int], kind: str, seed: int) -> np.ndarray:
    net = problem.net
    if kind == "random":
        theta = net.init(seed)
    else:  # near-stationary: trained on the standardised data, then carried to the scaling
        unscaled = Problem(net, problem.X / 10.0 ** np.array(scales), problem.Y, problem.loss,
                           problem.lam)  # fmt: skip
        theta = train(unscaled, seed=seed, spectrum="none", max_iter=2000).theta
    params = net.unflatten(theta.copy())
    params[0][0][:] = params[0][0] / 10.0 ** np.array(scales)
    return net.flatten(params)


@settings(max_examples=25, deadline=None, derandomize=True)
@example(act="tanh", loss="mse", bias=False, n=12, scales=[0, 0, 0], kind="stationary", seed=0)
@example(act="tanh", loss="mse", bias=False, n=12, scales=[9, 0, 0], kind="stationary", seed=0)
@example(act="relu", loss="mse", bias=True, n=8, scales=[-12, 12, 0], kind="random", seed=1)
@given(
    act=st.sampled_from(sorted(ACTIVATIONS)),
    loss=st.sampled_from(LOSSES),
    bias=st.booleans(),
    n=st.integers(4, 12),
    scales=st.lists(st.integers(-12, 12), min_size=2, max_size=3),
    kind=st.sampled_from(["random", "stationary"]),
    seed=st.integers(0, 1000),
)
def test_floor_bounds_the_float64_error_entry_by_entry(act, loss, bias, n, scales, kind, seed):  # noqa: ANN001
    """F1 (certificate): |float64 gradient - 50-digit gradient| <= floor in every entry, at
    random and near-stationary points, features scaled from 1e-12 to 1e12: the a priori floor
    and the a posteriori one (extended precision; none for GELU or without long double)."""
    problem = _problem(act, loss, bias, n, scales, seed)
    theta = _point(problem, scales, kind, seed)
    ra = rounding_analysis(problem, theta, posterior=False)
    assert ra.finite
    err = _float64_error(problem, theta)
    assert (err <= ra.floor).all(), np.max(err / ra.floor)
    tight = posterior_floor(problem, theta, ra)
    assert (tight is None) == (extended_backend() is None or act == "gelu")
    if tight is not None:
        assert (err <= tight).all(), np.max(err / tight)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    act=st.sampled_from(sorted(ACTIVATIONS)),
    loss=st.sampled_from(LOSSES),
    bias=st.booleans(),
    n=st.integers(4, 12),
    kind=st.sampled_from(["random", "stationary"]),
    seed=st.integers(0, 1000),
)
def test_floor_is_within_1000x_of_the_error_on_well_scaled_problems(act, loss, bias, n, kind, seed):  # noqa: ANN001
    """F1 (certificate): on standardised data the floor is at most 1000 times the measured
    float64 error (a floor that is always huge certifies anything)."""
    scales = [0, 0, 0]
    problem = _problem(act, loss, bias, n, scales, seed)
    theta = _point(problem, scales, kind, seed)
    ra = rounding_analysis(problem, theta)
    err = _float64_error(problem, theta)
    if ra.kinks or not err.any():
        return  # a ReLU unit on its kink has no gradient to speak of; exact arithmetic no error
    # Why 1000: the floor is a rigorous bound, so it pays for the worst case that a typical
    # computation does not meet: the errors of the n samples added with one sign (typically
    # they grow like sqrt(n)), gamma_k = k u per inner product (typically sqrt(k) u), and 8 ulps
    # per elementwise function. On these problems (n <= 12, widths <= 4) that is sqrt(n k) * 8
    # ~ 60, and 20-500 is measured (README); 1000 leaves room for the spread over random points
    # and still fails a floor set by global norms, which was 1e3-1e15 times the error.
    assert safe_norm(ra.floor) <= 1000 * safe_norm(err)


def test_floor_bounds_errors_that_add_up_with_one_sign() -> None:
    """F1 (certificate): a pre-activation 1 + 399 * (0.75 u) rounds every addition the same
    way (error ~37 u in float64, for any summation order with <= 8 partial sums), and the
    targets equal the computed outputs, so the computed residual is 0 and the whole gradient
    of the data term is rounding error. The forward products' gamma_k (k = 400) covers it; a
    floor with u in its place (one rounding per product) does not."""
    d = 400
    net = MLP((d, 2, 1), "identity")
    X = np.full((3, d), 0.75 * FLOAT64.unit_roundoff)
    X[:, 0] = 1.0
    theta = net.flatten([(np.ones((2, d)), None), (np.ones((1, 2)), None)])
    f = backprop(Problem(net, X, np.zeros((3, 1)), "mse", 1e-2), theta).zs[-1]
    problem = Problem(net, X, np.asarray(f, dtype=np.float64), "mse", 1e-2)
    err = _float64_error(problem, theta)
    floor = rounding_analysis(problem, theta).floor
    assert np.max(err) > 20 * FLOAT64.unit_roundoff  # errors of one sign did add up
    assert (err <= floor).all(), np.max(err / floor)


def test_relu_slope_at_the_kink_is_unknown() -> None:
    """F1 (certificate): z = 1 + 2^-60 - 1 is computed as 0 (ReLU slope 0) while its exact
    value is 2^-60 (slope 1), so the first layer's data gradient is lost entirely. The floor
    must allow the slope either value where |z| is within its rounding bound."""
    net = MLP((3, 1, 1), "relu")
    X = np.array([[1.0, 2.0**-60, -1.0]] * 2)
    problem = Problem(net, X, np.ones((2, 1)), "mse", 1e-2)
    theta = net.flatten([(np.ones((1, 3)), None), (np.ones((1, 1)), None)])
    ra = rounding_analysis(problem, theta)
    assert ra.kinks == 2 and float(backprop(problem, theta).slopes[0][0, 0]) == 0.0
    err = _float64_error(problem, theta)
    assert np.max(err) > 0.5  # the exact gradient has the slope-1 term the float64 one lacks
    assert (err <= ra.floor).all(), np.max(err / ra.floor)


def test_a_gradient_above_its_floor_is_not_certified() -> None:
    """F1 (certificate): moved off a certified point until an entry is 3 to 300 times its own
    floor, the point is not certified: not by the analysis, not by the trainer's rule."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    theta = train(problem, seed=0, spectrum="none").theta
    assert gradient_floor(problem, theta)[0] <= gradient_floor(problem, theta)[1]
    v = np.random.default_rng(0).standard_normal(theta.size)
    for t in np.logspace(-16, -10, 61):
        moved = theta + t * v
        ratio = rounding_analysis(problem, moved).ratio
        if 3 < ratio < 300:
            break
    else:
        raise AssertionError("no point with an entry 3-300 times its floor on this line")
    assert not rounding_analysis(problem, moved).certified
    gn, floor = gradient_floor(problem, moved)
    assert gn > floor and floor_ratio(gn, floor) == pytest.approx(ratio)
    assert not evaluate(problem, moved, spectrum="none").converged


def _cancelling(act: str, loss: str, seed: int = 0) -> tuple[Problem, np.ndarray]:
    """Pre-activations and outputs made of cancelling products: the rows of W_1 (and of W_2)
    lie, up to 1e-3, in the null space of the data X (and of the hidden layer H), so z = X W1^T
    and f = H W2^T are small while sum |x||w| is large; their rounding errors, not the terms,
    make up most of the gradient. A floor missing the forward products' gamma_k or the
    softmax's propagated error fails here (and passes on random data, where other terms hide
    the omission)."""
    rng = np.random.default_rng(seed)
    n, d, m = 6, 40, 30
    c = 3 if loss == "cross_entropy" else 1
    X = rng.standard_normal((n, d))

    def null_rows(A: np.ndarray, rows: int) -> np.ndarray:
        basis = np.linalg.svd(A)[2][A.shape[0] :]  # orthonormal basis of A's null space
        scale = 30.0 * rng.standard_normal((rows, basis.shape[0]))
        return scale @ basis + 1e-3 * rng.standard_normal((rows, A.shape[1]))

    net = MLP((d, m, c), act)
    Y = np.eye(c)[rng.integers(0, c, n)] if c > 1 else rng.standard_normal((n, 1))
    problem = Problem(net, X, Y, loss, 1e-2)
    w1 = null_rows(X, m)
    hidden = backprop(problem, net.flatten([(w1, None), (np.zeros((c, m)), None)])).hs[1]
    return problem, net.flatten([(w1, None), (null_rows(hidden, c), None)])


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_floor_bounds_the_error_of_cancelling_products(act: str, loss: str) -> None:
    """F1 (certificate): |float64 gradient - 50-digit gradient| <= floor in every entry when
    the forward products cancel (their rounding errors dominate the gradient)."""
    problem, theta = _cancelling(act, loss)
    ra = rounding_analysis(problem, theta)
    err = _float64_error(problem, theta)
    assert (err <= ra.floor).all(), np.max(err / ra.floor)
    assert np.max(err / ra.floor) > 1e-4  # the error is of the floor's order: a sharp test


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", sorted(_SMOOTH))
def test_floor_bounds_the_error_of_saturated_units(act: str, loss: str) -> None:
    """F1 (certificate): with first-layer weights x12 most units saturate (|z| ~ 10), and the
    slope 1 - t^2 (or s (1 - s)) is tiny with an absolute rounding error ~u, a large relative
    one; the floor's slope term covers it (without it tanh exceeds the floor 2-12 times)."""
    net = MLP((3, 6, 2), act, bias=True)
    problem = synthetic_problem(net, 10, loss=loss, seed=0)
    params = net.unflatten(net.init(0))
    params[0][0][:] *= 12
    theta = net.flatten(params)
    ra = rounding_analysis(problem, theta)
    err = _float64_error(problem, theta)
    assert (err <= ra.floor).all(), np.max(err / ra.floor)


def test_scaling_a_feature_raises_only_the_floors_it_reaches() -> None:
    """F1 (certificate): feature 0 scaled by 1e9 (its weights by 1e-9, the same network
    function): the a priori floors of the weights on feature 0 grow ~1e9, all others stay; the
    old global floor grew for every entry. (The a posteriori floor is the measured error, whose
    growth is not a fixed power.)"""
    net = MLP((3, 5, 2), "tanh")
    problem = synthetic_problem(net, 16, seed=3)
    theta = train(problem, seed=3, spectrum="none").theta
    scaled = Problem(net, problem.X * np.array([1e9, 1, 1]), problem.Y, "mse", problem.lam)
    params = net.unflatten(theta.copy())
    params[0][0][:, 0] /= 1e9
    theta_s = net.flatten(params)
    before = rounding_analysis(problem, theta, posterior=False)
    after = rounding_analysis(scaled, theta_s, posterior=False)
    col0 = np.zeros(net.n_params, dtype=bool)
    col0[: 5 * 3] = np.tile([True, False, False], 5)  # W1[:, 0], row-major
    growth = after.floor / before.floor
    assert np.all((growth[col0] > 1e8) & (growth[col0] < 1e10))
    assert np.all((growth[~col0] > 0.5) & (growth[~col0] < 2))
    u = FLOAT64.unit_roundoff
    assert u * handover_scale(scaled, theta_s) > 1e6 * u * handover_scale(problem, theta)


def test_directional_floor_certifies_exactly_when_every_entry_does() -> None:
    """F1 (certificate): ||g|| <= floor along g  <=>  |g_i| <= floor_i for every i."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        floor = 10.0 ** rng.uniform(-20, 0, 6)
        g = floor * rng.uniform(0, 2, 6) * (rng.random(6) < 0.8)
        gn, t = directional_floor(np.abs(g), floor)
        assert (gn <= t) == bool((np.abs(g) <= floor).all())
        assert (floor_ratio(gn, t) <= 1) == bool((np.abs(g) <= floor).all())
    assert np.isnan(directional_floor(np.array([1.0]), np.array([np.inf]))[1])
    assert safe_norm(np.full(4, 1e300)) == 2e300  # no overflow of the squares


def test_activation_constants_bound_the_derivatives() -> None:
    """F1 (certificate): L2 >= sup|sigma''| and L3 >= sup|sigma'''| for every smooth activation
    (sigma''' by central differences of the engine's exact sigma'')."""
    assert set(_SMOOTH) | {"identity", "relu", "quadratic"} == set(ACTIVATIONS)
    z = np.linspace(-12, 12, 200_001)
    h = 1e-5
    for name, (L2, L3, _) in _SMOOTH.items():
        c2 = ACTIVATIONS[name](FLOAT64, z)[2]
        c3 = (ACTIVATIONS[name](FLOAT64, z + h)[2] - ACTIVATIONS[name](FLOAT64, z - h)[2]) / 2 / h
        assert np.max(np.abs(c2)) <= L2, name
        assert np.max(np.abs(c3)) <= L3, name
        assert np.max(np.abs(c2)) > 0.95 * L2, name  # and tight: a loose constant hides nothing


def test_switched_off_units_are_set_to_zero_and_certify() -> None:
    """F1 (certificate): a unit with weights ~1e-12 has gradient ~lam 1e-12, resolved far above
    its own floor (both scale with its weights); set to 0 it is exactly stationary."""
    small = MLP((3, 4, 2), "tanh")
    base = synthetic_problem(small, 16, seed=1)
    result = train(base, seed=1, spectrum="none")
    assert result.converged
    (w1, _), (w2, _) = small.unflatten(result.theta)
    net = MLP((3, 5, 2), "tanh")  # the trained network plus a fifth unit of size 1e-12
    problem = Problem(net, base.X, base.Y, "mse", base.lam)
    theta = net.flatten([(np.vstack([w1, np.full((1, 3), 1e-12)]), None),
                         (np.hstack([w2, np.full((2, 1), 1e-12)]), None)])  # fmt: skip
    gn, floor = gradient_floor(problem, theta)
    assert floor_ratio(gn, floor) > 1e3  # not certified, however small the unit
    snapped = snap_switched_off(problem, theta)
    assert snapped is not None and np.count_nonzero(snapped != theta) == 3 + 2
    gn2, floor2 = gradient_floor(problem, snapped)
    assert floor_ratio(gn2, floor2) <= 1  # certified: the unit is exactly stationary at 0
    assert snap_switched_off(problem, snapped) is None
    assert snap_switched_off(base, result.theta) is None  # live units are never candidates
    again = train(problem, theta0=theta, spectrum="none")  # the trainer finds the snap itself
    assert again.converged and ("snap", again.history[-1][1]) in again.history


@pytest.mark.parametrize("decay_bias", [True, False])
def test_a_decayed_bias_of_a_switched_off_unit_is_set_to_zero(decay_bias: bool) -> None:
    """F1 (certificate): with decayed biases, a switched-off unit's gradient in its bias is
    lam b_j, resolved far above its floor however small b_j is: the snap sets b_j to 0 too and
    the point certifies; without bias decay b_j is free and stays."""
    net = MLP((3, 4, 2), "tanh", bias=True)
    problem = synthetic_problem(net, 16, seed=1, decay_bias=decay_bias)
    result = train(problem, seed=1, spectrum="none")
    assert result.converged
    (w1, b1), (w2, b2) = net.unflatten(result.theta)
    wide = MLP((3, 5, 2), "tanh", bias=True)
    grown = Problem(wide, problem.X, problem.Y, "mse", problem.lam, decay_bias=decay_bias)
    theta = wide.flatten([(np.vstack([w1, np.full((1, 3), 1e-12)]), np.append(b1, 1e-12)),
                          (np.hstack([w2, np.full((2, 1), 1e-12)]), b2)])  # fmt: skip
    snapped = snap_switched_off(grown, theta)
    assert snapped is not None
    b_new = wide.unflatten(snapped)[0][1][-1]
    assert b_new == (0.0 if decay_bias else 1e-12)
    if decay_bias:  # with b_j = 1e-12 left, the entry lam b_j would stay far above its floor
        gn, floor = gradient_floor(grown, snapped)
        assert floor_ratio(gn, floor) <= 1


def test_mpmath_floor_scales_with_the_precision() -> None:
    """F1 (certificate): the same analysis at 50 digits bounds the 50-digit error (checked
    against 80 digits) and is ~1e-34 times the float64 floor."""
    net = MLP((3, 4, 2), "gelu", bias=True)
    problem = synthetic_problem(net, 10, loss="cross_entropy", seed=2)
    theta = net.init(2)
    ra50 = rounding_analysis(problem, theta, BE50)
    g80 = backprop(problem, theta, mp_backend(80)).grad
    with mpmath.workdps(80):
        err = np.array([abs(float(a - b)) for a, b in zip(ra50.grad, g80, strict=True)])
    assert (err <= ra50.floor).all()
    ratio = ra50.floor / rounding_analysis(problem, theta).floor
    assert np.all((ratio > 1e-36) & (ratio < 1e-33))
