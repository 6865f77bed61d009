"""Matrix calculus that never takes one route's word.

SymPy 1.14 returns a silent ``0`` for ``expr.diff(W)`` when ``expr`` is a *sum* of traces, e.g.
``Tr(R^T R)/(2n) + lam/2 Tr(W^T W)`` (upstream sympy#26585, sympy#26561; REFERENCE section 8),
while ``Derivative(expr, W).doit()`` and term-by-term differentiation give the right answer.
:func:`gradient` therefore

1. computes the gradient by two symbolic routes: ``Derivative(expr, W).doit()`` and the sum of
   ``term.diff(W)`` over the terms of the expanded expression;
2. evaluates every candidate at two or more concrete size assignments with explicit matrices:
   ``W`` becomes a matrix of scalar symbols, every other matrix a seeded random matrix of
   rationals, and the explicit scalar is differentiated entry by entry. Everything is exact
   (rational arithmetic, no floating point);
3. returns the first symbolic candidate that agrees with the explicit gradients at every size, and
   raises :class:`MatrixCalculusError` showing all results if none does. It never returns a guess.

Supported expressions: matrix symbols, transposes, products, sums, traces, identities, zero and
ones matrices, non-negative integer powers, scalar coefficients and elementwise functions of
matrices. Hadamard products and powers, inverses and negative or fractional matrix powers are
refused at once with a :class:`MatrixCalculusError` (SymPy's routes raise NotImplementedError on
Hadamard products, and the explicit oracle of an inverse is a symbolic matrix inverse that can
run for many minutes); so is any SymPy failure inside the explicit oracle.

Convention: the gradient of a scalar ``f`` with respect to an ``m x d`` matrix ``W`` is the
``m x d`` matrix of partial derivatives ``df/dW_ab``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from theory._errors import MatrixCalculusError, bad_input

__all__ = [
    "Gradient",
    "checked_gradient",
    "explicit_instance",
    "gradient",
    "matrices_equal",
    "size_assignments",
]


@dataclass(frozen=True)
class Gradient:
    """A gradient that two routes agree on.

    ``expr`` is the symbolic gradient, ``route`` the symbolic route it came from, ``sizes`` the
    concrete size assignments at which it was confirmed exactly, and ``rejected`` the routes that
    disagreed with the explicit check (e.g. SymPy's silent zero), as text.
    """

    expr: Any
    route: str
    sizes: tuple[Mapping[sp.Symbol, int], ...]
    rejected: tuple[str, ...] = ()

    @property
    def check(self) -> str:
        sizes = "; ".join(
            ", ".join(f"{k}={v}" for k, v in sorted(s.items(), key=lambda kv: str(kv[0])))
            for s in self.sizes
        )
        text = f"{self.route}; equals entry-by-entry derivatives exactly at sizes [{sizes}]"
        if self.rejected:
            text += f"; rejected: {'; '.join(self.rejected)}"
        return text


def size_assignments(
    dims: Sequence[sp.Symbol], count: int = 2, fixed: Mapping[sp.Symbol, int] | None = None
) -> list[dict[sp.Symbol, int]]:
    """Concrete sizes for the dimension symbols, ``count`` assignments.

    Within each assignment all free symbols get DIFFERENT values, also different from every
    pinned one (``fixed``, e.g. a 1-column vector): a wrong candidate that differs from the
    right gradient by a term like (m_0 - m_3) W, or by a transposed factor, changes the explicit
    result at every assignment. Across assignments every free symbol changes value, so a result
    right at one shape only is caught. Values are the smallest integers >= 2 that allow this
    (the s free symbols take a cyclic shift of s values), so explicit matrices stay small.
    """
    fixed = dict(fixed or {})
    free = [d for d in sorted(dims, key=str) if d not in fixed]
    taken = set(fixed.values())
    period = max(len(free), count)
    pool: list[int] = []
    v = 2
    while len(pool) < period:
        if v not in taken:
            pool.append(v)
        v += 1
    return [{d: pool[(i + k) % period] for i, d in enumerate(free)} | fixed for k in range(count)]


def explicit_instance(
    expr: Any,
    sizes: Mapping[sp.Symbol, int],
    symbolic: Mapping[sp.MatrixSymbol, str] | None = None,
    seed: int = 0,
) -> tuple[Any, dict[sp.MatrixSymbol, sp.ImmutableMatrix]]:
    """Replace every MatrixSymbol in ``expr`` by an explicit matrix at the given sizes.

    Matrices named in ``symbolic`` become matrices of scalar symbols with that prefix; every
    other one becomes a seeded random rational matrix.
    Returns the explicit expression (a scalar or an explicit matrix) and the replacement map.
    """
    symbolic = dict(symbolic or {})
    rng = random.Random(seed)
    mapping: dict[sp.MatrixSymbol, sp.ImmutableMatrix] = {}
    for M in sorted(expr.atoms(sp.MatrixSymbol), key=lambda s: s.name):
        rows = int(sp.sympify(M.rows).xreplace(sizes))
        cols = int(sp.sympify(M.cols).xreplace(sizes))
        if M in symbolic:
            prefix = symbolic[M]
            mapping[M] = sp.ImmutableMatrix(
                rows, cols, lambda i, j, p=prefix: sp.Symbol(f"{p}_{i + 1}{j + 1}")
            )
        else:
            mapping[M] = sp.ImmutableMatrix(
                rows, cols, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5))
            )
    explicit = _to_explicit(expr.xreplace(mapping).xreplace(dict(sizes)))
    return explicit, mapping


def _to_explicit(e: Any) -> Any:
    """Evaluate traces and products of explicit matrices; matrices stay matrices."""
    special = e.find(lambda x: isinstance(x, (sp.OneMatrix, sp.Identity, sp.ZeroMatrix)))
    e = e.xreplace({s: sp.ImmutableMatrix(s.as_explicit()) for s in special if s.is_Matrix})
    e = e.doit()
    if isinstance(e, sp.MatrixExpr):
        e = e.as_explicit()
    if isinstance(e, sp.MatrixBase):
        return sp.ImmutableMatrix(e)
    return e


def matrices_equal(a: Any, b: Any) -> bool:
    """Exact equality of explicit matrices (or scalars): the difference expands to zero."""
    if isinstance(a, sp.MatrixBase) != isinstance(b, sp.MatrixBase):
        return False
    if isinstance(a, sp.MatrixBase):
        if a.shape != b.shape:
            return False
        return all(sp.expand(x - y) == 0 for x, y in zip(a, b, strict=True))
    return sp.expand(a - b) == 0


def _scalar(e: Any) -> sp.Expr:
    if isinstance(e, sp.MatrixBase):
        if e.shape != (1, 1):
            raise MatrixCalculusError(f"expression is not scalar: shape {e.shape}")
        return e[0, 0]
    return e


def _routes(expr: Any, wrt: sp.MatrixSymbol) -> list[tuple[str, Any]]:
    routes: list[tuple[str, Any]] = []
    try:
        routes.append((f"Derivative(expr, {wrt}).doit()", sp.Derivative(expr, wrt).doit()))
    except Exception as exc:  # SymPy may raise on expressions it cannot handle
        routes.append((f"Derivative(expr, {wrt}).doit() raised {type(exc).__name__}", None))
    try:
        terms = sp.Add.make_args(sp.expand(expr))
        parts = [t.diff(wrt) for t in terms]
        total = parts[0] if parts else sp.S.Zero
        for p in parts[1:]:
            total = total + p
        routes.append(("term-by-term diff of the expanded expression", total))
    except Exception as exc:
        routes.append((f"term-by-term diff raised {type(exc).__name__}", None))
    return routes


#: matrix expression types :func:`gradient` accepts (module docstring)
_SUPPORTED = (
    sp.MatrixSymbol, sp.Transpose, sp.MatMul, sp.MatAdd, sp.Trace, sp.Identity, sp.ZeroMatrix,
    sp.OneMatrix, sp.MatPow,
)  # fmt: skip


def _unsupported(expr: Any) -> str | None:
    """The first part of ``expr`` that :func:`gradient` cannot handle, as text, or None."""
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.MatPow):
            e = node.exp
            if not (e.is_Integer and e >= 0):
                return f"the matrix power {sp.sstr(node)} (only integer exponents >= 0)"
        elif isinstance(node, sp.MatrixExpr) and not isinstance(
            node, (*_SUPPORTED, ElementwiseApplyFunction)
        ):
            return f"{type(node).__name__} in {sp.sstr(node)}"
    return None


def gradient(
    expr: Any,
    wrt: sp.MatrixSymbol,
    *,
    sizes: Sequence[Mapping[sp.Symbol, int]] | None = None,
    seed: int = 0,
) -> Gradient:
    """The gradient of the scalar matrix expression ``expr`` with respect to ``wrt``, confirmed.

    ``sizes``: concrete size assignments for the dimension symbols (default: two generated by
    :func:`size_assignments`). At least two are required, so that a result that is right only at
    one shape (a transposed factor in a square case) is caught.
    """
    if not isinstance(wrt, sp.MatrixSymbol):
        raise bad_input("wrt", "be a sympy MatrixSymbol", wrt, "Pass the weight matrix symbol.")
    bad = _unsupported(expr)
    if bad is not None:
        raise MatrixCalculusError(
            f"gradient does not support {bad}: Hadamard products and powers, inverses and "
            "negative or fractional matrix powers have no checked route here. Write the "
            "expression with products, transposes, traces and integer powers, or differentiate "
            "it by hand and check the result with matrices_equal on explicit instances."
        )
    dims = sorted(
        {s for M in expr.atoms(sp.MatrixSymbol) for s in sp.Tuple(*M.shape).free_symbols},
        key=str,
    )
    size_list = list(sizes) if sizes is not None else size_assignments(dims)
    if len(size_list) < 2:
        raise bad_input(
            "sizes", "hold at least two size assignments", len(size_list), "Add another one."
        )
    # the explicit oracle: entry-by-entry scalar derivatives, exact
    oracles = []
    for k, sz in enumerate(size_list):
        try:
            f, mapping = explicit_instance(expr, sz, {wrt: "w"}, seed=seed + k)
            # expanded once: the objectives here are polynomials in the entries of W, and a
            # derivative of the expanded form is a cheap term-by-term operation (exact either way)
            f = sp.expand(_scalar(f))
            Wx = mapping[wrt]
            oracles.append((sz, mapping, Wx.applyfunc(lambda w, f=f: sp.diff(f, w))))
        except MatrixCalculusError:
            raise
        except Exception as exc:  # SymPy cannot evaluate the explicit oracle: no checked route
            raise MatrixCalculusError(
                f"the explicit entry-by-entry derivative of {sp.sstr(expr)} at sizes {dict(sz)} "
                f"failed ({type(exc).__name__}: {exc}); without it no route can be confirmed"
            ) from exc

    rejected: list[str] = []
    for name, cand in _routes(expr, wrt):
        if cand is None:
            rejected.append(name)
            continue
        ok = True
        for sz, mapping, oracle in oracles:
            try:
                got = _to_explicit(cand.xreplace(mapping).xreplace(dict(sz)))
                if not isinstance(got, sp.MatrixBase):  # SymPy's scalar 0 for a matrix
                    got = got * sp.ImmutableMatrix.ones(*oracle.shape)
            except Exception as exc:  # a candidate that cannot even be evaluated is rejected
                ok = False
                rejected.append(f"{name} gave {sp.sstr(cand)} (could not evaluate: {exc})")
                break
            if not matrices_equal(got, oracle):
                ok = False
                rejected.append(
                    f"{name} gave {sp.sstr(cand)} (disagrees with explicit derivatives at {sz})"
                )
                break
        if ok:
            return Gradient(cand, name, tuple(dict(s) for s in size_list), tuple(rejected))
    oracle_text = "; ".join(f"at {dict(sz)}: {sp.sstr(o)}" for sz, _, o in oracles)
    raise MatrixCalculusError(
        "no symbolic route to the gradient of "
        f"{sp.sstr(expr)} with respect to {wrt} agrees with entry-by-entry differentiation.\n"
        f"  symbolic routes: {'; '.join(rejected)}\n  explicit derivatives: {oracle_text}"
    )


def checked_gradient(expr: Any, wrt: sp.MatrixSymbol) -> tuple[Gradient | None, tuple[bool, str]]:
    """:func:`gradient` as a step check: ``(gradient or None, (confirmed, what was shown))``.

    The check is the one :func:`gradient` runs (two symbolic routes against entry-by-entry
    derivatives); a :class:`MatrixCalculusError` becomes a failed check with its message.
    """
    try:
        g = gradient(expr, wrt)
    except MatrixCalculusError as exc:
        return None, (False, f"FAILS: {exc}")
    return g, (len(g.sizes) >= 2, g.check)
