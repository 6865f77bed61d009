"""Trusted matrix calculus: never SymPy's silent zero, never a guess."""

from __future__ import annotations

import pytest
import sympy as sp

import theory.matrix_calculus as mc
from theory import InputError, MatrixCalculusError
from theory.matrix_calculus import explicit_instance, gradient, matrices_equal, size_assignments

n, m, d, lam = sp.symbols("n m d lambda", positive=True)
W = sp.MatrixSymbol("W", m, d)
X = sp.MatrixSymbol("X", d, n)
Y = sp.MatrixSymbol("Y", m, n)
R = W * X - Y


def _agrees_with(expr: sp.Expr, grad: sp.Expr, expected: sp.Expr) -> bool:
    """The gradient equals ``expected`` exactly at two explicit size assignments."""
    for k, sz in enumerate(size_assignments([m, d, n])):
        _, mapping = explicit_instance(expr, sz, {W: "w"}, seed=k)
        got = mc._to_explicit(grad.xreplace(mapping).xreplace(sz))
        want = mc._to_explicit(expected.xreplace(mapping).xreplace(sz))
        if not matrices_equal(got, want):
            return False
    return True


def test_silent_zero_regression() -> None:
    """F1: grad of Tr(R^T R)/(2n) + lam/2 Tr(W^T W) is (WX - Y)X^T/n + lam W, not SymPy's 0."""
    expr = sp.Trace(R.T * R) / (2 * n) + lam / 2 * sp.Trace(W.T * W)
    g = gradient(expr, W)
    assert g.expr != 0
    assert _agrees_with(expr, g.expr, R * X.T / n + lam * W)
    # the guard can fail: a transposed or sign-flipped answer is not accepted
    assert not _agrees_with(expr, g.expr, -R * X.T / n + lam * W)


def test_sum_of_three_traces() -> None:
    """F1: a sum of three traces, including a cross term, is differentiated correctly."""
    C = sp.MatrixSymbol("C", m, d)
    expr = sp.Trace(R.T * R) / (2 * n) + lam / 2 * sp.Trace(W.T * W) + sp.Trace(C.T * W)
    g = gradient(expr, W)
    assert _agrees_with(expr, g.expr, R * X.T / n + lam * W + C)
    assert not _agrees_with(expr, g.expr, R * X.T / n + lam * W)


def test_deep_linear_doit_route_is_rejected_when_wrong() -> None:
    """D1: for a product of 3 layers, a route that drops a term is rejected, not returned."""
    m0, m1, m2, m3 = sp.symbols("m0:4", positive=True, integer=True)
    W1, W2, W3 = (
        sp.MatrixSymbol(f"W{k}", a, b) for k, (a, b) in enumerate([(m1, m0), (m2, m1), (m3, m2)], 1)
    )
    X3, Y3 = sp.MatrixSymbol("X", m0, n), sp.MatrixSymbol("Y", m3, n)
    R3 = W3 * W2 * W1 * X3 - Y3
    expr = sp.Trace(R3.T * R3) / (2 * n) + lam / 2 * (
        sp.Trace(W1.T * W1) + sp.Trace(W2.T * W2) + sp.Trace(W3.T * W3)
    )
    g = gradient(expr, W2)
    expected = W3.T * R3 * (W1 * X3).T / n + lam * W2
    diff = sp.expand((g.expr - expected).doit())
    assert diff == 0 or isinstance(diff, sp.ZeroMatrix)


def test_disagreement_raises_and_shows_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1: when no route agrees with the explicit derivatives, the error shows both results."""
    expr = sp.Trace(R.T * R) / (2 * n)
    monkeypatch.setattr(mc, "_routes", lambda e, w: [("planted wrong route", -R * X.T / n)])
    with pytest.raises(MatrixCalculusError, match=r"planted wrong route.*explicit derivatives"):
        gradient(expr, W)


def test_silent_zero_candidate_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1: a scalar 0 (SymPy's silent zero) is never accepted for a nonzero gradient."""
    expr = sp.Trace(R.T * R) / (2 * n)
    monkeypatch.setattr(mc, "_routes", lambda e, w: [("silent zero", sp.S.Zero)])
    with pytest.raises(MatrixCalculusError, match="silent zero"):
        gradient(expr, W)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"wrt": "W"}, r"wrt must be a sympy MatrixSymbol; got 'W'"),
        ({"wrt": W, "sizes": [{m: 2, d: 2, n: 2}]}, r"sizes must hold at least two"),
    ],
)
def test_bad_input(kwargs: dict, match: str) -> None:
    """F1: bad arguments name the argument, the rule, the value and the fix."""
    with pytest.raises(InputError, match=match):
        gradient(sp.Trace(R.T * R), **kwargs)


