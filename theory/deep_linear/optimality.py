"""The NFA with exponent 1/L from first-order optimality, as one derivation (D4 then D5/D6).

Reference: Tansley, Massart, Cartis, arXiv:2510.15563 (tags D1, D4, D5, D6 of REFERENCE.md).
For f(x) = W_L ... W_1 x, any differentiable loss l of the end-to-end matrix A = W_L ... W_1 and
L_lam = l(A) + (lam/2) sum_k ||W_k||_F^2 with lam > 0:

  grad_{W_k} L_lam = 0 for every k                                    (assumption: stationary)
  grad_{W_k} L_lam = P_k^T G Q_k^T + lam W_k,  P_k = W_L..W_{k+1},  Q_k = W_{k-1}..W_1, G = dl/dA
                                                                       (chain-rule lemma)
  lam D_j = W_{j+1}^T grad_{W_{j+1}} L_lam - grad_{W_j} L_lam W_j^T    (at ANY weights; D1)
  D_j = 0 for j = 1..L-1                                               (stationarity, lam > 0: D4)
  (W_L..W_j)^T (W_L..W_j) = (W_j^T W_j)^(L-j+1)                        (telescoping with D_i = 0)
  AGOP_j = (W_L..W_j)^T (W_L..W_j)                                     (Jacobian of a linear map)
  W_j^T W_j = AGOP_j^(1/(L-j+1))                                       (unique PSD root)

so the layer-1 NFA holds with alpha = 1/L and constant exactly 1. Checks: the gradient by the
chain-rule lemma (theory/chain_rule.py, symbolic sizes) and the regrouping A = P_k W_k Q_k in the
free algebra; the D1-type identity in the free algebra; D_j = 0 by substituting the stationarity
assumption into that identity (symbolically) and dividing by lam, which SymPy knows is positive;
and, independently, the gradient formula and the identity exactly at explicit depth-L networks
with an UNDEFINED loss ell of the entries of A (gradients entry by entry, rational weights). The
telescoping, AGOP and root steps are those of theory/deep_linear/nfa.py.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

import sympy as sp

from theory._checks import _step, assumption, conclude, rand_rational
from theory._records import Assumption, Derivation, Step
from theory.chain_rule import linear_map_lemma
from theory.deep_linear.nfa import (
    _LINEAR,
    _PROVED,
    _prod,
    _weights,
    chain_steps,
    nfa_claim,
    nfa_steps,
    validate_depth_layer,
)
from theory.free_algebra import _sym, free_algebra_zero
from theory.matrix_calculus import gradient, matrices_equal

__all__ = ["derive_nfa_deep_linear", "stationary_balance_steps"]

lam = sp.Symbol("lambda", positive=True)

_ASSUMPTIONS = (
    Assumption("loss", "l depends on the weights only through A = W_L ... W_1, differentiably"),
    Assumption("lam>0", "weight decay lam > 0 on every layer"),
    Assumption("stat", "grad_{W_k} L_lam = 0 for k = 1..L, L_lam = l(A) + (lam/2) sum ||W_k||^2"),
    _LINEAR,
)


def derive_nfa_deep_linear(depth: int, layer: int = 1) -> Derivation:
    """From grad L_lam = 0, lam > 0 to W_j^T W_j = AGOP_j^(1/(L-j+1)), every step checked
    (module docstring), for a concrete depth 2..8."""
    L, j = validate_depth_layer(depth, layer)
    return _derive(L, j)


@cache
def _derive(L: int, j: int) -> Derivation:
    steps = stationary_balance_steps(L)
    chain, gram, final = chain_steps(L, j)
    steps += [_from_stationarity(s) for s in chain]
    steps += nfa_steps(L, j, gram, final)
    claim = nfa_claim(L, j, _ASSUMPTIONS, "a stationary weight-decayed")
    return conclude(
        claim, steps,
        "stationarity gives D_j = 0 for every j (D1, D4: free algebra and symbolic "
        "substitution, chain-rule lemma for symbolic sizes); then " + _PROVED,
    )  # fmt: skip


def _from_stationarity(s: Step) -> Step:
    """A telescoping step whose balancedness is now derived (steps above), not assumed."""
    if not s.justification.startswith("balancedness"):
        return s
    why = s.justification.replace("balancedness", "balancedness (derived above from (stat))", 1)
    return Step(s.lhs, s.rhs, why, s.checked, s.check, kind=s.kind)


def _grad_symbol(Wk: sp.MatrixSymbol, k: int) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(f"grad_{{W_{k}}} L_lambda", *Wk.shape)


def _gradient_formula(L: int, k: int, G: Any) -> Any:
    """P_k^T G Q_k^T + lam W_k for the weights of depth L (P_k, Q_k empty at the ends)."""
    W = _weights(L)
    above, below = _prod(list(reversed(W[k:]))), _prod(list(reversed(W[: k - 1])))
    core = G
    if above is not None:
        core = above.T * core
    if below is not None:
        core = core * below.T
    return core + lam * W[k - 1]


def stationary_balance_steps(L: int) -> list[Step]:
    """D4 for a concrete depth L: stationarity => D_j = 0 for j = 1..L-1 (module docstring)."""
    W = _weights(L)
    G = sp.MatrixSymbol("G", W[-1].shape[0], W[0].shape[1])
    A = _prod(list(reversed(W)))
    grads = [_grad_symbol(W[k - 1], k) for k in range(1, L + 1)]
    formulas = [_gradient_formula(L, k, G) for k in range(1, L + 1)]
    concrete = dict(zip(grads, formulas, strict=True))
    regroup = all(
        free_algebra_zero(A - _sandwich_product(W, k)) for k in range(1, L + 1)
    )  # A = P_k W_k Q_k for every k
    decay = gradient(lam / 2 * sp.Trace(W[0].T * W[0]), W[0])
    decay_ok = _reduces(decay.expr - lam * W[0])
    steps = [
        assumption(sp.Symbol("grad_{W_k} L_lambda (k = 1..L)"), sp.S.Zero, "stat"),
        _step(
            sp.Symbol("grad_{W_k} L_lambda"),
            sp.Symbol("P_k^T G Q_k^T + lambda W_k"),
            "chain-rule lemma: l depends on W_k only through A = P_k W_k Q_k "
            "(P_k = W_L..W_{k+1}, Q_k = W_{k-1}..W_1, G = dl/dA); the decay term gives lam W_k",
            [linear_map_lemma(),
             (regroup, f"A = P_k W_k Q_k in the free algebra for k = 1..{L}"),
             (decay_ok, "grad (lam/2) Tr(W^T W) = lam W: " + decay.check),
             _explicit_check(L, "gradient")],
        ),
    ]  # fmt: skip
    for j in range(1, L):
        Wj, Wn = W[j - 1], W[j]
        D = Wn.T * Wn - Wj * Wj.T
        rhs = Wn.T * grads[j] - grads[j - 1] * Wj.T
        steps.append(
            _step(
                lam * D, rhs,
                f"at ANY weights (D1 for the pair W_{j}, W_{j + 1}): the loss terms cancel, "
                "the decay terms leave lam D_j",
                [_sym(lam * D - rhs.xreplace(concrete)),
                 _explicit_check(L, f"D_{j}")],
            )
        )  # fmt: skip
        at_stationary = rhs.xreplace({g: sp.ZeroMatrix(*g.shape) for g in grads})
        steps.append(
            _step(
                D, sp.ZeroMatrix(*D.shape),
                "(stat): both gradients vanish, so lam D_j = 0; divide by lam > 0",
                [(_reduces(at_stationary), "the right side above is 0 when the gradients are"),
                 (bool(lam.is_positive), "lam is declared positive (lam>0)"),
                 (_reduces(D - (1 / lam) * (lam * D)), "D_j = (1/lam) (lam D_j)")],
            )
        )  # fmt: skip
    return steps


def _sandwich_product(W: tuple[sp.MatrixSymbol, ...], k: int) -> Any:
    above, below = _prod(list(reversed(W[k:]))), _prod(list(reversed(W[: k - 1])))
    parts = [x for x in (above, W[k - 1], below) if x is not None]
    return sp.MatMul(*parts)


def _reduces(expr: Any) -> bool:
    out = sp.expand(expr.doit())
    return out == 0 or isinstance(out, sp.ZeroMatrix)


# -- explicit networks with an undefined loss ------------------------------------------------------
def _widths(L: int, k: int) -> tuple[int, ...]:
    """Small widths, neighbours different (a transposed factor changes a shape)."""
    return tuple(2 + (i + k) % 2 for i in range(L + 1))


@cache
def _explicit_grads(L: int, k: int) -> tuple[list[sp.ImmutableMatrix], list[Any], list[Any], Any]:
    """Rational weights, the exact gradients of ell(A) + (lam/2) sum ||W||^2 (entry by entry,
    ell undefined), the formula P^T G Q^T + lam W with G = [d ell / d A_pq] at A, and lam."""
    widths = _widths(L, k)
    rng = random.Random(4000 + 100 * L + k)
    Ws = [rand_rational(widths[i + 1], widths[i], rng) for i in range(L)]
    lam_v = sp.Rational(2, 5)
    ell = sp.Function("ell")
    c, d = widths[-1], widths[0]
    a = sp.ImmutableMatrix(c, d, lambda p, q: sp.Symbol(f"a_{p}{q}"))
    A = _prod_explicit(Ws, 0, L)
    at_A = dict(zip(a, A, strict=True))
    Gx = a.applyfunc(lambda s: sp.diff(ell(*a), s).subs(at_A).doit())
    grads, formulas = [], []
    for idx in range(L):
        sym = sp.ImmutableMatrix(*Ws[idx].shape, lambda p, q: sp.Symbol(f"w_{p}{q}"))
        P, Q = _prod_explicit(Ws, idx + 1, L), _prod_explicit(Ws, 0, idx)
        loss = ell(*(P * sym * Q))
        vals = dict(zip(sym, Ws[idx], strict=True))
        g = sym.applyfunc(lambda w, loss=loss, vals=vals: sp.diff(loss, w).subs(vals).doit())
        grads.append(sp.ImmutableMatrix(g) + lam_v * Ws[idx])
        formulas.append(P.T * Gx * Q.T + lam_v * Ws[idx])
    return Ws, grads, formulas, lam_v


def _prod_explicit(Ws: list[sp.ImmutableMatrix], lo: int, hi: int) -> sp.ImmutableMatrix:
    """W_hi ... W_{lo+1} (0-based slice Ws[lo:hi]); the identity if empty."""
    out = sp.eye(Ws[lo].shape[1] if lo < len(Ws) else Ws[-1].shape[0])
    for Wk in Ws[lo:hi]:
        out = Wk * out
    return sp.ImmutableMatrix(out)


def _explicit_check(L: int, what: str) -> tuple[bool, str]:
    ok = True
    for k in range(2):
        Ws, grads, formulas, lam_v = _explicit_grads(L, k)
        if what == "gradient":
            ok = ok and all(matrices_equal(g, f) for g, f in zip(grads, formulas, strict=True))
        else:
            j = int(what.split("_")[1])
            Wj, Wn = Ws[j - 1], Ws[j]
            ok = ok and matrices_equal(
                lam_v * (Wn.T * Wn - Wj * Wj.T), Wn.T * grads[j] - grads[j - 1] * Wj.T
            )
    sizes = "; ".join(str(_widths(L, k)) for k in range(2))
    text = f"exact at rational weights, undefined loss ell(entries of A), widths [{sizes}]"
    return ok, text if ok else "FAILS " + text
