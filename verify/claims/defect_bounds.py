"""What the certified gradient allows the FACT defect to be: tolerance and consistency guard.

F2 is exact at any parameters: W^T W - FACT = (1/lam) W^T grad_W L_lam. So at a point whose
gradient is certified (every computed entry within its rounding floor, :mod:`verify.engine
.rounding`), the exact gradient obeys |grad_exact| <= |grad_computed| + floor entrywise, and

    ||W^T W - FACT||_F <= ||W||_F || |grad_W| + floor_W ||_F / lam  =: F2 allowance.

The computed defect differs from the exact one by at most ||E_D||_F, E_D the entrywise rounding
bound of W^T W - FACT propagated from the same analysis: W^T W is a product with inner dimension
out (gamma_out |W|^T |W|); FACT = -(grad_h^T h) (1/lam) / n is a product with inner dimension n
of computed arrays with bounds e_gh and e_h (gamma_n |gh|^T |h| + e_gh^T |h| + (|gh| + e_gh)^T e_h,
then three roundings: 1/lam, the product with it, the division by n); the difference adds
u |defect|. In float64 an underflow may add 2^-1074 per operation. Hence

    tolerance = F2 allowance + ||E_D||_F

bounds the computed defect at a certified point (the factor SAFETY of the floor covers the
float64 evaluation of these sums). Two uses:

- the verdict: a formula for W^T W (F1 or a planted variant) within the tolerance is consistent;
- the consistency guard: the TRUE F1 defect above the tolerance contradicts the certificate
  (F2 makes the defect a rescaled gradient, so the gradient is larger than certified), and the
  point is then not treated as certified. With a sound floor the guard never fires; it stands
  between a wrong floor and a wrong verdict.

The F2 residual ||(W^T W - FACT) - W^T grad_W / lam||_F, zero in exact arithmetic, gets the same
treatment: its bound is ||E_D||_F plus the bound of the computed W^T grad_W / lam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verify.engine.backends import Array, Backend
from verify.engine.hessian import rounding_at
from verify.engine.problem import Problem
from verify.engine.rounding import SAFETY, gamma, safe_norm, to_float64

__all__ = ["FactBound", "fact_bounds"]

_TINY = 2.0**-1074


@dataclass(frozen=True)
class FactBound:
    """One layer: the F2 allowance and the rounding bounds (module docstring)."""

    layer: int
    f2_allowance: float  # ||W|| || |grad_W| + floor_W || / lam (exact defect <= this)
    defect_rounding: float  # ||E_D||_F: computed vs exact W^T W - FACT
    f2_residual_rounding: float  # bound on the computed F2 residual (exactly zero)

    @property
    def tolerance(self) -> float:
        """Bound on the computed F1 defect at a certified point (module docstring)."""
        return SAFETY * (self.f2_allowance + self.defect_rounding)

    def consistent(self, defect: float) -> bool:
        """The guard: the computed F1 defect is within what the certified gradient allows."""
        return bool(np.isfinite(self.tolerance) and defect <= self.tolerance)


def fact_bounds(problem: Problem, theta: Array, be: Backend) -> list[FactBound]:
    """:class:`FactBound` of every layer at ``theta`` in the numbers of ``be``."""
    ra = rounding_at(problem, theta, be)  # kept: the certificate computed it at this point
    bp, u, n = ra.bp, ra.unit_roundoff, problem.n
    lam = float(problem.lam)
    out = []
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        inv = 1 / lam if lam > 0 else float("nan")
        for idx, lr in enumerate(ra.layers):
            w = to_float64(bp.params[idx][0])
            aw = np.abs(w)
            h = np.abs(to_float64(bp.hs[idx]))
            gh = np.abs(to_float64(bp.grad_h[idx]))
            gw = np.abs(to_float64(bp.grads[idx][0]))
            p_abs = gh.T @ h
            e_p = gamma(n, u) * p_abs + lr.grad_h.T @ h + (gh + lr.grad_h).T @ lr.h
            e_fact = (e_p + 3 * u * p_abs) * inv / n
            # W^T W (inner dimension out) and the difference W^T W - FACT, whose magnitude is
            # at most |W|^T |W| + |FACT|
            gram = aw.T @ aw
            e_d = (gamma(w.shape[0], u) + u) * gram + e_fact + u * p_abs * inv / n
            # W^T grad_W / lam: product (inner dimension out) of W and the computed gradient,
            # whose error is below its floor; then the division by lam
            e_r = (gamma(w.shape[0], u) + 2 * u) * (aw.T @ gw) * inv + (aw.T @ lr.grad_W) * inv
            if be.name == "float64":  # underflow: 2^-1074 per operation
                e_d = e_d + 4 * (n + w.shape[0]) * _TINY
            allowance = safe_norm(w) * safe_norm(gw + lr.grad_W) * inv  # F2
            d_round = safe_norm(e_d)
            out.append(FactBound(idx + 1, allowance, d_round, SAFETY * (d_round + safe_norm(e_r))))
    return out
