"""The NFA score of one layer (N2, N3) on hand-made matrices with known answers.

Each case builds W^T W and the AGOP directly (no training), so the right Pearson and cosine are
known in closed form or from NumPy's ``corrcoef`` on the entries, computed here independently of
:mod:`verify.claims.features`.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from theory._errors import InputError
from verify.claims.features import (
    DEFAULT_ALPHA_GRID,
    LayerFeatures,
    all_zero,
    correlation,
    fro,
    nfa_score,
)
from verify.engine.network import FLOAT64, mp_backend

#: float64 rounding of a correlation of 3 x 3 matrices: a few ulps of 1 per operation over
#: ~30 operations and an eigendecomposition (backward stable, ~ size u); 1e-12 leaves 100x room
F64 = 1e-12


def _feat(nfm: np.ndarray, agop: np.ndarray, centered: np.ndarray | None = None, terms: int = 0,
          layer: int = 1) -> LayerFeatures:  # fmt: skip
    zero = np.zeros_like(nfm)
    return LayerFeatures(
        layer, zero, nfm, agop, agop if centered is None else centered, zero, zero, zero,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, float(np.sqrt(np.sum(nfm * nfm))), 0.0, terms,
    )  # fmt: skip


def _q(seed: int = 0) -> np.ndarray:
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((3, 3)))[0]


def _power(a: np.ndarray, alpha: float) -> np.ndarray:
    w, v = np.linalg.eigh(a)
    return (v * np.clip(w, 0, None) ** alpha) @ v.T


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a.ravel(), b.ravel()) / np.linalg.norm(a) / np.linalg.norm(b))


def test_nfm_equal_to_the_agop_root_scores_one() -> None:
    """N2: W^T W = AGOP^{1/2} exactly gives Pearson 1 and cosine 1 at alpha = 1/2, in float64 and
    at 30 digits; at alpha = 1 both are the entrywise formulas (corrcoef, normalised dot)."""
    q = _q()
    agop, nfm = q @ np.diag([4.0, 1.0, 0.0]) @ q.T, q @ np.diag([2.0, 1.0, 0.0]) @ q.T
    s = nfa_score(_feat(nfm, agop, layer=2), 0.5)
    assert (s.layer, s.alpha, s.searched, s.centered) == (2, 0.5, False, False)
    assert abs(s.pearson - 1) <= F64 and abs(s.cosine - 1) <= F64 and s.defined and not s.trivial
    assert s.by_alpha == ((0.5, s.pearson, s.cosine),)
    one = nfa_score(_feat(nfm, agop), 1.0)
    assert abs(one.pearson - _pearson(nfm, agop)) <= F64 < 1 - one.pearson
    assert abs(one.cosine - _cosine(nfm, agop)) <= F64 < 1 - one.cosine
    mp = mp_backend(30)
    with mp.working():
        q3 = mp.asarray(np.array([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]))
        q3 = q3 / np.array([mpmath.sqrt(2), mpmath.sqrt(2), 1], dtype=object)  # orthonormal
        a_mp = (q3 * mp.asarray(np.array([9.0, 4.0, 0.0]))) @ q3.T
        n_mp = (q3 * mp.asarray(np.array([3.0, 2.0, 0.0]))) @ q3.T
    high = nfa_score(_feat(n_mp, a_mp), 0.5, be=mp)
    # 30 digits: the exact root gives 1 to ~1e-28 (float64 could only reach ~1e-15)
    assert abs(high.pearson - 1) <= 1e-25 or high.pearson == 1.0
    with mp.working():
        p_mp = correlation(n_mp, (q3 * mp.asarray(np.array([3.0, 2.0, 0.0]))) @ q3.T, mp)
    assert p_mp.pearson == 1.0


def test_grid_search_picks_the_best_pearson_not_the_best_cosine() -> None:
    """N3: the searched exponent maximises Pearson (the verdict score); in this case cosine would
    pick another exponent. Every row of ``by_alpha`` is (alpha, Pearson, cosine) of that power."""
    rng = np.random.default_rng(1)
    b, c = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    nfm, agop = b @ b.T, c @ c.T
    grid = (0.25, 0.5, 1.0, 2.0)
    want = [(a, _pearson(nfm, _power(agop, a)), _cosine(nfm, _power(agop, a))) for a in grid]
    by_p, by_c = max(want, key=lambda r: r[1]), max(want, key=lambda r: r[2])
    assert by_p[0] == 1.0 and by_c[0] == 0.25  # the case separates the two scores
    s = nfa_score(_feat(nfm, agop), None, grid=grid)
    assert s.searched and s.alpha == 1.0 and len(s.by_alpha) == 4
    assert abs(s.pearson - by_p[1]) <= F64 and abs(s.cosine - by_p[2]) <= F64
    for (a, p, cos), (wa, wp, wc) in zip(s.by_alpha, want, strict=True):
        assert a == wa and abs(p - wp) <= F64 and abs(cos - wc) <= F64


def test_centered_flag_chooses_the_centered_agop() -> None:
    """N1, N2: centered=True scores the centered AGOP, otherwise the plain one."""
    q = _q(2)
    nfm = q @ np.diag([2.0, 1.0, 0.0]) @ q.T
    plain, cent = q @ np.diag([4.0, 1.0, 0.0]) @ q.T, q @ np.diag([1.0, 4.0, 0.0]) @ q.T
    feat = _feat(nfm, plain, cent)
    a, b = nfa_score(feat, 0.5), nfa_score(feat, 0.5, centered=True)
    assert abs(a.pearson - 1) <= F64 and not a.centered
    root = q @ np.diag([1.0, 2.0, 0.0]) @ q.T  # the exact square root of the centered AGOP
    assert b.centered and abs(b.pearson - _pearson(nfm, root)) <= F64 < 1 - b.pearson


def test_summed_terms_raise_the_eigenvalue_floor() -> None:
    """N3: an AGOP eigenvalue of 1e-12 is kept when the AGOP is a sum of few terms and clipped to
    0 when it summed 10^6 (floor 100 k u max|eig| = 1.1e-8): W^T W = the rank-one part then
    scores 1, and with the eigenvalue kept its power (1e-12)^0.1 = 0.06 lowers the score."""
    q = _q(3)
    agop, nfm = q @ np.diag([1.0, 1e-12, 0.0]) @ q.T, q @ np.diag([1.0, 0.0, 0.0]) @ q.T
    many = nfa_score(_feat(nfm, agop, terms=10**6), 0.1)
    few = nfa_score(_feat(nfm, agop, terms=0), 0.1)
    assert abs(many.pearson - 1) <= F64
    kept = q @ np.diag([1.0, 1e-12**0.1, 0.0]) @ q.T
    # the eigensolver finds 1e-12 to an absolute ~u = 1e-16, i.e. 1e-4 relative, and the 0.1
    # power keeps 1e-5 of that: entries of ~0.06 to ~1e-6, the score to ~1e-7
    assert abs(few.pearson - _pearson(nfm, kept)) <= 1e-6 and few.pearson < 1 - 1e-4


def test_overflowed_matrices_give_nan_scores() -> None:
    """N3: an infinite entry in W^T W or the AGOP used gives NaN scores at the first exponent of
    the grid, flagged searched, with a NaN row for every exponent (the verdict is INCONCLUSIVE);
    an infinite entry in the AGOP NOT used does not."""
    q = _q()
    nfm, agop = q @ np.diag([2.0, 1.0, 0.0]) @ q.T, q @ np.diag([4.0, 1.0, 0.0]) @ q.T
    bad = agop.copy()
    bad[0, 1] = np.inf
    s = nfa_score(_feat(nfm, agop, bad, layer=3), None, grid=(0.3, 0.7), centered=True)
    assert (s.layer, s.alpha, s.searched, s.centered) == (3, 0.3, True, True)
    assert math.isnan(s.pearson) and math.isnan(s.cosine) and not s.trivial
    assert [a for a, _, _ in s.by_alpha] == [0.3, 0.7]
    assert all(math.isnan(p) and math.isnan(c) for _, p, c in s.by_alpha)
    assert abs(nfa_score(_feat(nfm, agop, bad), 0.5).pearson - 1) <= F64  # plain AGOP is fine
    huge = nfm.copy()
    huge[2, 2] = np.inf
    one = nfa_score(_feat(huge, agop), 0.5)
    assert math.isnan(one.pearson) and one.alpha == 0.5 and not one.searched and not one.centered
    assert len(one.by_alpha) == 1 and one.by_alpha[0][0] == 0.5 and math.isnan(one.by_alpha[0][1])


def test_trivial_and_undefined_scores() -> None:
    """N3: W^T W = 0 = AGOP is a trivial point (Pearson undefined); one of them zero is not
    trivial; a W^T W with all entries equal has no centred part, so Pearson is undefined."""
    z, q = np.zeros((3, 3)), _q()
    agop = q @ np.diag([4.0, 1.0, 0.0]) @ q.T
    both = nfa_score(_feat(z, z), 0.5)
    assert both.trivial and not both.defined and both.pearson == 0.0
    assert not nfa_score(_feat(z, agop), 0.5).trivial
    assert not nfa_score(_feat(agop, z), 0.5).trivial
    flat = nfa_score(_feat(np.ones((3, 3)), agop), None, grid=(0.5, 1.0))
    assert not flat.defined and not flat.trivial
    assert nfa_score(_feat(agop, agop), 1.0).defined


def test_empty_grid_is_refused() -> None:
    """N2 (inputs): a grid search needs at least one exponent."""
    q = _q()
    a = q @ np.diag([4.0, 1.0, 0.0]) @ q.T
    with pytest.raises(InputError, match="grid must contain at least one exponent"):
        nfa_score(_feat(a, a), None, grid=())


def test_correlation_norm_and_zero_test() -> None:
    """N3: Pearson is NumPy's corrcoef of the entries and cosine their normalised dot product;
    the norm is Frobenius's; all_zero is exact in both backends; the default exponent grid is
    0.05, 0.10, ..., 2.00."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)) + 1.0
    c = correlation(a, b)
    assert abs(c.pearson - _pearson(a, b)) <= F64 and abs(c.cosine - _cosine(a, b)) <= F64
    assert c.defined and abs(c.pearson - c.cosine) > 1e-2
    assert not correlation(np.full((2, 2), 3.0), b[:2, :2]).defined
    assert abs(fro(a, FLOAT64) - np.linalg.norm(a)) <= F64 * np.linalg.norm(a)
    mp = mp_backend(30)
    assert all_zero(np.zeros((2, 2))) and all_zero(mp.asarray(np.zeros(3)))
    assert (
        not all_zero(np.array([0.0, -2.0]))
        and not all_zero(np.array([0.0, 1e-300]))
        and not all_zero(mp.asarray(np.array([0, 1e-9])))
    )
    assert len(DEFAULT_ALPHA_GRID) == 40 and DEFAULT_ALPHA_GRID[0] == 0.05
    assert DEFAULT_ALPHA_GRID[-1] == 2.0 and DEFAULT_ALPHA_GRID[19] == 1.0
    assert all(
        abs(y - x - 0.05) < 1e-12
        for x, y in zip(DEFAULT_ALPHA_GRID[:-1], DEFAULT_ALPHA_GRID[1:], strict=True)
    )
    assert FLOAT64.name == "float64"


