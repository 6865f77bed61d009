"""PSD roots: what the toolkit checks when a step takes the k-th root of a PSD matrix.

A step "S^k = M, so S = M^(1/k)" is valid when S is positive semidefinite and M^(1/k) denotes the
PSD k-th root of M, because a PSD matrix has exactly one PSD k-th root (Horn and Johnson, Matrix
Analysis, 2nd ed., Theorem 7.2.6; a cited theorem, used as such). The checks that go with it:

- :func:`gram_is_psd`: S = W^T W is PSD for every W: x^T W^T W x = (W x)^T (W x) is an identity
  of the free algebra (all sizes), and v^T v = sum_t v_t^2 >= 0 for a real vector of symbolic
  length (SymPy);
- :func:`root_inverts_power`: under the spectral decomposition the root maps each eigenvalue by
  t -> t^(1/k), which undoes t -> t^k on t >= 0, for a symbolic integer k >= 1 (SymPy).

Used by D5/D6 (W_j^T W_j = AGOP^(1/(L-j+1))) and F5 (FACT = (FACT FACT^T)^(1/2)).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from theory.free_algebra import free_algebra_zero

__all__ = ["ROOT_THEOREM", "gram_is_psd", "root_inverts_power"]

#: the cited theorem, as it reads in step justifications
ROOT_THEOREM = "the PSD k-th root is unique (Horn and Johnson, Matrix Analysis, 2nd ed., Thm 7.2.6)"


@cache
def gram_is_psd() -> tuple[bool, str]:
    """W^T W is PSD at every size; ``(passed, what was shown)`` (computed once)."""
    return _gram_is_psd()


@cache
def root_inverts_power() -> tuple[bool, str]:
    """(t^k)^(1/k) = t for t >= 0 and a symbolic integer k >= 1 (computed once)."""
    return _root_inverts_power()


def _gram_is_psd() -> tuple[bool, str]:
    r, c = sp.symbols("r c", integer=True, positive=True)
    Wm, x = sp.MatrixSymbol("W", r, c), sp.MatrixSymbol("x", c, 1)
    ok = free_algebra_zero(x.T * Wm.T * Wm * x - (Wm * x).T * (Wm * x))
    v, t = sp.IndexedBase("v", real=True), sp.Symbol("t", integer=True)
    ok = ok and bool(sp.Sum(v[t] ** 2, (t, 0, r - 1)).is_nonnegative)
    what = "PSD: x^T W^T W x = (W x)^T (W x) (free algebra) = sum_t v_t^2 >= 0 (SymPy, any size)"
    return ok, what if ok else "FAILS " + what


def _root_inverts_power() -> tuple[bool, str]:
    t = sp.Symbol("t", nonnegative=True)
    k = sp.Symbol("k", integer=True, positive=True)
    ok = bool(sp.simplify((t**k) ** (1 / k) - t) == 0)
    what = "(t^k)^(1/k) = t for t >= 0 and every integer k >= 1 (SymPy, symbolic k)"
    return ok, what if ok else "FAILS " + what
