"""How much of a feature matrix lies in the relevant subspace span(M_A): shares and alignment.

For a symmetric PSD matrix S (d x d) and an orthonormal basis B (d x k) of a subspace with
projection ``P = B B^T``:

- share      ``tr(P S) / tr(S) = tr(B^T S B) / tr(S)`` in [0, 1]: the fraction of S's trace (its
             energy) inside the subspace. For the NFM ``S = W^T W`` this is
             ``||W B||_F^2 / ||W||_F^2``. An isotropic S has share k/d; a random Gaussian W has
             expected share exactly k/d (the ratio is Beta(mk/2, m(d-k)/2) distributed).
- top mass   ``sum_{i<=r} lambda_i ||B^T v_i||^2 / sum_{i<=r} lambda_i`` over the top r
             eigenpairs of S: whether S's top eigenspace lies in the subspace (weighting by the
             eigenvalues keeps it meaningful when S has fewer than r large eigenvalues);
- per neuron ``||B^T w_i||^2 / ||w_i||^2`` (the share of one row) and ``|cos(w_i, v)|`` with the
             paper's learned direction ``v = sum_{j in A} M_j / sqrt(k)`` (S4).

A matrix that is not symmetric (FACT away from a stationary point, F5) enters through its
symmetric part ``(S + S^T)/2``; callers say so. Shares of a matrix with non-positive trace are
undefined and raise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory._errors import bad_input

__all__ = ["NeuronAlignment", "neuron_alignment", "nfm_share", "subspace_share", "top_mass"]


def _basis(B: np.ndarray, d: int) -> np.ndarray:
    B = np.asarray(B, dtype=np.float64)
    if B.ndim != 2 or B.shape[0] != d or B.shape[1] < 1:
        raise bad_input("basis", f"be a d x k array with d = {d}", f"shape {B.shape}",
                        "Pass the orthonormal relevant patterns M_A.")  # fmt: skip
    # why 1e-10: an orthonormal basis from QR/eigh is orthonormal to ~k eps; anything off by more
    # than this is a caller passing an unnormalised or wrong basis, which would bias the share
    if np.max(np.abs(B.T @ B - np.eye(B.shape[1]))) > 1e-10:
        raise bad_input("basis", "have orthonormal columns", "B^T B != I",
                        "Orthonormalise it (numpy.linalg.qr).")  # fmt: skip
    return B


def subspace_share(S: np.ndarray, B: np.ndarray) -> float:
    """``tr(B^T S B) / tr(S)`` of the symmetric part of S (module docstring)."""
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise bad_input("S", "be a square matrix", f"shape {S.shape}", "Pass a d x d matrix.")
    B = _basis(B, S.shape[0])
    S = (S + S.T) / 2
    total = float(np.trace(S))
    if not (np.isfinite(total) and total > 0):
        raise bad_input("S", "have a finite positive trace for a share", total,
                        "Pass a PSD feature matrix that is not zero.")  # fmt: skip
    return float(np.trace(B.T @ S @ B)) / total


def nfm_share(W: np.ndarray, B: np.ndarray) -> float:
    """Share of the NFM ``W^T W`` in span(B): ``||W B||_F^2 / ||W||_F^2``."""
    W = np.asarray(W, dtype=np.float64)
    B = _basis(B, W.shape[1])
    total = float(np.sum(W * W))
    if not total > 0:
        raise bad_input("W", "be non-zero for a share", "W = 0", "Train the network first.")
    return float(np.sum((W @ B) ** 2)) / total


def top_mass(S: np.ndarray, B: np.ndarray, r: int) -> float:
    """Eigenvalue-weighted mass of the top ``r`` eigenvectors of sym(S) inside span(B)."""
    S = np.asarray(S, dtype=np.float64)
    B = _basis(B, S.shape[0])
    w, V = np.linalg.eigh((S + S.T) / 2)
    w, V = np.clip(w[::-1][:r], 0.0, None), V[:, ::-1][:, :r]
    if not np.sum(w) > 0:
        raise bad_input("S", "have a positive eigenvalue", "none", "Pass a non-zero PSD matrix.")
    return float(np.sum((B.T @ V) ** 2, axis=0) @ w / np.sum(w))


@dataclass(frozen=True)
class NeuronAlignment:
    """Per-neuron relevant share and |cos| with the learned direction, summarised."""

    median_share: float
    median_cos: float
    frac_cos_above_0_9: float  # fraction of neurons with |cos(w_i, v)| > 0.9

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def neuron_alignment(W: np.ndarray, B: np.ndarray, v: np.ndarray) -> NeuronAlignment:
    """Summaries of ``||B^T w_i||^2 / ||w_i||^2`` and ``|cos(w_i, v)|`` over non-zero rows."""
    W = np.asarray(W, dtype=np.float64)
    B = _basis(B, W.shape[1])
    norms = np.linalg.norm(W, axis=1)
    keep = norms > 0
    if not keep.any():
        raise bad_input("W", "have a non-zero row", "W = 0", "Train the network first.")
    Wk, nk = W[keep], norms[keep]
    share = np.sum((Wk @ B) ** 2, axis=1) / nk**2
    cos = np.abs(Wk @ (v / np.linalg.norm(v))) / nk
    return NeuronAlignment(
        float(np.median(share)), float(np.median(cos)), float(np.mean(cos > 0.9))
    )
