"""The a posteriori rounding floor: the float64 gradient's error measured against a recomputation
in extended precision, plus a rigorous bound on the recomputation's own error.

The a priori floor of :mod:`verify.engine.rounding` is rigorous for every summation order and
every sign pattern, and so pays for the worst case: errors of the n samples that all have one
sign, gamma_k = k u per inner product. On the standard network (20-64-1, n = 256) it is about
3 x 10^3 times the error actually made. A bound that is both rigorous and close to the truth
comes from computing the gradient a second time in wider numbers:

    |g64 - g_exact| <= |g64 - g_ext| + |g_ext - g_exact|,

where g_ext is the gradient of the same problem (the same float64 weights, data and lam,
converted exactly) computed in x87 extended precision (NumPy ``longdouble``, unit roundoff
u_x = 2^-64, 2^11 times smaller than float64's), and |g_ext - g_exact| is bounded by the same a
priori analysis run with u_x (:func:`verify.engine.rounding.rounding_analysis` on the extended
backend). The first term is the error itself (up to the u_x-sized error of g_ext), the second is
2^11 times smaller than the a priori float64 floor. The difference is formed in extended
precision (one rounding, relative u_x) and rounded upward to float64. The result is as rigorous
as the a priori floor (the same model and assumptions, now also for NumPy's long double loops
and the C library's long double tanh, exp and log) and is typically within a small factor of
the measured error (README, ``benchmarks/bench_rounding.py``).

Where it is not available the a priori floor stands alone: where ``longdouble`` is float64
(ARM macOS, Windows), for GELU (SciPy's normal CDF has no long double loop), and at mpmath
precisions (their floors are far below any float64 question). Cost: one backpropagation in
long double, about 15 times a float64 one, spent only where the a priori threshold already
certifies (:func:`verify.engine.rounding.rounding_analysis`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from verify.engine.backends import Array, extended_backend
from verify.engine.problem import Problem

if TYPE_CHECKING:
    from verify.engine.rounding import RoundingAnalysis

__all__ = ["posterior_floor"]

#: activations whose value, slope and curvature have long double implementations
_EXTENDED = frozenset({"identity", "relu", "tanh", "sigmoid", "softplus", "quadratic"})


def posterior_floor(problem: Problem, theta: Array, ra: RoundingAnalysis) -> np.ndarray | None:
    """Per-entry a posteriori bound on |g64 - g_exact| (module docstring), or None where it is
    not available or not finite. ``ra`` is the float64 analysis at ``theta``."""
    from verify.engine.rounding import SAFETY, rounding_analysis

    eb = extended_backend()
    if eb is None or problem.net.activation not in _EXTENDED:
        return None
    theta = np.asarray(theta, dtype=np.float64)
    ext = rounding_analysis(problem, theta, eb, posterior=False, allowance=False)
    with np.errstate(over="ignore", invalid="ignore"):
        diff = np.abs(np.asarray(ra.grad, dtype=np.longdouble) - ext.grad)
        diff = diff * (1 + np.longdouble(eb.unit_roundoff))  # the subtraction's own rounding
        up = diff.astype(np.float64)
        up = np.where(up < diff, np.nextafter(up, np.inf), up)  # rounded upward to float64
        tight = SAFETY * (up + ext.floor)
    if not np.isfinite(tight).all():
        return None
    return np.asarray(tight, dtype=np.float64)
