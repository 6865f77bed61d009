"""Matrix products of mpmath numbers by exact integer arithmetic, rounded once per entry.

NumPy's ``@`` on object arrays of ``mpmath.mpf`` calls ``mpf.__mul__`` and ``mpf.__add__`` for
every term, each a Python-level call that normalises and rounds its result (~3 us at 50 digits):
the products were most of the time of a 50-digit certificate. Here every entry of A is written
as an integer times one common power of two, A = I_A 2^(e_A) (exact: an mpf is m 2^e with
integer m, and e_A is the smallest exponent in A), likewise B; the integer product I_A I_B is
exact (Python integers, NumPy's object loop over ``int.__mul__``/``int.__add__``, ~30x cheaper),
and each entry of (I_A I_B) 2^(e_A + e_B) is rounded once to the working precision (round to
nearest).

Error: each computed entry is the exact product rounded once, |C - AB| <= u |AB| entrywise
(u the unit roundoff), which is within Higham's bound gamma_k |A||B| for a product of inner
dimension k that the rounding floor of :mod:`verify.engine.rounding` assumes for every product,
whatever the summation order. So the floor stays a valid bound; the computed product is only more
accurate than the term-by-term one.

Falls back to ``@`` when an entry is not a finite mpf (an inf or NaN, a plain int), or when the
exponents of one matrix span more than :data:`MAX_SPREAD` bits (the integers would grow without
bound; e.g. an entry underflowing to 1e-100000 next to entries of size 1).
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
from mpmath.libmp import from_man_exp, round_nearest

__all__ = ["MAX_SPREAD", "mp_matmul"]

#: largest exponent spread (bits) within one matrix for the integer path. Why 4096: the
#: integers are then at most ~4,300 bits, whose products still cost far less than an mpf
#: operation; beyond it (never seen in training) the term-by-term product is used
MAX_SPREAD = 4096

_MPF = mpmath.mpf


def _integers(a: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``(I, e)`` with a = I 2^e exactly (I an object array of ints), or None (module doc)."""
    parts = []
    for x in a.flat:
        if type(x) is not _MPF:
            return None
        sign, man, exp, bc = x._mpf_
        if not man and bc:  # inf or NaN (zero is (0, 0, 0, 0))
            return None
        parts.append((sign, man, exp))
    exps = [e for _, m, e in parts if m]
    if not exps:
        return np.zeros(a.shape, dtype=object), 0
    low = min(exps)
    if max(exps) - low > MAX_SPREAD:
        return None
    ints = [(-(m << (e - low)) if s else m << (e - low)) if m else 0 for s, m, e in parts]
    out = np.empty(len(ints), dtype=object)
    out[:] = ints
    return out.reshape(a.shape), low


def mp_matmul(a: Any, b: Any) -> Any:
    """``a @ b`` for 2-D object arrays of mpf at the current mpmath precision (module doc)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.dtype != object or b.dtype != object:
        return a @ b
    ia, ib = _integers(a), _integers(b)
    if ia is None or ib is None:
        return a @ b
    prod = ia[0] @ ib[0]  # exact; an empty inner dimension gives integer zeros
    exp, prec, make = ia[1] + ib[1], mpmath.mp.prec, mpmath.mp.make_mpf
    out = np.empty(prod.size, dtype=object)
    out[:] = [make(from_man_exp(int(v), exp, prec, round_nearest)) for v in prod.flat]
    return out.reshape(prod.shape)
