"""Input validation of the public entry points (feature_report, polish), in one place.

:func:`build_objective` checks the model, ``lam`` (finite, and > 0: FACT divides by it), the
dtype (float64: the certificate and the tolerances are float64's), the loss, the device, the
layers and the data, builds the objective on a float64 copy of the model, and runs one capture
pass, which is where a model that does not accept X, or a loss that does not accept
(model(X), Y), is caught and reported as bad input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from theory._errors import InputError, OutsideAssumptionsError, bad_input
from verify.torch._layers import Layer, find_layers
from verify.torch._losses import LossFn, resolve_loss
from verify.torch._objective import Capture, Objective, as_tensor

__all__ = ["build_objective", "check_lam"]


def _device(model: nn.Module, device: Any) -> torch.device:
    if device is not None:
        try:
            dev = torch.device(device)
            torch.empty(0, device=dev)  # raises for a device this machine does not have
        except (RuntimeError, TypeError, AssertionError):
            raise bad_input(
                "device", "be a torch device available here", device, "Pass 'cpu'."
            ) from None
        return dev
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def check_lam(lam: Any) -> float:
    """``lam`` as a float, or an error: not a number or not finite (InputError), <= 0 (outside
    FACT's assumptions)."""
    try:
        value = float(lam)
    except (TypeError, ValueError):
        raise bad_input("lam", "be a number", lam, "Pass the weight decay, e.g. 1e-3.") from None
    if not math.isfinite(value):
        raise bad_input("lam", "be finite", lam, "Pass the weight decay, e.g. 1e-3.")
    if not value > 0:
        raise OutsideAssumptionsError(
            f"FACT (F1) assumes weight decay lam > 0 (the proof divides by lam); got lam={lam!r}. "
            "Pass the weight_decay the model was trained with."
        )
    return value


def build_objective(
    model: nn.Module, loss_fn: LossFn | str, X: Any, Y: Any, lam: Any,
    layers: Sequence[str | nn.Module] | None, device: Any, dtype: torch.dtype, decay_bias: bool,
) -> tuple[Objective, list[int], list[tuple[str, str]], Capture]:  # fmt: skip
    """The validated objective, the indices of the requested layers among its layers (the
    certificate uses every multiplying layer), the skipped layers and a capture at the start."""
    if not isinstance(model, nn.Module):
        raise bad_input("model", "be a torch.nn.Module", type(model).__name__, "Pass the model.")
    lam = check_lam(lam)
    if dtype != torch.float64:
        raise bad_input(
            "dtype", "be torch.float64 (the certificate, the tolerances and the engine's rules "
            "are float64's)", dtype, "Omit dtype: a float64 copy of the model is used.",
        )  # fmt: skip
    loss = resolve_loss(loss_fn)
    dev = _device(model, device)
    chosen, skipped = find_layers(model, layers)
    try:
        every, skipped_all = find_layers(model)
    except InputError:
        every, skipped_all = [], []
    names = [x.name for x in chosen]
    all_layers: list[Layer] = chosen + [x for x in every if x.name not in names]
    Xt, Yt = as_tensor("X", X, dev, dtype), as_tensor("Y", Y, dev, dtype)
    if Xt.shape[0] != Yt.shape[0]:
        raise bad_input(
            "Y", f"have one row per sample of X (n = {Xt.shape[0]})", tuple(Yt.shape),
            "Pass targets for every sample.",
        )  # fmt: skip
    obj = Objective(model, loss, Xt, Yt, lam, all_layers, decay_bias=decay_bias, device=dev,
                    dtype=dtype)  # fmt: skip
    try:
        cap = obj.capture(obj.theta0)
    except InputError:
        raise
    except RuntimeError as exc:
        raise bad_input(
            "X, Y", "fit the model and the loss (model(X) then loss_fn(output, Y) failed)",
            f"X {tuple(Xt.shape)}, Y {tuple(Yt.shape)}", f"Fix the shapes ({str(exc)[:120]}).",
        ) from None  # fmt: skip
    for x, calls in zip(obj.layers, cap.calls, strict=True):
        if len(calls) != 1:
            raise bad_input(
                "layers", "be called exactly once per forward pass", f"{x.name!r}: "
                f"{len(calls)} calls", "Shared (reused) modules are not supported; drop it.",
            )  # fmt: skip
    if not math.isfinite(cap.data_loss):
        raise bad_input("loss_fn", "be finite at the given weights", cap.data_loss, "Check data.")
    return obj, list(range(len(chosen))), skipped or skipped_all, cap
