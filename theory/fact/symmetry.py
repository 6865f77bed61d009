"""F5: at a stationary point FACT is symmetric and PSD, so FACT = (FACT FACT^T)^(1/2).

Reference: Boix-Adsera, Mallinar, Simon, Belkin, arXiv:2507.05644 (tag F5 of REFERENCE.md).

  FACT = W^T W - (1/lam) W^T grad_W L_lam              (F2, at any parameters)
       = W^T W                                        (stat: grad_W L_lam = 0)
  FACT^T = FACT,   (FACT + FACT^T)/2 = FACT           (W^T W is symmetric)
  (FACT FACT^T)^(1/2) = ((W^T W)^2)^(1/2) = W^T W      (W^T W is PSD; the PSD root is unique)

Every step is checked symbolically for all sizes (the last one with the cited uniqueness of PSD
roots, theory/psd_root.py) and exactly at the exact stationary witness. Away from a stationary
point FACT need not be symmetric; that remark is shown with its own check (an explicit
non-stationary instance where FACT - FACT^T != 0), apart from the steps, since it is not part of
the claim.
"""

from __future__ import annotations

import sympy as sp

from theory._records import FACT_PAPER, Claim, Derivation
from theory.fact.context import (
    _assumptions,
    _conclude,
    _Ctx,
    _fact_expr,
    _reduces_to_zero,
    _step,
    _sym,
)
from theory.free_algebra import _sym as _free_sym
from theory.matrix_calculus import matrices_equal
from theory.psd_root import ROOT_THEOREM, gram_is_psd, root_inverts_power

__all__ = ["derive_f5"]


def derive_f5(ctx: _Ctx) -> Derivation:
    """F5 for the layer of ``ctx`` (module docstring)."""
    M, W, H, D, n, lam = ctx.parts
    GradW = sp.MatrixSymbol("grad_W L_lambda", *W.shape)
    S = W.T * W
    fact = sp.MatrixSymbol("FACT", *S.shape)
    f2_rhs = S - (1 / lam) * W.T * GradW
    w = ctx.witness
    F = sp.ImmutableMatrix(-(1 / (w["n"] * w["lam"])) * w["Gh"] * w["H"].T)
    symmetric = matrices_equal(F, F.T)
    psd = symmetric and all(ev >= 0 for ev in sp.Matrix(F).eigenvals())
    steps = [
        _step(
            fact, f2_rhs, "F2, rearranged (with the chain rule G_h = W^T Delta)",
            [_sym(_reduces_to_zero(_fact_expr(ctx, W.T * D) - f2_rhs.xreplace(
                {GradW: ctx.target_grad}))),
             ctx.explicit_all(lambda E: matrices_equal(
                 -(1 / (E.n * lam)) * E.Gh * E.H.T, E.W.T * E.W - (1 / lam) * E.W.T * E.grad))],
        ),
        _step(
            fact, S, "assumption (stat): grad_W L_lam = 0, so the second term vanishes",
            [_sym(_reduces_to_zero(f2_rhs.xreplace({GradW: sp.ZeroMatrix(*W.shape)}) - S)),
             (matrices_equal(F, w["W"].T * w["W"]), "exact at the stationary witness")],
        ),
        _step(
            fact.T, fact, "FACT = W^T W (above) and W^T W is symmetric",
            [_free_sym(S.T - S), (symmetric, "exact at the witness")],
        ),
        _step(
            (fact + fact.T) / 2, fact, "average of two equal matrices (FACT^T = FACT above)",
            [_sym(_reduces_to_zero((S + S.T) / 2 - S))],
        ),
        _step(
            sp.MatPow(fact * fact.T, sp.Rational(1, 2)), fact,
            f"FACT FACT^T = (W^T W)^2 and W^T W is PSD; {ROOT_THEOREM}, so the root is W^T W",
            [_free_sym(S * S.T - S * S), gram_is_psd(), root_inverts_power(),
             (psd and matrices_equal(F * F.T, F * F),
              "at the witness FACT is symmetric, PSD (eigenvalues >= 0, exact) and "
              "FACT FACT^T = FACT^2")],
        ),
    ]  # fmt: skip
    E = ctx.instances[0]
    Fx = -(1 / (E.n * lam)) * E.Gh * E.H.T
    asym = not matrices_equal(Fx, Fx.T)
    remark = (
        "not part of the claim: away from a stationary point FACT need not be symmetric; at the "
        "first explicit instance (W symbolic, not stationary) FACT - FACT^T "
        + ("!= 0 (checked exactly)" if asym else "happens to vanish")
    )
    claim = Claim(
        f"FACT is symmetric PSD at stationary points (F5) for {M.description}",
        "F5",
        fact,
        sp.MatPow(fact * fact.T, sp.Rational(1, 2)),
        _assumptions(M),
        FACT_PAPER,
        M.symbols | {"FACT": "-(1/(n lam)) sum_i grad_h l_i h_i^T"},
    )
    return _conclude(claim, steps, "F5", notes=(remark,))
