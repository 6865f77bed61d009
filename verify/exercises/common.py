"""Shared pieces of the exercise checks: a small certified network, matrix printing, derivations.

The network is the one of the FACT notebook at exercise size: a tanh MLP (3, 5, 2) on 24 points,
weight decay 0.02, trained to a certified stationary point (gradient at its rounding floor), so
that ``W^T W = FACT`` holds there to rounding and any other formula visibly does not.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from verify.exercises.grader import CheckError, Outcome

__all__ = ["certified_point", "derivation_outcome", "matrix_text", "rel_error"]


@functools.lru_cache(maxsize=1)
def certified_point() -> tuple[Any, np.ndarray]:
    """(problem, theta) at a certified stationary point (module docstring)."""
    from verify.engine.network import MLP, Problem
    from verify.engine.train import train

    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 3))
    Y = np.stack([np.tanh(X[:, 0] - X[:, 1]), X[:, 2] ** 2], axis=1)
    problem = Problem(MLP((3, 5, 2), "tanh"), X, Y, lam=0.02)
    res = train(problem, seed=0)
    if not res.converged:  # a property of the fixed problem, not of the student's answer
        raise CheckError(f"the exercise network did not certify: {res.reason}")
    return problem, res.theta


def rel_error(mine: Any, ref: np.ndarray) -> float:
    """||mine - ref||_F / ||ref||_F; infinity when the shapes differ."""
    a = np.asarray(mine, dtype=float)
    if a.shape != ref.shape:
        return float("inf")
    return float(np.linalg.norm(a - ref) / np.linalg.norm(ref))


def matrix_text(m: Any, digits: int = 4) -> str:
    """A matrix (or nested list of exact rationals as strings) as aligned rows."""
    rows = np.atleast_2d(np.asarray(m, dtype=object))
    cells = [[_num(x, digits) for x in row] for row in rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(cells[0]))]
    return "\n".join("[" + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + "]"
                     for r in cells)  # fmt: skip


def _num(x: Any, digits: int) -> str:
    try:
        from fractions import Fraction

        v = float(Fraction(str(x))) if isinstance(x, str) else float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{v:.{digits}g}"


def derivation_outcome(
    start: str, answer: Sequence[Any], target: str, setting: dict[str, Any], title: str
) -> Outcome:
    """Check ``start = answer[0] = ... = target`` step by step (theory.check_derivation).

    The start and the target are the exercise's; the answer is the steps in between (a final
    step equal to the target is allowed). Right when every step is PROVED, or exact at the
    listed sizes (said so); wrong at the first REFUTED step with its exact counterexample.
    """
    from theory import Verdict, check_derivation

    if isinstance(answer, str) or not isinstance(answer, Sequence):
        return Outcome.wrong("the answer must be a list of expressions (strings)")
    steps = [start, *answer, target]
    result = check_derivation(steps, title=title, **setting)
    v = result.verdict
    if v is Verdict.PROVED:
        return Outcome.right(f"every step PROVED for all sizes: {result.reason}")
    if v is Verdict.EXACT_AT_SIZES:
        return Outcome.right(
            "every step holds exactly at the listed sizes, but not every step was proved for "
            f"all sizes (weaker than PROVED): {result.reason}. Split the unproved step."
        )
    text = result.to_text()
    cut = text.find("  counterexample for step")
    counter = text[cut:] if cut >= 0 else ""
    if v is Verdict.REFUTED:
        k = result.first_wrong or 0
        last = " (the step from your last expression to the target)" if k == len(steps) - 1 else ""
        return Outcome.wrong(f"REFUTED{last}: {result.reason}", counter.strip())
    return Outcome.undecided(
        f"the toolkit could not decide ({v.value}): {result.reason}. Smaller steps help."
    )
