"""The certification rules behind every counterexample (N2, F1, D4), each with a test that fails
when the rule is broken: a point above its gradient floor is never certified, nor scored; the
re-check at dps + 20 digits is never skipped; an undefined score is never a violation; a family
is never REFUTED without a certificate; the high-precision Newton never claims a certification
it did not reach."""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from theory._records import Verdict
from verify.counterexamples.claims import Evaluation, custom_claim, nfa_claim
from verify.counterexamples.family_result import FamilyResult
from verify.engine.network import MLP, Problem
from verify.engine.result import Status
from verify.engine.train import TrainResult, refine_mp, train

#: the module (the package re-exports its function ``certify`` under the same name)
cert_mod = importlib.import_module("verify.counterexamples.certify")


@pytest.fixture(scope="module")
def setting() -> tuple[Problem, TrainResult, TrainResult]:
    """A small tanh network certified at 50 and at 70 digits."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 3))
    problem = Problem(MLP((3, 4, 2), "tanh"), X, np.tanh(X[:, :2]), "mse", 1e-2)
    base = train(problem, seed=1, spectrum="none")
    assert base.converged
    p50, p70 = refine_mp(base, 50), refine_mp(base, 70)
    assert p50.converged and p70.converged
    return problem, p50, p70


def _fake_polish(points: dict[int, TrainResult], calls: list[int]) -> Any:
    def polish(problem: Problem, theta: Any, dps: int = 50, **kw: Any) -> TrainResult:
        calls.append(dps)
        return points[dps]

    return polish


def _spy_claim(violation: float, seen: list[int]) -> Any:
    """A claim with a fixed violation (threshold 0.5); records the precision it was scored at."""

    def score(problem: Problem, theta: Any, be: Any) -> float:
        seen.append(be.dps)
        return violation

    return custom_claim("spy", score, 0.5)


def _above_floor(p: TrainResult) -> TrainResult:
    return replace(p, grad_norm_mp=2 * (p.grad_floor_mp or 1.0))


@pytest.mark.parametrize(
    "spoil",
    [lambda p: replace(p, status=Status.MAX_ITER), _above_floor, lambda p: replace(p, dps=40)],
    ids=["not converged", "gradient above its floor", "lower precision"],
)
def test_point_above_its_floor_is_never_scored(setting, spoil, monkeypatch) -> None:  # noqa: ANN001
    """N2: whatever the refinement reports, a point whose gradient is above its floor (or that did
    not converge, or at fewer digits) gives INCONCLUSIVE and the claim is not even scored."""
    problem, p50, p70 = setting
    calls: list[int] = []
    seen: list[int] = []
    monkeypatch.setattr(cert_mod, "polish", _fake_polish({50: spoil(p50), 70: p70}, calls))
    c = cert_mod.certify(_spy_claim(1.0, seen), problem, p50.theta)
    assert c.verdict is Verdict.INCONCLUSIVE and c.evaluation is None
    assert seen == [] and "not a certified stationary point" in c.reason


def test_violation_is_rechecked_at_70_digits(setting, monkeypatch) -> None:  # noqa: ANN001
    """N2: a violation confirmed at 70 digits is REFUTED, and the 70-digit polish did run."""
    problem, p50, p70 = setting
    calls: list[int] = []
    seen: list[int] = []
    monkeypatch.setattr(cert_mod, "polish", _fake_polish({50: p50, 70: p70}, calls))
    c = cert_mod.certify(_spy_claim(1.0, seen), problem, p50.theta)
    assert c.verdict is Verdict.REFUTED
    assert calls == [50, 70] and seen == [50, 70]
    assert c.recheck["dps"] == 70 and c.recheck["agrees"] and c.recheck["certified"]


@pytest.mark.parametrize("spoil", [lambda p: replace(p, status=Status.MAX_ITER), _above_floor],
                         ids=["not converged", "above its floor"])  # fmt: skip
def test_recheck_that_does_not_certify_is_not_a_refutation(setting, spoil, monkeypatch) -> None:  # noqa: ANN001
    """N2: if the 70-digit point is not certified, the 50-digit violation is INCONCLUSIVE."""
    problem, p50, p70 = setting
    monkeypatch.setattr(cert_mod, "polish", _fake_polish({50: p50, 70: spoil(p70)}, []))
    c = cert_mod.certify(_spy_claim(1.0, []), problem, p50.theta)
    assert c.verdict is Verdict.INCONCLUSIVE and "NOT confirmed" in c.reason


def test_recheck_that_disagrees_is_not_a_refutation(setting, monkeypatch) -> None:  # noqa: ANN001
    """N2: a violation whose value moves between 50 and 70 digits is INCONCLUSIVE."""
    problem, p50, p70 = setting
    monkeypatch.setattr(cert_mod, "polish", _fake_polish({50: p50, 70: p70}, []))

    def drifting(problem: Problem, theta: Any, be: Any) -> float:
        return 1.0 if be.dps == 50 else 0.9

    c = cert_mod.certify(custom_claim("drift", drifting, 0.5), problem, p50.theta)
    assert c.verdict is Verdict.INCONCLUSIVE and not c.recheck["agrees"]


def test_undefined_score_is_never_a_violation() -> None:
    """N2: an undefined correlation (zero matrix) is not a failure of the claim."""
    assert Evaluation(1.0, 0.1, "x").fails
    assert not Evaluation(1.0, 0.1, "x", undefined=True).fails


def test_nfa_claim_at_all_zero_weights_is_undefined() -> None:
    """N2: at all-zero weights W^T W = 0 = AGOP: the NFA score is undefined, not a violation."""
    from verify.counterexamples.claims import Witness

    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    problem = Problem(MLP((3, 4, 2), "tanh"), X, X[:, :2], "mse", 0.0)
    ev = nfa_claim(0.5, 0.9, lam_policy="zero").score(Witness(problem, np.zeros(20)))
    assert ev.undefined and not ev.fails


def test_family_refuted_needs_a_certificate() -> None:
    """N2: a family result cannot be REFUTED without its certificate (planted or not)."""
    claim = nfa_claim(0.5, 0.9)
    with pytest.raises(ValueError, match="without a certificate"):
        FamilyResult("x", claim, Verdict.REFUTED, "no witness", "s", [], None)
    FamilyResult("x", claim, Verdict.INCONCLUSIVE, "no witness", "s", [], None)


def test_high_precision_newton_never_claims_what_it_did_not_reach() -> None:
    """N2, F1: from a far point with one robust step, the mpmath Newton does not reach the floor,
    and then it does not report a converged point; whenever it reports one, the reported gradient
    is at or below the reported floor."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 3))
    problem = Problem(MLP((3, 4, 2), "tanh"), X, np.tanh(X[:, :2]), "mse", 1e-2)
    far = train(problem, seed=3, max_iter=2, newton_steps=0, spectrum="none")
    assert not far.converged
    out = refine_mp(far, 30, max_steps=0, robust_steps=1)
    assert out.status is not Status.CONVERGED
    assert out.grad_norm_mp > out.grad_floor_mp
    good = refine_mp(train(problem, seed=3, spectrum="none"), 30)
    assert good.converged and good.grad_norm_mp <= good.grad_floor_mp


