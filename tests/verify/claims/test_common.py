"""What the FACT and NFA checks share (verify/claims/common.py): the weakest verdict, the
precision a check runs at, and the global rounding tolerance of the FACT defect (F1)."""

from __future__ import annotations

from types import SimpleNamespace

import mpmath
import numpy as np

from theory._verdict import Verdict
from verify.claims.common import _backend, _worst, fact_rounding_tolerance
from verify.engine.network import FLOAT64


def test_weakest_verdict_decides() -> None:
    """F1, N2: a check is as strong as its weakest layer (REFUTED < INCONCLUSIVE < consistent)."""
    v = Verdict
    assert _worst([v.NUMERICALLY_CONSISTENT, v.REFUTED, v.INCONCLUSIVE]) is v.REFUTED
    assert _worst([v.NUMERICALLY_CONSISTENT, v.INCONCLUSIVE]) is v.INCONCLUSIVE
    assert _worst([v.CERTIFIED, v.NUMERICALLY_CONSISTENT]) is v.NUMERICALLY_CONSISTENT
    assert _worst([v.PROVED]) is v.PROVED


def test_backend_follows_the_asked_digits_then_the_refined_point() -> None:
    """F1, N2: ``dps`` given -> mpmath at dps; else the precision the point was refined at, or
    float64 for a float64 point."""
    refined, plain = SimpleNamespace(dps=30), SimpleNamespace(dps=None)
    assert _backend(plain, None) is FLOAT64
    be = _backend(refined, None)
    assert be.name == "mpmath" and be.dps == 30
    be = _backend(plain, 45)
    assert be.name == "mpmath" and be.dps == 45
    assert _backend(refined, 20).dps == 20


def test_rounding_tolerance_is_the_documented_gamma_k_bound() -> None:
    """F1: (depth + 1) k u scale, worked by hand for depth 2, k = 7, u = 2^-10, scale 3 (every
    factor distinct, so a changed factor or operation changes the number); it bounds the error of
    an actual float64 inner product of k terms, measured against a 50-digit one."""
    assert fact_rounding_tolerance(2, 7, 2.0**-10, 3.0) == 3 * 7 * 3 / 1024
    assert fact_rounding_tolerance(0, 1, 0.5, 1.0) == 0.5
    rng = np.random.default_rng(5)
    k = 1000
    x, y = rng.standard_normal(k), rng.standard_normal(k)
    with mpmath.workdps(50):
        exact = mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(b) for a, b in zip(x, y, strict=True))
        err = abs(mpmath.mpf(float(np.sum(x * y))) - exact)
    scale = float(np.sum(np.abs(x * y)))
    assert err <= fact_rounding_tolerance(0, k, FLOAT64.unit_roundoff, scale)
