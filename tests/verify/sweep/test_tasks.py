"""Sweep task adapters: each point runs the toolkit's own code, with its verdict."""

from __future__ import annotations

from typing import Any

import pytest

from verify.claims.checks import check_fact, check_nfa
from verify.engine.network import MLP
from verify.engine.train import synthetic_problem, train
from verify.rfm.experiments import run_parity
from verify.sweep.tasks import TASKS, run_point


def _params(task: str, **kw: Any) -> dict[str, Any]:
    t = TASKS[task]
    return {**t.defaults(), **{k: t.param(k).coerce(v) for k, v in kw.items()}}


def test_verify_nfa_point_is_factcheck_verify_nfa() -> None:
    """N2: the verify-nfa adapter gives the verdict and numbers of check_nfa/check_fact on the
    same training (quadratic, width 4, lam 1e-3: a re-checked NFA failure at alpha 1/2)."""
    p = _params("verify-nfa", activation="quadratic", width=4, lam=1e-3)
    out = run_point("verify-nfa", p)
    rec = out["record"]
    result = train(synthetic_problem(MLP((4, 4, 2), "quadratic"), 32, lam=1e-3, seed=0), seed=0)
    nfa = check_nfa(result, alpha=0.5, threshold=0.9)
    fact = check_fact(result)
    assert rec["verdict"] == nfa.verdict.value == "REFUTED"
    worst = min(x.score.pearson for x in nfa.layers)
    assert rec["values"]["pearson"] == worst and rec["values"]["nfa_violation"] == 1 - worst
    assert rec["values"]["fact_rel_error"] == max(x.rel_error for x in fact.layers)
    assert rec["values"]["fact_verdict"] == "NUMERICALLY_CONSISTENT"
    assert out["version"] and ":" in out["worker"] and out["seconds"] > 0


def test_verify_fact_point_at_lam_zero_and_a_non_certified_point() -> None:
    """F1: FACT at a certified point is NUMERICALLY_CONSISTENT to rounding; a run cut short
    (max_iter 3) is INCONCLUSIVE, never REFUTED; verify-nfa at lam = 0 has no FACT values."""
    rec = run_point("verify-fact", _params("verify-fact", width=3, n=12))["record"]
    assert rec["verdict"] == "NUMERICALLY_CONSISTENT" and rec["values"]["fact_rel_error"] < 1e-12
    short = run_point("verify-fact", _params("verify-fact", width=3, n=12, max_iter=3))["record"]
    assert short["verdict"] == "INCONCLUSIVE" and short["values"]["certified"] == 0
    zero = run_point("verify-nfa", _params("verify-nfa", width=3, n=12, lam=0.0))["record"]
    assert "fact_rel_error" not in zero["values"]
    assert zero["values"]["fact_verdict"].startswith("not applicable")


def test_fact_gd_defect_obeys_f2_and_falls_with_iterations() -> None:
    """F2: along gradient descent the FACT defect is at most the F2 bound ||W|| ||grad|| / lam
    (relative to ||W^T W||) and falls with the number of steps; every GD point is INCONCLUSIVE;
    certified training reaches FACT to rounding."""
    rels = []
    for iters in (10, 100, 1000):
        rec = run_point("fact-gd", _params("fact-gd", iters=iters))["record"]
        v = rec["values"]
        assert rec["verdict"] == "INCONCLUSIVE" and v["steps"] == iters
        # why 1e-12: the F2 bound is exact; only rounding of the two norms separates them
        assert v["fact_rel_error"] <= v["f2_bound_rel"] * (1 + 1e-12)
        rels.append(v["fact_rel_error"])
    assert rels[0] > rels[1] > rels[2]
    cert = run_point("fact-gd", _params("fact-gd", iters=1000, optimizer="certified"))["record"]
    assert cert["verdict"] == "NUMERICALLY_CONSISTENT" and cert["values"]["fact_rel_error"] < 1e-12


