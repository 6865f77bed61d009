"""Number backends: float64 NumPy and mpmath in NumPy object arrays (:mod:`verify.engine.network`).

Every numerical routine takes a backend, whose arrays are float64 ndarrays or object ndarrays of
``mpmath.mpf``. NumPy's ``@``, ``.T``, ``sum`` and elementwise arithmetic work on both; only the
elementwise transcendental functions, the eigensolver and the precision differ, and they live
here; the mpmath backend's in :mod:`verify.engine.mpbackend`, imported on first use.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import numpy as np

from verify.base.validate import check_dps

if TYPE_CHECKING:
    from verify.engine.mpbackend import MpBackend

__all__ = [
    "FLOAT64",
    "Array",
    "Backend",
    "ExtendedBackend",
    "extended_backend",
    "mp_backend",
]

Array = Any  # float64 ndarray or object ndarray of mpmath.mpf


# -- backends ----------------------------------------------------------------------------------
class Backend:
    """Elementwise functions and precision of one number type (see module docstring)."""

    name = "float64"
    dps = 15
    unit_roundoff = float(np.finfo(np.float64).eps) / 2

    def working(self) -> contextlib.AbstractContextManager[Any]:
        # overflow and invalid operations become inf/NaN, which the trainer detects and reports
        # as status non_finite (a warning would say less, and tests turn warnings into errors)
        return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")

    def asarray(self, a: Any) -> Array:
        return np.asarray(a, dtype=np.float64)

    def to_float(self, a: Any) -> np.ndarray:
        return np.asarray(a, dtype=np.float64)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x)

    def exp(self, z: Array) -> Array:
        return np.exp(z)

    def log(self, z: Array) -> Array:
        return np.log(z)

    def tanh(self, z: Array) -> Array:
        return np.tanh(z)

    def sigmoid(self, z: Array) -> Array:
        from scipy import special  # here, not at the top: SciPy's import costs 0.2 s CPU

        return special.expit(z)

    def softplus(self, z: Array) -> Array:
        return np.logaddexp(0.0, z)

    def ncdf(self, z: Array) -> Array:
        from scipy import special  # here, not at the top (see sigmoid)

        return special.ndtr(z)

    def npdf(self, z: Array) -> Array:
        return np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)

    def step(self, z: Array) -> Array:
        """Heaviside step with step(0) = 0 (the ReLU slope convention at the kink)."""
        return (z > 0).astype(np.float64)

    def eigh(self, a: Array) -> tuple[Array, Array]:
        w, v = np.linalg.eigh(a)
        return w, v

    def matmul(self, a: Array, b: Array) -> Array:
        """``a @ b`` (for mpmath: exact integer products, rounded once; mpmatmul.py)."""
        return a @ b


class ExtendedBackend(Backend):
    """NumPy's ``longdouble`` where it is wider than float64 (x87 80-bit extended precision on
    x86: 64-bit significand, u = 2^-64), for a posteriori error bounds
    (:mod:`verify.engine.posterior`). NumPy's own loops do the products (no BLAS), about 15 times
    slower than float64. GELU is not offered: SciPy's ``ndtr`` has no long double loop.
    """

    name = "longdouble"
    dps = 18
    unit_roundoff = float(np.finfo(np.longdouble).eps) / 2

    def asarray(self, a: Any) -> Array:
        return np.asarray(a, dtype=np.longdouble)

    def sigmoid(self, z: Array) -> Array:
        return 1 / (1 + np.exp(-z))

    def softplus(self, z: Array) -> Array:
        return np.logaddexp(np.longdouble(0), z)

    def ncdf(self, z: Array) -> Array:
        raise NotImplementedError("no long double normal CDF (SciPy's ndtr is float64 only)")

    def npdf(self, z: Array) -> Array:
        return np.exp(-z * z / 2) / np.sqrt(2 * np.pi * np.longdouble(1))

    def step(self, z: Array) -> Array:
        return (z > 0).astype(np.longdouble)


def extended_backend() -> ExtendedBackend | None:
    """The long double backend, or None where ``longdouble`` is no wider than float64 (it is
    float64 itself on ARM macOS and on Windows; 128-bit IEEE quad on a few platforms is fine).
    Why 2^-60: the a posteriori floor gains only when the reference is much more precise than
    float64; x87 extended has u = 2^-64."""
    eb = ExtendedBackend()
    return eb if eb.unit_roundoff <= 2.0**-60 else None


#: the float64 backend
FLOAT64 = Backend()


def mp_backend(dps: int) -> MpBackend:
    """The mpmath backend at ``dps`` decimal digits, in ``verify.base.validate.DPS_RANGE``.

    Why at most 300 digits: the unit roundoff is held as a float64 (every rounding floor and
    tolerance derived from it is a float64); 10^-dps underflows float64 beyond ~307 digits, and
    a zero floor made every certificate divide by zero (``--dps 500`` raised ZeroDivisionError).
    """
    from verify.engine.mpbackend import MpBackend

    return MpBackend(check_dps(dps, "dps"))
