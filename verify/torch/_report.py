"""``feature_report``: FACT and the NFA, layer by layer, in a user's trained torch model.

One full-batch pass in float64 on the model's device (a copy of the model; the original is not
touched): the gradient of L_lam and its certificate (:mod:`verify.torch._stationarity`), the
per-layer matrices (:mod:`verify.torch._features`), the AGOPs (:mod:`verify.torch._agop`), then
the verdicts (:mod:`verify.torch._verdicts`).

``lam`` is the weight decay that training added to exactly this ``loss_fn`` (torch.optim's
``weight_decay``; for SGD and Adam it enters the gradient as lam * W, which is L_lam with
(lam/2) ||W||^2). ``decay_bias`` says whether every parameter was decayed (torch.optim's default,
True) or only the weight matrices and kernels (False). Input validation happens here, once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from theory._errors import InputError, OutsideAssumptionsError, bad_input
from verify.torch._agop import MAX_BYTES, agops
from verify.torch._export import engine_twin
from verify.torch._features import layer_reports
from verify.torch._layers import Layer, find_layers
from verify.torch._losses import LossFn, resolve_loss
from verify.torch._objective import Capture, Objective, as_tensor
from verify.torch._records import OUTSIDE_HYPOTHESIS, FeatureReport, LayerReport
from verify.torch._stationarity import stationarity
from verify.torch._sums import layer_sums
from verify.torch._verdicts import (
    Recheck,
    assign_fact,
    assign_nfa,
    engine_recheck,
    optimizer_kind,
)

__all__ = ["OUTSIDE_HYPOTHESIS", "FeatureReport", "LayerReport", "build_objective",
           "check_lam", "feature_report"]  # fmt: skip


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


def feature_report(
    model: nn.Module, loss_fn: LossFn | str, X: Any, Y: Any, lam: float,
    layers: Sequence[str | nn.Module] | None = None, device: Any = None,
    dtype: torch.dtype = torch.float64, *, optimizer: Any = None, decay_bias: bool = True,
    alpha: float = 0.5, threshold: float = 0.9, recheck: bool = True,
    max_bytes: int = MAX_BYTES,
) -> FeatureReport:  # fmt: skip
    """FACT (F1 via F3; bFACT F4; F2 bound) and the NFA (N1-N3) in every layer of ``model``.

    ``loss_fn(model(X), Y)`` is L_data over the full batch ('mse' and 'cross_entropy' name the
    engine's losses); ``lam`` the weight decay used in training; ``layers`` module names (or
    modules) to check, default every nn.Linear, nn.Conv1d and nn.Conv2d; ``device`` default the
    model's; ``optimizer`` what trained the model (a name or the optimizer; AdamW makes a
    non-stationary point OUTSIDE_HYPOTHESIS rather than INCONCLUSIVE); ``alpha`` the NFA
    exponent, ``threshold`` its Pearson threshold; ``recheck`` lets the engine re-check a
    would-be refutation at higher precision (MLPs of its kind only; slow beyond ~1000
    parameters); ``max_bytes`` the memory budget of one chunk
    of the AGOP computation.
    """
    t0 = time.perf_counter()
    if not (isinstance(alpha, (int, float)) and 0 < alpha < float("inf")):
        raise bad_input("alpha", "be a finite number > 0", alpha, "Pass e.g. 0.5.")
    if not (isinstance(threshold, (int, float)) and -1 <= threshold <= 1):
        raise bad_input("threshold", "be a correlation in [-1, 1]", threshold, "Pass e.g. 0.9.")
    if not (isinstance(max_bytes, int) and max_bytes > 0):
        raise bad_input("max_bytes", "be a positive integer", max_bytes, "Pass e.g. 2**28.")
    opt = optimizer_kind(optimizer)
    obj, chosen, skipped, cap = build_objective(
        model, loss_fn, X, Y, lam, layers, device, dtype, decay_bias
    )
    theta = obj.theta0
    sums = layer_sums(obj, theta, cap)
    stat = stationarity(obj, theta, cap, sums)
    reports = layer_reports(obj, theta, cap, sums, agops(obj, theta, cap, max_bytes), chosen,
                            float(alpha))  # fmt: skip
    again = None
    if stat.certified and recheck:
        again = _recheck(obj, loss_fn, decay_bias, float(alpha), float(threshold))
    outcome, reason = assign_fact(reports, stat, opt, again)
    nfa = assign_nfa(reports, stat, float(threshold), again)
    return FeatureReport(
        reports, obj.n, obj.lam, opt, stat.grad_norm, stat.floor, stat.certified,
        stat.decay_alignment, outcome, reason, nfa, float(threshold), str(obj.device),
        time.perf_counter() - t0, skipped,
    )  # fmt: skip


def _recheck(obj: Objective, loss_fn: LossFn | str, decay_bias: bool, alpha: float,
             threshold: float) -> Recheck | None:  # fmt: skip
    """The engine's higher-precision re-check when the model is an MLP of its kind."""
    try:
        twin = engine_twin(obj.model, obj.X, obj.Y, obj.lam, loss_fn, decay_bias=decay_bias)
    except InputError:
        return None
    return engine_recheck(twin, alpha, threshold)
