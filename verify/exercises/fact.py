"""Exercises on FACT (F1) and the off-convergence identity (F2), with their checks.

- ``fact-formula`` (F1): FACT as a formula in W, H, G_h, n, lam; proved symbolically for all
  sizes, or refuted at an exact stationary point (rational arithmetic).
- ``fact-numeric`` (F1): FACT from a forward and backward pass; compared with W^T W at a
  certified stationary point.
- ``f2-defect`` (F2): the FACT defect predicted from the gradient alone, at a point far from
  stationary.
- ``f2-derivation`` (F2): the off-convergence identity as the student's own chain of equalities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verify.exercises.common import (
    certified_point,
    derivation_outcome,
    matrix_text,
    rel_error,
)
from verify.exercises.grader import Exercise, Outcome

__all__ = ["EXERCISES", "F2_SETTING"]

_EPS = float(np.finfo(float).eps)
#: why: at a certified point W^T W and FACT agree to ~1e-15 relative (REFERENCE section 8);
#: 1e3 eps leaves room for the conditioning of these 24-sample sums, far below any wrong formula
_TOL = 1e3 * _EPS


def _fact_formula(answer: Any, small: bool) -> Outcome:
    from theory import Verdict
    from theory.fact import check_fact_variant

    d = check_fact_variant(answer, arch="linear")
    if d.verdict is Verdict.PROVED:
        return Outcome.right(f"PROVED for every size: {d.reason}")
    if d.verdict is not Verdict.REFUTED or not d.witness:
        return Outcome.wrong(f"{d.verdict.value}: {d.reason}")
    w = d.witness
    lines = [f"{w.get('instance', '')}; n = {w['n']}, lam = {w['lam']}"]
    for name in ("W", "H", "lhs", "rhs"):
        if name in w:
            label = {"lhs": "your left side", "rhs": "your right side"}.get(name, name)
            lines += [f"{label} =", matrix_text(w[name])]
    return Outcome.wrong(f"REFUTED: {d.reason}", "\n".join(lines))


def _fact_numeric(answer: Any, small: bool) -> Outcome:
    from verify.engine.network import backprop

    problem, theta = certified_point()
    bp = backprop(problem, theta)
    W = bp.params[0][0]
    mine = np.asarray(answer(bp.hs[0], bp.grad_h[0], problem.n, problem.lam), dtype=float)
    nfm = W.T @ W
    err = rel_error(mine, nfm)
    if err <= _TOL:
        return Outcome.right(
            f"W1^T W1 = your FACT to relative error {err:.1e} at a certified stationary point "
            "(tanh MLP (3, 5, 2), n = 24, lam = 0.02)"
        )
    if mine.shape != nfm.shape:
        return Outcome.wrong(f"your FACT has shape {mine.shape}; W1^T W1 has shape {nfm.shape}")
    return Outcome.wrong(
        f"at a certified stationary point your FACT differs from W1^T W1 by {err:.2e} relative",
        "W1^T W1 =\n" + matrix_text(nfm) + "\nyour FACT =\n" + matrix_text(mine),
    )


def _f2_defect(answer: Any, small: bool) -> Outcome:
    from verify.claims.features import layer_features

    problem, _ = certified_point()
    theta0 = problem.net.init(0)  # the initialisation: far from stationary
    f = layer_features(problem, theta0)[0]
    mine = np.asarray(answer(f.W, f.grad_W, problem.lam), dtype=float)
    true = f.nfm - f.fact
    if mine.shape != true.shape:
        return Outcome.wrong(
            f"your prediction has shape {mine.shape}; W1^T W1 - FACT is d x d = {true.shape} "
            f"(W is {f.W.shape[0]} x {f.W.shape[1]})"
        )
    err = rel_error(mine, true)
    # why: F2 is exact; both sides are sums of ~24 products, so rounding is ~1e3 eps relative
    if err <= _TOL:
        return Outcome.right(f"F2 predicts the defect (norm {np.linalg.norm(true):.3f}) to "
                             f"relative error {err:.1e} at the initialisation")  # fmt: skip
    return Outcome.wrong(
        f"at the initial weights (gradient norm {np.linalg.norm(f.grad_W):.2f}) your prediction "
        f"differs from W1^T W1 - FACT by {err:.2e} relative",
        "W1^T W1 - FACT =\n" + matrix_text(true) + "\nyour prediction =\n" + matrix_text(mine),
    )


#: the setting of the F2 derivation: sizes, the objective, the chain rule as a hypothesis
F2_SETTING: dict[str, Any] = {
    "matrices": {"W": "m x d", "H": "d x n", "Delta": "m x n", "G_h": "d x n"},
    "scalars": {"lam": "positive"},
    "definitions": {"L": "Trace(Delta.T*W*H)/n + lam/2*Trace(W.T*W)"},
    "hypotheses": {"chain": "G_h = W.T*Delta"},
}


def _f2_derivation(answer: Any, small: bool) -> Outcome:
    return derivation_outcome(
        "W.T*W + G_h*H.T/(n*lam)", answer, "W.T*grad(L, W)/lam", F2_SETTING, "F2, your way"
    )


EXERCISES = [
    Exercise("fact-formula", "F1", "FACT", "FACT as a formula",
             "a function (W, H, G_h, n, lam) returning the pair (left side, right side) of FACT "
             "as SymPy matrix expressions", _fact_formula),
    Exercise("fact-numeric", "F1", "FACT", "FACT from a forward and backward pass",
             "a function (h, gh, n, lam) of NumPy arrays h, gh (n x d, rows are samples) "
             "returning the d x d FACT matrix", _fact_numeric),
    Exercise("f2-defect", "F2", "FACT", "the FACT defect from the gradient",
             "a function (W, grad_W, lam) returning the predicted matrix W^T W - FACT",
             _f2_defect),
    Exercise("f2-derivation", "F2", "FACT", "the off-convergence identity, derived",
             "a list of expressions (strings) leading from W.T*W + G_h*H.T/(n*lam) to "
             "W.T*grad(L, W)/lam; a step may be {'expr': ..., 'uses': ['chain']}",
             _f2_derivation),
]  # fmt: skip
