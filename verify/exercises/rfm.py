"""Exercises on kernel machines and Recursive Feature Machines (K2, RFM), with their checks.

- ``rfm-residual`` (K2): the training residuals of kernel ridge regression from its coefficients
  alone, ``f(x_i) - y_i = -r alpha_i``; compared with the residuals computed from the kernel
  matrix on a fitted machine;
- ``rfm-update`` (RFM): the FACT-RFM update ``M <- (FACT FACT^T)^{1/2}``; compared with the
  toolkit's on a non-symmetric FACT, and checked to have ``M = FACT`` (PSD) as a fixed point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verify.exercises.common import matrix_text, rel_error
from verify.exercises.grader import Exercise, Outcome

__all__ = ["EXERCISES"]

_EPS = float(np.finfo(float).eps)


def _rfm_residual(answer: Any, small: bool) -> Outcome:
    from verify.rfm.kernels import Kernel, fit_krr

    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    ridge = 0.5
    machine = fit_krr(X, Y, kernel=Kernel("gaussian", 2.0), ridge=ridge)
    true = machine.kernel.matrix(X, X, machine.M) @ machine.alpha - Y  # f(x_i) - y_i
    mine = np.asarray(answer(machine.alpha.copy(), ridge), dtype=float)
    err = rel_error(mine, true)
    # why: alpha solves (K + r I) alpha = Y by Cholesky; the residual identity then holds to the
    # solve's backward error, ~cond(K + r I) eps, below 1e-10 for this well-conditioned system
    if err <= 1e-10:
        return Outcome.right(f"your residuals equal f(x_i) - y_i to relative error {err:.1e} "
                             f"(Gaussian kernel, ridge {ridge}, n = 20)")  # fmt: skip
    return Outcome.wrong(
        f"your residuals differ from f(x_i) - y_i by {err:.2e} relative (Gaussian kernel "
        f"bandwidth 2, ridge {ridge}, n = 20); the first rows:",
        "f(x_i) - y_i =\n" + matrix_text(true[:3]) + "\nyours =\n" + matrix_text(mine[:3]),
    )


def _rfm_update(answer: Any, small: bool) -> Outcome:
    from verify.claims.features import psd_power

    rng = np.random.default_rng(4)
    F = rng.standard_normal((4, 4))  # a FACT away from convergence is not symmetric (F5)
    ref = psd_power(F @ F.T, 0.5)
    mine = np.asarray(answer(F.copy()), dtype=float)
    err = rel_error(mine, ref)
    # why: one eigendecomposition of a 4 x 4 matrix of condition ~1e2: error ~1e2 eps
    if err > 1e-10:
        return Outcome.wrong(
            f"for a non-symmetric FACT your update differs from (FACT FACT^T)^(1/2) by "
            f"{err:.2e} relative",
            "FACT =\n" + matrix_text(F) + "\n(FACT FACT^T)^(1/2) =\n" + matrix_text(ref)
            + "\nyours =\n" + matrix_text(mine),
        )  # fmt: skip
    M = np.diag([3.0, 2.0, 1.0, 0.5])
    fixed = np.asarray(answer(M.copy()), dtype=float)
    if rel_error(fixed, M) > 1e-10:
        return Outcome.wrong("M = FACT must be a fixed point of the update", matrix_text(fixed))
    return Outcome.right("your update equals (FACT FACT^T)^(1/2), and M = FACT is its fixed point")


EXERCISES = [
    Exercise("rfm-residual", "K2", "RFM", "kernel ridge residuals from the coefficients",
             "a function (alpha, ridge) -> the n x c matrix of residuals f(x_i) - y_i",
             _rfm_residual),
    Exercise("rfm-update", "RFM", "RFM", "the FACT-RFM update",
             "a function FACT -> the new metric M (a d x d NumPy array)", _rfm_update),
]  # fmt: skip
