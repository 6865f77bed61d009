"""F2 as numeric code generated from its SymPy statement (never retyped), checked in float64.

:func:`theory.fact.f2_statement` gives F2 as matrix expressions in (W, H, G_h, grad_W, n, lam)
with samples as columns; :func:`f2_function` turns each side into NumPy code with
``sympy.lambdify``. :func:`check_f2` evaluates both sides at any parameters of any network of the
engine (verify/engine/network.py),
using its exact backpropagation for grad_W L_lam and grad_h l_i, and
compares them against a rounding tolerance derived from float64's eps (see ``_tolerance``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from theory._verdict import Verdict
from theory.fact import f2_statement
from verify.base.records import ReportEntry
from verify.engine.network import MLP, Problem, backprop

__all__ = ["F2Check", "check_f2", "f2_function", "report_entries"]

EPS = float(np.finfo(np.float64).eps)


@functools.cache
def f2_function() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(lhs, rhs)`` NumPy functions of (W, H, G_h, grad_W, n, lam), lambdified from SymPy."""
    args, lhs, rhs = f2_statement()
    return sp.lambdify(args, lhs, "numpy"), sp.lambdify(args, rhs, "numpy")


@dataclass(frozen=True)
class F2Check:
    """F2 at one layer: the size of each side, their difference and the rounding tolerance."""

    layer: int
    defect: float
    tolerance: float
    scale: float
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "defect": self.defect,
            "tolerance": self.tolerance,
            "scale": self.scale,
            "verdict": self.verdict.value,
        }


def _tolerance(
    W: np.ndarray, H: np.ndarray, Gh: np.ndarray, grad: np.ndarray, n: int, lam: float
) -> tuple[float, float]:
    """Rounding tolerance for |lhs - rhs|_F, from float64's unit roundoff u = eps/2.

    Why: each side is a sum of matrix products, and a float64 product A B with inner dimension k
    is accurate to k u |A||B| (Higham, gamma_k). The inputs carry backprop rounding of the same
    kind (grad_W and G_h are themselves products over n and over the layer width). So the error
    is at most a small multiple of k u times the size of the terms being cancelled,
    T = |W|^2 + |G_h||H|/(n lam) + |W||grad_W|/lam, with k the largest dimension involved. The
    factor 8 covers the handful of products on each side; it is not tuned to pass.
    """
    k = max(W.shape + H.shape)
    scale = (
        np.linalg.norm(W) ** 2
        + np.linalg.norm(Gh) * np.linalg.norm(H) / (n * lam)
        + np.linalg.norm(W) * np.linalg.norm(grad) / lam
    )
    return 8 * k * (EPS / 2) * scale, float(scale)


def check_f2(
    problem: Problem,
    theta: np.ndarray,
    sides: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
) -> list[F2Check]:
    """Check F2 at every layer at the parameters ``theta`` (need not be stationary).

    ``sides`` replaces the generated (lhs, rhs) functions, e.g. to confirm that a deliberately
    wrong statement is caught.
    """
    lhs_f, rhs_f = sides if sides is not None else f2_function()
    bp = backprop(problem, theta)
    n, lam = problem.n, float(problem.lam)
    out = []
    for layer, ((W, _), (gW, _)) in enumerate(zip(bp.params, bp.grads, strict=True)):
        H = np.asarray(bp.hs[layer], dtype=float).T  # theory's convention: samples as columns
        Gh = np.asarray(bp.grad_h[layer], dtype=float).T
        W, gW = np.asarray(W, dtype=float), np.asarray(gW, dtype=float)
        lhs = lhs_f(W, H, Gh, gW, n, lam)
        rhs = rhs_f(W, H, Gh, gW, n, lam)
        defect = float(np.linalg.norm(lhs - rhs))
        tol, scale = _tolerance(W, H, Gh, gW, n, lam)
        ok = np.isfinite(defect) and defect <= tol
        verdict = Verdict.NUMERICALLY_CONSISTENT if ok else Verdict.REFUTED
        out.append(F2Check(layer + 1, defect, tol, scale, verdict))
    return out


def _cases(quick: bool) -> list[tuple[str, MLP, str]]:
    cases = [
        ("single linear layer", MLP((4, 3), "identity"), "mse"),
        ("deep linear network L = 3", MLP((4, 3, 3, 2), "identity"), "mse"),
        ("tanh MLP with biases L = 3", MLP((4, 6, 5, 2), "tanh", bias=True), "mse"),
    ]
    if not quick:
        cases += [
            ("softplus MLP, cross-entropy", MLP((5, 7, 3), "softplus", True), "cross_entropy"),
            ("gelu MLP L = 4", MLP((3, 5, 5, 4, 2), "gelu"), "mse"),
        ]
    return cases


def report_entries(quick: bool = False, seed: int = 0) -> list[ReportEntry]:
    """F2 in float64 at random (unconverged) parameters of several networks."""
    rng = np.random.default_rng(seed)
    out = []
    for name, net, loss in _cases(quick):
        n = 16
        X = rng.standard_normal((n, net.sizes[0]))
        if loss == "mse":
            Y = rng.standard_normal((n, net.sizes[-1]))
        else:
            Y = np.eye(net.sizes[-1])[rng.integers(0, net.sizes[-1], n)]
        problem = Problem(net, X, Y, loss=loss, lam=0.05)
        theta = net.init(rng)
        checks = check_f2(problem, theta)
        worst = max(checks, key=lambda c: c.defect / c.tolerance)
        verdict = (
            Verdict.NUMERICALLY_CONSISTENT
            if all(c.verdict is Verdict.NUMERICALLY_CONSISTENT for c in checks)
            else Verdict.REFUTED
        )
        details = "\n".join(
            f"layer {c.layer}: |lhs - rhs| = {c.defect:.2e}, tolerance {c.tolerance:.2e} "
            f"(terms of size {c.scale:.2e})"
            for c in checks
        )
        out.append(
            ReportEntry(
                section="FACT (numeric F2)",
                claim=f"F2 at random parameters: {name} ({loss})",
                tag="F2",
                verdict=verdict.value,
                evidence=verdict.evidence,
                reason="code generated from the SymPy statement of F2 by lambdify, evaluated with "
                f"the engine's backpropagation at random float64 parameters; worst layer "
                f"{worst.layer}: defect {worst.defect:.1e} <= tolerance {worst.tolerance:.1e}"
                if verdict.supports
                else "F2 defect exceeds the rounding tolerance",
                precision=f"float64: {max(c.defect for c in checks):.1e}",
                details=details,
                data={"layers": [c.to_dict() for c in checks]},
            )
        )
    return out
