"""``feature_report``: FACT and the NFA, layer by layer, in a user's trained torch model.

One full-batch pass in float64 on the model's device (a copy of the model; the original is not
touched): the gradient of L_lam and its certificate (:mod:`verify.torch._stationarity`), the
per-layer matrices (:mod:`verify.torch._features`), the AGOPs (:mod:`verify.torch._agop`), then
the verdicts (:mod:`verify.torch._verdicts`); inputs are validated in
:mod:`verify.torch._inputs`.

``lam`` is the weight decay that training added to exactly this ``loss_fn`` (torch.optim's
``weight_decay``; for SGD and Adam it enters the gradient as lam * W, which is L_lam with
(lam/2) ||W||^2). ``decay_bias`` says whether every parameter was decayed (torch.optim's default,
True) or only the weight matrices and kernels (False). Input validation happens here, once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from theory._errors import InputError, bad_input
from verify.torch._agop import MAX_BYTES, agops
from verify.torch._export import engine_twin
from verify.torch._features import layer_reports
from verify.torch._inputs import build_objective
from verify.torch._losses import LossFn
from verify.torch._objective import Objective
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

__all__ = ["OUTSIDE_HYPOTHESIS", "FeatureReport", "LayerReport", "feature_report"]


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
