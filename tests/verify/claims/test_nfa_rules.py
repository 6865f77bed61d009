"""The NFA verdict rule in detail (N2, N3): the rounding band around the threshold, the exponent
and grid actually used, the re-check precision, and what the reasons say."""

from __future__ import annotations

import numpy as np
import pytest

from theory._errors import InputError
from theory._records import Verdict
from verify.claims import nfa as nfa_mod
from verify.claims.checks import check_nfa
from verify.claims.features import layer_features
from verify.engine.network import MLP
from verify.engine.train import TrainResult, synthetic_problem, train


@pytest.fixture(scope="module")
def converged() -> TrainResult:
    result = train(synthetic_problem(MLP((3, 5, 2), "tanh"), 16, seed=2), seed=2)
    assert result.converged
    return result


def _documented_tol(result: TrainResult, alpha: float) -> float:
    """10 (k u)^min(alpha, 1), k = n + depth * max width (verify/claims/nfa.py)."""
    net = result.problem.net
    k = result.problem.n + net.depth * max(net.sizes)
    return 10 * (k * np.finfo(np.float64).eps / 2) ** min(alpha, 1.0)


@pytest.mark.parametrize("alpha", [0.5, 1.5])
def test_threshold_band_is_the_documented_rounding(converged: TrainResult, alpha: float) -> None:
    """N3: a threshold within 0.9 tol of the Pearson score is INCONCLUSIVE; at 1.1 tol above it
    is REFUTED, below it consistent (tol = 10 (k u)^min(alpha, 1))."""
    p = check_nfa(converged, alpha=alpha, threshold=0.5, layers=[1]).layers[0].score.pearson
    tol = _documented_tol(converged, alpha)

    def verdict(t: float) -> Verdict:
        return check_nfa(converged, alpha=alpha, threshold=t, layers=[1], recheck=False).verdict

    assert verdict(p + 0.9 * tol) is Verdict.INCONCLUSIVE
    assert verdict(p - 0.9 * tol) is Verdict.INCONCLUSIVE
    assert verdict(p + 1.1 * tol) is Verdict.REFUTED
    assert verdict(p - 1.1 * tol) is Verdict.NUMERICALLY_CONSISTENT
    layer = check_nfa(converged, alpha=alpha, threshold=0.5, layers=[1]).layers[0]
    assert layer.tolerance == pytest.approx(tol, rel=1e-12)


def test_exponent_grid_and_layers_used(converged: TrainResult) -> None:
    """N2: the default exponent is 0.5, a given one is used as given, a grid is searched, the
    centered AGOP is used when asked, and layers are numbered from 1."""
    default = check_nfa(converged)
    assert [x.layer for x in default.layers] == [1, 2]
    first, second = default.layers
    assert default.reason == f"layer 1: {first.reason}; layer 2: {second.reason}"
    assert all(x.score.alpha == 0.5 and not x.score.searched for x in default.layers)
    searched = check_nfa(converged, alpha=None, grid=(0.25, 0.75), layers=[2])
    sc = searched.layers[0].score
    assert searched.layers[0].layer == 2 and sc.searched and sc.alpha in (0.25, 0.75)
    assert [a for a, _, _ in sc.by_alpha] == [0.25, 0.75]
    centered = check_nfa(converged, alpha=1.0, centered=True, layers=[1]).layers[0].score
    feat = layer_features(converged.problem, converged.theta)[0]
    ac, bc = feat.nfm - feat.nfm.mean(), feat.agop_centered - feat.agop_centered.mean()
    pearson = float(np.sum(ac * bc) / (np.linalg.norm(ac) * np.linalg.norm(bc)))
    assert centered.centered and centered.pearson == pytest.approx(pearson, rel=1e-9)


@pytest.mark.parametrize("alpha", [0.0, -1.0, float("inf"), float("nan")])
def test_alpha_must_be_finite_and_positive(converged: TrainResult, alpha: float) -> None:
    """N2 (inputs): alpha must be a finite number > 0."""
    with pytest.raises(InputError, match="alpha must be a finite number > 0"):
        check_nfa(converged, alpha=alpha)


