"""Is the point stationary? The engine's certificate rule applied to a torch model.

Certified means (:mod:`verify.engine.train`): the gradient is at or below its own rounding floor,

    ||grad L_lam|| <= u (k (T + lam ||theta||) + ||H|| ||theta||),

u the unit roundoff of the dtype; T = sum_l sum_r |dz_r| |u_r| the size of the terms that cancel
in the gradient (:mod:`verify.torch._sums`); k = (most rows of a layer) + (number of layers) *
(largest layer dimension), the longest chain of summations (the engine's n + depth * max width,
rows = samples x positions); ||H||_2 by power iteration on exact Hessian-vector products. The
formula is :func:`verify.engine.hessian.rounding_floor`; :func:`certify` is the one place that
decides, so a different certificate rule changes only it. (The engine itself now certifies
with a per-entry floor from a forward error analysis, :mod:`verify.engine.rounding`, which
badly scaled data cannot fool; this global floor can be, so a model exported as a run file is
re-checked by the engine: ``factcheck check RUN.npz``.)

Also reported: the cosine between the residual gradient and the decay term lam * theta. Near 1
the data gradient does not balance the decay at all, which is what a fixed point of decoupled
weight decay (AdamW: m / (sqrt(v) + eps) = -lam W) or a wrong ``lam`` looks like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from verify.engine.hessian import operator_norm, rounding_floor
from verify.torch._objective import Capture, Objective
from verify.torch._sums import LayerSums, chain_length

__all__ = ["Stationarity", "certify", "hessian_norm", "stationarity", "unit_roundoff"]


@dataclass(frozen=True)
class Stationarity:
    """The certificate at one point (module docstring)."""

    grad_norm: float
    floor: float
    certified: bool
    hnorm: float
    decay_alignment: float  # cos(grad L_lam, lam * decayed theta); nan when either is zero

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def unit_roundoff(dtype: torch.dtype) -> float:
    return float(torch.finfo(dtype).eps) / 2


def certify(grad_norm: float, *, u: float, k: int, terms: float, lam: float,
            theta_norm: float, hnorm: float) -> tuple[float, bool]:  # fmt: skip
    """``(floor, certified)``: the engine's rule, gradient at or below its rounding floor."""
    floor = float(rounding_floor(u, k, terms, lam, theta_norm, hnorm))
    return floor, bool(np.isfinite(grad_norm) and grad_norm <= floor)


def hessian_norm(obj: Objective, theta: torch.Tensor) -> float:
    """||H||_2 by the engine's power iteration (:func:`verify._hessian.operator_norm`)."""
    theta = theta.detach()

    def matvec(v: np.ndarray) -> np.ndarray:
        t = torch.as_tensor(v, device=obj.device, dtype=obj.dtype)
        return obj.hvp(theta, t).detach().cpu().numpy().astype(np.float64)

    return operator_norm(matvec, obj.n_params)


def stationarity(obj: Objective, theta: torch.Tensor, cap: Capture, sums: list[LayerSums],
                 hnorm: float | None = None) -> Stationarity:  # fmt: skip
    """The certificate at ``theta`` from a capture there and its layer sums."""
    theta = theta.detach()
    decay = obj.lam * obj.mask * theta
    g = cap.grad_data + decay  # grad L_lam
    gn = float(torch.linalg.vector_norm(g))
    if hnorm is None:
        hnorm = hessian_norm(obj, theta)
    k = chain_length(obj, sums)
    floor, ok = certify(
        gn, u=unit_roundoff(obj.dtype), k=k, terms=sum(s.terms for s in sums), lam=obj.lam,
        theta_norm=float(torch.linalg.vector_norm(theta)), hnorm=hnorm,
    )  # fmt: skip
    dn = float(torch.linalg.vector_norm(decay))
    align = float(g @ decay) / (gn * dn) if gn > 0 and dn > 0 else float("nan")
    return Stationarity(gn, floor, ok, hnorm, align)
