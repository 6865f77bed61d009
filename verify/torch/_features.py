"""Per-layer feature matrices of a torch model: NFM, FACT, bFACT, AGOP, F2 bound, correlations.

For layer l with weight matrix W (out x in; :mod:`verify.torch._layers`) and G = grad_W L_data
(autograd, full batch; for shared weights it already sums over positions):

- NFM     W^T W                                                           (N1)
- FACT    -(1/lam) W^T G     (the F3 form of F1; equal to -(1/(n lam)) sum grad_h l h^T)  (F3)
- FACT_F1 the F1 sum assembled from the layer's inputs and output gradients, a second route
          (:mod:`verify.torch._sums`); the report gives their relative gap
- bFACT   -(1/lam) G W^T  =  -(1/(n lam)) sum_i delta_i (W h_i)^T                         (F4)
- F2      W^T W - FACT = W^T grad_W L_lam / lam, so the defect is <= ||W|| ||grad_W L_lam|| / lam
- AGOP    (1/n) sum_{i,p} J_ip^T J_ip, J w.r.t. the layer's input (:mod:`verify.torch._agop`)
- NFA     Pearson and cosine of NFM against AGOP^alpha (N3), the PSD power with the engine's
          rounding floor (:mod:`verify.engine.linalg`)

The FACT rounding tolerance is the engine's rule ``(depth + 1) k u scale``
(:func:`verify._check_common.fact_rounding_tolerance`), with depth the number of layers and k,
scale from :mod:`verify.torch._sums`.
"""

from __future__ import annotations

import numpy as np
import torch

from verify.claims.common import fact_rounding_tolerance
from verify.claims.features import correlation
from verify.claims.nfa import _nfa_tolerance
from verify.engine.linalg import psd_eigh, psd_power_from_eigh
from verify.engine.network import FLOAT64
from verify.torch._objective import Capture, Objective
from verify.torch._records import LayerReport
from verify.torch._sums import LayerSums, chain_length

__all__ = ["layer_reports"]


def _fro(a: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(a))


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 else (0.0 if num == 0 else float("inf"))


def _np(a: torch.Tensor) -> np.ndarray:
    return a.detach().cpu().numpy().astype(np.float64)


def layer_reports(
    obj: Objective, theta: torch.Tensor, cap: Capture, sums: list[LayerSums],
    agops: list[torch.Tensor], chosen: list[int], alpha: float,
) -> list[LayerReport]:  # fmt: skip
    """Quantities (no verdicts yet) of the layers ``chosen`` (indices into ``obj.layers``)."""
    theta = theta.detach()
    depth = len(obj.layers)
    k = chain_length(obj, sums)
    u = FLOAT64.unit_roundoff
    out = []
    for j in chosen:
        x, s = obj.layers[j], sums[j]
        W = obj.weight(theta, j)
        Gd = x.matrix(cap.grad_data[obj.weight_slices[j]].view(x.weight.shape))
        G = Gd + obj.lam * W  # grad_W L_lam (weights are always in the decay)
        nfm = W.T @ W
        fact = -(W.T @ Gd) / obj.lam  # F3 (= F1)
        bfact = -(Gd @ W.T) / obj.lam  # F4
        gram = W @ W.T
        nfm_norm = _fro(nfm)
        defect = _fro(nfm - fact)
        fact_norm = _fro(fact)
        agop = _np(agops[j])
        nfm_np = _np(nfm)
        eig = psd_eigh(agop, FLOAT64, k)
        corr = correlation(nfm_np, psd_power_from_eigh(eig, alpha, FLOAT64), FLOAT64)  # N3
        out.append(
            LayerReport(
                name=x.name,
                kind=x.kind,
                shape=x.shape,
                rows=s.rows,
                nfm=nfm_np,
                fact=_np(fact),
                fact_f1=_np(s.fact_f1),
                bfact=_np(bfact),
                agop=agop,
                grad_norm=_fro(G),
                defect=defect,
                f2_bound=_fro(W) * _fro(G) / obj.lam,  # F2
                rounding=fact_rounding_tolerance(depth, k, u, s.scale),
                fact_rel_error=_ratio(defect, nfm_norm),
                bfact_rel_error=_ratio(_fro(gram - bfact), _fro(gram)),  # F4
                fact_asymmetry=_ratio(_fro(fact - fact.T), fact_norm),  # F5
                f1_gap=_ratio(_fro(s.fact_f1 - fact), fact_norm),
                nfm_norm=nfm_norm,
                alpha=alpha,
                pearson=corr.pearson,
                cosine=corr.cosine,
                nfa_tolerance=_nfa_tolerance(FLOAT64, alpha, k),
            )  # fmt: skip
        )
    return out
