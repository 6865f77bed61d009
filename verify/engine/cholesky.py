"""A Cholesky factorization kept for many solves, in NumPy alone: Newton's steps on one-hidden-layer
networks (:mod:`verify.engine.newton64`).

``H = L L^T`` comes from LAPACK through ``np.linalg.cholesky``; NumPy has no triangular solve,
and ``np.linalg.solve`` on L would factor it again (2/3 n^3 flops, twice the Cholesky's). So the
solves run over a recursion on L: halve the rows, solve the top half, subtract its product with
the off-diagonal block from the bottom half, solve that. At the bottom the diagonal blocks of
:data:`BLOCK` rows are multiplied by their inverses, formed once. Every flop but those of the
small inverses is in a matrix-vector (or matrix-matrix) product; a solve with 1,344 unknowns
takes ~1 ms, where the factorization takes ~20 and a second LU per solve would take ~40.

Why not SciPy's ``cho_factor``/``cho_solve``: importing ``scipy.linalg`` costs ~0.3 s of CPU,
a third of the 1 s budget of the standard tanh net's whole ``factcheck verify fact`` process,
which needs nothing else from it.

Accuracy: multiplying by the inverse of a diagonal block instead of substituting multiplies
that block's rounding errors by its condition number, at most sqrt(cond(H)) for a Cholesky
factor. The callers take a step only when it lowers the gradient (Newton's trials), so a
factorization too ill-conditioned for its steps costs a rejected trial, never a wrong result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BLOCK", "Cholesky"]

#: rows of the diagonal blocks inverted once, the bottom of the recursion. Why 32: smaller
#: blocks mean more Python calls per solve (n / BLOCK products), larger ones more flops in the
#: inverses; on 1,000-2,000 unknowns 16, 32 and 64 were within 10% of each other
BLOCK = 32


@dataclass
class Cholesky:
    """``H = L L^T`` (:meth:`of`) and its solves (module docstring)."""

    L: np.ndarray
    _inv: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @staticmethod
    def of(H: np.ndarray) -> Cholesky | None:
        """The factorization of the symmetric matrix ``H`` (its lower triangle is read), or None
        when H is not numerically positive definite or not finite."""
        H = np.asarray(H, dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError(f"Cholesky.of: H must be square, got shape {H.shape}")
        if not np.isfinite(H).all():
            return None
        try:
            L = np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            return None
        return Cholesky(L)

    def _tri(self, c0: int, c1: int, b: np.ndarray, trans: bool) -> None:
        """``b`` <- L^-1 ``b`` (``trans``: L^-T ``b``) on rows and columns c0..c1, in place."""
        if c1 - c0 <= BLOCK:
            inv = self._inv.get(c0)
            if inv is None:  # formed at the first solve, once
                inv = self._inv[c0] = np.linalg.inv(self.L[c0:c1, c0:c1])
            b[...] = (inv.T if trans else inv) @ b
            return
        L, h = self.L, c0 + (c1 - c0) // 2
        top, bottom = b[: h - c0], b[h - c0 :]
        if not trans:  # lower: forward
            self._tri(c0, h, top, trans)
            bottom -= L[h:c1, c0:h] @ top
            self._tri(h, c1, bottom, trans)
        else:  # upper: backward
            self._tri(h, c1, bottom, trans)
            top -= L[h:c1, c0:h].T @ bottom
            self._tri(c0, h, top, trans)

    def solve(self, r: np.ndarray) -> np.ndarray:
        """H^-1 ``r`` (a vector or a matrix of right-hand sides)."""
        x = np.array(r, dtype=np.float64, order="C", copy=True)
        n = self.L.shape[0]
        self._tri(0, n, x, trans=False)
        self._tri(0, n, x, trans=True)
        return x
