"""Proofs by justified rewriting of matrix words with symbolic exponents (a free-monoid checker).

The free-algebra check (theory/free_algebra.py) proves identities whose powers are concrete
integers. An identity with a SYMBOLIC exponent, such as W^T (W W^T)^m W = (W^T W)^(m+1) for every
m >= 0, needs induction, and the inductive step must manipulate (W W^T)^m without expanding it.
This module checks such steps mechanically.

A *word* is a tuple of atoms, read as their matrix product (associativity is built in: a word is
flat, so regrouping is never a step). An atom is a :class:`Letter` (a matrix symbol with an
optional symbolic index, e.g. W_{L-k+1}, or its transpose) or a :class:`Power` (a word raised to a
symbolic exponent that is a non-negative integer). The empty word is the identity.

A proof of ``lhs = rhs`` is a chain of words, each obtained from the previous one by ONE rewrite
``u -> v`` at one place (possibly inside the base of a power: equal bases have equal powers).
Each rewrite is an instance of a rule that holds for all matrices of compatible sizes:

- ``power_succ(X, e)``:  X^(e+1) -> X^e X       (e a non-negative integer expression)
- ``power_zero(X)``:     X^0 -> (the identity)
- ``power_one(X)``:      X^1 -> X
- a *premise*: an equation the proof is allowed to use (the induction hypothesis, a hypothesis
  of the claim such as balancedness, a definition, or an instance of a lemma proved before),
  in either direction, and also transposed (u = v gives u^T = v^T, transposes computed by
  (x y)^T = y^T x^T and (X^e)^T = (X^T)^e).

:func:`check_chain` verifies a chain step by step and returns what failed;
:func:`check_induction` checks a statement S(n) for all n >= n0 from a base chain for S(n0) and
a step chain for S(n + 1) whose only premise besides the given ones is S(n) itself (the
statements are built by the checker from one function, so the proof cannot change them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

__all__ = [
    "CheckedRewrite",
    "Equation",
    "Induction",
    "Letter",
    "Power",
    "Rewrite",
    "check_chain",
    "check_induction",
    "power_one",
    "power_succ",
    "power_zero",
    "premise",
    "reverse",
    "show",
    "transpose",
]


@dataclass(frozen=True)
class Letter:
    """A matrix symbol ``name`` with an optional symbolic ``index`` (W_{L-k}), or its transpose."""

    name: str
    index: Any = None
    t: bool = False

    def __str__(self) -> str:
        sub = "" if self.index is None else f"_{{{sp.sstr(self.index)}}}"
        return f"{self.name}{sub}{'^T' if self.t else ''}"


@dataclass(frozen=True)
class Power:
    """``base^exp`` for a word ``base`` and a symbolic non-negative integer ``exp``."""

    base: tuple[Any, ...]
    exp: Any

    def __str__(self) -> str:
        return f"({show(self.base)})^({sp.sstr(self.exp)})"


Atom = Letter | Power
Word = tuple[Atom, ...]


def show(word: Sequence[Atom]) -> str:
    """A word as text, e.g. ``W^T (W W^T)^(m) W``; the empty word is ``I``."""
    return " ".join(str(a) for a in word) if word else "I"


def _same(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return bool(sp.expand(sp.sympify(x) - sp.sympify(y)) == 0)


def _atom_eq(a: Atom, b: Atom) -> bool:
    if isinstance(a, Letter) and isinstance(b, Letter):
        return a.name == b.name and a.t == b.t and _same(a.index, b.index)
    if isinstance(a, Power) and isinstance(b, Power):
        return _same(a.exp, b.exp) and words_equal(a.base, b.base)
    return False


def words_equal(u: Sequence[Atom], v: Sequence[Atom]) -> bool:
    """Equal as words: the same atoms in the same order (exponents and indices compared
    symbolically)."""
    return len(u) == len(v) and all(_atom_eq(a, b) for a, b in zip(u, v, strict=True))


def transpose(word: Sequence[Atom]) -> Word:
    """(x_1 ... x_k)^T = x_k^T ... x_1^T, with (X^e)^T = (X^T)^e."""
    out: list[Atom] = []
    for a in reversed(word):
        if isinstance(a, Letter):
            out.append(Letter(a.name, a.index, not a.t))
        else:
            out.append(Power(transpose(a.base), a.exp))
    return tuple(out)


def _nonneg_int(e: Any) -> bool:
    e = sp.sympify(e)
    return bool(e.is_integer) and bool(e.is_nonnegative)


@dataclass(frozen=True)
class Equation:
    """``lhs = rhs`` between words, with where it comes from (for the record)."""

    lhs: Word
    rhs: Word
    source: str

    def __str__(self) -> str:
        return f"{show(self.lhs)} = {show(self.rhs)}  [{self.source}]"

    def transposed(self) -> Equation:
        return Equation(transpose(self.lhs), transpose(self.rhs), self.source + ", transposed")


@dataclass(frozen=True)
class Rewrite:
    """One rewrite ``u -> v``: a rule instance (``rule``, its pattern) or a premise."""

    u: Word
    v: Word
    rule: str
    premise: Equation | None = None
    valid: bool = True  # False: the rule's side condition failed (e.g. a negative exponent)


def power_succ(base: Sequence[Atom], e: Any) -> Rewrite:
    """X^(e+1) -> X^e X, valid for every integer e >= 0."""
    b = tuple(base)
    return Rewrite((Power(b, e + 1),), (Power(b, e), *b), f"power law X^({e}+1) = X^({e}) X",
                   valid=_nonneg_int(e))  # fmt: skip


def power_zero(base: Sequence[Atom]) -> Rewrite:
    """X^0 -> I."""
    return Rewrite((Power(tuple(base), sp.S.Zero),), (), "X^0 = I")


def power_one(base: Sequence[Atom]) -> Rewrite:
    """X^1 -> X."""
    b = tuple(base)
    return Rewrite((Power(b, sp.S.One),), b, "X^1 = X")


def premise(eq: Equation, *, reverse: bool = False, transposed: bool = False) -> Rewrite:
    """Use the premise ``eq`` (left to right, or ``reverse``), possibly transposed."""
    e = eq.transposed() if transposed else eq
    u, v = (e.rhs, e.lhs) if reverse else (e.lhs, e.rhs)
    return Rewrite(u, v, f"premise: {e.source}", premise=eq)


def reverse(rw: Rewrite) -> Rewrite:
    """A rule read right to left (every rule here is an equation)."""
    return Rewrite(rw.v, rw.u, rw.rule + " (right to left)", rw.premise, rw.valid)


def _rewrites(word: Word, u: Word, v: Word) -> list[Word]:
    """Every word obtained from ``word`` by replacing one occurrence of ``u`` by ``v``, at the
    top level or inside the base of a power (equal bases have equal powers)."""
    out: list[Word] = []
    n, k = len(word), len(u)
    if k:
        for i in range(n - k + 1):
            if words_equal(word[i : i + k], u):
                out.append(word[:i] + v + word[i + k :])
    for i, a in enumerate(word):
        if isinstance(a, Power):
            for nb in _rewrites(a.base, u, v):
                out.append(word[:i] + (Power(nb, a.exp),) + word[i + 1 :])
    return out


@dataclass(frozen=True)
class CheckedRewrite:
    """One checked step of a chain: ``before -> after`` by ``rule``; ``why`` says what failed."""

    before: Word
    after: Word
    rule: str
    ok: bool
    why: str = ""


def check_chain(
    lhs: Word, rhs: Word, steps: Sequence[tuple[Rewrite, Word]], premises: Sequence[Equation]
) -> tuple[bool, list[CheckedRewrite]]:
    """Check that ``steps`` rewrite ``lhs`` into ``rhs``; ``(ok, one record per step)``.

    Each step is ``(rewrite, word after it)``. A premise may be used only if it is one of
    ``premises``. ``ok`` also needs the chain to end at ``rhs`` and to have at least one step
    or ``lhs`` equal to ``rhs``.
    """
    out, current = [], lhs
    for rw, after in steps:
        why = ""
        if not rw.valid:
            why = "the rule's side condition fails"
        elif rw.premise is not None and not any(
            words_equal(rw.premise.lhs, p.lhs) and words_equal(rw.premise.rhs, p.rhs)
            for p in premises
        ):
            why = "uses an equation that is not a premise of this proof"
        elif not any(words_equal(w, after) for w in _rewrites(current, rw.u, rw.v)):
            why = "the stated word does not follow from this rewrite"
        out.append(CheckedRewrite(current, after, rw.rule, not why, why))
        current = after
    if not words_equal(current, rhs):
        out.append(CheckedRewrite(current, rhs, "end of the chain", False,
                                  "the chain does not end at the right-hand side"))  # fmt: skip
    return all(c.ok for c in out), out


Statement = Callable[[Any], tuple[Word, Word]]


@dataclass(frozen=True)
class Induction:
    """A checked induction: the statements it built and the two checked chains."""

    ok: bool
    base: Equation
    hypothesis: Equation
    goal: Equation
    base_chain: list[CheckedRewrite]
    step_chain: list[CheckedRewrite]
    why: str = ""


def check_induction(
    statement: Statement,
    n: sp.Symbol,
    n0: int,
    base: Callable[[Word, Word], Sequence[tuple[Rewrite, Word]]],
    step: Callable[[Equation], Sequence[tuple[Rewrite, Word]]],
    premises: Sequence[Equation] = (),
) -> Induction:
    """S(n) for every integer n >= n0, by induction: S(n0), and S(n) => S(n + 1).

    ``statement(n) -> (lhs, rhs)`` builds S; the checker builds S(n0), the hypothesis S(n) and
    the goal S(n + 1) from it. ``base(lhs, rhs)`` returns the chain for S(n0); ``step(ih)`` the
    chain for S(n + 1), which may use ``ih`` and ``premises`` only. ``n`` must be a symbol
    whose assumptions say it is an integer >= n0 (side conditions of the rules, such as a
    non-negative exponent, are decided from them).
    """
    b = Equation(*statement(sp.Integer(n0)), f"S({n0})")
    ih = Equation(*statement(n), f"induction hypothesis S({n})")
    goal = Equation(*statement(n + 1), f"S({n} + 1)")
    ok_b, chain_b = check_chain(b.lhs, b.rhs, base(b.lhs, b.rhs), premises)
    ok_s, chain_s = check_chain(goal.lhs, goal.rhs, step(ih), [*premises, ih])
    why = ""
    if not (isinstance(n, sp.Symbol) and n.is_integer and (n - n0).is_nonnegative):
        why = f"the induction variable {n} must be an integer symbol >= {n0}"
    return Induction(ok_b and ok_s and not why, b, ih, goal, chain_b, chain_s, why)
