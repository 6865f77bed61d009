"""Powers of symmetric PSD matrices, one implementation for the whole toolkit (N3, D5).

``A^alpha`` is computed from the symmetric eigendecomposition of (A + A^T)/2, in float64 (NumPy)
or in mpmath (``verify.engine.network`` backends), with every eigenvalue below a rounding floor
set to
0 before the power is taken:

    floor = c * k * u * max|eig|,   c = 100, k = max(matrix size, number of summed terms).

Why a floor and not just "negative -> 0": AGOPs and Gram matrices are often rank-deficient (a
linear network's AGOP has rank <= min(c, d); a two-layer AGOP has rank <= width), and their
exact-zero eigenvalues come out of the eigensolver as rounding noise of either sign and size up
to ~ k u ||A|| (the matrix was formed by sums of k products, each with relative error ~ u, and
the symmetric eigensolver is backward stable with error ~ size * u * ||A||, Higham). A small
power lifts that noise far above it: (1e-14)^(1/8) = 0.018 of the top eigenvalue, enough to
spoil a correlation in the third digit. Below the floor an eigenvalue cannot be told from 0 at
this precision, so it is set to 0. Why c = 100: the bounds above carry modest constants (the
eigensolver's p(k), the few products that formed A); 100 covers them, and an eigenvalue that is
genuinely 100 k u of the largest is at the resolution limit of the data anyway.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.engine.network import FLOAT64, Array, Backend

__all__ = ["PSD_FLOOR_FACTOR", "psd_eigh", "psd_floor", "psd_power", "psd_power_from_eigh"]

#: c in the rounding floor c * k * u * max|eig| (module docstring)
PSD_FLOOR_FACTOR = 100


def psd_floor(eigenvalues: Any, be: Backend = FLOAT64, terms: int | None = None) -> Any:
    """The rounding floor c * k * u * max|eig| (module docstring); ``terms`` = summands."""
    k = max(len(eigenvalues), terms or 0)
    top = max((abs(x) for x in eigenvalues), default=0)
    return PSD_FLOOR_FACTOR * k * be.unit_roundoff * top


def psd_eigh(a: Array, be: Backend = FLOAT64, terms: int | None = None) -> tuple[Array, Array]:
    """``(eigenvalues, eigenvectors)`` of (a + a^T)/2 with eigenvalues below the floor set to 0."""
    with be.working():
        w, v = be.eigh((a + a.T) / 2)
        floor = psd_floor(w, be, terms)
        if be.name == "float64":
            return np.where(w > floor, w, 0.0), v
        return np.array([x if x > floor else x * 0 for x in w], dtype=v.dtype), v


def psd_power_from_eigh(eig: tuple[Array, Array], alpha: float, be: Backend = FLOAT64) -> Array:
    """``V diag(w^alpha) V^T`` from the clipped decomposition of :func:`psd_eigh`."""
    if not alpha > 0:
        raise bad_input("alpha", "be > 0", alpha, "Pass e.g. 0.5 (the Science paper's exponent).")
    w, v = eig
    with be.working():
        if be.name == "float64":
            powered = np.where(w > 0, np.abs(w) ** alpha, 0.0)
        else:
            powered = np.array([x**alpha if x > 0 else x * 0 for x in w], dtype=v.dtype)
        return (v * powered) @ v.T


def psd_power(a: Array, alpha: float, be: Backend = FLOAT64, *, terms: int | None = None) -> Array:
    """``A^alpha`` for symmetric PSD ``A`` (eigenvalues below the rounding floor set to 0)."""
    return psd_power_from_eigh(psd_eigh(a, be, terms), alpha, be)
