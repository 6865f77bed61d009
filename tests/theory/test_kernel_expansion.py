"""Symbolic K1, K2 and the KRR residual identity at explicit sizes (theory/kernel_expansion.py)."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from theory import Verdict
from theory import kernel_expansion as ke

SIZES = [(3, 2, 1), (2, 3, 2)]


@pytest.mark.parametrize(("n", "d", "c"), SIZES)
def test_residual_identity_proved(n: int, d: int, c: int) -> None:
    """K2 (residual identity): f(x_i) - y_i = -r alpha_i reduces to 0, two routes."""
    der = ke.derive_residual_identity(n, d, c)
    assert der.verdict is Verdict.EXACT_AT_SIZES
    assert der.all_checked and len(der.steps) == 2


@pytest.mark.parametrize(("n", "d", "c"), SIZES)
def test_agop_expansion_proved(n: int, d: int, c: int) -> None:
    """K1: AGOP = M S_tau M, gradients by entrywise diff against the closed form."""
    der = ke.derive_agop_expansion(n, d, c)
    assert der.verdict is Verdict.EXACT_AT_SIZES, der.to_text()
    assert len(der.steps) == c + 1 and der.all_checked


@pytest.mark.parametrize(("n", "d", "c"), SIZES)
def test_fact_expansion_proved(n: int, d: int, c: int) -> None:
    """K2: FACT = (r/(n lam)) M S_k', and FACT M is symmetric."""
    der = ke.derive_fact_expansion(n, d, c)
    assert der.verdict is Verdict.EXACT_AT_SIZES, der.to_text()
    assert der.all_checked and len(der.steps) == 2


@pytest.mark.parametrize("der", ke.planted_false_variants(), ids=lambda d: d.claim.name)
def test_planted_variants_refuted(der: ke.Derivation) -> None:
    """K1/K2 quality tier: flipped sign, missing 1/n, transposed M S, T -> K' are REFUTED."""
    assert der.verdict is Verdict.REFUTED
    assert der.witness is not None and der.witness["kernel"] == "k(t) = t^3/3 + t"
    assert not der.all_checked


def test_fixed_sizes_are_not_proved() -> None:
    """K1/K2: exact at n=3, d=2, c=1 only: EXACT_AT_SIZES, with the sizes in the reason."""
    der = ke.derive_agop_expansion(3, 2, 1)
    assert der.verdict is Verdict.EXACT_AT_SIZES and der.verdict is not Verdict.PROVED
    assert "n=3, d=2, c=1" in der.reason and "not a proof for all sizes" in der.reason
    assert "not a proof for all sizes" in der.verdict.evidence
    assert der.verdict.supports


def test_renderings() -> None:
    """K2: the derivation renders as text, LaTeX and JSON with its tag."""
    der = ke.derive_fact_expansion()
    assert der.to_text().startswith("[K2] FACT kernel expansion")
    assert "\\begin{align*}" in der.to_latex()
    data = json.loads(der.to_json())
    assert data["tag"] == "K2" and data["verdict"] == "EXACT_AT_SIZES"
    assert data["reference"]["arxiv"] == "2507.05644"


def test_example_inputs_distinct() -> None:
    """K1: the explicit data have distinct nonzero rational rows (so the sizes are generic)."""
    X = ke.example_inputs(5, 3)
    rows = [tuple(X.row(i)) for i in range(5)]
    assert len(set(rows)) == 5 and all(any(r) for r in rows)
    assert all(isinstance(v, sp.Rational) for v in X)


def test_canon_writes_kprime() -> None:
    """K1: chain-rule Subs(Derivative(k)) objects become k'(expanded argument)."""
    S = ke.expansion_setup(2, 2, 1)
    g = sp.diff(S.k(S.ip(S.x, S.centre(0))), S.x[0])
    assert not S.canon(g).has(sp.Subs) and S.canon(g).has(S.kp)
