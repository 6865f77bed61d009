"""D1-D4: balancedness of deep linear networks, derived symbolically with every step checked."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from theory._records import Verdict
from theory.deep_linear.balance import derive_d1, derive_d4
from theory.deep_linear.flow import check_flow_variant, derive_flow
from theory.free_algebra import free_algebra_zero


def test_d1_proved() -> None:
    """D1: W_{j+1}^T grad_{W_{j+1}} l = grad_{W_j} l W_j^T is PROVED, every step checked."""
    r = derive_d1()
    assert r.verdict is Verdict.PROVED
    assert r.all_checked
    assert "undefined loss ell" in r.steps[-1].check  # the independent explicit route ran


@pytest.mark.parametrize(("lam_zero", "tag"), [(True, "D2"), (False, "D3")])
def test_flow_proved(lam_zero: bool, tag: str) -> None:
    """D2/D3: dD_j/dt = 0 without weight decay and -2 lam D_j with it, PROVED."""
    r = derive_flow(lam_zero)
    assert r.claim.tag == tag
    assert r.verdict is Verdict.PROVED and r.all_checked
    if not lam_zero:
        assert "exp(-2*lambda*t)" in sp.sstr(r.steps[-1].rhs)  # D3 solution step present


def test_d4_proved() -> None:
    """D4: every stationary point with lam > 0 is balanced, PROVED."""
    r = derive_d4()
    assert r.verdict is Verdict.PROVED and r.all_checked
    assert r.claim.tag == "D4"


def test_planted_rate_refuted() -> None:
    """D3: the planted false rate dD/dt = -lam D is REFUTED with an exact witness."""
    r = check_flow_variant()
    assert r.verdict is Verdict.REFUTED
    assert r.witness is not None and "dD1_dt" in r.witness
    assert json.loads(r.to_json())["verdict"] == "REFUTED"


def test_free_algebra_check_is_not_vacuous() -> None:
    """D5: the free-algebra test accepts the lemma and rejects a false rewrite."""
    a, b = sp.symbols("a b", integer=True, positive=True)
    W = sp.MatrixSymbol("W", a, b)
    assert free_algebra_zero(W.T * (W * W.T) ** 2 * W - (W.T * W) ** 3)
    assert not free_algebra_zero(W.T * (W * W.T) ** 2 * W - (W.T * W) ** 2)
    assert not free_algebra_zero(W * W.T - W.T * W)


@pytest.mark.parametrize("fn", [derive_d1, derive_d4])
def test_renderings(fn: object) -> None:
    """D1: text, LaTeX and JSON renderings carry the verdict and the steps."""
    r = fn()  # type: ignore[operator]
    assert "verdict: PROVED" in r.to_text()
    assert r"\begin{align*}" in r.to_latex()
    d = json.loads(r.to_json())
    assert d["verdict"] == "PROVED" and all(s["checked"] for s in d["steps"])
