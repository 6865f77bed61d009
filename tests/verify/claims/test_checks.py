"""Verdicts of the FACT and NFA checks: consistent, inconclusive, refuted (re-checked), outside."""

from __future__ import annotations

import pytest

from theory._errors import InputError, OutsideAssumptionsError
from theory._records import Verdict
from verify.claims.checks import check_f2, check_fact, check_nfa, report_entries
from verify.engine.network import MLP
from verify.engine.train import TrainResult, refine_mp, synthetic_problem, train


@pytest.fixture(scope="module")
def converged() -> TrainResult:
    result = train(synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0), seed=0)
    assert result.converged
    return result


def test_fact_is_consistent_at_a_certified_point(converged: TrainResult) -> None:
    """F1: every layer NUMERICALLY_CONSISTENT, relative error <= 1e-10, defect <= tolerance."""
    check = check_fact(converged)
    assert check.verdict is Verdict.NUMERICALLY_CONSISTENT
    for layer in check.layers:
        assert layer.rel_error <= 1e-10 and layer.defect <= layer.tolerance
    assert "certified stationary point" in check.reason


def test_fact_at_50_digits_after_refinement(converged: TrainResult) -> None:
    """F1: at 50 digits the check reports relative error <= 1e-40 (acceptance of the issue)."""
    check = check_fact(refine_mp(converged, 50))
    assert check.verdict is Verdict.NUMERICALLY_CONSISTENT and check.precision.startswith("50")
    assert max(layer.rel_error for layer in check.layers) <= 1e-40


def test_unrefined_point_is_not_certified_at_higher_precision(converged: TrainResult) -> None:
    """F1: a float64 point evaluated at 50 digits is INCONCLUSIVE there (F2 explains why)."""
    check = check_fact(converged, dps=50)
    assert check.verdict is Verdict.INCONCLUSIVE and "F2" in check.reason


def test_unconverged_point_is_inconclusive_with_f2_explanation() -> None:
    """F2: off convergence FACT fails, the verdict is INCONCLUSIVE and the bound explains it."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    early = train(problem, seed=0, max_iter=5, newton_steps=0)
    check = check_fact(early)
    assert check.verdict is Verdict.INCONCLUSIVE
    assert "F2" in check.reason and "max_iter" in check.reason and "To decide" in check.reason
    for layer in check.layers:
        assert layer.rel_error > 1e-3 and layer.defect <= layer.f2_bound * (1 + 1e-12)
    verdict, ratio, _ = check_f2(early)
    assert verdict is Verdict.NUMERICALLY_CONSISTENT and ratio <= 1


@pytest.mark.parametrize("name", ["sign_flipped", "missing_1_over_n"])
def test_planted_formulas_are_refuted_after_high_precision_recheck(
    converged: TrainResult, name: str
) -> None:
    """F1 (planted): false FACT variants are REFUTED, confirmed at >= 40 digits."""
    check = check_fact(converged, formula=name)
    assert check.verdict is Verdict.REFUTED
    assert check.recheck["dps"] >= 40 and check.recheck["status"] == "converged"
    assert "confirmed at" in check.reason


def test_transposed_formula_is_consistent_at_stationarity(converged: TrainResult) -> None:
    """F5: FACT^T = FACT at a stationary point, so the transposed variant is not refuted there."""
    assert check_fact(converged, formula="transposed").verdict is Verdict.NUMERICALLY_CONSISTENT


def test_fact_outside_assumptions_raises() -> None:
    """F1 (assumptions): lam = 0 is outside FACT's assumptions; the error names lam and F1."""
    problem = synthetic_problem(MLP((2, 3, 1), "tanh"), 8, lam=0.0, seed=0)
    result = train(problem, seed=0, max_iter=20, newton_steps=0)
    with pytest.raises(OutsideAssumptionsError, match=r"FACT \(F1\) assumes weight decay lam > 0"):
        check_fact(result)


def test_nfa_verdicts_and_refutation_recheck(converged: TrainResult) -> None:
    """N2: Pearson decides (cosine reported); a failure is REFUTED only after the re-check."""
    ok = check_nfa(converged, alpha=0.5, threshold=0.9)
    assert ok.verdict is Verdict.NUMERICALLY_CONSISTENT
    assert all(layer.score.cosine > 0 for layer in ok.layers)
    strict = check_nfa(converged, alpha=0.5, threshold=0.9999, layers=[1])
    assert strict.verdict is Verdict.REFUTED and strict.recheck["dps"] >= 40
    assert "confirmed at" in strict.reason
    best = check_nfa(converged, alpha=None, threshold=0.9)
    assert all(layer.score.searched for layer in best.layers)
    assert best.layers[0].score.pearson >= ok.layers[0].score.pearson


def test_nfa_is_inconclusive_off_convergence() -> None:
    """N2: an unconverged network gets INCONCLUSIVE, never REFUTED."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    early = train(problem, seed=0, max_iter=3, newton_steps=0)
    assert check_nfa(early, threshold=0.99999).verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": -1.0}, r"alpha must be a finite number > 0"),
        ({"threshold": 2.0}, r"threshold must be a correlation in \[-1, 1\]"),
        ({"layers": [3]}, r"layers must be in 1..2"),
    ],
)
def test_bad_nfa_arguments(converged: TrainResult, kwargs: dict, message: str) -> None:
    """N2 (inputs): bad NFA arguments raise InputError."""
    with pytest.raises(InputError, match=message):
        check_nfa(converged, **kwargs)


def test_bad_formula_name(converged: TrainResult) -> None:
    """F1 (inputs): an unknown formula name raises InputError."""
    with pytest.raises(InputError, match=r"formula must be 'F1' or one of"):
        check_fact(converged, formula="wrong")


def test_quick_report_entries() -> None:
    """F1, F2, N2: the quick report's entries have the expected verdicts (its speed is measured
    by benchmarks, not asserted here)."""
    entries = report_entries(quick=True)
    by = {(e.tag, e.theorem): e for e in entries}
    assert all(
        e.verdict == "NUMERICALLY_CONSISTENT" for e in entries if e.theorem and e.tag == "F1"
    )
    planted = [e for e in entries if not e.theorem and e.tag == "F1"]
    assert len(planted) == 2 and all(e.verdict == "REFUTED" for e in planted)
    assert by[("F2", True)].verdict == "NUMERICALLY_CONSISTENT"