@pytest.mark.parametrize("threshold", [-1.5, 1.5])
def test_threshold_must_be_a_correlation(converged: TrainResult, threshold: float) -> None:
    """N2 (inputs): the threshold is a correlation in [-1, 1]; the ends are allowed."""
    with pytest.raises(InputError, match=r"threshold must be a correlation in \[-1, 1\]"):
        check_nfa(converged, threshold=threshold)
    check_nfa(converged, threshold=1.0, recheck=False)
    check_nfa(converged, threshold=-1.0, recheck=False)


@pytest.mark.parametrize("layers", [[0], [3], []])
def test_layers_must_exist(converged: TrainResult, layers: list[int]) -> None:
    """N2 (inputs): layers are 1..depth."""
    with pytest.raises(InputError, match="layers must be in 1..2"):
        check_nfa(converged, layers=layers)


def test_recheck_precision_and_reasons(converged: TrainResult,
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """N2: a refutation is re-checked at max(40, 2 dps) digits and confirmed there; a failed
    re-check says why; every layer's reason names Pearson, cosine and alpha."""
    out = check_nfa(converged, alpha=0.5, threshold=0.999999, layers=[1])
    assert out.verdict is Verdict.REFUTED and out.recheck["dps"] == 40
    assert len(out.recheck["pearson"]) == 1
    assert out.reason.startswith("layer 1: Pearson ") and "confirmed at 40 digits" in out.reason
    assert "cosine" in out.reason and "alpha=0.5" in out.reason and "< threshold" in out.reason
    seen: list[int] = []

    def refine(result: TrainResult, dps: int) -> TrainResult:
        seen.append(dps)
        raise RuntimeError("no refinement today")

    monkeypatch.setattr(nfa_mod, "refine_mp", refine)
    bad = check_nfa(converged, alpha=0.5, threshold=0.999999, layers=[1])
    assert seen == [40] and bad.verdict is Verdict.INCONCLUSIVE
    assert "re-check at 40 digits failed (no refinement today), so not REFUTED" in bad.reason
    ok = check_nfa(converged, alpha=0.5, threshold=0.5, layers=[1])
    assert ok.reason.endswith(">= threshold 0.5") and ok.recheck == {}
    assert ok.verdict is Verdict.NUMERICALLY_CONSISTENT and seen == [40]  # no re-check run


def test_recheck_that_disagrees_is_not_confirmed(
    converged: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N2: when the higher-precision point scores the NFA differently (here: another network
    that passes the threshold), the float64 refutation is NOT confirmed: INCONCLUSIVE, and the
    layer's reason keeps its float64 comparison and says why."""
    from verify.engine.train import refine_mp

    other = train(synthetic_problem(MLP((3, 5, 2), "tanh"), 16, seed=5), seed=5)
    assert other.converged
    high = refine_mp(other, 40)
    p_base = check_nfa(converged, alpha=0.5, threshold=0.0, layers=[1]).layers[0].score.pearson
    p_other = check_nfa(high, alpha=0.5, threshold=0.0, layers=[1]).layers[0].score.pearson
    base = converged if p_base < p_other else refine_mp(other, 20)
    threshold = (p_base + p_other) / 2
    assert abs(p_base - p_other) > 1e-3
    monkeypatch.setattr(nfa_mod, "refine_mp", lambda result, dps: high
                        if p_base < p_other else refine_mp(converged, dps))  # fmt: skip
    out = check_nfa(base, alpha=0.5, threshold=threshold, layers=[1])
    layer = out.layers[0]
    assert out.verdict is Verdict.INCONCLUSIVE and layer.verdict is Verdict.INCONCLUSIVE
    assert layer.reason.startswith("Pearson ") and "< threshold" in layer.reason
    assert "; NOT confirmed at 40 digits (Pearson" in layer.reason


def test_recheck_digits_and_an_unconverged_refinement(
    converged: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N2: a refutation at 30 digits is re-checked at 60 (twice the digits, at least 40); a
    re-check whose refinement does not converge leaves the layer INCONCLUSIVE and says why, in
    the refinement's own words."""
    import dataclasses

    from verify.engine.result import Status
    from verify.engine.train import refine_mp

    at30 = refine_mp(converged, 30)
    assert at30.certified_at(nfa_mod.mp_backend(30))
    seen: list[int] = []
    stuck = dataclasses.replace(at30, status=Status.MAX_ITER, reason="stuck at 1e-9 (test)")

    def refine(result: TrainResult, dps: int) -> TrainResult:
        seen.append(dps)
        return stuck

    monkeypatch.setattr(nfa_mod, "refine_mp", refine)
    out = check_nfa(at30, alpha=0.5, threshold=0.999999, layers=[1])
    assert seen == [60] and out.verdict is Verdict.INCONCLUSIVE
    layer = out.layers[0]
    assert layer.verdict is Verdict.INCONCLUSIVE and layer.reason.startswith("Pearson ")
    assert "re-check at 60 digits failed (stuck at 1e-9 (test)), so not REFUTED" in out.reason


def test_recheck_scores_the_same_agop_and_grid(converged: TrainResult) -> None:
    """N2: the re-check of a refutation found with the centered AGOP and a searched exponent
    scores the centered AGOP over the same grid at 40 digits: its Pearson agrees with float64's
    to rounding (the plain AGOP, or another exponent, scores differently by far more)."""
    grid = (0.3, 0.6)
    out = check_nfa(converged, alpha=None, grid=grid, centered=True, threshold=0.999999, layers=[1])
    low = out.layers[0].score
    assert out.verdict is Verdict.REFUTED and low.centered and low.searched
    # float64 against 40 digits: AGOP^alpha to ~ (k u)^alpha of rounding, ~1e-4 at alpha 0.3
    assert abs(out.recheck["pearson"][0] - low.pearson) <= out.layers[0].tolerance
    plain = check_nfa(
        converged, alpha=None, grid=grid, threshold=0.999999, layers=[1], recheck=False
    )
    assert abs(plain.layers[0].score.pearson - low.pearson) > 10 * out.layers[0].tolerance


def test_nfa_at_30_digits_scores_the_30_digit_agop() -> None:
    """N2, N3: inputs with almost no spread along one axis give an AGOP eigenvalue ~1e-23 of
    the largest. float64 cannot resolve it (floor ~1e-13) and clips it; 30 digits keep it (floor
    ~1e-26), and at alpha = 1/4 its power (~1e-6) moves the Pearson score by ~3e-8. The check at
    30 digits must give the 30-digit score (eigensolver and power at 30 digits), not float64's."""
    from verify.claims.features import nfa_score
    from verify.engine.network import Problem, mp_backend
    from verify.engine.train import refine_mp

    base = synthetic_problem(MLP((3, 4, 2), "tanh"), 12, seed=1)
    X = base.X.copy()
    X[:, 2] *= 1e-9
    problem = Problem(base.net, X, base.Y, "mse", 1e-2)
    low = train(problem, seed=1)
    high = refine_mp(low, 30)
    assert low.converged and high.converged
    mp = mp_backend(30)
    p64 = check_nfa(low, alpha=0.25, threshold=0.5, layers=[1]).layers[0].score.pearson
    p30 = check_nfa(high, alpha=0.25, threshold=0.5, layers=[1], dps=30).layers[0].score.pearson
    feat = layer_features(Problem(base.net, X, base.Y, "mse", 1e-2), high.theta_mp, mp)[0]
    assert p30 == nfa_score(feat, 0.25, be=mp).pearson
    at20 = check_nfa(high, alpha=0.25, threshold=0.5, layers=[1], dps=20)
    assert at20.precision == "20 digits (mpmath)"  # the digits asked for, not the point's 30
    assert check_nfa(low, alpha=0.25, threshold=0.5, layers=[1]).precision == "float64"
    assert abs(p30 - p64) > 1e-9  # the kept eigenvalue shows
