"""D5/D6 for a symbolic depth: the lemma and the telescoping by induction, every rewrite checked."""

from __future__ import annotations

import sympy as sp

from theory._records import Verdict
from theory.deep_linear import induction as ind
from theory.rewriting import (
    Equation,
    Letter,
    Power,
    check_chain,
    check_induction,
    power_one,
    power_succ,
    power_zero,
    premise,
    reverse,
    transpose,
)

W, Wt = Letter("W"), Letter("W", t=True)
m = ind.m


def test_induction_proved() -> None:
    """D5: lemma (every m >= 0) and telescoping (every L, 1 <= k <= L) PROVED by induction."""
    r = ind.derive_nfa_induction()
    assert r.verdict is Verdict.PROVED and r.all_checked
    assert ind.lemma_induction().ok and ind.telescoping_induction().ok
    assert any("base" in s.justification for s in r.steps)
    assert any("premise: balancedness" in s.justification for s in r.steps)
    assert any("premise: lemma with W = W_{L - k}, m = k" in s.justification for s in r.steps)
    assert "(W_{j}^T W_{j})^(L - j + 1)" in str(r.steps[-1].rhs)


def _lemma_with(exp_shift: int) -> bool:
    """The lemma's induction with the right side (W^T W)^(m + shift), same proof steps."""

    def statement(e: object) -> tuple:
        return (Wt, Power((W, Wt), e), W), (Power((Wt, W), e + exp_shift),)

    def base(lhs: tuple, rhs: tuple) -> list:
        return [(power_zero((W, Wt)), (Wt, W)), (reverse(power_one((Wt, W))), (Power((Wt, W), 1),))]

    def step(ih: Equation) -> list:
        return [
            (power_succ((W, Wt), m), (Wt, Power((W, Wt), m), W, Wt, W)),
            (premise(ih), (Power((Wt, W), m + exp_shift), Wt, W)),
            (reverse(power_succ((Wt, W), m + exp_shift)), (Power((Wt, W), m + exp_shift + 1),)),
        ]

    return check_induction(statement, m, 0, base, step).ok


def test_wrong_exponent_rejected() -> None:
    """D5: the checker accepts the lemma with exponent m + 1 and rejects m and m + 2."""
    assert _lemma_with(1)
    assert not _lemma_with(0) and not _lemma_with(2)


def test_unlisted_premise_rejected() -> None:
    """D5: a rewrite by an equation that is not a premise (e.g. W W^T = W^T W) is refused."""
    false = Equation((W, Wt), (Wt, W), "not a premise")
    ok, chain = check_chain((W, Wt), (Wt, W), [(premise(false), (Wt, W))], [])
    assert not ok and "not a premise" in chain[0].why
    ok, _ = check_chain((W, Wt), (Wt, W), [(premise(false), (Wt, W))], [false])
    assert ok


def test_rewrite_must_match() -> None:
    """D5: a stated word that does not follow from the rule is refused; a negative exponent
    fails the power law's side condition; the chain must end at the right side."""
    k = sp.Symbol("k", integer=True)  # not known to be >= 0
    ok, chain = check_chain((Power((W,), 2),), (W, W), [(power_succ((W,), 1), (W, W))], [])
    assert not ok and "does not follow" in chain[0].why
    rw = power_succ((W,), k)
    assert not rw.valid
    ok, chain = check_chain((Power((W,), 1),), (Wt,), [(power_one((W,)), (W,))], [])
    assert not ok and "does not end" in chain[-1].why


def test_transpose_and_rewrite_inside_power() -> None:
    """D5: (x y)^T = y^T x^T with (X^e)^T = (X^T)^e; premises rewrite inside a power's base."""
    A, B = Letter("A"), Letter("B")
    assert transpose((A, Power((A, B), m))) == (
        Power((Letter("B", t=True), Letter("A", t=True)), m),
        Letter("A", t=True),
    )
    eq = Equation((A,), (B,), "A = B")
    ok, _ = check_chain(
        (Power((A, A), m),), (Power((A, B), m),), [(premise(eq), (Power((A, B), m),))], [eq]
    )
    assert ok


def test_induction_variable_must_start_at_base() -> None:
    """D5: an induction over a symbol not known to be >= n0 is refused."""
    free = sp.Symbol("q", integer=True)
    res = check_induction(lambda e: ((W,), (W,)), free, 0, lambda l, r: [], lambda ih: [])
    assert not res.ok and "must be an integer symbol" in res.why
