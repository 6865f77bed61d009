"""Badly scaled problems: a hint to standardise the data, for the remedy of an undecided check.

The rounding floor of :mod:`verify.engine.rounding` grows with the magnitudes summed in the
gradient, so badly scaled data make the certificate hard to reach, and the optimiser with it.
None of the thresholds below decides a verdict; they only choose which advice to print.

- A feature whose mean is far from zero relative to its spread (a timestamp, a year): every
  product W x spends the digits of the offset before those of the variation; with
  |mean| > 1e2 std, two of float64's sixteen digits go to the offset (a year of timestamps
  has |mean| / std ~ 190).
- Features whose sizes differ by more than four orders of magnitude: the gradient entries of
  the small features are computed next to products of the large ones, and lose about one digit
  per decade of the spread.
- Features of size far from 1 (outside [1e-6, 1e6]): the first-layer weights must then be of
  size 1/s, so the weight decay acts on them s^2 times more or less than on standardised data,
  and their products meet the other layers' values 1e12 apart.
- Weights whose squares leave float64's range (largest |w| below 1e-150 or above 1e150): W^T W
  and FACT underflow or overflow; this is what a weight decay such as lam = 1e300 does.
"""

from __future__ import annotations

import numpy as np

from verify.engine.problem import Problem

__all__ = ["scaling_hint"]

#: |mean| / std above which a feature is reported as offset (module docstring)
OFFSET_RATIO = 1e2
#: ratio of the largest to the smallest feature size above which the data is reported
SPREAD_RATIO = 1e4
#: feature sizes (root mean square) outside this range are reported (module docstring)
SIZE_RANGE = (1e-6, 1e6)
#: weights beyond these sizes have squares outside float64's range (module docstring)
WEIGHT_RANGE = (1e-150, 1e150)


def scaling_hint(problem: Problem, theta: np.ndarray | None = None) -> str:
    """A sentence of advice when the data or the weights are badly scaled, else ''."""
    X = problem.X
    mean = np.mean(X, axis=0)
    std = np.std(X, axis=0)
    size = np.sqrt(np.mean(X * X, axis=0))
    parts = []
    offset = np.flatnonzero(np.abs(mean) > OFFSET_RATIO * std)
    offset = offset[std[offset] > 0]
    if offset.size:
        j = int(offset[0])
        parts.append(
            f"feature {j} has mean {mean[j]:.3g} and standard deviation {std[j]:.3g} "
            "(an offset, e.g. a timestamp)"
        )
    live = size[size > 0]
    if live.size and live.max() > SPREAD_RATIO * live.min():
        big, small = int(np.argmax(size)), int(np.argmin(np.where(size > 0, size, np.inf)))
        parts.append(
            f"feature sizes range from {size[small]:.3g} (feature {small}) to {size[big]:.3g} "
            f"(feature {big})"
        )
    lo, hi = SIZE_RANGE
    odd = np.flatnonzero((size > 0) & ((size < lo) | (size > hi)))
    if odd.size and not parts:
        j = int(odd[0])
        parts.append(f"feature {j} has size {size[j]:.3g} (root mean square)")
    if parts:
        return (
            "the inputs are badly scaled: " + "; ".join(parts) + ". Standardise each feature "
            "(subtract its mean, divide by its standard deviation) and train again"
        )
    if theta is not None and np.size(theta):
        top = float(np.max(np.abs(np.asarray(theta, dtype=np.float64))))
        wlo, whi = WEIGHT_RANGE
        if 0 < top < wlo or top > whi:
            return (
                f"the largest weight is {top:.3g}: W^T W and FACT leave float64's range "
                f"(lam = {problem.lam:.3g}); choose lam or rescale the data so that the weights "
                "are of moderate size, or check at higher precision (--dps)"
            )
    return ""
