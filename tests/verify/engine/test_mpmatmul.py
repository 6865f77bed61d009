"""Exact-integer mpmath matrix products against exact rational arithmetic, and their fall-backs."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from verify.engine.mpmatmul import MAX_SPREAD, mp_matmul


def _mp(a: np.ndarray, scale: str) -> np.ndarray:
    return np.array([mpmath.mpf(x) / mpmath.mpf(scale) for x in a.flat], dtype=object).reshape(
        a.shape
    )


def _exact(a: np.ndarray, b: np.ndarray) -> list[list[Fraction]]:
    fa = [[_frac(x) for x in row] for row in a]
    fb = [[_frac(x) for x in row] for row in b]
    return [
        [sum((fa[i][k] * fb[k][j] for k in range(len(fb))), Fraction(0)) for j in range(len(fb[0]))]
        for i in range(len(fa))
    ]


def _frac(x: mpmath.mpf) -> Fraction:
    sign, man, exp, _ = x._mpf_  # x = (-1)^sign man 2^exp exactly
    return (-1) ** sign * Fraction(int(man)) * (Fraction(2) ** int(exp))


@pytest.mark.parametrize("dps", [30, 50])
def test_products_are_exact_then_rounded_once(dps: int) -> None:
    """F1 (50-digit certificate): every entry of mp_matmul(A, B) is the exact product rounded
    once (|C - AB| <= u |AB|), with entries of mixed signs and sizes 1e-12..1e3 (the rounding
    floor assumes at most gamma_k |A||B|; term-by-term mpf arithmetic is only within that)."""
    rng = np.random.default_rng(3)
    a_f = rng.standard_normal((7, 5)) * 10.0 ** rng.integers(-12, 3, (7, 5))
    b_f = rng.standard_normal((5, 4)) * 10.0 ** rng.integers(-12, 3, (5, 4))
    with mpmath.workdps(dps):
        a, b = _mp(a_f, "3"), _mp(b_f, "7")  # not float64 numbers: full-length mantissas
        a[2, 3] = mpmath.mpf(0)
        c = mp_matmul(a, b)
        u = mpmath.mpf(2) ** (1 - mpmath.mp.prec) / 2
        exact = _exact(a, b)
        assert c.shape == (7, 4)
        for i in range(7):
            for j in range(4):
                err = abs(_frac(c[i, j]) - exact[i][j])
                assert err <= _frac(u) * abs(exact[i][j]), (i, j)
        # and the term-by-term product agrees within the bound gamma_k |A||B| it obeys
        ref = a @ b
        mag = np.abs(a) @ np.abs(b)
        assert all(
            abs(x - y) <= 2 * 6 * u * m for x, y, m in zip(c.flat, ref.flat, mag.flat, strict=True)
        )


def test_empty_inner_dimension_and_zero_matrix() -> None:
    """F1 (50-digit certificate): an empty sum is exactly 0; a zero factor gives exact zeros."""
    with mpmath.workdps(50):
        c = mp_matmul(np.empty((3, 0), dtype=object), np.empty((0, 2), dtype=object))
        assert c.shape == (3, 2) and all(x == 0 for x in c.flat)
        z = np.array([[mpmath.mpf(0)] * 2] * 2, dtype=object)
        one = np.array(
            [[mpmath.mpf(1), mpmath.mpf(2)], [mpmath.mpf(3), mpmath.mpf(4)]], dtype=object
        )
        assert all(x == 0 for x in mp_matmul(z, one).flat)


def test_falls_back_to_term_by_term_products() -> None:
    """F1 (50-digit certificate): inf/NaN entries, non-mpf entries and exponent spreads beyond
    MAX_SPREAD use ``@`` (the same numbers as NumPy's object product)."""
    with mpmath.workdps(50):
        one = np.array(
            [[mpmath.mpf(1), mpmath.mpf(2)], [mpmath.mpf(3), mpmath.mpf(4)]], dtype=object
        )
        inf = one.copy()
        inf[0, 0] = mpmath.inf
        out = mp_matmul(inf, one)
        assert mpmath.isinf(out[0, 0]) and out[1, 1] == 22
        mixed = one.copy()
        mixed[0, 1] = 2  # a Python int
        assert list(mp_matmul(mixed, one).flat) == list((mixed @ one).flat)
        wide = one.copy()
        wide[0, 0] = mpmath.mpf(2) ** (-MAX_SPREAD - 10)
        got = mp_matmul(wide, one)
        assert list(got.flat) == list((wide @ one).flat)
        # float64 arrays are not touched
        f = np.array([[1.0, 2.0], [3.0, 4.0]])
        assert np.array_equal(mp_matmul(f, f), f @ f)
