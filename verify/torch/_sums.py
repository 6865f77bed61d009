"""Explicit sums over rows (samples x positions) of one layer: F1, and the rounding sizes.

With u_r the input patch and dz_r = dL_data/dz_r the output gradient of row r (for a mean loss
dz_r = delta_r / n, delta_r = dl_i/dz_r of F1),

- F1 by hand      FACT_F1 = -(1/lam) sum_r (W^T dz_r) u_r^T = -(1/(n lam)) sum grad_h l h^T  (F1)
  (an independent route to the F3 form, whose grad_W comes from autograd's own kernels);
- floor terms     sum_r |dz_r| |u_r| = (1/n) sum_i |delta_i| |h_i|, summed over positions: the
  size of the terms that cancel in grad_W L_data (the engine's rounding floor, verify.engine.train);
- FACT scale      ||W||_F^2 + (1/lam) sum_r |W^T dz_r| |u_r|: the size of the summands of W^T W
  and of FACT (the engine's ``LayerFeatures.rounding_scale``).

A convolution's patches are unfolded a chunk of samples at a time (``ROWS`` rows per chunk).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from verify.torch._objective import Capture, Objective

__all__ = ["ROWS", "LayerSums", "chain_length", "layer_sums"]

#: rows (sample x position) unfolded at once
ROWS = 1 << 16


@dataclass
class LayerSums:
    """The sums of one layer (module docstring); ``rows`` = samples x positions."""

    fact_f1: torch.Tensor
    terms: float
    scale: float
    rows: int


def layer_sums(obj: Objective, theta: torch.Tensor, cap: Capture) -> list[LayerSums]:
    out = []
    for j, (x, calls) in enumerate(zip(obj.layers, cap.calls, strict=True)):
        W = obj.weight(theta.detach(), j)
        acc = torch.zeros(W.shape[1], W.shape[1], device=obj.device, dtype=obj.dtype)
        terms = scale = 0.0
        rows = 0
        for h, dz in calls:
            for u, d in x.row_chunks(h, dz, ROWS):
                gh = d @ W  # rows of grad_h: W^T dz_r
                acc += gh.T @ u
                un = torch.linalg.vector_norm(u, dim=1)
                terms += float(torch.linalg.vector_norm(d, dim=1) @ un)
                scale += float(torch.linalg.vector_norm(gh, dim=1) @ un)
                rows += u.shape[0]
        fro2 = float((W * W).sum())
        out.append(LayerSums(-acc / obj.lam, terms, fro2 + scale / obj.lam, rows))  # F1
    return out


def chain_length(obj: Objective, sums: list[LayerSums]) -> int:
    """k = (most rows of a layer) + (number of layers) * (largest layer dimension): the longest
    chain of summations behind the gradient and the feature matrices (the engine's
    n + depth * max width, with rows = samples x positions)."""
    return max(s.rows for s in sums) + len(obj.layers) * max(max(x.shape) for x in obj.layers)
