"""The NFA exponent for every depth: the lemma and the telescoping by induction (D5, D6).

Reference: Tansley, Massart, Cartis, arXiv:2510.15563 (tags D5, D6 of REFERENCE.md).
theory/deep_linear/nfa.py proves the telescoping for one depth L at a time (its powers are
concrete integers, so a free-algebra expansion settles each step). Here the depth and the power
are SYMBOLS, and both results are proved by induction, each rewrite checked by
theory/rewriting.py (words in matrices with symbolic exponents, associativity built in):

Lemma, for every integer m >= 0:   W^T (W W^T)^m W = (W^T W)^(m+1).
  base m = 0:  W^T (W W^T)^0 W = W^T W = (W^T W)^1             (X^0 = I, X^1 = X)
  step:        W^T (W W^T)^(m+1) W = W^T (W W^T)^m W W^T W      (X^(m+1) = X^m X)
                                   = (W^T W)^(m+1) W^T W        (induction hypothesis)
                                   = (W^T W)^(m+2)              (X^(m+1) X = X^(m+2))

Telescoping, for 1 <= k <= L, with B_1 := W_L, B_{k+1} := B_k W_{L-k} (so
B_k = W_L ... W_{L-k+1}) and T_k := B_k^T B_k:   T_k = (W_{L-k+1}^T W_{L-k+1})^k.
  base k = 1:  T_1 = W_L^T W_L = (W_L^T W_L)^1
  step (k <= L - 1, i = L - k in 1..L-1):
       T_{k+1} = B_{k+1}^T B_{k+1} = W_i^T B_k^T B_k W_i = W_i^T T_k W_i
               = W_i^T (W_{i+1}^T W_{i+1})^k W_i               (induction hypothesis)
               = W_i^T (W_i W_i^T)^k W_i                       (balancedness D_i = 0)
               = (W_i^T W_i)^(k+1)                              (the lemma with m = k)
With k = L - j + 1: (W_L ... W_j)^T (W_L ... W_j) = (W_j^T W_j)^(L-j+1) for every layer j.

The exponents m, k and the depth L are SymPy integer symbols; a rule's side condition (an
exponent >= 0, an index in 1..L-1) is decided from their assumptions. This is a proof for all
depths and sizes; the per-depth derivations of theory/deep_linear/nfa.py are independent
evidence for L = 2..8.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy as sp

from theory._checks import _step, conclude, definition
from theory._records import DEEP_LINEAR_PAPER, Assumption, Claim, Derivation, Step
from theory.rewriting import (
    CheckedRewrite,
    Equation,
    Induction,
    Letter,
    Power,
    Word,
    check_induction,
    power_one,
    power_succ,
    power_zero,
    premise,
    reverse,
    show,
)

__all__ = ["derive_nfa_induction", "lemma_induction", "telescoping_induction"]

m = sp.Symbol("m", integer=True, nonnegative=True)
k = sp.Symbol("k", integer=True, positive=True)
L = sp.Symbol("L", integer=True, positive=True)
#: L - k >= 1 in the telescoping step; r := L - k - 1 >= 0 makes it decidable from assumptions
_r = sp.Symbol("r", integer=True, nonnegative=True)


def _t(x: Letter) -> Letter:
    return Letter(x.name, x.index, not x.t)


# -- the lemma ------------------------------------------------------------------------------------
def lemma_statement(W: Letter, e: Any) -> tuple[Word, Word]:
    """W^T (W W^T)^e W = (W^T W)^(e+1)."""
    return (_t(W), Power((W, _t(W)), e), W), (Power((_t(W), W), e + 1),)


def _lemma_proof(W: Letter) -> Induction:
    WWt, WtW = (W, _t(W)), (_t(W), W)

    def base(lhs: Word, rhs: Word) -> list[Any]:
        return [(power_zero(WWt), (_t(W), W)), (reverse(power_one(WtW)), (Power(WtW, 1),))]

    def step(ih: Equation) -> list[Any]:
        return [
            (power_succ(WWt, m), (_t(W), Power(WWt, m), W, _t(W), W)),
            (premise(ih), (Power(WtW, m + 1), _t(W), W)),
            (reverse(power_succ(WtW, m + 1)), (Power(WtW, m + 2),)),
        ]

    return check_induction(lambda e: lemma_statement(W, e), m, 0, base, step)


@cache
def lemma_induction() -> Induction:
    """The lemma for a generic matrix W and every m >= 0 (checked)."""
    return _lemma_proof(Letter("W"))


def lemma_instance(W: Letter, e: Any) -> Equation | None:
    """The lemma at matrix W and exponent e, if the lemma is proved and e is an integer >= 0
    (instantiating a universally quantified statement); else None."""
    e = sp.sympify(e)
    if not (lemma_induction().ok and e.is_integer and e.is_nonnegative):
        return None
    return Equation(*lemma_statement(W, e), f"lemma with W = {W}, m = {sp.sstr(e)}")


# -- the telescoping ---------------------------------------------------------------------------
def _W(index: Any) -> Letter:
    return Letter("W", sp.sympify(index))


def telescoping_statement(kk: Any) -> tuple[Word, Word]:
    """T_k = (W_{L-k+1}^T W_{L-k+1})^k."""
    Wi = _W(L - kk + 1)
    return (Letter("T", kk),), (Power((_t(Wi), Wi), kk),)


def _def_T(kk: Any) -> Equation:
    B = Letter("B", kk)
    return Equation((Letter("T", kk),), (_t(B), B), f"definition T_{{{kk}}} := B^T B")


def _def_B(kk: Any) -> Equation:
    return Equation((Letter("B", kk + 1),), (Letter("B", kk), _W(L - kk)),
                    f"definition B_{{{kk}+1}} := B_{{{kk}}} W_{{L-{kk}}}")  # fmt: skip


_DEF_B1 = Equation((Letter("B", sp.S.One),), (_W(L),), "definition B_1 := W_L")


def _balanced(i: Any) -> Equation | None:
    """D_i = 0: W_{i+1}^T W_{i+1} = W_i W_i^T, a hypothesis for 1 <= i <= L - 1 only."""
    i = sp.sympify(i)
    in_range = (i - 1).subs(L, k + 1 + _r).is_nonnegative and (L - 1 - i).subs(
        L, k + 1 + _r
    ).is_nonnegative  # the step has k <= L - 1, i.e. L = k + 1 + r with r >= 0
    if not in_range:
        return None
    return Equation((_t(_W(i + 1)), _W(i + 1)), (_W(i), _t(_W(i))),
                    f"balancedness D_{{{sp.sstr(i)}}} = 0")  # fmt: skip


@cache
def telescoping_induction() -> Induction:
    """T_k = (W_{L-k+1}^T W_{L-k+1})^k for 1 <= k <= L (checked)."""
    Wl = _W(L)

    def base(lhs: Word, rhs: Word) -> list[Any]:
        B1 = Letter("B", sp.S.One)
        return [
            (premise(_def_T(sp.S.One)), (_t(B1), B1)),
            (premise(_DEF_B1, transposed=True), (_t(Wl), B1)),
            (premise(_DEF_B1), (_t(Wl), Wl)),
            (reverse(power_one((_t(Wl), Wl))), (Power((_t(Wl), Wl), 1),)),
        ]

    Wi, Wn = _W(L - k), _W(L - k + 1)
    Bk, Bn = Letter("B", k), Letter("B", k + 1)
    bal = _balanced(L - k)
    lem = lemma_instance(Wi, k)
    premises = [_def_T(sp.S.One), _def_T(k), _def_T(k + 1), _def_B(k), _DEF_B1]
    premises += [p for p in (bal, lem) if p is not None]

    def step(ih: Equation) -> list[Any]:
        missing = Equation((), (), "missing premise")
        return [
            (premise(_def_T(k + 1)), (_t(Bn), Bn)),
            (premise(_def_B(k), transposed=True), (_t(Wi), _t(Bk), Bn)),
            (premise(_def_B(k)), (_t(Wi), _t(Bk), Bk, Wi)),
            (premise(_def_T(k), reverse=True), (_t(Wi), Letter("T", k), Wi)),
            (premise(ih), (_t(Wi), Power((_t(Wn), Wn), k), Wi)),
            (premise(bal or missing), (_t(Wi), Power((Wi, _t(Wi)), k), Wi)),
            (premise(lem or missing), (Power((_t(Wi), Wi), k + 1),)),
        ]

    return check_induction(telescoping_statement, k, 1, base, step, premises)


# -- the derivation record -----------------------------------------------------------------------
def _chain_steps(name: str, chain: list[CheckedRewrite]) -> list[Step]:
    return [
        _step(
            show(c.before),
            show(c.after),
            f"{name}: {c.rule}",
            [
                (
                    c.ok,
                    "rewrite checked in the free monoid, symbolic exponents"
                    if c.ok
                    else f"FAILS: {c.why}",
                )
            ],
        )  # fmt: skip
        for c in chain
    ]


def derive_nfa_induction() -> Derivation:
    """D5/D6 for every depth L and layer j: (W_L..W_j)^T (W_L..W_j) = (W_j^T W_j)^(L-j+1).

    The lemma (for every m >= 0) and the telescoping (for every L and 1 <= k <= L) by induction,
    every rewrite checked (module docstring). PROVED only if both inductions check.
    """
    lem, tel = lemma_induction(), telescoping_induction()
    steps: list[Step] = [
        definition(sp.Symbol("B_k"), "W_L ... W_{L-k+1}: B_1 := W_L, B_{k+1} := B_k W_{L-k}",
                   "product of the top k layers, defined by recursion on k"),
        definition(sp.Symbol("T_k"), "B_k^T B_k", "Gram matrix of the top k layers"),
    ]  # fmt: skip
    for ind, name in ((lem, "lemma"), (tel, "telescoping")):
        steps += _chain_steps(f"{name}, base {ind.base.source}", ind.base_chain)
        steps += _chain_steps(f"{name}, step {ind.hypothesis.source} => {ind.goal.source}",
                              ind.step_chain)  # fmt: skip
        text = "both chains check; the statements were built by the checker from one function"
        steps.append(
            _step(show(ind.hypothesis.lhs), show(ind.hypothesis.rhs),
                  f"{name}: induction (base and step checked above)",
                  [(ind.ok, text if ind.ok else f"FAILS {ind.why or 'a chain'}")])
        )  # fmt: skip
    j = sp.Symbol("j", integer=True, positive=True)
    at_j = telescoping_statement(L - j + 1)[1]
    steps.append(
        _step("(W_L...W_j)^T (W_L...W_j)", show(at_j),
              "telescoping at k = L - j + 1 (B_{L-j+1} = W_L ... W_j), for every 1 <= j <= L",
              [(tel.ok, "instance of the statement proved above, at k = L - j + 1")])
    )  # fmt: skip
    claim = Claim(
        "NFA for balanced deep linear networks, any depth: (W_L..W_j)^T(W_L..W_j) = "
        "(W_j^T W_j)^(L-j+1)",
        "D5",
        sp.Symbol("(W_L...W_j)^T (W_L...W_j)"),
        sp.Symbol("(W_j^T W_j)^(L-j+1)"),
        (Assumption("balanced", "D_i = W_{i+1}^T W_{i+1} - W_i W_i^T = 0 for i = j..L-1"),),
        DEEP_LINEAR_PAPER,
        {"B_k": "W_L ... W_{L-k+1}", "T_k": "B_k^T B_k", "m, k, L": "symbolic integers"},
    )
    return conclude(
        claim, steps,
        "induction on m (lemma) and on k (telescoping), every rewrite checked with symbolic "
        "exponents and depth: a proof for every L and every size",
    )  # fmt: skip
