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
    """The last m pairs (s, y): the big vectors in ring buffers (no copying when a pair is
    replaced); the small matrices in chronological order (oldest first): R^{-1}, the diagonal D
    and Y Y^T. R^{-1} is updated, never recomputed: dropping the oldest pair leaves the trailing
    block, which for a triangular matrix is the inverse of R's trailing block; a new pair adds
    the column -R^{-1} r / d and the corner 1 / d (r = S y_new, d = s_new . y_new)."""

    def __init__(self, m: int, p: int, dtype: type = np.float64) -> None:
        self.S: np.ndarray = np.zeros((m, p), dtype=dtype)
        self.Y: np.ndarray = np.zeros((m, p), dtype=dtype)
        self.Rinv, self.YY, self.D = np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0)
        self.slots = np.zeros(0, dtype=np.intp)  # ring slot of each pair, oldest first
        self.m = m
        self.P: np.ndarray | None = None  # H_0 = gamma diag(P); YY holds Y diag(P) Y^T
        # (g, S g, Y P g) by ring slot: of the last gradient applied (``applied``) and of the
        # gradient that :meth:`add` was given (``ahead``, for the next :meth:`apply`)
        self.applied: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.ahead: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def scale(self, P: np.ndarray | None) -> None:
        """Use H_0 = gamma diag(``P``) from now on (recomputes the Gram matrix Y diag(P) Y^T)."""
        self.P, self.applied, self.ahead = P, None, None
        if len(self.slots):
            self.YY = _scaled_gram(self.Y, P)[np.ix_(self.slots, self.slots)]

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
        off-diagonal curvature estimates of H, never the newest pair's s . y (computed
        directly), and L-BFGS checks every direction for descent."""
        full = len(self.slots) == self.m
        slot = int(self.slots[0]) if full else len(self.slots)
        keep = slice(1, None) if full else slice(None)
        rinv, yy_old = self.Rinv[keep, keep], self.YY[keep, keep]
        self.slots = np.append(self.slots[keep], slot)
        self.S[slot], self.Y[slot] = s, y
        Py = y if self.P is None else self.P * y
        old = self.applied
        if g is not None and old is not None and old[0] is not g:
            self.ahead = self._products(g)
            r = (self.ahead[1] - old[1])[self.slots]
            yy = (self.ahead[2] - old[2])[self.slots]
            r[-1], yy[-1] = float(s @ y), float(y @ Py)
        else:
            self.ahead = None
            r = _times(self.S, y)[self.slots]  # s_i . y_new, chronological; the last is d
            yy = _times(self.Y, Py)[self.slots]
        d = r[-1]
        col = -(rinv @ r[:-1]) / d
        self.Rinv = _grow(rinv, np.append(np.zeros(len(col)), 1.0 / d), np.append(col, 1.0 / d))
        self.YY = _grow(yy_old, yy, yy)
        self.D = np.append(self.D[keep], d)

    def apply(self, g: np.ndarray) -> np.ndarray:
        """H g by the compact representation (module docstring)."""
        if not len(self.slots):
            self.applied = None
            return g.copy() if self.P is None else self.P * g
        gamma = self.D[-1] / self.YY[-1, -1]
        P = self.P
        Pg = g if P is None else P * g
        ahead = self.ahead if self.ahead is not None and self.ahead[0] is g else None
        self.applied = ahead if ahead is not None else self._products(g)
        a, b = self.applied[1][self.slots], self.applied[2][self.slots]
        c = self.Rinv @ a
        p = self.Rinv.T @ (self.D * c + gamma * (self.YY @ c) - gamma * b)
        coef_s, coef_y = np.zeros(self.m), np.zeros(self.m)
        coef_s[self.slots], coef_y[self.slots] = p, -gamma * c
        cs, cy = _combine(coef_s, self.S), _combine(coef_y, self.Y)
        if P is None:
            return gamma * g + cs + cy
        return gamma * Pg + P * cy + cs


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


def _grow(a: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """``a`` with one more row (``row``) and column (``col``); they share the corner entry."""
    k = a.shape[0] + 1
    out = np.empty((k, k))
    out[:-1, :-1] = a
    out[-1, :] = row
    out[:, -1] = col
    return out
