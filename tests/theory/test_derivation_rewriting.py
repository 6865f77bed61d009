"""The free-algebra decision with hypotheses (derivation_checker.rewriting): sound, useful.

Properties over random matrix polynomials in A, B and their transposes, with the hypothesis
A = B B^T: rewriting proves every substitution instance (useful), and whatever it proves holds
exactly on explicit rational matrices satisfying the hypothesis (sound); a planted change of one
transpose is never proved.
"""

from __future__ import annotations

import random

import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

from theory.derivation_checker.rewriting import reduces_to_zero

k = sp.Symbol("k", integer=True, positive=True)
A, B = sp.MatrixSymbol("A", k, k), sp.MatrixSymbol("B", k, k)
RELATION = A - B * B.T
LEAVES = {"A": A, "B": B, "At": A.T, "Bt": B.T}


def _build(tree: object) -> sp.MatrixExpr:
    if isinstance(tree, str):
        return LEAVES[tree]
    op, c, left, right = tree  # type: ignore[misc]
    x, y = _build(left), _build(right)
    return c * x * y if op == "mul" else c * x + y


trees = st.recursive(
    st.sampled_from(sorted(LEAVES)),
    lambda sub: st.tuples(st.sampled_from(["mul", "add"]), st.integers(-2, 2), sub, sub),
    max_leaves=6,
)


def _explicit(e: sp.MatrixExpr, seed: int) -> sp.ImmutableMatrix:
    rng = random.Random(seed)
    Bx = sp.ImmutableMatrix(3, 3, lambda i, j: sp.Rational(rng.randint(-4, 4), rng.randint(1, 3)))
    values = {k: 3, B: Bx, A: Bx * Bx.T}  # the hypothesis A = B B^T holds exactly
    return sp.ImmutableMatrix(e.xreplace(values).doit().as_explicit())


@given(trees)
@example(("mul", 1, "At", "B"))
def test_substitution_instances_are_proved(tree: object) -> None:
    """D5: e = e[A := B B^T] is proved from the hypothesis A = B B^T (rewriting is useful)."""
    e = _build(tree)
    substituted = e.xreplace({A: B * B.T})
    assert reduces_to_zero(e - substituted, [RELATION])


@given(trees, st.sampled_from([A, B]))
@example(("mul", 1, "A", "B"), A)
@example(("mul", 1, "B", "B"), B)
def test_what_is_proved_holds_on_instances(tree: object, leaf: sp.MatrixSymbol) -> None:
    """D5: toggling one transpose (a planted error) is proved only if it holds exactly on an
    explicit instance satisfying the hypothesis (A^T for A is, as A = B B^T is symmetric);
    so is a wrong substitution A := -B B^T."""
    e = _build(tree)
    for mutated in (e.xreplace({leaf: leaf.T}), e.xreplace({A: -B * B.T})):
        if reduces_to_zero(e - mutated, [RELATION]):
            assert _explicit(e, 0) == _explicit(mutated, 0)


def test_planted_transpose_is_not_proved() -> None:
    """D5: B^T B is not B B^T, with or without A = B B^T."""
    assert not reduces_to_zero(B.T * B - B * B.T, [RELATION])
    assert not reduces_to_zero(A * B - B * A, [RELATION])
    assert reduces_to_zero(A * B - B * B.T * B, [RELATION])
