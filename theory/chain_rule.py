"""The chain-rule lemma for a function that sees a matrix only through a linear map of it.

Lemma. Let Z = P X Q + C, with P (r x s), X (s x t), Q (t x u) and C (r x u) not depending on X,
and let l be any differentiable function of the entries of Z, with G = [dl/dZ_pq]. Then

    grad_X l = P^T G Q^T,     equivalently   dl = Tr(G^T dZ),  dZ = P dX Q.

Proof. By the multivariable chain rule (a theorem of calculus, used as such),
dl/dX_ab = sum_{p,q} G_pq dZ_pq/dX_ab. SymPy differentiates the entry
Z_pq = sum_{i,j} P_pi X_ij Q_jq + C_pq with respect to X_ab for SYMBOLIC sizes r, s, t, u and gets
P_pa Q_bq (for 0 <= a < s, 0 <= b < t), so dl/dX_ab = sum_{p,q} G_pq P_pa Q_bq, which is the entry
(a, b) of P^T G Q^T as SymPy writes it for symbolic sizes. Both sides are index sums with the
same bounds; they are compared after renaming the summation indices (:func:`sums_equal`). This is
a proof for all sizes; :func:`linear_map_lemma` runs it and reports what was shown.

Uses (each an instance: the lemma holds for every P, Q, C, so substituting P = I or Q = H is
substitution into a universally quantified statement):

- FACT for a layer of an MLP (F1): L_data depends on W only through Z = W H + b 1^T
  (P = I, X = W, Q = H, C = b 1^T, G = Delta / n), so grad_W L_data = Delta H^T / n; and each
  l_i depends on h_i only through z_i = W h_i + b (P = W, X = H, Q = I), so
  grad_h l_i = W^T delta_i.
- deep linear networks (D1, D4): l depends on W_j only through A = P W_j Q with
  P = W_L ... W_{j+1}, Q = W_{j-1} ... W_1, so grad_{W_j} l = P^T G Q^T with G = dl/dA.
- the Jacobian of a linear map (D5): f(x) = B x (X = x, P = B, Q = 1) has df_c/dx_b = B_cb.
"""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

import sympy as sp

__all__ = ["jacobian_lemma", "lemma_sides", "linear_map_lemma", "sums_equal"]


def _canonical(expr: Any) -> Any:
    """Rename every summation index to a canonical name, in order of appearance."""
    counter = itertools.count()

    def rename(s: sp.Sum) -> sp.Sum:
        body, limits = s.function, []
        for var, lo, hi in s.limits:
            new = sp.Symbol(f"_k{next(counter)}", integer=True)
            body = body.xreplace({var: new})
            limits.append((new, lo, hi))
        return sp.Sum(body, *limits)

    return expr.replace(lambda e: isinstance(e, sp.Sum), rename)


def sums_equal(x: Any, y: Any) -> bool:
    """Two index sums are equal: the same after renaming summation indices, up to the order of
    the (finite) sums, which commute (Fubini for finite sums)."""
    cx = _canonical(x)
    if not isinstance(y, sp.Sum):
        return bool(sp.expand(cx - _canonical(y)) == 0)
    for order in itertools.permutations(y.limits):
        if sp.expand(cx - _canonical(sp.Sum(y.function, *order))) == 0:
            return True
    return False


def _in_range(expr: Any, ranges: dict[sp.Symbol, Any]) -> Any:
    """Resolve the conditions 0 <= a <= size - 1 that SymPy attaches to a Kronecker delta sum,
    for indices known to be in range (the entry (a, b) of an s x t matrix)."""
    facts = {}
    for idx, size in ranges.items():
        facts[sp.Ge(idx, 0)] = sp.true
        facts[sp.Le(idx, size - 1)] = sp.true
        facts[sp.Le(0, idx)] = sp.true
        facts[sp.Ge(size - 1, idx)] = sp.true
    return expr.xreplace(facts)


def lemma_sides() -> tuple[Any, Any, Any]:
    """``(chain, target, dZ)`` of the proof: sum_pq G_pq dZ_pq/dX_ab (dZ by SymPy), the entry
    (a, b) of P^T G Q^T as SymPy writes it, and dZ_pq/dX_ab itself (symbolic sizes)."""
    r, s, t, u = sp.symbols("r s t u", integer=True, positive=True)
    P, X = sp.MatrixSymbol("P", r, s), sp.MatrixSymbol("X", s, t)
    Q, C = sp.MatrixSymbol("Q", t, u), sp.MatrixSymbol("C", r, u)
    G = sp.MatrixSymbol("G", r, u)
    a, b, p, q = sp.symbols("a b p q", integer=True)
    dZ = _in_range(sp.diff((P * X * Q + C)[p, q], X[a, b]).doit(), {a: s, b: t})
    chain = sp.Sum(G[p, q] * dZ, (p, 0, r - 1), (q, 0, u - 1))
    return chain, (P.T * G * Q.T)[a, b], dZ


@cache
def linear_map_lemma() -> tuple[bool, str]:
    """Run the proof of the module docstring for symbolic sizes; ``(passed, what was shown)``
    (computed once per process)."""
    return _linear_map_lemma()


@cache
def jacobian_lemma() -> tuple[bool, str]:
    """The Jacobian of x -> B x is B, for a symbolic c x d matrix B (computed once)."""
    return _jacobian_lemma()


def _linear_map_lemma() -> tuple[bool, str]:
    chain, target, dZ = lemma_sides()
    # dZ_pq/dX_ab must be the single product P_pa Q_bq (no Kronecker delta or range left over)
    entry_ok = sorted(str(f) for f in sp.Mul.make_args(dZ)) == ["P[p, a]", "Q[b, q]"]
    ok = entry_ok and sums_equal(chain, target)
    what = (
        "chain-rule lemma grad_X l(P X Q + C) = P^T G Q^T proved for symbolic sizes "
        "(dZ_pq/dX_ab = P_pa Q_bq by SymPy, index sums compared)"
    )
    return ok, what if ok else "FAILS: " + what


def _jacobian_lemma() -> tuple[bool, str]:
    c, d = sp.symbols("c d", integer=True, positive=True)
    B, x = sp.MatrixSymbol("B", c, d), sp.MatrixSymbol("x", d, 1)
    i, k = sp.symbols("i k", integer=True)
    dfx = _in_range(sp.diff((B * x)[i, 0], x[k, 0]).doit(), {k: d})
    ok = bool(sp.expand(dfx - B[i, k]) == 0)
    what = "d(B x)_i/dx_k = B_ik for symbolic sizes (SymPy, entry by entry)"
    return ok, what if ok else "FAILS: " + what
