"""A torch MLP of the engine's kind as the engine's problem, and as a run file.

:func:`engine_twin` turns ``(model, X, Y, lam, loss)`` into the engine's
:class:`verify.engine.network.Problem` and flat parameters (the engine's order: W1, b1, W2, b2,
...),
so the same point can be checked by the engine in float64 and at 50 digits.
:func:`save_runfile` writes that as a run file (format ``factcheck-run/1``, see
:mod:`verify.engine.runfile`), atomically, so ``factcheck check RUN.npz --dps 50`` re-verifies
FACT and the NFA at 50 digits. Only exact correspondences are exported: the model must be an MLP
of the engine's kind (:mod:`verify.torch._mlp`) and the loss the engine's mse or cross-entropy
(:mod:`verify.torch._losses`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from theory._errors import bad_input
from verify.engine.network import Problem
from verify.engine.runfile import save_run
from verify.torch._losses import LossFn, engine_loss_name
from verify.torch._mlp import engine_mlp

__all__ = ["engine_twin", "save_runfile"]


def _numpy(a: Any) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def engine_twin(
    model: nn.Module, X: Any, Y: Any, lam: float, loss_fn: LossFn | str = "mse",
    *, decay_bias: bool = True,
) -> tuple[Problem, np.ndarray, list[str]]:  # fmt: skip
    """``(problem, theta, linear_names)``: the engine's problem and parameters for ``model``.

    ``decay_bias`` says whether the biases were in the weight decay (torch.optim's default:
    yes). Integer class labels ``Y`` become one-hot rows for cross-entropy.
    """
    net, names = engine_mlp(model)
    loss = engine_loss_name(loss_fn)
    if loss is None:
        raise bad_input(
            "loss_fn", "be the engine's loss for a run file: 'mse' (0.5 ||f - y||^2, mean over "
            "samples) or 'cross_entropy'", getattr(loss_fn, "__name__", repr(loss_fn)),
            "nn.MSELoss() also averages over the c outputs: it is (2/c) x the engine's mse, so "
            "pass loss_fn='mse' and lam * c / 2.",
        )  # fmt: skip
    x = _numpy(X).astype(np.float64)
    y = _numpy(Y)
    if loss == "cross_entropy" and y.ndim == 1 and y.dtype.kind in "iu":
        y = np.eye(net.sizes[-1])[y]
    y = y.astype(np.float64).reshape(y.shape[0], -1)
    problem = Problem(net, x, y, loss, float(lam), decay_bias)
    modules = dict(model.named_children())
    params: list[tuple[Any, Any]] = []
    for name in names:
        lin = modules[name]
        assert isinstance(lin, nn.Linear)
        w = lin.weight.detach().cpu().double().numpy()
        b = None if lin.bias is None else lin.bias.detach().cpu().double().numpy()
        params.append((w, b))
    return problem, net.flatten(params), names


def save_runfile(
    path: str | os.PathLike[str], model: nn.Module, X: Any, Y: Any, lam: float,
    loss_fn: LossFn | str = "mse", *, decay_bias: bool = True,
    info: dict[str, Any] | None = None,
) -> Path:  # fmt: skip
    """Write ``model`` and its problem as a run file (``factcheck check`` reads it); ``info``
    may carry the run file's optional ``seed``, ``status`` and ``grad_norm``."""
    problem, theta, _ = engine_twin(model, X, Y, lam, loss_fn, decay_bias=decay_bias)
    save_run(path, problem, theta, info)
    return Path(path)
