"""The stored pairs of L-BFGS and the compact product H g (:mod:`verify.engine.lbfgs`).

H g = gamma P g + S^T p - gamma P Y^T c, c = R^{-1} (S g), p = R^{-T} ((D + gamma Y diag(P) Y^T)
c - gamma (Y (P g))) (Byrd, Nocedal and Schnabel 1994, Theorem 2.2; the lbfgs module docstring
gives the notation). The pairs are kept in float64 or, where the passes over them are
memory-bound, float32 (:func:`verify.engine.lbfgs.pair_dtype`); the small m x m matrices are
always float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Pairs"]


class Pairs:
    """The last m pairs (s, y) in ring buffers (no copying when a pair is replaced), and the
    small matrices R^{-1}, D and Y diag(P) Y^T in the same slot order (m x m, zero at the slots
    not in use), so that H g needs no gathering or scattering: the formula is invariant under
    a common permutation of the pairs, and an unused slot (a zero row of S and Y) contributes
    exact zeros. R^{-1} is updated, never recomputed: dropping the oldest pair leaves the
    trailing block, which for a triangular matrix is the inverse of R's trailing block (in slot
    order: its row and column set to 0); a new pair adds the column -R^{-1} r / d and the corner
    1 / d (r = S y_new, d = s_new . y_new). Why slot order: on the standard 20-64-1 net
    (1,344 parameters, 20 pairs) the chronological copies (gathers, growing matrices) made
    ~60 of the ~95 us that a product and an update took per iteration."""

    def __init__(self, m: int, p: int, dtype: type = np.float64) -> None:
        self.S: np.ndarray = np.zeros((m, p), dtype=dtype)
        self.Y: np.ndarray = np.zeros((m, p), dtype=dtype)
        self.Rinv, self.YY, self.D = np.zeros((m, m)), np.zeros((m, m)), np.zeros(m)
        self.slots: list[int] = []  # ring slot of each pair, oldest first
        self.m = m
        self.P: np.ndarray | None = None  # H_0 = gamma diag(P); YY holds Y diag(P) Y^T
        # (g, S g, Y P g) by ring slot: of the last gradient applied (``applied``) and of the
        # gradient that :meth:`add` was given (``ahead``, for the next :meth:`apply`)
        self.applied: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.ahead: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def scale(self, P: np.ndarray | None) -> None:
        """Use H_0 = gamma diag(``P``) from now on (recomputes the Gram matrix Y diag(P) Y^T;
        the rows of unused slots are 0, and so are their entries)."""
        self.P, self.applied, self.ahead = P, None, None
        if self.slots:
            self.YY = _scaled_gram(self.Y, P)

    def _products(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(g, S g, Y diag(P) g) over all ring slots: two passes over the stored pairs."""
        return g, _times(self.S, g), _times(self.Y, g if self.P is None else self.P * g)

    def add(self, s: np.ndarray, y: np.ndarray, g: np.ndarray | None = None) -> None:
        """Store the pair (s, y). With ``g``, the gradient after the step (y = g - g_old, g_old
        the gradient last applied), S g and Y P g are computed here, once, for the next
        :meth:`apply` (g), and the old pairs' s_i . y and y_i P y are their differences from the
        kept S g_old and Y P g_old: two passes over the pairs per iteration instead of four.
        Why the differences are accurate enough: their rounding error is u (|S g| + |S g_old|),
        u the pairs' unit roundoff (2^-53, or 2^-24 for float32 pairs), which only perturbs the
        off-diagonal curvature estimates of H, never the newest pair's s . y and y . P y
        (computed directly, in float64), and L-BFGS checks every direction for descent."""
        if len(self.slots) == self.m:  # drop the oldest: its row and column of R^-1 and YY
            slot = self.slots.pop(0)
            self.Rinv[slot], self.Rinv[:, slot] = 0.0, 0.0
            self.YY[slot], self.YY[:, slot] = 0.0, 0.0
        else:
            slot = len(self.slots)
        self.slots.append(slot)
        self.S[slot], self.Y[slot] = s, y
        Py = y if self.P is None else self.P * y
        old = self.applied
        if g is not None and old is not None and old[0] is not g:
            self.ahead = self._products(g)
            r = self.ahead[1] - old[1]
            yy = self.ahead[2] - old[2]
        else:
            self.ahead = None
            r = _times(self.S, y)  # s_i . y_new by slot
            yy = _times(self.Y, Py)
        d = r[slot] = float(s @ y)
        yy[slot] = float(y @ Py)
        col = self.Rinv @ r  # row and column ``slot`` of Rinv are 0: r[slot] is left out
        col *= -1.0 / d
        col[slot] = 1.0 / d
        self.Rinv[:, slot] = col
        self.YY[slot], self.YY[:, slot] = yy, yy
        self.D[slot] = d

    def apply(self, g: np.ndarray) -> np.ndarray:
        """H g by the compact representation (module docstring), in slot order."""
        if not self.slots:
            self.applied = None
            return g.copy() if self.P is None else self.P * g
        newest = self.slots[-1]
        gamma = self.D[newest] / self.YY[newest, newest]
        P = self.P
        ahead = self.ahead if self.ahead is not None and self.ahead[0] is g else None
        self.applied = ahead if ahead is not None else self._products(g)
        _, a, b = self.applied
        c = self.Rinv @ a
        q = self.YY @ c
        q *= gamma
        q += self.D * c
        q -= gamma * b
        p = self.Rinv.T @ q
        c *= -gamma
        cs = _combine(p, self.S)
        out = _combine(c, self.Y).astype(np.float64, copy=False)  # (float32 pairs: a copy)
        if P is not None:
            out *= P
        out += cs
        out += gamma * (g if P is None else P * g)
        return out


#: columns per block of :func:`_scaled_gram`. Why 8192: a block of 50 stored vectors is then
#: 3.2 MB, and its scaled copy stays in cache; the whole m x p copy that one product needs went
#: to the kernel and back at every refresh (100-300-300-1 net, 50 pairs x 120,300: 49-69 ms a
#: refresh whole, 23-25 ms in blocks)
_GRAM_BLOCK = 8192


def _times(A: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A v in float64, with v rounded to A's precision (no float64 copy of a float32 A)."""
    if A.dtype == np.float64:  # the common case, without the conversions' call overhead
        return A @ v
    return np.asarray(A @ v.astype(A.dtype), dtype=np.float64)


def _combine(c: np.ndarray, A: np.ndarray) -> np.ndarray:
    """c^T A (the combination of A's rows), in A's precision."""
    return (c if A.dtype == np.float64 else c.astype(A.dtype)) @ A


def _scaled_gram(Y: np.ndarray, P: np.ndarray | None) -> np.ndarray:
    """Y diag(P) Y^T over all rows of ``Y``, by column blocks (:data:`_GRAM_BLOCK`)."""
    out = np.zeros((Y.shape[0], Y.shape[0]))
    for k in range(0, Y.shape[1], _GRAM_BLOCK):
        block = Y[:, k : k + _GRAM_BLOCK]
        out += (block if P is None else block * P[k : k + _GRAM_BLOCK]) @ block.T
    return out