def test_a_small_pearson_score_is_computed_at_the_backend_precision() -> None:
    """N3: at 30 digits a Pearson score of ~1e-7 (W^T W nearly uncorrelated with AGOP^{1/2}) has
    its 30-digit accuracy: compared with a 40-digit recomputation to 1e-20 absolute. A power or
    a correlation computed at mpmath's default 15 digits would be off by ~1e-15."""
    with mpmath.workdps(40):
        s2 = mpmath.sqrt(2)
        q = np.array([[1, 1, 0], [1, -1, 0], [0, 0, s2]], dtype=object) / s2  # orthonormal
        agop = (q * np.array([mpmath.mpf(9), 4, 1], dtype=object)) @ q.T
        root = (q * np.array([mpmath.mpf(3), 2, 1], dtype=object)) @ q.T  # AGOP^{1/2}, exact
        b = np.random.default_rng(6).standard_normal((3, 3))
        b = np.array(b + b.T, dtype=object) * mpmath.mpf(1)
        rc = root - np.sum(root) / 9
        bc = b - np.sum(b) / 9
        nfm = b - (np.sum(bc * rc) / np.sum(rc * rc) - mpmath.mpf("1e-7")) * root
        nc = nfm - np.sum(nfm) / 9
        want = np.sum(nc * rc) / mpmath.sqrt(np.sum(nc * nc) * np.sum(rc * rc))
    assert 1e-9 < abs(want) < 1e-6  # nearly uncorrelated: the error shows in the first digits
    got = nfa_score(_feat(nfm, agop), 0.5, be=mp_backend(30))
    with mpmath.workdps(40):
        assert abs(got.pearson - want) <= 1e-20
