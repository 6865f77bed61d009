"""The toolkit's one PSD power (verify/engine/linalg.py): floor, backends, bad input."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from theory._errors import InputError
from verify.claims import features
from verify.deep_linear import flow as deep_linear_flow
from verify.engine.linalg import psd_eigh, psd_floor, psd_power, psd_power_from_eigh
from verify.engine.network import FLOAT64, mp_backend
from verify.rfm import machine as rfm


def _rank_two(d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((d, 2)))[0]
    return q @ np.diag([256.0, 1.0]) @ q.T, q  # exact eigenvalues 256, 1, 0 (d - 2 times)


def test_small_power_ignores_rounding_eigenvalues() -> None:
    """N3: A^(1/8) of a rank-deficient A: rounding-level null eigenvalues are clipped, so the
    result is the exact power to ~1e-14, where clipping only negatives is off by ~1e-2."""
    a, q = _rank_two()
    exact = q @ np.diag([2.0, 1.0]) @ q.T
    assert np.linalg.norm(psd_power(a, 1 / 8) - exact) <= 1e-13
    w, v = np.linalg.eigh(a)
    naive = (v * np.clip(w, 0, None) ** (1 / 8)) @ v.T  # negatives -> 0 only
    assert np.linalg.norm(naive - exact) > 1e-3  # (1e-14)^(1/8) ~ 2e-2: why the floor exists


def test_mpmath_backend_agrees_and_floor_scales_with_precision() -> None:
    """N3: at 30 digits a rank-two matrix built in mpmath has its power to ~1e-28, with both
    null eigenvalues clipped; the floor is c k u max|eig|."""
    q64 = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, -1.0]]) / 2  # exactly orthonormal
    mp = mp_backend(30)
    with mp.working():
        q = mp.asarray(q64)
        a = (q * mp.asarray(np.array([256.0, 1.0]))) @ q.T
        exact = (q * mp.asarray(np.array([4.0, 1.0]))) @ q.T
        err = np.max(np.abs(psd_power(a, 0.25, mp) - exact))
    assert err <= 1e-26
    w, _ = psd_eigh(a, mp)
    assert sum(1 for x in w if x == 0) == 2
    assert psd_floor([1.0, -2.0], FLOAT64, terms=50) == 100 * 50 * FLOAT64.unit_roundoff * 2


def test_mpmath_power_keeps_its_precision_outside_a_working_block() -> None:
    """N3: psd_power on mpmath numbers computes at the backend's precision even when the caller
    is not inside ``be.working()`` (the float64 branch would lose all but ~16 digits)."""
    q64 = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, -1.0]]) / 2
    mp = mp_backend(40)
    with mp.working():
        q = mp.asarray(q64)
        a = (q * mp.asarray(np.array([3.0, 1.0]))) @ q.T
        exact = (q * np.array([mpmath.sqrt(3), mpmath.mpf(1)], dtype=object)) @ q.T
    for fn in (psd_power, features.psd_power):
        got = fn(a, 0.5, mp)
        with mp.working():
            assert np.max(np.abs(got - exact)) <= 1e-35


def test_one_implementation_behind_the_old_names() -> None:
    """N3, D5: features, deep_linear_flow and rfm use the same PSD power."""
    a, _ = _rank_two()
    ref = psd_power(a, 0.5)
    for fn in (features.psd_power, deep_linear_flow.psd_power_clipped, rfm.psd_power):
        assert np.array_equal(fn(a, 0.5), ref)


def test_nonpositive_exponent_is_refused() -> None:
    """N3 (inputs): alpha must be > 0."""
    with pytest.raises(InputError, match="alpha must be > 0"):
        psd_power(np.eye(2), 0.0)


def test_floor_counts_terms_and_matrix_size() -> None:
    """N3: the floor uses k = max(matrix size, summed terms) and the largest |eigenvalue|; an
    empty spectrum has floor 0."""
    u = FLOAT64.unit_roundoff
    assert psd_floor([3.0, -1.0, 0.5], FLOAT64) == 100 * 3 * u * 3.0
    assert psd_floor([3.0, -1.0, 0.5], FLOAT64, terms=2) == 100 * 3 * u * 3.0
    assert psd_floor([3.0, -1.0, 0.5], FLOAT64, terms=7) == 100 * 7 * u * 3.0
    assert psd_floor([], FLOAT64) == 0
    mp = mp_backend(40)
    assert psd_floor([2.0], mp, terms=5) == 100 * 5 * mp.unit_roundoff * 2.0


def test_terms_raise_the_floor_in_the_power() -> None:
    """N3: a tiny genuine eigenvalue survives with few summed terms and is clipped when many
    terms formed the matrix (the floor is k u ||A||, k = terms)."""
    q = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))[0]
    a = q @ np.diag([1.0, 1e-12, 0.0]) @ q.T
    kept, clipped = psd_eigh(a, FLOAT64)[0], psd_eigh(a, FLOAT64, terms=10**6)[0]
    assert np.sum(kept > 0) == 2 and np.sum(clipped > 0) == 1
    assert np.linalg.norm(psd_power(a, 1.0, terms=10**6) - psd_power(a, 1.0)) > 1e-13
    mp = mp_backend(20)
    with mp.working():
        am = mp.asarray(a)
        # at 20 digits the floor with 10^8 terms is 100 * 1e8 * 5e-21 = 5e-11 > 1e-12
        assert sum(1 for x in psd_eigh(am, mp)[0] if x > 0) == 2
        assert sum(1 for x in psd_eigh(am, mp, terms=10**8)[0] if x > 0) == 1
        pm = psd_power(am, 0.5, mp, terms=10**8)
    assert pm.dtype == object and all(type(x).__name__ == "mpf" for x in pm.flat)


def test_powers_of_eigenvalues_below_one_and_raw_negative_eigenvalues() -> None:
    """N3: eigenvalues in (0, 1) are powered like any other (0.25^(1/2) = 0.5), in both
    backends; a decomposition passed in unclipped has its negative eigenvalue mapped to 0."""
    q64 = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2.0)
    a = q64 @ np.diag([0.25, 0.0625]) @ q64.T
    exact = q64 @ np.diag([0.5, 0.25]) @ q64.T
    assert np.max(np.abs(psd_power(a, 0.5) - exact)) <= 1e-15  # a few ulps of 0.5
    raw = (np.array([0.25, -0.0625]), q64)  # not from psd_eigh: a negative eigenvalue
    half = psd_power_from_eigh(raw, 0.5)
    assert np.max(np.abs(half - 0.5 * np.outer(q64[:, 0], q64[:, 0]))) <= 1e-15
    mp = mp_backend(30)
    with mp.working():
        r2 = mpmath.sqrt(2)
        q = np.array([[1 / r2, 1 / r2], [1 / r2, -1 / r2]], dtype=object)
        am = (q * mp.asarray(np.array([0.25, 0.0625]))) @ q.T
        want = (q * mp.asarray(np.array([0.5, 0.25]))) @ q.T
        got = psd_power(am, 0.5, mp)
        assert np.max(np.abs(got - want)) <= 1e-28  # 30 digits
        raw_mp = (mp.asarray(np.array([0.25, -0.0625])), q)
        got = psd_power_from_eigh(raw_mp, 0.5, mp)
        assert np.max(np.abs(got - np.outer(q[:, 0], q[:, 0]) / 2)) <= 1e-28


def test_mpmath_eigenvalues_stay_mpmath_numbers() -> None:
    """N3: at 30 digits the clipped eigenvalues are mpmath numbers, the clipped ones exact 0."""
    q64 = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, -1.0]]) / 2
    mp = mp_backend(30)
    with mp.working():
        q = mp.asarray(q64)
        a = (q * mp.asarray(np.array([4.0, 1.0]))) @ q.T
    w, _ = psd_eigh(a, mp)
    assert all(type(x).__name__ == "mpf" for x in w)
    assert sorted(w)[:2] == [0, 0] and abs(max(w) - 4) <= 1e-28


def test_empty_spectrum_has_floor_zero_whatever_the_terms() -> None:
    """N3: no eigenvalues, no scale: the floor is 0 even when many terms are declared."""
    assert psd_floor([], FLOAT64, terms=5) == 0