def test_rfm_parity_point_is_run_parity_at_that_n() -> None:
    """RFM: an rfm-parity point is run_parity with one sample size and one method."""
    p = _params("rfm-parity", d=10, k=2, n=60, n_test=200, method="nfa")
    rec = run_point("rfm-parity", p)["record"]
    res = run_parity(d=10, k=2, n_values=[60], methods=["nfa"], n_test=200, seed=0)
    assert rec["verdict"] is None
    assert rec["values"]["test_acc"] == res.test_acc["nfa"][0]
    assert rec["values"]["top_eigvec_hidden_mass"] == res.top_eigvec_hidden_mass["nfa"][0]


def test_rfm_modular_point_runs() -> None:
    """RFM: an rfm-modular point records final accuracies and the circulant share."""
    rec = run_point("rfm-modular", _params("rfm-modular", p=7, iters=2))["record"]
    assert 0 <= rec["values"]["test_acc"] <= 1 and rec["values"]["train_acc"] == 1.0


def test_counterexample_point_certifies_and_can_refute() -> None:
    """N2: a quadratic family member is certified at 50 digits: the NFA holds at threshold 0.9
    (kappa 10), and the same member is REFUTED (confirmed at 70 digits) at threshold 0.999."""
    holds = run_point("counterexample", _params("counterexample", scale=10.0))["record"]
    assert holds["verdict"] == "NUMERICALLY_CONSISTENT" and holds["values"]["certified"] == 1
    strict = _params("counterexample", scale=10.0, threshold=0.999)
    refuted = run_point("counterexample", strict)["record"]
    assert refuted["verdict"] == "REFUTED" and "confirmed at 70 digits" in refuted["reason"]
    assert refuted["values"]["violation"] == pytest.approx(holds["values"]["violation"], rel=1e-9)


def test_non_finite_numbers_never_reach_a_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """N2: NaN or inf from an adapter is stored as None (no NaN into JSON or a verdict)."""
    import verify.sweep.tasks.rfm as rfm_tasks

    def fake(p: dict[str, Any]) -> dict[str, Any]:
        return {"verdict": None, "reason": "", "values": {"a": float("nan"), "b": 1, "c": "x"}}

    monkeypatch.setattr(rfm_tasks, "modular_point", fake)
    rec = run_point("rfm-modular", _params("rfm-modular"))["record"]
    assert rec["values"] == {"a": None, "b": 1, "c": "x"}


def test_emergence_point_is_one_seed_of_the_emergence_experiment() -> None:
    """S4: the emergence adapter records what run_seed gives for the same configuration (the
    network's share and error, its control, the best fixed-feature model), no verdict of its
    own; an odd width is refused by the experiment's own rules before anything runs."""
    from theory import InputError
    from verify.emergence import EmergenceConfig, EmergenceModel, Schedule
    from verify.emergence.experiment import run_seed
    from verify.sweep.spec import SweepSpec

    small = dict(n_train=200, n_test=100, width=16, steps=10, rf_size=32, kernel_n=100, seed=1)
    rec = run_point("emergence", _params("emergence", **small))["record"]
    config = EmergenceConfig(
        model=EmergenceModel(), schedule=Schedule(width=16, steps=10), n_train=200, n_test=100,
        seed=1, seeds=1, rf_sizes=(32,), kernel_n=(100,), rfm=False, certified=False,
    )  # fmt: skip
    res = run_seed(config, 1)
    v = rec["values"]
    assert rec["verdict"] is None
    assert v["share"] == res.network.final.share and v["test_error"] == res.network.final.test_error
    assert v["control_share"] == res.control.final.share
    assert v["baseline_error"] == res.best_baseline.test_error
    assert v["advantage"] == res.best_baseline.test_error - res.network.final.test_error
    assert v["cert_fact_verdict"] is None and v["nfa_rfm_share"] is None
    with pytest.raises(InputError, match="width must be an even integer"):
        SweepSpec.from_mapping({"task": "emergence", "grid": {"width": [16, 17]}}).points()
