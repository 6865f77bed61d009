"""Imbalance under gradient flow: conserved without weight decay (D2), decaying with it (D3).

Reference: Tansley, Massart, Cartis, arXiv:2510.15563 (tags D2, D3 of REFERENCE.md). With
D_j := W_{j+1}^T W_{j+1} - W_j W_j^T and dW_k/dt = -grad_{W_k}(l + (lam/2) sum ||W_k||^2):

(D2) dD_j/dt = 0                                                          (lam = 0)
(D3) dD_j/dt = -2 lam D_j,  so D_j(t) = exp(-2 lam t) D_j(0)             (lam > 0)

The steps share the symbols, the gradients and the explicit undefined-loss instances of
theory/deep_linear/balance.py (D1); the product rule is checked on index sums of undefined
functions of t for symbolic sizes. :func:`check_flow_variant` refutes the planted false rate
dD/dt = -lam D at an explicit point.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy as sp

from theory._checks import _step
from theory._records import DEEP_LINEAR_PAPER, Assumption, Claim, Derivation, Verdict
from theory.deep_linear.balance import (
    _LOSS,
    _SYMBOLS,
    D,
    Wj,
    Wn,
    _Explicit,
    _explicit,
    _explicit_all,
    _grads,
    _linearisation_steps,
    _verdict,
    a,
    b,
    e,
    lam,
    t,
)
from theory.free_algebra import _sym
from theory.matrix_calculus import matrices_equal

__all__ = ["check_flow_variant", "derive_flow"]


# -- D2 / D3 ------------------------------------------------------------------------------------
def _flow_explicit(E: _Explicit, rate: Any, lam_value: Any) -> bool:
    """dD_j/dt (product rule with dW/dt = -(grad ell + lam W)) equals rate * D_j exactly."""
    W = E.W
    dot = [-(g + lam_value * w) for g, w in zip(E.grads, W, strict=True)]
    for j in range(2):
        dD = dot[j + 1].T * W[j + 1] + W[j + 1].T * dot[j + 1] - dot[j] * W[j].T - W[j] * dot[j].T
        Dj = W[j + 1].T * W[j + 1] - W[j] * W[j].T
        if not matrices_equal(dD, rate * Dj):
            return False
    return True


@cache
def _product_rule_explicit() -> bool:
    """d/dt of D_j for weights that are undefined functions of t, entry by entry (2x3, 2x2)."""
    f = [sp.ImmutableMatrix(r, k, lambda i, j, n=n: sp.Function(f"{n}_{i}{j}")(t))
         for n, (r, k) in (("u", (3, 2)), ("v", (2, 3)))]  # fmt: skip
    Wjx, Wnx = f
    Dx = Wnx.T * Wnx - Wjx * Wjx.T
    rhs = Wnx.diff(t).T * Wnx + Wnx.T * Wnx.diff(t) - Wjx.diff(t) * Wjx.T - Wjx * Wjx.diff(t).T
    return matrices_equal(Dx.diff(t), rhs)


@cache
def _product_rule_symbolic() -> tuple[bool, str]:
    """The product rule for the entries of D_j at symbolic sizes: with W_{j+1}[c, a] = U(c, a, t)
    and W_j[a, c] = V(a, c, t) undefined functions, SymPy's d/dt of
    D_ab = sum_c U_ca U_cb - sum_c V_ac V_bc equals the entry (a, b) of
    dW_{j+1}^T W_{j+1} + W_{j+1}^T dW_{j+1} - dW_j W_j^T - W_j dW_j^T."""
    ai, bi, ci = sp.symbols("a b c", integer=True)
    mm, qq = sp.symbols("m q", integer=True, positive=True)
    U, V = sp.Function("U"), sp.Function("V")

    def dt(x: Any) -> Any:
        return sp.Derivative(x, t)

    Dab = sp.Sum(U(ci, ai, t) * U(ci, bi, t), (ci, 0, mm - 1)) - sp.Sum(
        V(ai, ci, t) * V(bi, ci, t), (ci, 0, qq - 1)
    )
    formula = sp.Sum(
        dt(U(ci, ai, t)) * U(ci, bi, t) + U(ci, ai, t) * dt(U(ci, bi, t)), (ci, 0, mm - 1)
    ) - sp.Sum(dt(V(ai, ci, t)) * V(bi, ci, t) + V(ai, ci, t) * dt(V(bi, ci, t)), (ci, 0, qq - 1))
    ok = bool(sp.expand(Dab.diff(t) - formula) == 0)
    what = "product rule on the entries of D_j as index sums, symbolic sizes (SymPy d/dt)"
    return ok, what if ok else "FAILS " + what


def derive_flow(lam_zero: bool = True) -> Derivation:
    """D2 (``lam_zero``): dD_j/dt = 0. D3: dD_j/dt = -2 lam D_j, D_j(t) = exp(-2 lam t) D_j(0)."""
    decay = not lam_zero
    gn, _, gj, _ = _grads(decay)
    steps = _linearisation_steps(decay)
    dn, dj = -gn, -gj
    dD = dn.T * Wn + Wn.T * dn - dj * Wj.T - Wj * dj.T
    steps.append(
        _step(
            sp.Symbol("dD_j/dt"),
            dD,
            "product rule on D_j, then dW_k/dt = -grad_{W_k} L",
            [
                _product_rule_symbolic(),
                (_product_rule_explicit(), "product rule: exact entry-by-entry d/dt, sizes 3x2"),
            ],
        )
    )
    gn0, _, gj0, _ = _grads(False)
    sn, sj = sp.MatrixSymbol("grad_{W_{j+1}} l", a, b), sp.MatrixSymbol("grad_{W_j} l", b, e)
    concrete = {sn: gn0, sj: gj0}
    bracket = -(sn.T * Wn + Wn.T * sn - sj * Wj.T - Wj * sj.T)
    split = bracket - 2 * lam * D if decay else bracket
    steps.append(
        _step(
            dD,
            split,
            "expand; the weight-decay terms collect into D_j",
            [_sym(dD - split.xreplace(concrete))],
        )
    )
    rate = -2 * lam if decay else sp.S.Zero
    final = rate * D if decay else sp.ZeroMatrix(b, b)
    lam_value = sp.Rational(3, 7) if decay else sp.S.Zero
    steps.append(
        _step(
            split,
            final,
            "D1 and its transpose: W_{j+1}^T grad_{W_{j+1}} l = grad_{W_j} l W_j^T, "
            "so the bracket vanishes",
            [
                _sym((split - final).xreplace(concrete)),
                _explicit_all(lambda E: _flow_explicit(E, rate.subs(lam, lam_value), lam_value)),
            ],
        )
    )
    if decay:
        D0 = sp.MatrixSymbol("D_j(0)", b, b)
        sol = sp.exp(-2 * lam * t) * D0
        resid = sol.diff(t) + 2 * lam * sol
        ok_ode = isinstance(sp.expand(resid.doit()), sp.ZeroMatrix) or resid.doit() == 0
        ok0 = sp.simplify(sol.subs(t, 0) - D0) == sp.ZeroMatrix(b, b)
        steps.append(
            _step(
                sp.Symbol("D_j(t)"),
                sol,
                "the linear ODE dD/dt = -2 lam D has this unique solution",
                [
                    (ok_ode, "d/dt of the solution + 2 lam * solution reduces to 0"),
                    (ok0, "equals D_j(0) at t = 0"),
                ],
            )
        )
    claim = Claim(
        "Imbalance is conserved by gradient flow" if lam_zero
        else "Imbalance decays at rate 2 lam under gradient flow with weight decay",
        "D2" if lam_zero else "D3",
        sp.Symbol("dD_j/dt"),
        final,
        (_LOSS, Assumption("flow", "dW_k/dt = -grad_{W_k}(l + (lam/2) sum_k ||W_k||_F^2)"),
         Assumption("lam", "lam = 0" if lam_zero else "lam > 0")),
        DEEP_LINEAR_PAPER,
        _SYMBOLS,
    )  # fmt: skip
    return _verdict(claim, steps)


# -- planted false variant -------------------------------------------------------------------
def check_flow_variant() -> Derivation:
    """The false rate dD_j/dt = -lam D_j (half the true rate): REFUTED at an explicit point."""
    E = _explicit(0)
    lam_value = sp.Rational(1, 2)
    true_rate, false_rate = -2 * lam_value, -lam_value
    W = E.W
    dot = [-(g + lam_value * w) for g, w in zip(E.grads, W, strict=True)]
    dD = dot[1].T * W[1] + W[1].T * dot[1] - dot[0] * W[0].T - W[0] * dot[0].T
    D0 = W[1].T * W[1] - W[0] * W[0].T
    claim = Claim(
        "PLANTED FALSE VARIANT: imbalance decays at rate lam",
        "D3",
        sp.Symbol("dD_j/dt"),
        -lam * D,
        (_LOSS, Assumption("lam>0", "lam > 0")),
        DEEP_LINEAR_PAPER,
        _SYMBOLS,
    )
    step = _step(
        sp.Symbol("dD_1/dt"),
        dD,
        "exact rational weights, undefined loss ell; gradients entry by entry",
        [
            (matrices_equal(dD, true_rate * D0), "dD_1/dt = -2 lam D_1 exactly (the true D3)"),
            (not matrices_equal(dD, false_rate * D0), "dD_1/dt != -lam D_1 exactly"),
        ],
    )
    witness = {
        "lam": lam_value,
        "W1": W[0], "W2": W[1], "W3": W[2],
        "D1": D0, "dD1_dt": dD, "claimed_-lam_D1": false_rate * D0,
        "true_-2lam_D1": true_rate * D0,
    }  # fmt: skip
    if step.checked:  # the witness separates the true rate from the planted one
        return Derivation(
            claim, (step,), Verdict.REFUTED,
            "exact counterexample: dD_1/dt = -2 lam D_1 != -lam D_1 since D_1 != 0 "
            "(with ell an undefined function, so for every loss of A)", witness,
        )  # fmt: skip
    return Derivation(claim, (step,), Verdict.INCONCLUSIVE, "the witness did not separate")
