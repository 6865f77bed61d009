"""The mpmath backend of :mod:`verify.engine.backends`: mpmath numbers at ``dps`` decimal digits
in NumPy object arrays.

Its own module so that float64 work never imports mpmath: :func:`verify.engine.backends.mp_backend`
imports it on first use. Why: mpmath's import is ~20 ms of CPU, 2-3% of the standard net's whole
``factcheck verify fact`` process, which never computes in mpmath.
"""

from __future__ import annotations

import contextlib
from typing import Any

import mpmath
import numpy as np

from verify.engine.backends import Array, Backend
from verify.engine.mpmatmul import mp_matmul

__all__ = ["MpBackend"]


class MpBackend(Backend):
    """mpmath numbers at ``dps`` decimal digits, held in NumPy object arrays."""

    name = "mpmath"

    def __init__(self, dps: int) -> None:
        self.dps = int(dps)
        with mpmath.workdps(self.dps):
            self.unit_roundoff = float(mpmath.mp.eps) / 2
        # the floors and tolerances are float64 multiples of this (mp_backend caps dps for it)
        assert self.unit_roundoff > 0, f"unit roundoff underflows float64 at {dps} digits"

    def working(self) -> contextlib.AbstractContextManager[Any]:
        return mpmath.workdps(self.dps)

    def asarray(self, a: Any) -> Array:
        arr = np.asarray(a)
        if arr.dtype == object:
            return arr
        # float64 -> mpf is exact, so the problem is defined by the same binary numbers.
        return _MPF(arr.astype(np.float64)).astype(object) if arr.ndim else mpmath.mpf(float(arr))

    def to_float(self, a: Any) -> np.ndarray:
        return np.asarray(_FLOAT(np.asarray(a, dtype=object)), dtype=np.float64)

    def sqrt(self, x: Any) -> Any:
        return _MP_SQRT(x) if isinstance(x, np.ndarray) and x.ndim else mpmath.sqrt(x)

    def exp(self, z: Array) -> Array:
        return _MP_EXP(z)

    def log(self, z: Array) -> Array:
        return _MP_LOG(z)

    def tanh(self, z: Array) -> Array:
        return _MP_TANH(z)

    def sigmoid(self, z: Array) -> Array:
        return 1 / (1 + _MP_EXP(-z))

    def softplus(self, z: Array) -> Array:
        return _MP_LOG1P(_MP_EXP(z))

    def ncdf(self, z: Array) -> Array:
        return _MP_NCDF(z)

    def npdf(self, z: Array) -> Array:
        return _MP_NPDF(z)

    def step(self, z: Array) -> Array:
        return np.where((z > 0).astype(bool), mpmath.mpf(1), mpmath.mpf(0)).astype(object)

    def matmul(self, a: Array, b: Array) -> Array:
        return mp_matmul(a, b)

    def eigh(self, a: Array) -> tuple[Array, Array]:
        w, v = mpmath.eigsy(mpmath.matrix(a.tolist()))
        n = len(w)
        vals = np.array([w[i] for i in range(n)], dtype=object)
        vecs = np.array([[v[i, j] for j in range(n)] for i in range(n)], dtype=object)
        return vals, vecs


_MPF = np.frompyfunc(mpmath.mpf, 1, 1)
_FLOAT = np.frompyfunc(float, 1, 1)
_MP_SQRT = np.frompyfunc(mpmath.sqrt, 1, 1)
_MP_EXP = np.frompyfunc(mpmath.exp, 1, 1)
_MP_LOG = np.frompyfunc(mpmath.log, 1, 1)
_MP_LOG1P = np.frompyfunc(mpmath.log1p, 1, 1)
_MP_TANH = np.frompyfunc(mpmath.tanh, 1, 1)
_MP_NCDF = np.frompyfunc(mpmath.ncdf, 1, 1)
_MP_NPDF = np.frompyfunc(mpmath.npdf, 1, 1)
