"""FACT's tolerance from F2 at the certified gradient, and the guards around the verdict.

Every certified point must satisfy F1 within its stated tolerance when the defect is recomputed
at 50 digits at the same weights; a floor that underestimates the rounding error must never
turn into a verdict on FACT (the F2 consistency guard).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import verify.claims.fact as fact_module
from theory._verdict import Verdict
from verify.claims.checks import check_f2, check_fact
from verify.claims.defect_bounds import FactBound, fact_bounds
from verify.claims.features import layer_features
from verify.engine.network import FLOAT64, MLP, Problem, backprop, mp_backend
from verify.engine.train import gradient_floor, synthetic_problem, train

BE50 = mp_backend(50)


@settings(max_examples=20, deadline=None, derandomize=True)
@example(act="tanh", loss="mse", scales=[0, 0], seed=0)
@example(act="gelu", loss="mse", scales=[-12, 0], seed=0)
@example(act="sigmoid", loss="mse", scales=[3, -3], seed=0)
@example(act="tanh", loss="mse", scales=[12, 0], seed=0)
@given(
    act=st.sampled_from(["identity", "tanh", "sigmoid", "softplus", "gelu", "quadratic"]),
    loss=st.sampled_from(["mse", "cross_entropy"]),
    scales=st.lists(st.integers(-12, 12), min_size=2, max_size=2),
    seed=st.integers(0, 1000),
)
def test_certified_points_satisfy_fact_within_their_tolerance_at_50_digits(act, loss, scales, seed):  # noqa: ANN001
    """F1, F2: at every point the float64 certificate accepts, training on data with features
    scaled by 1e-12..1e12, the FACT defect recomputed at 50 digits is within the stated
    tolerance of every layer; uncertified points get no verdict but INCONCLUSIVE."""
    c = 2 if loss == "cross_entropy" else 1
    net = MLP((2, 4, c), act)
    base = synthetic_problem(net, 10, loss=loss, seed=seed)
    problem = Problem(net, base.X * 10.0 ** np.array(scales), base.Y, loss, 1e-2)
    result = train(problem, seed=seed, spectrum="none", max_iter=3000, max_seconds=5)
    check = check_fact(result, recheck=False)
    if not result.converged:
        assert check.verdict is Verdict.INCONCLUSIVE
        return
    assert check.verdict is not Verdict.REFUTED  # FACT is a theorem
    exact = layer_features(problem, result.theta, BE50)  # the same float64 weights, 50 digits
    for layer, feat in zip(check.layers, exact, strict=True):
        assert feat.fact_defect <= layer.tolerance, (layer.layer, feat.fact_defect)


def test_the_f2_guard_stops_a_floor_that_underestimates_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F2: if the rounding bounds were too small (simulated: F2 allowance and rounding divided
    by 1e6), the true FACT defect exceeds what F2 allows at the certified gradient; the point
    is then not treated as certified (INCONCLUSIVE), and FACT is never REFUTED."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    result = train(problem, seed=0, spectrum="none")
    assert check_fact(result).verdict is Verdict.NUMERICALLY_CONSISTENT

    def too_small(*args: object) -> list[FactBound]:
        return [
            FactBound(
                b.layer, b.f2_allowance / 1e6, b.defect_rounding / 1e6, b.f2_residual_rounding
            )
            for b in fact_bounds(*args)  # type: ignore[arg-type]
        ]

    monkeypatch.setattr(fact_module, "fact_bounds", too_small)
    check = check_fact(result)
    assert check.verdict is Verdict.INCONCLUSIVE
    assert all("F2 consistency guard" in layer.reason for layer in check.layers)
    assert "INCONCLUSIVE at a point certified stationary" in check.reason
    planted = check_fact(result, formula="sign_flipped", recheck=False)
    assert planted.verdict is Verdict.INCONCLUSIVE  # no verdict at all on an inconsistent point


_RULES = [  # (defect, nfm_norm, tolerance, certified, consistent) -> verdict, words of the reason
    ((1e-15, 1.0, 1e-13, True, True), Verdict.NUMERICALLY_CONSISTENT, "<= tolerance"),
    ((1e-11, 1.0, 1e-13, True, True), Verdict.REFUTED, "> tolerance"),
    ((float("inf"), 1.0, 1e-13, True, True), Verdict.INCONCLUSIVE, "non-finite"),
    ((1e-15, float("nan"), 1e-13, True, True), Verdict.INCONCLUSIVE, "non-finite"),
    ((1e-15, 1.0, float("inf"), True, True), Verdict.INCONCLUSIVE, "non-finite"),
    ((1e-15, 1.0, 1e-13, False, True), Verdict.INCONCLUSIVE, "not a certified"),
    ((1e-15, 1.0, 1e-13, True, False), Verdict.INCONCLUSIVE, "F2 consistency guard"),
    ((1e-15, 1.0, 1e-2, True, True), Verdict.INCONCLUSIVE, "cannot resolve FACT"),
]


@pytest.mark.parametrize(("numbers", "verdict", "words"), _RULES)
def test_layer_verdict_rules(numbers, verdict, words) -> None:  # noqa: ANN001
    """F1: the verdict rules of one layer, in order: non-finite, not certified, F2 guard,
    unresolvable tolerance, then consistent or refuted."""
    from types import SimpleNamespace

    defect, nfm, tol, certified, consistent = numbers
    feat = SimpleNamespace(fact_defect=defect, nfm_norm=nfm, f2_bound=1e-14)
    bound = SimpleNamespace(consistent=lambda d: consistent)
    got, why = fact_module._layer_verdict(feat, bound, defect, tol, certified)  # type: ignore[arg-type]
    assert got is verdict and words in why


def test_a_tolerance_that_resolves_nothing_gives_no_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F1: a layer whose tolerance exceeds MAX_TOLERANCE_REL ||W^T W|| is INCONCLUSIVE: such a
    check could not fail (here: the limit lowered below the measured tolerance)."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    result = train(problem, seed=0, spectrum="none")
    check = check_fact(result)
    worst = max(layer.tolerance / layer.nfm_norm for layer in check.layers)
    assert check.verdict is Verdict.NUMERICALLY_CONSISTENT and worst < 1e-10
    monkeypatch.setattr(fact_module, "MAX_TOLERANCE_REL", worst / 2)
    check = check_fact(result)
    assert check.verdict is Verdict.INCONCLUSIVE
    assert any("cannot resolve FACT" in layer.reason for layer in check.layers)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    act=st.sampled_from(["identity", "relu", "tanh", "sigmoid", "softplus", "gelu", "quadratic"]),
    loss=st.sampled_from(["mse", "cross_entropy"]),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([1e-3, 1.0, 3.0]),
)
def test_f2_residual_is_within_its_rounding_bound(act, loss, seed, scale) -> None:  # noqa: ANN001
    """F2: the computed (W^T W - FACT) - W^T grad_W / lam, exactly zero, is within the bound
    propagated by the forward error analysis, at arbitrary parameters, in float64 and at 30
    digits (so the bound is neither missing nor an accident of one precision)."""
    net = MLP((3, 4, 3, 2), act, bias=True)
    problem = synthetic_problem(net, 10, loss=loss, lam=1e-2, seed=seed)
    theta = scale * net.init(seed)
    for be in (FLOAT64, mp_backend(30)):
        feats = layer_features(problem, theta, be)
        for feat, bound in zip(feats, fact_bounds(problem, theta, be), strict=True):
            assert feat.f2_residual <= bound.f2_residual_rounding


def test_check_f2_verdict_uses_the_propagated_bound() -> None:
    """F2: check_f2 after 5 L-BFGS steps is NUMERICALLY_CONSISTENT, residual / bound <= 1."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    early = train(problem, seed=0, max_iter=5, newton_steps=0, spectrum="none")
    verdict, worst, _ = check_f2(early)
    assert verdict is Verdict.NUMERICALLY_CONSISTENT and 0 < worst <= 1


