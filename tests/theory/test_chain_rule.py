"""The chain-rule lemma grad_X l(P X Q + C) = P^T G Q^T for symbolic sizes (F1, D1, D4, D5)."""

from __future__ import annotations

import sympy as sp

from theory import chain_rule as cr


def test_lemmas_hold() -> None:
    """F1/D1: the lemma and the Jacobian of a linear map are proved for symbolic sizes."""
    ok, what = cr.linear_map_lemma()
    assert ok and "symbolic sizes" in what
    assert cr.jacobian_lemma()[0]


def test_sums_equal_is_not_vacuous() -> None:
    """F1: index sums equal up to renaming and order; a transposed factor is not equal."""
    r, u = sp.symbols("r u", integer=True, positive=True)
    P, G = sp.MatrixSymbol("P", r, 3), sp.MatrixSymbol("G", r, u)
    a, p, q = sp.symbols("a p q", integer=True)
    x = sp.Sum(G[p, q] * P[p, a], (p, 0, r - 1), (q, 0, u - 1))
    y = sp.Sum(P[q, a] * G[q, p], (q, 0, r - 1), (p, 0, u - 1))
    z = sp.Sum(G[q, p] * P[p, a], (p, 0, r - 1), (q, 0, u - 1))
    assert cr.sums_equal(x, y)
    assert not cr.sums_equal(x, z)


def test_wrong_target_fails() -> None:
    """F1: the chain sum equals (P^T G Q^T)_ab, and not twice it, nor the sum with the two
    summation ranges exchanged (G_qp P_qa Q_bp: a transposed G)."""
    chain, target, _ = cr.lemma_sides()
    assert cr.sums_equal(chain, target)
    assert not cr.sums_equal(chain, 2 * target)
    p, q = sp.symbols("p q", integer=True)
    swapped = sp.Sum(chain.function.xreplace({p: q, q: p}), *chain.limits)
    assert not cr.sums_equal(chain, swapped)


def test_sums_equal_on_plain_expressions() -> None:
    """F1: expressions that are not sums are equal exactly when their difference expands to 0."""
    a, b = sp.symbols("a b")
    assert cr.sums_equal((a + b) ** 2, a**2 + 2 * a * b + b**2)
    assert not cr.sums_equal(a, -a) and not cr.sums_equal(a + 1, a)


def test_in_range_resolves_both_spellings_of_the_bounds() -> None:
    """F1: the conditions 0 <= a <= s - 1 that SymPy attaches to a Kronecker delta sum are true
    for an index in range, whichever way SymPy wrote them; other conditions are kept."""
    a = sp.Symbol("a", integer=True)
    s = sp.Symbol("s", integer=True, positive=True)
    for lo, hi in ((sp.Ge(a, 0), sp.Le(a, s - 1)), (sp.Le(0, a), sp.Ge(s - 1, a))):
        expr = sp.Piecewise((7, lo), (0, True)) + sp.Piecewise((5, hi), (0, True))
        assert cr._in_range(expr, {a: s}) == 12
    kept = sp.Piecewise((7, sp.Ge(a, 1)), (0, True))
    assert cr._in_range(kept, {a: s}) == kept
