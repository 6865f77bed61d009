"""Losses in the engine's convention, and which user losses the run file can name.

The engine (:mod:`verify.engine.network`) uses, per sample, mse ``l_i = 0.5 ||f(x_i) - y_i||^2`` and
cross_entropy ``l_i = -sum_k y_ik log softmax(f(x_i))_k``, averaged over the n samples. FACT in
the F3 form needs only L_data, whatever its normalisation, as long as ``lam`` is the weight decay
that was added to exactly that L_data (torch.optim's ``weight_decay=lam`` adds ``lam * W`` to the
gradient of the loss it is given, i.e. minimises L_data + (lam/2) ||W||^2).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from theory._errors import bad_input

__all__ = ["LOSSES", "LossFn", "cross_entropy_loss", "engine_loss_name", "mse_loss", "resolve_loss"]

#: a loss: (model output, targets) -> scalar L_data over the full batch
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def mse_loss(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(1/n) sum_i 0.5 ||f(x_i) - y_i||^2 (the engine's mse; NOT nn.MSELoss, which also averages
    over the outputs)."""
    n = f.shape[0]
    r = f.reshape(n, -1) - y.reshape(n, -1)
    return 0.5 * (r * r).sum() / n


def cross_entropy_loss(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(1/n) sum_i -sum_k y_ik log softmax(f(x_i))_k; ``y`` one-hot/probability rows, or integer
    class labels (then the same as ``nn.CrossEntropyLoss()``)."""
    n = f.shape[0]
    logits = f.reshape(n, -1)
    if not y.is_floating_point():
        return F.cross_entropy(logits, y.reshape(n))
    return -(y.reshape(n, -1) * F.log_softmax(logits, dim=1)).sum() / n


#: names accepted for ``loss_fn``, as in the run file
LOSSES: dict[str, LossFn] = {"mse": mse_loss, "cross_entropy": cross_entropy_loss}


def resolve_loss(loss_fn: LossFn | str) -> LossFn:
    """A callable loss from a callable or one of the names in :data:`LOSSES`."""
    if isinstance(loss_fn, str):
        if loss_fn not in LOSSES:
            raise bad_input(
                "loss_fn", f"be a callable or one of {sorted(LOSSES)}", loss_fn,
                "Pass e.g. 'mse' or a function (output, target) -> scalar mean loss.",
            )  # fmt: skip
        return LOSSES[loss_fn]
    if not callable(loss_fn):
        raise bad_input(
            "loss_fn", "be a callable (output, target) -> scalar, or 'mse'/'cross_entropy'",
            type(loss_fn).__name__, "Pass e.g. verify.torch.mse_loss.",
        )  # fmt: skip
    return loss_fn


def engine_loss_name(loss_fn: LossFn | str) -> str | None:
    """The run-file name of ``loss_fn`` if it is exactly the engine's loss, else None."""
    if isinstance(loss_fn, str):
        return loss_fn if loss_fn in LOSSES else None
    for name, fn in LOSSES.items():
        if loss_fn is fn:
            return name
    if (
        isinstance(loss_fn, nn.CrossEntropyLoss)
        and loss_fn.reduction == "mean"
        and loss_fn.weight is None
        and loss_fn.label_smoothing == 0
    ):
        return "cross_entropy"
    return None