def test_size_assignments_separate_every_symbol() -> None:
    """F1: in each assignment all size symbols differ (also from pinned ones), and every free
    symbol changes value between assignments."""
    dims = sp.symbols("m0:5", positive=True, integer=True)
    one = sp.Symbol("c", positive=True, integer=True)
    for fixed in ({}, {one: 2}):
        sizes = size_assignments([*dims, *fixed], fixed=fixed)
        for sz in sizes:
            assert len(set(sz.values())) == len(sz)
        assert all(sizes[0][s] != sizes[1][s] for s in dims)
    assert size_assignments(dims[:1]) == [{dims[0]: 2}, {dims[0]: 3}]


def test_candidate_off_by_a_size_difference_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """D1: a wrong candidate that differs from the gradient by (m0 - m3) W2 is rejected (the two
    symbols never take equal values), for a product of three layers."""
    m0, m1, m2, m3 = sp.symbols("m0:4", positive=True, integer=True)
    W1, W2, W3 = (
        sp.MatrixSymbol(f"W{k}", a, b) for k, (a, b) in enumerate([(m1, m0), (m2, m1), (m3, m2)], 1)
    )
    X3, Y3 = sp.MatrixSymbol("X", m0, n), sp.MatrixSymbol("Y", m3, n)
    R3 = W3 * W2 * W1 * X3 - Y3
    expr = sp.Trace(R3.T * R3) / (2 * n) + lam / 2 * sp.Trace(W2.T * W2)
    right = W3.T * R3 * (W1 * X3).T / n + lam * W2
    monkeypatch.setattr(mc, "_routes", lambda e, w: [("planted", right + (m0 - m3) * W2)])
    with pytest.raises(MatrixCalculusError, match="planted"):
        gradient(expr, W2)
    monkeypatch.setattr(mc, "_routes", lambda e, w: [("right", right)])
    assert gradient(expr, W2).route == "right"


@pytest.mark.parametrize(
    "make",
    [
        lambda: sp.Trace(sp.HadamardProduct(W, W).T * sp.MatrixSymbol("Z", m, d)),
        lambda: sp.Trace(sp.Inverse(W.T * W + sp.MatrixSymbol("S", d, d))),
        lambda: sp.Trace((W.T * W) ** -1),
        lambda: sp.Trace(sp.HadamardPower(W, 2).T * W),
    ],
    ids=["hadamard", "inverse", "negative power", "hadamard power"],
)
def test_unsupported_expressions_fail_cleanly(
    make: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1: Hadamard products and inverses give a MatrixCalculusError at once (no
    NotImplementedError, and no symbolic inverse that runs for minutes: the refusal comes
    before any explicit oracle or symbolic route is built)."""

    def never(*a: object, **k: object) -> None:
        raise AssertionError("symbolic work started for an unsupported expression")

    monkeypatch.setattr(mc, "explicit_instance", never)
    monkeypatch.setattr(mc, "_routes", never)
    with pytest.raises(MatrixCalculusError, match="gradient does not support"):
        gradient(make(), W)  # type: ignore[operator]


def test_oracle_failure_is_a_matrix_calculus_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1: any SymPy failure in the explicit oracle becomes a MatrixCalculusError."""

    def broken(*a: object, **k: object) -> None:
        raise NotImplementedError("no explicit form")

    monkeypatch.setattr(mc, "explicit_instance", broken)
    with pytest.raises(MatrixCalculusError, match="NotImplementedError: no explicit form"):
        gradient(sp.Trace(R.T * R), W)
