"""Exercises on where the NFA fails and FACT does not (REFERENCE section 6), with their checks.

- ``cx-quadratic`` (N2): find input data for which the NFA fails on a quadratic network. For
  ``f(x) = x^T A x`` the AGOP is ``4 A Sigma A`` (Sigma the input second moment), while at the
  global minimum of the weight-decayed loss ``W^T W = 2^{1/3} |A|^{2/3}`` (each eigendirection
  carrying one neuron) does not depend on the data. The student's Sigma is a counterexample when
  the best Pearson correlation of ``AGOP^alpha`` with ``W^T W`` over ``alpha in [1/8, 1]`` is
  below 0.9 (the threshold of ``factcheck counterexample nfa``). With isotropic inputs the NFA
  holds exactly at alpha = 1/3. The toolkit certifies such a witness at 50 digits in
  ``factcheck counterexample nfa --family quadratic``; here the closed forms are used.
- ``cx-optimizers`` (F1 hypotheses): which optimizers converge to stationary points of L_lam, so
  that FACT applies; a wrong choice is answered with the toolkit's AdamW counterexample.
- ``cx-claim`` (F1 against N1): state ``NFM = RHS``, a claim about the first layer of every
  converged tanh network, with a right side built from the data and the loss gradients (not
  from W). The toolkit searches converged networks for a counterexample (Hypothesis, shrunk,
  certified at 50 digits: :func:`verify.counterexamples.conjecture.check_conjecture`). A claim
  that survives the search is right *at the points tried* (FACT is the theorem behind it, F1);
  the NFA's ``NFM = AGOP**(1/2)`` is answered with the certified, shrunk counterexample.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from verify.exercises.common import matrix_text
from verify.exercises.grader import Exercise, Outcome

__all__ = ["EXERCISES", "QUADRATIC_A"]

_Q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))
#: the quadratic network's matrix A = W^T diag(a) W: eigenvalues 3, 1, -2 in a rotated basis
QUADRATIC_A = _Q @ np.diag([3.0, 1.0, -2.0]) @ _Q.T
ALPHAS = tuple(k / 24 for k in range(3, 25))  # 1/8 .. 1
THRESHOLD = 0.9


def nfa_best(sigma: np.ndarray) -> tuple[float, float]:
    """The best Pearson correlation of AGOP^alpha with W^T W over ALPHAS, and its alpha."""
    from verify.claims.features import correlation, psd_power

    A = QUADRATIC_A
    wtw = 2 ** (1 / 3) * psd_power(psd_power(A @ A, 0.5), 2 / 3)  # 2^{1/3} |A|^{2/3}
    agop = 4 * A @ sigma @ A
    return max((correlation(psd_power(agop, a), wtw).pearson, a) for a in ALPHAS)


def _cx_quadratic(answer: Any, small: bool) -> Outcome:
    sigma = np.asarray(answer, dtype=float)
    if sigma.shape != (3, 3):
        return Outcome.wrong(f"Sigma must be a 3 x 3 matrix; got shape {sigma.shape}")
    if not np.allclose(sigma, sigma.T) or not np.all(np.isfinite(sigma)):
        return Outcome.wrong("Sigma must be symmetric with finite entries (a second moment)")
    lowest = float(np.linalg.eigvalsh(sigma)[0])
    if lowest <= 0:
        return Outcome.wrong(f"Sigma must be positive definite; its smallest eigenvalue is "
                             f"{lowest:.3g}")  # fmt: skip
    best, alpha = nfa_best(sigma)
    if best < THRESHOLD:
        return Outcome.right(
            f"a counterexample: the best correlation of AGOP^alpha with W^T W is {best:.4f} "
            f"(at alpha = {alpha:.3f}) < {THRESHOLD}, although W^T W = FACT at the minimum"
        )
    return Outcome.wrong(
        f"not a counterexample: AGOP^alpha matches W^T W with correlation {best:.4f} at "
        f"alpha = {alpha:.3f} (>= {THRESHOLD}); make Sigma more anisotropic, in a basis that is "
        "not A's",
        "A =\n" + matrix_text(QUADRATIC_A) + "\nyour Sigma =\n" + matrix_text(sigma),
    )


_RIGHT = frozenset({"gd", "sgd", "adam"})
_ALL = frozenset({"gd", "sgd", "adam", "adamw"})


def _cx_optimizers(answer: Any, small: bool) -> Outcome:
    chosen = {str(a).lower() for a in answer}
    if not chosen <= _ALL:
        return Outcome.wrong(f"choose among {sorted(_ALL)}; got {sorted(chosen - _ALL)}")
    if chosen == _RIGHT:
        return Outcome.right("GD, SGD run to convergence and Adam with the L2 term in the "
                             "gradient stop where grad L_lam = 0; AdamW's decoupled decay does "
                             "not")  # fmt: skip
    if "adamw" in chosen:
        from verify.counterexamples.families import run_family

        r = run_family("adamw", "fact", seed=0, quick=True)
        return Outcome.wrong(
            "AdamW's fixed points satisfy m / (sqrt(v) + eps) = -lam W elementwise, not "
            f"grad L_lam = 0; the toolkit's AdamW family: {r.verdict.value}",
            r.reason,
        )
    missing = sorted(_RIGHT - chosen)
    return Outcome.wrong(f"{', '.join(missing)} also converge to stationary points of L_lam "
                         "(a fixed point of the update has grad L_lam = 0)")  # fmt: skip


_WEIGHT_NAMES = frozenset({"W", "NFM", "grad_W"})  # a right side made of these is circular


def _cx_claim(answer: Any, small: bool) -> Outcome:
    from theory._verdict import Verdict
    from verify.counterexamples.conjecture import check_conjecture
    from verify.counterexamples.exercises import counterexample_message

    text = str(answer)
    left, sep, right = text.partition("=")
    if not sep or left.strip() != "NFM" or "=" in right:
        return Outcome.wrong(f"write the claim as 'NFM = RHS'; got {text!r}")
    circular = sorted(set(re.findall(r"[A-Za-z_]\w*", right)) & _WEIGHT_NAMES)
    if circular:
        return Outcome.wrong(f"the right side must not use the weights ({', '.join(circular)}): "
                             "build it from the data and the loss gradients")  # fmt: skip
    res = check_conjecture(text, family="tanh-mlp", budget=10 if small else 30, seed=0,
                           layers=[1])  # fmt: skip
    if res.verdict is Verdict.NUMERICALLY_CONSISTENT:
        return Outcome.right(f"{res.reason} (consistent at those points; F1 proves FACT for "
                             "every stationary point)")  # fmt: skip
    if res.verdict is Verdict.REFUTED:
        return Outcome.wrong("the search found a certified counterexample",
                             counterexample_message(res))  # fmt: skip
    return Outcome.undecided(res.reason)


EXERCISES = [
    Exercise("cx-quadratic", "N2", "counterexamples", "make the NFA fail (quadratic network)",
             "a 3 x 3 symmetric positive definite NumPy array Sigma (the input second moment)",
             _cx_quadratic),
    Exercise("cx-optimizers", "F1", "counterexamples", "when FACT applies: which optimizers",
             "a set of names among 'gd', 'sgd', 'adam' (L2 in the gradient), 'adamw'",
             _cx_optimizers),
    Exercise("cx-claim", "F1", "counterexamples", "a claim about W^T W that survives the search",
             "a string 'NFM = RHS', RHS an expression in AGOP, AGOP_centered, FACT, bFACT, H, n, "
             "lam (e.g. 'NFM = AGOP**(1/2)')", _cx_claim),
]  # fmt: skip
