"""Exercises on deep linear networks (D1, D3, D6), with their checks.

- ``d6-exponent`` (D6): the NFA exponent of layer j in a balanced network of depth L, compared
  with the exponent in the toolkit's PROVED derivation;
- ``d3-decay`` (D3): the decay rate of the imbalance under gradient flow with weight decay,
  compared with the rate fitted on an integrated flow (DOP853, rtol 1e-12) at two values of lam;
- ``d1-derivation`` (D1): the key identity W_2^T grad_{W_2} l = grad_{W_1} l W_1^T as the
  student's own chain of equalities (first-order form: l = Tr(G^T W_2 W_1), G held fixed).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from verify.exercises.common import derivation_outcome
from verify.exercises.grader import CheckError, Exercise, Outcome

__all__ = ["D1_SETTING", "EXERCISES"]


def _d6_exponent(answer: Any, small: bool) -> Outcome:
    from theory import Verdict, derive_nfa_deep_linear  # the package's name, wherever it lives

    pairs = [(2, 1), (3, 1), (3, 2)] if small else [(2, 1), (3, 1), (3, 2), (4, 2), (5, 5)]
    for L, j in pairs:
        d = derive_nfa_deep_linear(L, j)
        if d.verdict is not Verdict.PROVED:
            raise CheckError(f"the toolkit could not prove L = {L}, j = {j}: {d.reason}")
        proved = d.claim.rhs.exp
        mine = sp.nsimplify(answer(L, j))
        if sp.simplify(mine - proved) != 0:
            return Outcome.wrong(
                f"for L = {L}, j = {j} your exponent is {mine}",
                f"the PROVED derivation gives W_{j}^T W_{j} = AGOP_{j}^({proved}) ({d.claim.name})",
            )
    shown = ", ".join(f"(L={L}, j={j})" for L, j in pairs)
    return Outcome.right(f"your exponent agrees with the PROVED derivations at {shown}")


def _d3_decay(answer: Any, small: bool) -> Outcome:
    from verify.deep_linear.dynamics import run_flow

    for lam in (0.05, 0.2):
        r = run_flow(3, widths=4, outputs=2, lam=lam, init="gaussian", t_end=10.0, seed=0)
        fitted = float(r.decay_rate or 0.0)
        mine = float(answer(lam))
        # why: the imbalance decays exactly exponentially; the fit at solver rtol 1e-12 recovers
        # the rate to ~1e-9 relative, while any other formula is off by O(1) at one of two lams
        if abs(mine - fitted) > 1e-6 * abs(fitted):
            return Outcome.wrong(
                f"with lam = {lam} the imbalance ||D(t)|| decays at rate {fitted:.8f} "
                f"(+- {r.decay_rate_stderr:.1e}, fitted along the integrated gradient flow of a "
                f"depth-3 network); your formula gives {mine:.8f}",
                f"||D|| from {sum(r.imbalance[0]):.4f} at t = 0 to {sum(r.imbalance[-1]):.4g} at "
                f"t = {r.times[-1]:g}",
            )
    return Outcome.right("your rate matches the fitted decay of the imbalance at lam = 0.05 and "
                         "0.2 (to 1e-6 relative)")  # fmt: skip


#: L = 2, first-order form: l = Tr(G^T W_2 W_1) with G = dl/dA held fixed (A = W_2 W_1)
D1_SETTING: dict[str, Any] = {
    "matrices": {"W1": "m x d", "W2": "c x m", "G": "c x d"},
    "definitions": {"l": "Trace(G.T*W2*W1)"},
}


def _d1_derivation(answer: Any, small: bool) -> Outcome:
    return derivation_outcome(
        "W2.T*grad(l, W2)", answer, "grad(l, W1)*W1.T", D1_SETTING, "D1, your way"
    )


EXERCISES = [
    Exercise("d1-derivation", "D1", "deep linear", "the key identity, derived",
             "a list of expressions (strings) leading from W2.T*grad(l, W2) to "
             "grad(l, W1)*W1.T", _d1_derivation),
    Exercise("d3-decay", "D3", "deep linear", "how fast the imbalance decays",
             "a function lam -> r, the rate in ||D(t)|| = exp(-r t) ||D(0)||", _d3_decay),
    Exercise("d6-exponent", "D6", "deep linear", "the NFA exponent of layer j",
             "a function (L, j) returning alpha (a number or a SymPy Rational)", _d6_exponent),
]  # fmt: skip
