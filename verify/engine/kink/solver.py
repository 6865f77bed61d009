"""Solving the square system J d = r of a point on a ReLU kink (:mod:`verify.engine.kink`):
LU when J is well conditioned, else the truncated-SVD least-squares solution, whose zero modes
(continuous symmetries) are counted and must leave the slopes alone. Newton's steps on a large
singular J may use a rank-revealing QR instead (a step, not a certificate)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from verify.engine.backends import FLOAT64

__all__ = ["QR_FROM", "Solver"]


#: the least-squares cut of the square system's SVD, relative to its largest singular value,
#: times its size. Why 1e3 (P + m) u: singular values of exact zero modes (continuous symmetries:
#: parallel ReLU units with the same activation pattern rotate into each other under weight
#: decay) come out at ~ (P + m) u ||J|| from rounding; genuine ones measured here are >= 1e-7
#: relative, so the cut separates them with room on both sides
_CUT = 1e3 * FLOAT64.unit_roundoff
#: Newton's steps on a singular J use a rank-revealing QR (pivoted Householder, ~4/3 n^3 flops)
#: above this many unknowns. Why: the SVD with its vectors costs ~4x that (measured at n = 2,066:
#: 4.2 s against 1.1 s); below, both are cheap and the SVD's minimum-norm step is kept
QR_FROM = 1000


@dataclass
class Solver:
    """Solves J d = r for the square system: LU when J is well conditioned, else the
    least-squares (truncated SVD) solution, with its zero modes reported."""

    size: int
    m: int  # slope unknowns (the last m)
    lu: Any = None
    svd: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    cond: float = float("inf")  # condition number (on the kept singular values for the SVD)
    zero_modes: int = 0
    slope_null: float = 0.0  # largest slope component of a zero mode (unit vectors)

    qr: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    @staticmethod
    def of(J: np.ndarray, m: int, search: bool = False, lu_only: bool = False) -> Solver:
        """``search``: for Newton's steps only, never for the certificate: above
        :data:`QR_FROM` unknowns a singular J is solved by a rank-revealing QR instead of the
        SVD (zero modes counted, their slope components not: the certificate's SVD does that).
        ``lu_only`` (with ``search``): above :data:`QR_FROM` unknowns, no solver at all (``ok``
        False, ``cond`` set) when LU is not enough."""
        from scipy import linalg

        n = J.shape[0]
        if not np.isfinite(J).all():
            return Solver(n, m)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)  # singular: handled below
            lu = linalg.lu_factor(J, check_finite=False)
            rcond, _ = linalg.lapack.dgecon(lu[0], float(np.linalg.norm(J, 1)), norm="1")
        cond = 1.0 / rcond if rcond > 0 else float("inf")
        # why 1e-3: LU then solves to >= 3 correct digits per Newton step, enough for a
        # quadratically convergent iteration; otherwise the least-squares solution below
        if cond * n * FLOAT64.unit_roundoff < 1e-3:
            return Solver(n, m, lu=lu, cond=cond)
        if search and lu_only and n > QR_FROM:
            return Solver(n, m, cond=cond)
        if search and n > QR_FROM:
            (house, tau), R, perm = linalg.qr(J, pivoting=True, mode="raw", check_finite=False)
            d = np.abs(np.diag(R))
            if not d[0] > 0:
                return Solver(n, m)
            k = int((d > _CUT * n * d[0]).sum())
            return Solver(n, m, qr=(house, tau, R[:k, :k], perm[:k]), cond=float(d[0] / d[k - 1]),
                          zero_modes=n - k)  # fmt: skip
        U, S, Vt = np.linalg.svd(J)
        if not S[0] > 0:
            return Solver(n, m)
        kept = S > _CUT * n * S[0]
        null = Vt[~kept][:, n - m :]
        return Solver(
            n, m, svd=(U[:, kept], S[kept], Vt[kept]), cond=float(S[0] / S[kept][-1]),
            zero_modes=int((~kept).sum()),
            slope_null=float(np.abs(null).max()) if null.size else 0.0,
        )  # fmt: skip

    @property
    def ok(self) -> bool:
        return self.lu is not None or self.svd is not None or self.qr is not None

    def solve(self, r: np.ndarray, trans: bool = False) -> np.ndarray:
        from scipy import linalg

        if self.lu is not None:
            return linalg.lu_solve(self.lu, r, trans=1 if trans else 0)
        if self.qr is not None:  # the basic least-squares solution: zero off the kept columns
            assert not trans, "the QR of a Newton step solves J d = r only"
            house, tau, R, perm = self.qr
            qtr, _, info = linalg.lapack.dormqr("L", "T", house, tau, r[:, None],
                                                lwork=64 * self.size)  # fmt: skip
            assert info == 0, "LAPACK dormqr failed"
            out = np.zeros(self.size)
            out[perm] = linalg.solve_triangular(R, qtr[: len(perm), 0], check_finite=False)
            return out
        assert self.svd is not None
        U, S, Vt = self.svd
        if trans:
            return U @ ((Vt @ r).T / S).T
        return Vt.T @ ((U.T @ r).T / S).T

    def slope_rows(self) -> np.ndarray:
        """The rows of J^-1 (or J^+) that give the slope unknowns (m x size)."""
        E = np.zeros((self.size, self.m))
        E[self.size - self.m + np.arange(self.m), np.arange(self.m)] = 1.0
        return np.asarray(self.solve(E, trans=True)).T

    @property
    def slopes_determined(self) -> bool:
        """No zero mode moves the slopes (beyond the SVD's own rounding, ~ cond u)."""
        return self.zero_modes == 0 or self.slope_null <= 1e2 * self.cond * FLOAT64.unit_roundoff