def test_certificate_record_with_the_real_refinement(setting) -> None:  # noqa: ANN001
    """N2, F1: with the engine's own refinement, a failing claim is REFUTED at 50 digits after
    the 70-digit re-check, and the certificate carries the point, the score, FACT per layer,
    the NFA table and the origin; a claim that holds is consistent with no re-check."""
    problem, p50, _ = setting
    strict = nfa_claim(0.5, 0.999999, layers=None)
    c = cert_mod.certify(strict, problem, p50.theta, origin={"from": "test"})
    assert c.verdict is Verdict.REFUTED and c.claim is strict and c.origin == {"from": "test"}
    assert c.point.dps == 50 and c.point.converged and c.problem is problem
    assert c.evaluation is not None and c.evaluation.fails
    assert c.recheck["dps"] == 70 and c.recheck["certified"] and c.recheck["agrees"]
    assert c.recheck["violation"] == pytest.approx(c.evaluation.violation, rel=1e-10)
    assert c.reason.startswith("counterexample at a certified stationary point, confirmed at 70")
    assert [r["layer"] for r in c.fact] == [1, 2] and all(r["rel_error"] < 1e-30 for r in c.fact)
    assert [r["layer"] for r in c.nfa["layers"]] == [1, 2]
    loose = nfa_claim(0.5, 0.01, layers=None)
    ok = cert_mod.certify(loose, problem, p50.theta)
    assert ok.verdict is Verdict.NUMERICALLY_CONSISTENT and ok.recheck == {} and ok.origin == {}
    assert ok.reason.startswith("the claim holds at this certified point (50 digits)")


def test_certify_refuses_a_claim_outside_its_setting(setting) -> None:  # noqa: ANN001
    """N2 (inputs): a claim about lam = 0 cannot be certified on a weight-decayed problem."""
    from theory._errors import InputError

    problem, p50, _ = setting
    with pytest.raises(InputError, match="claim must apply to the witness"):
        cert_mod.certify(nfa_claim(0.5, 0.9, lam_policy="zero"), problem, p50.theta)


def test_polish_restarts_from_the_float64_rounding(setting) -> None:  # noqa: ANN001
    """N2: polish refines from the float64 rounding of the given point to the asked digits."""
    problem, p50, _ = setting
    out = cert_mod.polish(problem, p50.theta_mp, 40)
    assert out.converged and out.dps == 40 and out.grad_norm_mp <= out.grad_floor_mp
    assert out.problem is problem
    np.testing.assert_allclose(out.theta, p50.theta, rtol=0, atol=1e-12)


