"""The rewriting checker behind the induction proofs of D5/D6 (theory/rewriting.py), by unit."""

from __future__ import annotations

import sympy as sp

from theory import rewriting as rw
from theory.rewriting import Equation, Letter, Power

m = sp.Symbol("m", integer=True, nonnegative=True)
W, Wt, V = Letter("W"), Letter("W", t=True), Letter("V")
Wi, Wj = Letter("W", sp.Symbol("i")), Letter("W", sp.Symbol("j"))


def test_words_render() -> None:
    """D5: letters, indices, transposes, powers and the empty word render as read aloud."""
    assert str(W) == "W" and str(Wt) == "W^T" and str(Letter("W", 2, True)) == "W_{2}^T"
    assert str(Power((W, Wt), m + 1)) == "(W W^T)^(m + 1)"
    assert rw.show((Wt, Power((W,), m), W)) == "W^T (W)^(m) W" and rw.show(()) == "I"
    eq = Equation((W,), (V,), "src")
    assert str(eq) == "W = V  [src]"


def test_equality_compares_names_transposes_indices_and_exponents() -> None:
    """D5: words are equal only atom by atom: name, transpose, symbolic index, exponent."""
    eq = rw.words_equal
    assert eq((W, Wt), (Letter("W"), Letter("W", None, True)))
    assert not eq((W,), (Wt,)) and not eq((W,), (V,)) and not eq((W,), (W, W))
    assert not eq((Wi,), (Wj,)) and not eq((Wi,), (W,)) and not eq((W,), (Wi,))
    assert eq((Letter("W", sp.Symbol("L") - sp.Symbol("k") + 1),),
              (Letter("W", 1 - sp.Symbol("k") + sp.Symbol("L")),))  # fmt: skip
    assert eq((Power((W,), m + 1),), (Power((W,), 1 + m),))
    assert not eq((Power((W,), m),), (Power((W,), m + 1),))
    assert not eq((Power((W,), m),), (Power((V,), m),)) and not eq((Power((W,), m),), (W,))
    assert rw._same(None, None) and not rw._same(None, 1) and not rw._same(1, None)


def test_transpose_reverses_and_keeps_indices() -> None:
    """D5: (x y)^T = y^T x^T, indices kept, (X^e)^T = (X^T)^e; an equation transposes both sides."""
    assert rw.transpose((Wi, V)) == (Letter("V", None, True), Letter("W", sp.Symbol("i"), True))
    assert rw.transpose((Power((W, V), m),)) == (Power((Letter("V", t=True), Wt), m),)
    t = Equation((Wi,), (V, W), "e").transposed()
    assert t.lhs == (Letter("W", sp.Symbol("i"), True),) and t.rhs == (Wt, Letter("V", t=True))
    assert t.source == "e, transposed"


def test_rules_and_their_names() -> None:
    """D5: each rule rewrites what it says and is named as it reads."""
    z = rw.power_zero((W,))
    assert z.u == (Power((W,), 0),) and z.v == () and z.rule == "X^0 = I"
    o = rw.power_one((W, V))
    assert o.u == (Power((W, V), 1),) and o.v == (W, V) and o.rule == "X^1 = X"
    s = rw.power_succ((W,), m)
    assert s.u == (Power((W,), m + 1),) and s.v == (Power((W,), m), W) and s.valid
    assert s.rule == "power law X^(m+1) = X^(m) X"
    r = rw.reverse(s)
    assert (r.u, r.v, r.valid) == (s.v, s.u, True) and r.rule.endswith("(right to left)")
    bad = rw.power_succ((W,), -2)  # a negative exponent: the rule's side condition fails
    assert not bad.valid and not rw.reverse(bad).valid
    eq = Equation((W,), (V,), "W = V")
    p = rw.premise(eq)
    assert (p.u, p.v, p.premise, p.rule) == ((W,), (V,), eq, "premise: W = V")
    assert rw.premise(eq, reverse=True).u == (V,)
    assert rw.reverse(p).premise is eq and rw.reverse(p).u == (V,)
    pt = rw.premise(eq, transposed=True)
    assert (pt.u, pt.v) == ((Wt,), (Letter("V", t=True),)) and pt.premise is eq
    assert pt.rule == "premise: W = V, transposed"


def test_rewrites_find_every_place() -> None:
    """D5: one occurrence at a time, at the top level or inside a power's base."""
    word = (W, V, Power((W, V), m), W)
    out = rw._rewrites(word, (W,), (V,))
    assert (V, V, Power((W, V), m), W) in out and (W, V, Power((W, V), m), V) in out
    assert (W, V, Power((V, V), m), W) in out and len(out) == 3
    assert rw._rewrites(word, (), (V,)) == []


def test_chain_records_each_step() -> None:
    """D5: a chain's record names each step, its rule, and why it failed."""
    eq = Equation((W,), (V,), "W = V")
    ok, chain = rw.check_chain((W, W), (V, V), [(rw.premise(eq), (V, W)),
                                                (rw.premise(eq), (V, V))], [eq])  # fmt: skip
    assert ok and [c.ok for c in chain] == [True, True]
    assert chain[0].before == (W, W) and chain[0].after == (V, W) and chain[1].why == ""
    assert chain[0].rule == "premise: W = V"
    ok, chain = rw.check_chain((W,), (W,), [], [])
    assert ok and chain == []
    ok, chain = rw.check_chain((W,), (V,), [], [])
    assert not ok and chain[0].rule == "end of the chain"
    assert (chain[0].before, chain[0].after, chain[0].ok) == ((W,), (V,), False)
    assert chain[0].why == "the chain does not end at the right-hand side"
    other = Equation((W,), (W, V), "W = W V")  # same left side, another right side
    ok, chain = rw.check_chain((W,), (V,), [(rw.premise(eq), (V,))], [other])
    assert not ok and chain[0].why == "uses an equation that is not a premise of this proof"
    ok, chain = rw.check_chain((W,), (W,), [(rw.premise(eq), (W,))], [eq])
    assert not ok and chain[0].why == "the stated word does not follow from this rewrite"
    q = sp.Symbol("q", integer=True)
    bad = rw.power_succ((W,), q)
    ok, chain = rw.check_chain(
        (Power((W,), q + 1),), (Power((W,), q), W), [(bad, (Power((W,), q), W))], []
    )
    assert not ok and chain[0].why == "the rule's side condition fails"


def test_induction_builds_its_statements() -> None:
    """D5: the checker builds S(n0), the hypothesis S(n) and the goal S(n + 1) itself."""
    n = sp.Symbol("n", integer=True, nonnegative=True)

    def statement(e: object) -> tuple:
        return (Power((W,), e),), (Power((W,), e),)

    res = rw.check_induction(statement, n, 0, lambda lhs, rhs: [], lambda ih: [])
    assert res.ok and res.why == ""
    assert res.base.lhs == (Power((W,), 0),) and res.base.source == "S(0)"
    assert res.hypothesis.lhs == (Power((W,), n),) and "induction hypothesis S(n)" in str(
        res.hypothesis
    )
    assert res.goal.lhs == (Power((W,), n + 1),) and res.goal.source == "S(n + 1)"
    assert res.base_chain == [] and res.step_chain == []
    res = rw.check_induction(statement, sp.Symbol("p", integer=True, positive=True), 2,
                             lambda lhs, rhs: [], lambda ih: [])  # fmt: skip
    assert not res.ok and "integer symbol >= 2" in res.why
