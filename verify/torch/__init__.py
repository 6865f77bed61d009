"""FACT and the NFA on the user's own PyTorch model, layer by layer (optional extra ``torch``).

``feature_report(model, loss_fn, X, Y, lam)`` finds every ``nn.Linear``, ``nn.Conv1d`` and
``nn.Conv2d`` (and any module named in ``layers``) and returns, per layer, the NFM W^T W, FACT
(F1, computed in the F3 form -(1/lam) W^T grad_W L_data, which sums over positions for shared
weights), bFACT (F4), the AGOP w.r.t. the layer's input (N1), the F2 bound, the gradient norm,
the relative errors and the NFA correlations (N3), with the engine's verdict rules: a point whose
full-batch gradient is above its rounding floor is INCONCLUSIVE, its FACT defect explained by
F2. ``polish(model, ...)`` takes the weights to a certified stationary point of L_lam (L-BFGS,
then Newton-Krylov on exact Hessian-vector products from ``torch.func``) and says how far they
moved; ``save_runfile`` exports an MLP of the engine's kind so ``factcheck check --dps 50``
re-verifies it at 50 digits.

Everything runs full batch, in float64 by default, on the model's device (CPU or CUDA). Inside
this package ``import torch`` is PyTorch itself (imports are absolute).
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401  (PyTorch, not this package: imports are absolute)
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without torch
    raise ImportError(
        "verify.torch needs PyTorch, which is not installed. Install the optional extra: "
        "pip install '.[torch]' (from the factcheck source tree), or pip install torch."
    ) from exc

from verify.torch._export import engine_twin, save_runfile
from verify.torch._layers import Layer, find_layers
from verify.torch._load import load_sequential
from verify.torch._losses import cross_entropy_loss, mse_loss
from verify.torch._polish import PolishResult, polish
from verify.torch._report import (
    OUTSIDE_HYPOTHESIS,
    FeatureReport,
    LayerReport,
    feature_report,
)

__all__ = [
    "OUTSIDE_HYPOTHESIS",
    "FeatureReport",
    "Layer",
    "LayerReport",
    "PolishResult",
    "cross_entropy_loss",
    "engine_twin",
    "feature_report",
    "find_layers",
    "load_sequential",
    "mse_loss",
    "polish",
    "save_runfile",
]