def test_defect_rounding_bounds_fact_errors_that_add_up_with_one_sign() -> None:
    """F1: the FACT sum over n = 400 samples of x = 1, then 399 x 0.75 u, rounds every addition
    the same way (~37 u in float64, for any summation order with <= 8 partial sums): the
    computed W^T W - FACT differs from its 50-digit value by more than u ||FACT|| and the Gram
    matrix's rounding, and the propagated bound of FACT's own rounding still covers it."""
    n, u = 400, FLOAT64.unit_roundoff
    net = MLP((2, 2, 1), "identity")
    X = np.full((n, 2), 0.75 * u)
    X[0] = 1.0
    problem = Problem(net, X, np.full((n, 1), -1.0), "mse", 1e-3)
    theta = net.flatten([(np.ones((2, 2)), None), (np.ones((1, 2)), None)])
    f64 = layer_features(problem, theta, FLOAT64)[0]
    f50 = layer_features(problem, theta, BE50)[0]
    d64 = np.asarray(f64.nfm - f64.fact, dtype=np.float64)
    d50 = f50.nfm - f50.fact
    diff = [float(a - b) for a, b in zip(d50.ravel(), d64.ravel(), strict=True)]
    err = float(np.sqrt(sum(x * x for x in diff)))
    bound = fact_bounds(problem, theta, FLOAT64)[0]
    gram, fact = np.linalg.norm(f64.nfm), np.linalg.norm(np.asarray(f64.fact, dtype=float))
    assert err > 10 * u * (fact + gram)  # one-sign errors did add up
    assert err <= bound.defect_rounding


def test_f2_allowance_covers_a_gradient_that_rounding_hid() -> None:
    """F2: the targets equal the computed outputs of a pre-activation 1 + 63 * (0.75 u), so
    the computed data gradient is 0 while the exact one is not (rounding hid it); with
    lam = 1e-32 the point is certified. The exact F1 defect of the last layer (50 digits),
    2.3e17, is within the F2 allowance (2.9e18), which counts the floor as possible gradient;
    ||W_2|| ||computed gradient|| / lam alone is 2."""
    d, u = 64, FLOAT64.unit_roundoff
    net = MLP((d, 2, 1), "identity")
    X = np.full((3, d), 0.75 * u)
    X[:, 0] = 1.0
    theta = net.flatten([(np.ones((2, d)), None), (np.ones((1, 2)), None)])
    f = backprop(Problem(net, X, np.zeros((3, 1)), "mse", 1e-32), theta).zs[-1]
    problem = Problem(net, X, np.asarray(f, dtype=np.float64), "mse", 1e-32)
    gn, floor = gradient_floor(problem, theta)
    assert gn <= floor  # certified
    for exact, bound in zip(
        layer_features(problem, theta, BE50), fact_bounds(problem, theta, FLOAT64), strict=True
    ):
        d50 = exact.nfm - exact.fact
        defect = float(np.sqrt(sum(x * x for x in d50.ravel())))
        assert defect <= bound.f2_allowance
    assert defect > 1e3  # the last layer: far above ||W_2|| ||lam W_2|| / lam = 2
