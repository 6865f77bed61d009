"""Exercises on the Neural Feature Ansatz (N1, N3), with their checks.

- ``nfa-agop`` (N1): the AGOP from the input Jacobians, compared with the toolkit's at a
  certified stationary point;
- ``nfa-pearson`` (N3): the Pearson correlation of matrix entries, compared with the toolkit's
  on pairs chosen so that Pearson and plain cosine differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verify.exercises.common import certified_point, matrix_text, rel_error
from verify.exercises.grader import Exercise, Outcome

__all__ = ["EXERCISES"]

_EPS = float(np.finfo(float).eps)


def _nfa_agop(answer: Any, small: bool) -> Outcome:
    from verify.claims.features import layer_features
    from verify.engine.backprop import input_jacobians

    problem, theta = certified_point()
    J = np.stack(input_jacobians(problem, theta)[0], axis=1)  # n x c x d
    ref = layer_features(problem, theta)[0].agop
    mine = np.asarray(answer(J.copy()), dtype=float)
    if mine.shape != ref.shape:
        c = J.shape[1]
        hint = " (J_i J_i^T is c x c: the AGOP sums J_i^T J_i)" if mine.shape == (c, c) else ""
        return Outcome.wrong(f"your AGOP has shape {mine.shape}; it is d x d = {ref.shape}{hint}")
    err = rel_error(mine, ref)
    if err <= 1e3 * _EPS:  # why: a mean of 24 products of O(1) entries, rounding ~n eps
        return Outcome.right(f"your AGOP equals the toolkit's to relative error {err:.1e}")
    return Outcome.wrong(
        f"your AGOP differs from (1/n) sum_i J_i^T J_i by {err:.2e} relative "
        f"(J of shape {J.shape}: samples, outputs, inputs)",
        "AGOP =\n" + matrix_text(ref) + "\nyours =\n" + matrix_text(mine),
    )


def _pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 4))
    B = A + 0.3 * rng.standard_normal((4, 4))
    return [
        ("two noisy copies", A, B),
        ("B = A + 5 (same entries, shifted)", A, A + 5.0),
        ("B = -A + 1", A, -A + 1.0),
        ("unrelated PSD matrices", A @ A.T, B.T @ B + np.eye(4)),
    ]


def _nfa_pearson(answer: Any, small: bool) -> Outcome:
    from verify.claims.features import correlation

    for name, A, B in _pairs():
        ref = correlation(A, B)
        mine = float(answer(A.copy(), B.copy()))
        if not abs(mine - ref.pearson) <= 1e-12:  # why: both are ratios of sums of 16 terms
            return Outcome.wrong(
                f"for {name} the Pearson correlation is {ref.pearson:.6f} (plain cosine "
                f"{ref.cosine:.6f}); yours is {mine:.6f}",
                "A =\n" + matrix_text(A) + "\nB =\n" + matrix_text(B),
            )
    return Outcome.right("your correlation matches Pearson on all four pairs, including those "
                         "where the plain cosine differs")  # fmt: skip


EXERCISES = [
    Exercise("nfa-agop", "N1", "NFA", "the AGOP from input Jacobians",
             "a function J -> AGOP, J a NumPy array of shape (n, c, d) (samples, outputs, "
             "inputs), returning the d x d AGOP", _nfa_agop),
    Exercise("nfa-pearson", "N3", "NFA", "scoring the NFA: Pearson, not cosine",
             "a function (A, B) returning the Pearson correlation of the entries of A and B",
             _nfa_pearson),
]  # fmt: skip
