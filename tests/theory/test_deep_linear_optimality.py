"""D4 then D5/D6 in one derivation: from grad L_lam = 0, lam > 0 to W_j^T W_j = AGOP^(1/k)."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from theory._records import Verdict
from theory.deep_linear import optimality as opt
from theory.deep_linear.optimality import derive_nfa_deep_linear


def test_depth3_from_stationarity_to_root(capsys: pytest.CaptureFixture[str]) -> None:
    """D5: `derive nfa-deep-linear --depth 3 --format json` starts at (stat), derives D_1 = D_2 = 0,
    ends at W_1^T W_1 = AGOP^(1/3), every derived step checked, PROVED (the issue's acceptance)."""
    from verify.cli.main import main

    assert main(["derive", "nfa-deep-linear", "--depth", "3", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "PROVED" and d["tag"] == "D5"
    steps = d["steps"]
    assert steps[0]["kind"] == "assumption" and steps[0]["check"] == "stat"
    assert steps[0]["rhs"] == "0"
    derived = [s for s in steps if s["kind"] == "derived"]
    assert derived and all(s["checked"] for s in derived)
    assert {s["kind"] for s in steps} == {"assumption", "derived"}
    # D_j = 0 for j = 1, 2 is derived, then used by the telescoping
    balanced = [s for s in steps if s["lhs"].startswith("-W_") and s["rhs"] == "0"]
    assert len(balanced) == 2
    assert steps[-1]["lhs"] == "W_1.T*W_1" and steps[-1]["rhs"] == "AGOP**(1/3)"
    assert any("balancedness (derived above" in s["justification"] for s in steps)
    assert {a["label"] for a in d["assumptions"]} >= {"stat", "lam>0", "loss"}


@pytest.mark.parametrize(("L", "j"), [(2, 1), (4, 1), (4, 3)])
def test_every_depth_and_layer(L: int, j: int) -> None:
    """D6: from stationarity, layer j gets alpha = 1/(L - j + 1), PROVED."""
    r = derive_nfa_deep_linear(L, j)
    assert r.verdict is Verdict.PROVED and r.all_checked
    assert r.claim.rhs.exp == sp.Rational(1, L - j + 1)
    assert r.claim.tag == ("D5" if j == 1 else "D6")


def test_failed_step_is_not_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    """D4: a derivation whose D_j step fails to check is not PROVED (the conclusion never
    ignores a failed step)."""
    real = opt._explicit_check
    monkeypatch.setattr(
        opt, "_explicit_check", lambda L, what: (False, "FAILS") if what == "D_1" else real(L, what)
    )
    opt._derive.cache_clear()
    try:
        r = opt._derive(2, 1)
    finally:
        opt._derive.cache_clear()
    assert r.verdict is Verdict.INCONCLUSIVE
    assert not r.all_checked and "did not check" in r.reason


def test_explicit_route_fails_for_a_wrong_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    """D4: the explicit undefined-loss check rejects a gradient formula with a transposed G
    (it is a real check, not an echo)."""
    Ws, grads, formulas, lam_v = opt._explicit_grads(3, 0)
    assert all(opt.matrices_equal(g, f) for g, f in zip(grads, formulas, strict=True))
    wrong = [f + lam_v * w for f, w in zip(formulas, Ws, strict=True)]  # decay counted twice
    assert not any(opt.matrices_equal(g, f) for g, f in zip(grads, wrong, strict=True))
