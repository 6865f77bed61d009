"""The FACT verdict rule in detail (F1, F2): what is compared, at which precision, how a
refutation is confirmed, and what the reasons say."""

from __future__ import annotations

import numpy as np
import pytest

from theory._errors import OutsideAssumptionsError
from theory._records import Verdict
from verify.claims import fact as fact_mod
from verify.claims.checks import check_f2, check_fact
from verify.engine.network import MLP
from verify.engine.train import TrainResult, refine_mp, synthetic_problem, train


@pytest.fixture(scope="module")
def converged() -> TrainResult:
    result = train(synthetic_problem(MLP((3, 5, 2), "tanh"), 16, seed=2), seed=2)
    assert result.converged
    return result


@pytest.fixture(scope="module")
def refined(converged: TrainResult) -> TrainResult:
    return refine_mp(converged, 30)


def _float64_only(feat, n):  # noqa: ANN001, ANN202
    """FACT plus 1e-9 in float64 only: a "violation" that vanishes at higher precision."""
    if feat.fact.dtype == object:
        return feat.fact
    e = np.zeros_like(feat.fact)
    e[0, 0] = 1e-9
    return feat.fact + e


def test_violation_that_vanishes_at_higher_precision_is_not_refuted(converged) -> None:  # noqa: ANN001
    """F1: a defect seen in float64 but absent after the 40-digit refinement is NOT confirmed:
    INCONCLUSIVE, with the re-check recorded."""
    out = check_fact(converged, formula=_float64_only)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.recheck["dps"] == 40 and out.recheck["status"] == "converged"
    assert len(out.recheck["rel_errors"]) == 2
    assert all(layer.verdict is Verdict.INCONCLUSIVE for layer in out.layers)
    assert "NOT confirmed at 40 digits (status converged)" in out.reason
    assert out.reason.startswith("layers [1, 2] exceed the rounding tolerance")


