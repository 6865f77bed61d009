"""Ball arithmetic (arb, through python-flint) as a number backend: rigorous enclosures.

Every number is a ball [m - r, m + r] that contains the exact real result of the operations
that produced it; the stored float64 weights and data enter as exact binary rationals (radius
0). The engine's own backpropagation (:func:`verify.engine.backprop.backprop`, one code for
every backend) then yields balls that contain the exact gradient, the exact layer inputs and
the exact dl/dh of the run-file convention at those weights, with arb's rigorous elementwise
functions (tanh, exp, log, erfc). ReLU's slope at a ball that contains 0 is the ball [0, 1]
(the exact slope is 0 or 1). Only the symmetric eigensolver is missing; the enclosures of matrix
powers live in :mod:`verify.claims.enclosure`.

python-flint is an optional extra: ``pip install '.[certify]'`` from the source tree.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.engine.backends import Array, Backend

__all__ = ["ARB_PREC", "ArbBackend", "arb_backend", "flint_module"]

#: default working precision in bits. Why 200 (about 60 digits): the inputs are exact and every
#: rounding is enclosed, so radii grow like 2^-200 times the magnitudes and the number of
#: operations, far below any FACT defect of interest (a float64 stationary point has defects of
#: 1e-16 relative and more); 200 bits cost little more than 53 in arb.
ARB_PREC = 200


def flint_module() -> Any:
    """The ``flint`` module, or the standard bad-input error naming the extra to install."""
    try:
        import flint
    except ImportError:
        raise bad_input(
            "--certify", "have python-flint installed (arb ball arithmetic)",
            "python-flint not installed",
            "From the source tree, pip install '.[certify]' (or pip install python-flint).",
        ) from None  # fmt: skip
    return flint


class ArbBackend(Backend):
    """arb balls at ``prec`` bits in NumPy object arrays (module docstring)."""

    name = "arb"

    def __init__(self, prec: int = ARB_PREC) -> None:
        self.flint = flint_module()
        self.prec = int(prec)
        self.dps = int(self.prec * math.log10(2))
        self.unit_roundoff = 2.0**-self.prec
        arb = self.flint.arb
        self._arb = np.frompyfunc(arb, 1, 1)
        self._sqrt = np.frompyfunc(lambda x: x.sqrt(), 1, 1)
        self._exp = np.frompyfunc(lambda x: x.exp(), 1, 1)
        self._log = np.frompyfunc(lambda x: x.log(), 1, 1)
        self._log1p = np.frompyfunc(lambda x: x.log1p(), 1, 1)
        self._tanh = np.frompyfunc(lambda x: x.tanh(), 1, 1)
        self._erfc = np.frompyfunc(lambda x: x.erfc(), 1, 1)
        self._mid = np.frompyfunc(lambda x: float(x.mid()), 1, 1)
        self._step = np.frompyfunc(self._step_one, 1, 1)

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        ctx = self.flint.ctx
        old = ctx.prec
        ctx.prec = self.prec
        try:
            yield
        finally:
            ctx.prec = old

    def asarray(self, a: Any) -> Array:
        arr = np.asarray(a)
        if arr.dtype == object:
            return arr
        # float64 -> arb is exact (a binary rational, radius 0)
        if arr.ndim == 0:
            return self.flint.arb(float(arr))
        return self._arb(arr.astype(np.float64)).astype(object)

    def to_float(self, a: Any) -> np.ndarray:
        """Midpoints as float64 (for display; an enclosure is read with lower()/upper())."""
        return np.asarray(self._mid(np.asarray(a, dtype=object)), dtype=np.float64)

    def sqrt(self, x: Any) -> Any:
        return self._sqrt(x) if isinstance(x, np.ndarray) and x.ndim else x.sqrt()

    def exp(self, z: Array) -> Array:
        return self._exp(z)

    def log(self, z: Array) -> Array:
        return self._log(z)

    def tanh(self, z: Array) -> Array:
        return self._tanh(z)

    def sigmoid(self, z: Array) -> Array:
        return 1 / (1 + self._exp(-z))

    def softplus(self, z: Array) -> Array:
        return self._log1p(self._exp(z))

    def ncdf(self, z: Array) -> Array:
        return self._erfc(-z / self.flint.arb(2).sqrt()) / 2

    def npdf(self, z: Array) -> Array:
        return self._exp(-z * z / 2) / (2 * self.flint.arb.pi()).sqrt()

    def _step_one(self, x: Any) -> Any:
        arb = self.flint.arb
        if x > 0:
            return arb(1)
        if x < 0 or x == 0:  # step(0) = 0, the slope convention at the kink
            return arb(0)
        return arb(0.5, 0.5)  # the ball contains 0: the exact slope is 0 or 1

    def step(self, z: Array) -> Array:
        return self._step(z)

    def eigh(self, a: Array) -> tuple[Array, Array]:
        raise NotImplementedError("ball arithmetic has no symmetric eigensolver here")


def arb_backend(prec: int = ARB_PREC) -> ArbBackend:
    """The arb backend at ``prec`` bits (python-flint required, see :func:`flint_module`)."""
    if not isinstance(prec, (int, np.integer)) or isinstance(prec, bool) or not 64 <= prec <= 4096:
        raise bad_input("prec", "be an integer number of bits in [64, 4096]", prec, "Use 200.")
    return ArbBackend(int(prec))
