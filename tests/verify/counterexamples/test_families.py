"""Built-in counterexample families (REFERENCE section 6): N2, F1, D2, D4.

The quadratic witness is certified once per module (about 10 s) and shared.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from theory._errors import InputError
from theory._records import Verdict
from verify.counterexamples import report_entries
from verify.counterexamples.families import (
    FAMILIES,
    adam,
    dead_relu_problem,
    quadratic_problem,
    run_family,
)
from verify.engine.network import mp_backend
from verify.engine.train import train


@pytest.fixture(scope="module")
def quadratic():  # type: ignore[no-untyped-def]
    return run_family("quadratic", "nfa", quick=True)


def test_quadratic_family_certified_nfa_failure(quadratic) -> None:  # type: ignore[no-untyped-def]
    """N2: best-alpha max(Pearson, cosine) <= 0.5 at a 50-digit stationary point, re-checked."""
    cert = quadratic.certificate
    assert quadratic.verdict is Verdict.REFUTED
    d = cert.to_dict()
    assert d["nfa_best_correlation"] <= 0.5
    assert d["grad_norm_dps"] <= 1e-45 and d["dps"] == 50
    assert cert.recheck["agrees"] and cert.recheck["dps"] == 70
    grid = [row[0] for row in d["nfa"]["layers"][0]["by_alpha"]]
    assert min(grid) == 0.125 and max(grid) == 1.0 and 0.5 in grid


def test_quadratic_family_fact_holds(quadratic) -> None:  # type: ignore[no-untyped-def]
    """F1: FACT holds at the same witness to 1e-40 (it is a theorem)."""
    fact = quadratic.certificate.fact
    assert fact and max(r["rel_error"] for r in fact) <= 1e-40
    assert all(r["rel_error"] <= r["tolerance"] for r in fact)


def test_quadratic_closed_form_at_witness(quadratic) -> None:  # type: ignore[no-untyped-def]
    """N2: W^T W = 2^{1/3} |A|^{2/3}, A = W^T diag(a) W, at the certified witness (section 6)."""
    cert = quadratic.certificate
    be = mp_backend(50)
    (W, _), (a, _) = cert.problem.net.unflatten(cert.point.theta_mp)
    with be.working():
        A = W.T @ (W * a.reshape(-1, 1))
        vals, vecs = be.eigh(A)
        absA23 = (vecs * np.array([abs(v) ** (mpmath.mpf(2) / 3) for v in vals])) @ vecs.T
        gap = W.T @ W - mpmath.cbrt(2) * absA23
        rel = float(mpmath.sqrt(np.sum(gap * gap)) / mpmath.sqrt(np.sum((W.T @ W) ** 2)))
    # why 1e-30: the identity is exact at a stationary point; 50-digit rounding amplified by
    # the conditioning of the heavy direction (lam ~ 5e-9) stays far below this
    assert rel < 1e-30


def test_quadratic_sequence_falls_with_anisotropy(quadratic) -> None:  # type: ignore[no-untyped-def]
    """N2: the best-alpha correlation falls from ~1 (isotropic) to <= 0.5 as kappa grows."""
    corr = [row["best_correlation"] for row in quadratic.sequence]
    assert corr[0] > 0.99 and corr[-1] <= 0.5
    assert all(b <= a + 1e-6 for a, b in zip(corr, corr[1:], strict=False))


def test_quadratic_problem_validates_kappa() -> None:
    """N2: kappa must be >= 1."""
    with pytest.raises(InputError, match="kappa must be >= 1"):
        quadratic_problem(0.5)


def test_deep_linear_unbalanced_nfa_and_balance_fail() -> None:
    """D4, D5: without weight decay an unbalanced stationary point violates balance and the
    NFA with alpha = 1/L; the defect grows with the initial unbalance s."""
    nfa = run_family("deep-linear-unbalanced", "nfa", quick=True)
    bal = run_family("deep-linear-unbalanced", "balance", quick=True)
    assert nfa.verdict is Verdict.REFUTED and bal.verdict is Verdict.REFUTED
    assert nfa.certificate is not None and nfa.certificate.point.problem.lam == 0
    imb = [row["imbalance_rel"] for row in nfa.sequence]
    assert imb == sorted(imb)
    assert nfa.sequence[-1]["corr_alpha_1/2"] < 0.5


def test_dead_relu_unit_never_moves() -> None:
    """N2: a unit inactive on every sample keeps its initial weights (lam = 0), so it stays in
    W^T W and not in the AGOP; the NFA fails, certified."""
    problem, theta0 = dead_relu_problem(4.0)
    res = train(problem, theta0=theta0, spectrum="none")
    assert res.converged
    np.testing.assert_array_equal(res.theta[:3], theta0[:3])
    fam = run_family("dead-relu", "nfa", quick=True)
    assert fam.verdict is Verdict.REFUTED
    assert fam.certificate is not None and fam.certificate.to_dict()["nfa_best_correlation"] < 0.3


def test_adamw_violates_hypothesis_not_theorem() -> None:
    """F1: AdamW's end point breaks FACT's identity but is not stationary: outcome "hypothesis
    not met", verdict INCONCLUSIVE, never REFUTED; Adam with L2 agrees with FACT up to its
    residual (F2)."""
    res = run_family("adamw", "fact", quick=True)
    adam_row, adamw_row = res.sequence
    assert res.verdict is Verdict.INCONCLUSIVE and res.claim.tag == "F1"
    assert res.outcome == "hypothesis_not_met" and res.to_dict()["outcome"] == "hypothesis_not_met"
    assert "hypothesis, not the theorem" in res.reason
    assert "outcome: hypothesis not met" in res.to_text()
    assert adamw_row["fact_rel_error_max"] > 0.5 and adamw_row["grad_L_lam"] > 1e-3
    assert adam_row["fact_rel_error_max"] <= adam_row["f2_bound_rel_max"] * 1.0001
    assert res.extra["explained_by_f2"]


def test_adam_l2_converges_toward_stationary_point() -> None:
    """F2: more Adam (L2) steps shrink ||grad L_lam||, and with it the FACT defect bound."""
    res = run_family("adamw", "fact", quick=True)
    problem, _ = res.point
    theta0 = problem.net.init(0)
    _, short = adam(problem, theta0, decoupled=False, steps=500)
    _, long = adam(problem, theta0, decoupled=False, steps=3000)
    assert long["grad_L_lam"] < short["grad_L_lam"]


def test_family_claim_table() -> None:
    """N2: every family names the claims it speaks about; others are bad input."""
    assert set(FAMILIES) == {"quadratic", "deep-linear-unbalanced", "dead-relu", "adamw"}
    with pytest.raises(InputError, match="claim must be one of"):
        run_family("dead-relu", "fact")
    with pytest.raises(InputError, match="family must be one of"):
        run_family("cubic", "nfa")


@pytest.mark.slow
def test_report_entries_quick() -> None:
    """F1, N2, D4: the quick report certifies every family; only FACT is a theorem."""
    entries = report_entries(quick=True, seed=0)
    theorems = [e for e in entries if e.theorem]
    assert len(theorems) == 1 and theorems[0].verdict == "NUMERICALLY_CONSISTENT"
    adamw = [e for e in entries if "adamw" in e.claim]
    assert len(adamw) == 1 and adamw[0].verdict == "INCONCLUSIVE"
    assert adamw[0].data["outcome"] == "hypothesis_not_met"
    assert all(e.verdict == "REFUTED" for e in entries if not e.theorem and e not in adamw)
    assert all(e.section == "Counterexamples" for e in entries)
    # speed is measured by benchmarks/bench_counterexamples.py, never asserted in tests