def test_confirmed_refutation_and_its_precision(
    refined: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1: at 30 digits a planted formula is re-checked at 60 (= 2 x 30) digits and confirmed;
    a re-check that cannot run says so and keeps the rest of the reason."""
    out = check_fact(refined, dps=30, formula="missing_1_over_n")
    assert out.verdict is Verdict.REFUTED and out.recheck["dps"] == 60
    assert out.formula == "planted:missing_1_over_n"
    assert out.reason.endswith("; confirmed at 60 digits after mpmath Newton refinement")
    assert out.reason.startswith("layers [1, 2] exceed")

    def boom(result: TrainResult, dps: int) -> TrainResult:
        raise RuntimeError(f"no {dps} digits today")

    monkeypatch.setattr(fact_mod, "refine_mp", boom)
    out = check_fact(refined, dps=30, formula="missing_1_over_n")
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.reason.startswith("layers [1, 2] exceed")
    assert out.reason.endswith("; the re-check at 60 digits could not run (no 60 digits today), "
                               "so not REFUTED")  # fmt: skip
    assert [layer.verdict for layer in out.layers] == [Verdict.INCONCLUSIVE] * 2


def test_layers_numbers_and_reasons(converged: TrainResult) -> None:
    """F1: layers are numbered from 1, the relative error is defect / ||W^T W||, and each
    layer's reason states the comparison."""
    out = check_fact(converged)
    assert [x.layer for x in out.layers] == [1, 2] and out.formula == "F1"
    assert out.recheck == {} and "confirmed" not in out.reason  # nothing refuted, no re-check
    from verify.claims.features import layer_features
    from verify.engine.network import FLOAT64

    feats = layer_features(converged.problem, converged.theta)
    bounds = fact_mod.fact_bounds(converged.problem, converged.theta, FLOAT64)
    for x, f, b in zip(out.layers, feats, bounds, strict=True):
        assert x.rel_error == pytest.approx(x.defect / x.nfm_norm, rel=1e-12, abs=0)
        assert (x.asymmetry, x.f2_allowance, x.rounding) == (
            f.fact_asymmetry, b.f2_allowance, b.defect_rounding,
        )  # fmt: skip
        assert x.f2_allowance > 0 and x.rounding > 0
        assert x.reason.startswith("defect ")
        assert "(F2 at the certified gradient + rounding)" in x.reason
    planted = check_fact(converged, formula="sign_flipped", recheck=False)
    # ||W^T W + FACT|| = 2 ||W^T W|| up to the (tiny) FACT defect at a stationary point
    assert all(abs(x.rel_error - 2) <= 1e-6 for x in planted.layers)
    assert all(" > tolerance " in x.reason for x in planted.layers)
    assert all(x.reason.endswith("at a certified point") for x in planted.layers)


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (1.5, Verdict.REFUTED),
        (0.5, Verdict.NUMERICALLY_CONSISTENT),
        (1.0, Verdict.NUMERICALLY_CONSISTENT),  # the edge: residual == tolerance is consistent
        (float("inf"), Verdict.INCONCLUSIVE),  # overflow decides nothing
    ],
)
def test_f2_verdict_boundary(converged: TrainResult, factor: float, expected: Verdict,
                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """F2: a residual 1.5x its rounding tolerance is REFUTED, 0.5x and 1x consistent (the rule
    is residual <= tolerance, not a multiple of it); an infinite residual is INCONCLUSIVE."""
    from verify.claims.features import layer_features
    from verify.engine.network import FLOAT64

    feats = layer_features(converged.problem, converged.theta)
    bounds = fact_mod.fact_bounds(converged.problem, converged.theta, FLOAT64)
    tols = [b.f2_residual_rounding for b in bounds]
    fake = [
        type(f)(**{**f.__dict__, "f2_residual": factor * t})
        for f, t in zip(feats, tols, strict=True)
    ]
    monkeypatch.setattr(fact_mod, "layer_features", lambda *a, **k: fake)
    verdict, worst, reason = check_f2(converged)
    assert verdict is expected and worst == pytest.approx(factor, rel=1e-12)
    assert reason.startswith(f"F2 residual / rounding tolerance = {factor:.3g} (worst layer)")


def test_f2_at_higher_precision(refined: TrainResult) -> None:
    """F2: at 30 digits the F2 residual is measured in mpmath (a float64 evaluation would be
    ~1e14 times its 30-digit tolerance)."""
    verdict, worst, reason = check_f2(refined, dps=30)
    assert verdict is Verdict.NUMERICALLY_CONSISTENT and worst <= 1
    assert "at 30 digits (mpmath)" in reason
    assert "at 20 digits (mpmath)" in check_f2(refined, dps=20)[2]  # the digits asked for


def test_f2_needs_weight_decay(converged: TrainResult) -> None:
    """F2 (assumptions): lam = 0 is outside F2 (it divides by lam)."""
    from dataclasses import replace

    pb = converged.problem
    zero = replace(converged, problem=type(pb)(pb.net, pb.X, pb.Y, pb.loss, 0.0))
    with pytest.raises(OutsideAssumptionsError, match="F2 divides by the weight decay"):
        check_f2(zero)
    with pytest.raises(OutsideAssumptionsError, match=r"FACT \(F1\) assumes weight decay"):
        check_fact(zero)


def test_tolerance_limit_is_relative_to_the_nfm(
    converged: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1: a layer is decided only when its tolerance is <= MAX_TOLERANCE_REL ||W^T W||: with
    the limit at twice the worst layer's tolerance / ||W^T W|| every layer is decided, at half
    of it that layer is INCONCLUSIVE (the norms here are far from 1, so the limit must be
    multiplied by ||W^T W||, not divided)."""
    base = check_fact(converged)
    worst = max(base.layers, key=lambda x: x.tolerance / x.nfm_norm)
    assert all(abs(np.log10(x.nfm_norm)) > 0.3 for x in base.layers)
    monkeypatch.setattr(fact_mod, "MAX_TOLERANCE_REL", 2 * worst.tolerance / worst.nfm_norm)
    assert check_fact(converged).verdict is Verdict.NUMERICALLY_CONSISTENT
    monkeypatch.setattr(fact_mod, "MAX_TOLERANCE_REL", 0.5 * worst.tolerance / worst.nfm_norm)
    out = check_fact(converged)
    assert out.layers[worst.layer - 1].verdict is Verdict.INCONCLUSIVE


def test_custom_formulas_keep_their_names(converged: TrainResult) -> None:
    """F1: a callable formula is reported by its name (a nameless one as "custom"); a formula
    equal to W^T W gives defect 0, decided by the tolerance rule, not called trivial."""
    from functools import partial

    def exact_nfm(feat, n):  # noqa: ANN001, ANN202
        return feat.nfm

    out = check_fact(converged, formula=exact_nfm)
    assert out.formula == "exact_nfm" and not out.trivial
    assert all(x.defect == 0 and x.reason.startswith("defect 0 <= tolerance") for x in out.layers)
    nameless = check_fact(converged, formula=partial(exact_nfm), recheck=False)
    assert nameless.formula == "custom"


def test_fact_verdict_edges_are_inclusive(
    converged: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1: defect == tolerance is consistent (the rule is defect <= tol), and a tolerance of
    exactly MAX_TOLERANCE_REL ||W^T W|| still decides (tol <= limit). The tolerances are set
    by hand through a stand-in for the layer bounds."""
    from types import SimpleNamespace

    def off(feat, n):  # noqa: ANN001, ANN202
        return feat.fact + 1e-7 * feat.nfm  # a defect of ~1e-7 ||W^T W||, well under 1e-3

    base = check_fact(converged, formula=off, recheck=False)

    def bounds_with(tols: list[float]) -> None:
        fake = [
            SimpleNamespace(tolerance=t, f2_allowance=t, defect_rounding=0.0,
                            consistent=lambda d: True)
            for t in tols
        ]  # fmt: skip
        monkeypatch.setattr(fact_mod, "fact_bounds", lambda *a, **k: fake)

    bounds_with([x.defect for x in base.layers])  # tolerance == defect exactly
    out = check_fact(converged, formula=off, recheck=False)
    assert all(x.verdict is Verdict.NUMERICALLY_CONSISTENT for x in out.layers)
    bounds_with([fact_mod.MAX_TOLERANCE_REL * x.nfm_norm for x in base.layers])  # at the limit
    out = check_fact(converged, formula=off, recheck=False)
    assert all(x.verdict is Verdict.NUMERICALLY_CONSISTENT for x in out.layers)
