"""Balancedness of a deep linear network at a given point: D_j = W_{j+1}^T W_{j+1} - W_j W_j^T.

REFERENCE.md section 3: with weight decay every stationary point is balanced (D4); without it
(lam = 0) the imbalance is conserved by gradient flow (D2), so a stationary point may be
unbalanced, and then the NFA with alpha = 1/L (D5) need not hold. ``factcheck check`` reports it
for identity-activation run files with lam = 0, where FACT does not apply: it is a measurement
that explains the NFA result, not a claim, so it carries no verdict of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verify.engine.network import FLOAT64, Backend, Problem

__all__ = ["BalanceReport", "balance_report"]


@dataclass(frozen=True)
class BalanceReport:
    """||D_j||_F and ||D_j||_F / (||W_{j+1}^T W_{j+1}||_F + ||W_j W_j^T||_F) for j = 1..L-1."""

    norms: tuple[float, ...]
    relative: tuple[float, ...]
    tolerance: float  # relative rounding tolerance (see balance_report)
    balanced: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": "||W_{j+1}^T W_{j+1} - W_j W_j^T||_F, j = 1..L-1",
            "tag": "D2",
            "imbalance": list(self.norms),
            "imbalance_rel": list(self.relative),
            "tolerance_rel": self.tolerance,
            "balanced": self.balanced,
            "reason": self.reason,
        }

    def to_text(self) -> str:
        rows = ", ".join(
            f"j={j}: {a:.3g} (rel {r:.3g})"
            for j, (a, r) in enumerate(zip(self.norms, self.relative, strict=True), 1)
        )
        return f"[D2] imbalance ||W_(j+1)'W_(j+1) - W_j W_j'||: {rows}. {self.reason}"


def balance_report(problem: Problem, theta: Any, be: Backend = FLOAT64) -> BalanceReport:
    """Imbalance of every consecutive pair of layers at ``theta`` (module docstring)."""
    params = problem.net.unflatten(be.asarray(theta))
    norms, rel = [], []
    with be.working():
        for (w, _), (w2, _) in zip(params, params[1:], strict=False):
            upper, lower = w2.T @ w2, w @ w.T
            d = upper - lower
            size = be.sqrt(np.sum(upper * upper)) + be.sqrt(np.sum(lower * lower))
            norm = be.sqrt(np.sum(d * d))
            norms.append(float(norm))
            rel.append(float(norm / size) if size != 0 else 0.0)
    # why 10 m u: each Gram entry is an inner product of length <= m = max width, with relative
    # error <= gamma_m ~ m u of the sizes (Higham); 10 covers the subtraction and the norms
    tol = 10 * max(problem.net.sizes) * be.unit_roundoff
    balanced = all(r <= tol for r in rel)
    if balanced:
        reason = f"balanced within rounding (relative tolerance {tol:.2g})"
    else:
        reason = (
            f"unbalanced (worst relative imbalance {max(rel):.3g} > {tol:.2g}); allowed without "
            "weight decay, where gradient flow conserves the imbalance (D2), and then the NFA "
            "with alpha = 1/L (D5) need not hold"
        )
    return BalanceReport(tuple(norms), tuple(rel), tol, balanced, reason)
