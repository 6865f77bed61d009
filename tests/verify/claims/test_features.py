"""FACT, bFACT, F2 and the NFA quantities on trained networks (properties over architectures).

Sizes and weight decay are chosen so that every generated case converges (asserted, never
skipped): n = 12, widths <= 5, lam in [3e-3, 1e-2], biases included in the decay (undecayed
biases let softplus or quadratic units escape to infinity, where no minimiser exists). ReLU runs
only with depth 2, MSE, inputs of scale 0.2, a linear teacher and biases initialised at +3, so
every unit stays active on every sample and no pre-activation sits at the kink (asserted). With
cross-entropy or nonlinear targets the ReLU minimiser generally puts a kink on a data point,
where L_lam is not differentiable (the engine then reports max_iter, never a verdict).
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from theory._errors import InputError
from verify.claims.checks import PLANTED_FACT
from verify.claims.features import (
    DEFAULT_ALPHA_GRID,
    LayerFeatures,
    correlation,
    layer_features,
    nfa_score,
    psd_power,
)
from verify.engine.network import FLOAT64, MLP, Problem, backprop, mp_backend
from verify.engine.train import TrainResult, synthetic_problem, train

#: acceptance tolerance of the issue for float64 (rounding: the observed errors are ~1e-14)
FLOAT64_REL = 1e-10
#: acceptance tolerance at 40 digits (rounding: the observed errors are ~1e-38)
DIGITS40_REL = 1e-30


def _fact_rel(feat: LayerFeatures, formula: Callable, n: int) -> float:
    diff = feat.nfm - formula(feat, n)
    return float(np.sqrt(np.sum(diff * diff))) / feat.nfm_norm


def assert_fact_holds(result: TrainResult, formula: Callable, tol: float, be=FLOAT64) -> None:  # noqa: ANN001
    """The property under test: W^T W = formula in every layer, to ``tol`` relative error."""
    feats = layer_features(result.problem, result.point(be), be)
    scale = max(f.nfm_norm for f in feats)
    assert scale > 1e-6, "collapsed network: FACT would hold as 0 = 0, choose a smaller lam"
    for feat in feats:
        assert _fact_rel(feat, formula, result.problem.n) <= tol, f"layer {feat.layer}"


def _true(feat: LayerFeatures, n: int):  # noqa: ANN202
    return feat.fact


SMOOTH = ["identity", "tanh", "sigmoid", "softplus", "gelu", "quadratic"]


@st.composite
def trained(draw: st.DrawFn) -> TrainResult:
    act = draw(st.sampled_from([*SMOOTH, "relu"]))
    depth = 2 if act == "relu" else draw(st.integers(1, 4 if act != "quadratic" else 2))
    loss = "mse" if act == "relu" else draw(st.sampled_from(["mse", "cross_entropy"]))
    c = draw(st.integers(2 if loss == "cross_entropy" else 1, 3))
    widths = draw(st.lists(st.integers(2, 5), min_size=depth - 1, max_size=depth - 1))
    bias = True if act == "relu" else draw(st.booleans())
    lam = draw(st.sampled_from([3e-3, 5e-3, 1e-2]))
    seed = draw(st.integers(0, 1000))
    net = MLP((draw(st.integers(1, 4)), *widths, c), act, bias)
    problem = synthetic_problem(net, 12, loss=loss, lam=lam, seed=seed, decay_bias=act != "relu")
    theta0 = net.init(seed)
    if act == "relu":  # small inputs, a linear teacher, biases +3: units active on every sample
        X = 0.2 * problem.X
        Y = X @ (2 * np.random.default_rng(seed).standard_normal((c, X.shape[1])).T)
        problem = Problem(net, X, Y, loss, lam)
        for _, b in net.unflatten(theta0)[:-1]:
            b[:] = 3.0
    result = train(problem, theta0=theta0, max_iter=5000)
    assert result.converged, result.reason
    if act == "relu":
        z = backprop(problem, result.theta).zs[0]
        assert np.min(np.abs(z)) > 1e-3, "a pre-activation sits at the ReLU kink"
    return result


@settings(max_examples=15, deadline=None, derandomize=True)
@given(trained())
def test_fact_holds_in_every_layer_after_certified_convergence(result: TrainResult) -> None:
    """F1: W^T W = FACT in every layer, relative error <= 1e-10, at a certified stationary point."""
    assert_fact_holds(result, _true, FLOAT64_REL)


@settings(max_examples=4, deadline=None, derandomize=True)
@given(trained())
def test_backward_fact_and_symmetry_hold(result: TrainResult) -> None:
    """F4, F5: W W^T = bFACT, and FACT is symmetric, at a certified stationary point."""
    problem = result.problem
    bp = backprop(problem, result.theta)
    k = problem.n + problem.net.depth * max(problem.net.sizes)
    for feat in layer_features(problem, result.theta):
        d, h = bp.deltas[feat.layer - 1], bp.hs[feat.layer - 1] @ feat.W.T
        # rounding: bFACT sums n terms delta_i (W h_i)^T that can cancel heavily (sigmoid units
        # have a large mean); their total size bounds the rounding error (Higham gamma_k)
        sizes = np.linalg.norm(d, axis=1) @ np.linalg.norm(h, axis=1) / (problem.n * problem.lam)
        gram = np.linalg.norm(feat.W @ feat.W.T)
        tol = max(FLOAT64_REL, 4 * k * FLOAT64.unit_roundoff * (sizes + gram) / gram)
        assert feat.bfact_rel_error <= tol
        assert feat.fact_asymmetry <= FLOAT64_REL
        sym = feat.fact_sym()
        assert np.linalg.norm(feat.nfm - sym) <= FLOAT64_REL * feat.nfm_norm
        assert np.linalg.norm(feat.nfm - feat.fact_psd()) <= 1e-7 * feat.nfm_norm


@pytest.fixture(scope="module")
def converged() -> TrainResult:
    problem = synthetic_problem(MLP((3, 5, 4, 2), "tanh", bias=True), 16, lam=5e-3, seed=4)
    result = train(problem, seed=4)
    assert result.converged
    return result


@pytest.mark.parametrize("name", ["sign_flipped", "missing_1_over_n"])
def test_planted_false_fact_formulas_make_the_property_fail(converged, name: str) -> None:  # noqa: ANN001
    """F1 (planted): the property test FAILS for a sign-flipped or 1/n-dropped FACT formula."""
    assert_fact_holds(converged, _true, FLOAT64_REL)
    with pytest.raises(AssertionError):
        assert_fact_holds(converged, PLANTED_FACT[name], FLOAT64_REL)


def test_transposed_factor_is_invisible_at_convergence_but_fails_f2(converged) -> None:  # noqa: ANN001
    """F5/F2 (planted): FACT^T equals FACT at a stationary point, but not the F2 identity off it."""
    assert_fact_holds(converged, PLANTED_FACT["transposed"], FLOAT64_REL)
    problem = converged.problem
    theta = problem.net.init(1)  # an arbitrary, unconverged point
    for feat in layer_features(problem, theta):
        residual = feat.nfm - feat.fact.T - feat.W.T @ feat.grad_W / problem.lam
        assert np.linalg.norm(residual) > 1e-3 * feat.nfm_norm


@settings(max_examples=15, deadline=None, derandomize=True)
@example(act="tanh", loss="mse", seed=0, scale=1.0)
@given(
    act=st.sampled_from(["identity", "relu", "tanh", "sigmoid", "softplus", "gelu", "quadratic"]),
    loss=st.sampled_from(["mse", "cross_entropy"]),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([0.1, 1.0, 3.0]),
)
def test_f2_identity_holds_at_arbitrary_parameters(act, loss, seed, scale) -> None:  # noqa: ANN001
    """F2: W^T W - FACT = W^T grad_W L_lam / lam exactly, and the defect obeys the F2 bound."""
    net = MLP((3, 4, 3, 2), act, bias=True)
    problem = synthetic_problem(net, 10, loss=loss, lam=1e-2, seed=seed)
    theta = scale * net.init(seed)
    k = problem.n + net.depth * max(net.sizes)
    for feat in layer_features(problem, theta):
        # rounding: sums of <= k products of size rounding_scale (Higham gamma_k), x4 safety
        assert feat.f2_residual <= 4 * k * FLOAT64.unit_roundoff * feat.rounding_scale
        assert feat.fact_defect <= feat.f2_bound * (1 + 1e-12) + 1e-300


def test_fact_at_40_digits(converged) -> None:  # noqa: ANN001
    """F1: after Newton in mpmath at 40 digits, FACT holds to relative error <= 1e-30."""
    from verify.engine.train import refine_mp

    refined = refine_mp(converged, 40)
    assert refined.converged and refined.grad_norm_mp <= refined.grad_floor_mp
    assert_fact_holds(refined, _true, DIGITS40_REL, be=mp_backend(40))
    with pytest.raises(AssertionError):
        assert_fact_holds(refined, PLANTED_FACT["missing_1_over_n"], DIGITS40_REL, mp_backend(40))


def test_fact_at_40_digits_cross_entropy_gelu() -> None:
    """F1: the same at 40 digits for a 3-layer gelu network with cross-entropy and biases."""
    net = MLP((2, 3, 3, 3), "gelu", bias=True)
    problem = synthetic_problem(net, 10, loss="cross_entropy", lam=5e-3, seed=2)
    result = train(problem, seed=2, dps=40)
    assert result.converged and result.dps == 40
    assert_fact_holds(result, _true, DIGITS40_REL, be=mp_backend(40))


def test_psd_power_clips_negative_eigenvalues_in_both_backends() -> None:
    """N3: A^alpha by symmetric eigendecomposition with negative eigenvalues set to 0."""
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))
    a = q @ np.diag([4.0, 1e-20, -1e-12]) @ q.T
    half = psd_power(a, 0.5)
    expect = 2.0 * np.outer(q[:, 0], q[:, 0]) + 1e-10 * np.outer(q[:, 1], q[:, 1])
    assert np.allclose(half, expect, atol=1e-9)
    mp = mp_backend(30)
    half_mp = psd_power(mp.asarray(a), 0.5, mp)
    assert np.allclose(mp.to_float(half_mp), half, atol=1e-9)
    with pytest.raises(InputError, match="alpha must be > 0"):
        psd_power(a, 0.0)


def test_pearson_and_cosine_differ_as_defined() -> None:
    """N3: Pearson centres the entries by their mean, cosine does not."""
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    c = correlation(a, a + 10.0)
    assert c.pearson == pytest.approx(1.0, abs=1e-15)
    expected = np.sum(a * (a + 10)) / (np.linalg.norm(a) * np.linalg.norm(a + 10))
    assert c.cosine == pytest.approx(expected, rel=1e-15) and c.cosine < 0.99
    with mpmath.workdps(30):
        cm = correlation(mp_backend(30).asarray(a), mp_backend(30).asarray(a + 10), mp_backend(30))
    assert cm.cosine == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("depth", [2, 3])
def test_nfa_exponent_of_balanced_deep_linear_networks(depth: int) -> None:
    """D6: layer j of a trained linear network obeys the NFA with alpha = 1/(L-j+1) (corr 1)."""
    net = MLP((4, *[4] * (depth - 1), 3), "identity")
    problem = synthetic_problem(net, 20, lam=1e-2, seed=1)
    result = train(problem, seed=1)
    assert result.converged
    feats = layer_features(problem, result.theta)
    for j, feat in enumerate(feats, 1):
        expect = 1 / (depth - j + 1)
        score = nfa_score(feat, expect)
        assert score.pearson >= 1 - 1e-9 and score.cosine >= 1 - 1e-9
        # with the uncentered AGOP the constant is exactly 1: W^T W = AGOP^{1/(L-j+1)} (D5)
        power = psd_power(feat.agop, expect)
        # rounding: an AGOP eigenvalue that is 0 in exact arithmetic comes out ~100 u ||AGOP||,
        # and the power maps it to (100 u)^alpha relative (the rank of AGOP is c = 3 < d = 4)
        tol = 10 * (100 * FLOAT64.unit_roundoff) ** expect
        assert np.linalg.norm(feat.nfm - power) <= tol * feat.nfm_norm
        best = nfa_score(feat, None, grid=DEFAULT_ALPHA_GRID)
        assert best.searched and abs(best.alpha - round(expect / 0.05) * 0.05) < 1e-9


def test_centered_agop_vanishes_for_linear_networks() -> None:
    """N1: the centered AGOP is identically zero for a linear network (Jacobian is constant)."""
    net = MLP((3, 4, 2), "identity", bias=True)
    problem = synthetic_problem(net, 8, seed=0)
    for feat in layer_features(problem, net.init(0)):
        assert np.abs(feat.agop_centered).max() <= 1e-14 * np.abs(feat.agop).max()


def test_features_without_weight_decay_leave_fact_undefined() -> None:
    """N1, F1 (assumptions): at lam = 0 the NFM and AGOP are computed in both backends, while
    FACT, bFACT and the F2 bound (which divide by lam) are NaN, not a ZeroDivisionError."""
    problem = synthetic_problem(MLP((3, 4, 2), "tanh"), 8, lam=0.0, seed=0)
    theta = problem.net.init(0)
    for be in (FLOAT64, mp_backend(20)):
        for feat in layer_features(problem, be.asarray(theta), be):
            assert np.isfinite(be.to_float(feat.agop)).all() and feat.nfm_norm > 0
            assert all(x != x for x in np.ravel(feat.fact)) and np.isnan(feat.f2_bound)  # NaN
