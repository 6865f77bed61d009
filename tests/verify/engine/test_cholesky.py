"""The NumPy-only Cholesky solves of Newton's steps (verify/engine/cholesky.py)."""

from __future__ import annotations

import numpy as np
import pytest

from verify.engine.cholesky import BLOCK, Cholesky


@pytest.mark.parametrize("n", [1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5, 257])
def test_solves_match_a_dense_solve(n: int) -> None:
    """F1 (certification, Newton): H^-1 r for a vector and for a block of right-hand sides
    equals NumPy's dense solve to rounding, at sizes on both sides of the recursion's blocks
    (a wrong block, a transposed inverse or a missed off-diagonal product fails it)."""
    rng = np.random.default_rng(n)
    A = rng.standard_normal((n, n))
    H = A @ A.T / n + 0.1 * np.eye(n)
    chol = Cholesky.of(H)
    assert chol is not None
    r, R = rng.standard_normal(n), rng.standard_normal((n, 3))
    for rhs in (r, R):
        x = chol.solve(rhs)
        expected = np.linalg.solve(H, rhs)
        assert x.shape == rhs.shape
        assert np.allclose(x, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


def test_the_right_hand_side_is_not_modified() -> None:
    """F1 (certification, Newton): the solve works on a copy."""
    H = np.array([[4.0, 1.0], [1.0, 3.0]])
    r = np.array([1.0, 2.0])
    x = Cholesky.of(H).solve(r)  # type: ignore[union-attr]
    assert np.array_equal(r, [1.0, 2.0]) and np.allclose(H @ x, r)


@pytest.mark.parametrize(
    "H", [-np.eye(3), np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([[1.0, np.nan], [np.nan, 1.0]])]
)
def test_not_positive_definite_or_not_finite_gives_none(H: np.ndarray) -> None:
    """F1 (certification, Newton): an indefinite or non-finite H has no factorization (the
    caller falls back to Krylov steps)."""
    assert Cholesky.of(H) is None


def test_a_non_square_matrix_is_refused() -> None:
    """F1: a non-square H is a programming error with its shape in the message."""
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        Cholesky.of(np.ones((2, 3)))