def test_uncertified_point_keeps_its_record(setting, monkeypatch) -> None:  # noqa: ANN001
    """N2: a certificate of a point that did not certify names the claim and the refined point
    (at the digits asked for), carries no score, re-check, FACT or NFA, and keeps the origin."""
    problem, p50, p70 = setting
    calls: list[int] = []
    spoiled = replace(p50, status=Status.MAX_ITER)
    monkeypatch.setattr(cert_mod, "polish", _fake_polish({50: spoiled, 70: p70}, calls))
    claim = _spy_claim(1.0, [])
    c = cert_mod.certify(claim, problem, p50.theta, origin={"from": "test"})
    assert calls == [50] and c.claim is claim and c.point is spoiled
    assert (c.evaluation, c.recheck, c.fact, c.nfa) == (None, {}, [], {})
    assert c.origin == {"from": "test"} and c.problem is problem
    assert cert_mod.certify(claim, problem, p50.theta).origin == {}
    monkeypatch.setattr(cert_mod, "polish", _fake_polish({70: p70}, calls))
    holds = _spy_claim(0.0, [])
    assert cert_mod.certify(holds, problem, p50.theta, dps=70).point is p70 and calls[-1] == 70


def test_undefined_score_at_a_certified_point_is_inconclusive(setting, monkeypatch) -> None:  # noqa: ANN001
    """N2: a certified point where the claim's score is undefined gives INCONCLUSIVE, with no
    re-check (an undefined score is not a violation to confirm)."""
    from verify.counterexamples.claims import Claim

    problem, p50, p70 = setting
    calls: list[int] = []
    monkeypatch.setattr(cert_mod, "polish", _fake_polish({50: p50, 70: p70}, calls))
    claim = Claim("undef", "N2", "undefined", lambda w: Evaluation(0.0, 0.5, "0/0",
                                                                      undefined=True))  # fmt: skip
    c = cert_mod.certify(claim, problem, p50.theta)
    assert c.verdict is Verdict.INCONCLUSIVE and calls == [50] and c.recheck == {}
    assert c.reason.startswith("the claim's score is undefined at this point")


def test_polish_uses_the_engine_refinement_with_its_budget(setting, monkeypatch) -> None:  # noqa: ANN001
    """N2: polish restarts from a float64 evaluation (no spectrum) and runs the engine's mpmath
    Newton with 6 fast and 12 robust steps, or the budget asked for."""
    problem, p50, _ = setting
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cert_mod, "refine_mp", lambda start, *a: seen.append((start, *a)))
    real_evaluate = cert_mod.evaluate
    spectra: list[Any] = []

    def spy_evaluate(problem: Problem, theta: Any, **kw: Any) -> TrainResult:
        spectra.append(kw)
        return real_evaluate(problem, theta, **kw)

    monkeypatch.setattr(cert_mod, "evaluate", spy_evaluate)
    cert_mod.polish(problem, p50.theta_mp, 40)
    cert_mod.polish(problem, p50.theta_mp, 30, max_steps=2, robust_steps=3)
    assert [s[1:] for s in seen] == [(40, 6, 12), (30, 2, 3)]
    assert spectra == [{"spectrum": "none"}] * 2


def test_side_information_at_the_witness(setting) -> None:  # noqa: ANN001
    """F1, N2: the certificate reports FACT per layer when lam > 0 and none when lam = 0, and
    the NFA table over the exponent grid (best alpha searched) with threshold 0.5."""
    from verify.counterexamples.claims import Witness

    problem, p50, _ = setting
    fact, nfa = cert_mod._side_info(Witness(problem, p50.theta_mp, cert_mod.mp_backend(50)))
    assert [r["layer"] for r in fact] == [1, 2]
    assert len(nfa["layers"][0]["by_alpha"]) > 1
    flat = Problem(problem.net, problem.X, problem.Y, problem.loss, 0.0)
    fact0, _ = cert_mod._side_info(Witness(flat, p50.theta, cert_mod.mp_backend(50)))
    assert fact0 == []


def test_boundaries_of_the_rules(setting, monkeypatch) -> None:  # noqa: ANN001
    """N2: a gradient exactly at its floor is certified; two violations that differ by exactly
    the agreement tolerance (1e-10 relative, at least 1e-10 absolute) agree."""
    problem, p50, p70 = setting
    at_floor = replace(p50, grad_norm_mp=p50.grad_floor_mp)
    assert cert_mod._certified(at_floor, 50) and not cert_mod._certified(at_floor, 51)
    monkeypatch.setattr(cert_mod, "polish", _fake_polish({50: p50, 70: p70}, []))

    def edge(problem: Problem, theta: Any, be: Any) -> float:
        return 0.0 if be.dps == 50 else 1e-10

    c = cert_mod.certify(custom_claim("edge", edge, -1.0), problem, p50.theta)
    assert c.recheck["agrees"] and c.verdict is Verdict.REFUTED
