"""L_lam of a user's model as functions of one flat parameter vector, with exact derivatives.

    L_lam(theta) = L_data(theta) + (lam/2) sum_{p decayed} ||p||^2,   L_data = loss_fn(model(X), Y)

over the full batch. ``theta`` concatenates the model's trainable parameters (in
``named_parameters`` order); with ``decay_bias=True`` every one of them is in the decay (what
``torch.optim``'s ``weight_decay`` does to ``model.parameters()``), with ``decay_bias=False`` only
those with >= 2 dimensions (weight matrices and kernels, not biases or norm scales).

The model is deep-copied, cast to ``dtype`` and moved to ``device``, and put in eval mode (no
dropout; batch norm uses its running statistics), so the user's model is never modified and
samples do not interact: the output of sample i depends on x_i alone.

Derivatives are exact (automatic differentiation, never finite differences): the gradient by
reverse mode, Hessian-vector products by reverse-over-reverse (the gradient of <grad L_lam, v>),
and a whole Hessian by ``torch.func.vmap`` over ``torch.func.vjp`` of ``torch.func.grad``. Why
autograd's double backward for one product and not ``torch.func``'s transforms: on the standard
net (tanh, d=20, width 64, n=256) with torch 2.13 on one CPU thread, it took 1.5 ms against
3.1 ms (``vjp(grad)``) and 6.8 ms (``jvp(grad)``), and polishing needs hundreds of products.

:meth:`Objective.capture` runs one forward and backward pass that also records, for each checked
layer, its inputs h and the gradients dL_data/dz of its outputs (forward hooks), which the F1
sum and the rounding floors need.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vjp, vmap

from theory._errors import bad_input
from verify.torch._layers import Layer
from verify.torch._losses import LossFn

__all__ = ["Capture", "Objective", "as_tensor"]


def as_tensor(name: str, a: Any, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``a`` as a tensor on ``device``: floating data in ``dtype``, integer labels as int64."""
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    if t.ndim == 0 or t.shape[0] == 0:
        raise bad_input(name, "have one row per sample (n >= 1)", tuple(t.shape), "Pass (n, ...).")
    if t.is_floating_point():
        t = t.to(device=device, dtype=dtype)
        if not bool(torch.isfinite(t).all()):
            raise bad_input(name, "be finite (no NaN or inf)", "non-finite entries", "Clean it.")
        return t
    if t.dtype == torch.bool or t.is_complex():
        raise bad_input(name, "be real numbers or integer labels", str(t.dtype), "Convert it.")
    return t.to(device=device, dtype=torch.int64)


@dataclass
class Capture:
    """One forward/backward pass: L_data, its flat gradient, and per layer the calls' inputs
    ``h`` and output gradients ``dz`` = dL_data/dz (a shared module has several calls)."""

    data_loss: float
    grad_data: torch.Tensor
    calls: list[list[tuple[torch.Tensor, torch.Tensor]]]


class Objective:
    """L_lam of a copy of ``model`` (module docstring)."""

    def __init__(
        self, model: nn.Module, loss_fn: LossFn, X: torch.Tensor, Y: torch.Tensor, lam: float,
        layers: Sequence[Layer], *, decay_bias: bool, device: torch.device, dtype: torch.dtype,
    ) -> None:  # fmt: skip
        self.was_training = model.training
        self.model = copy.deepcopy(model).to(device=device, dtype=dtype).eval()
        self.loss_fn, self.X, self.Y, self.lam = loss_fn, X, Y, float(lam)
        self.device, self.dtype = device, dtype
        named = [(k, p) for k, p in self.model.named_parameters() if p.requires_grad]
        self.names = [k for k, _ in named]
        self.shapes = [tuple(p.shape) for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.theta0 = torch.cat([p.detach().reshape(-1) for _, p in named])
        self.mask = torch.cat([
            torch.full((p.numel(),), 1.0 if decay_bias or p.ndim >= 2 else 0.0,
                       device=device, dtype=dtype) for _, p in named
        ])  # fmt: skip
        modules = dict(self.model.named_modules())
        self.layers = [Layer(x.name, modules[x.name], x.kind) for x in layers]
        where = {id(p): k for k, p in named}
        self.weight_slices = []
        for x in self.layers:
            key = where.get(id(x.module.weight))
            if key is None:
                raise bad_input(
                    "layers", "have trainable weights (requires_grad=True)", x.name,
                    "Unfreeze them or drop the layer.",
                )  # fmt: skip
            i = self.names.index(key)
            self.weight_slices.append(slice(self.offsets[i], self.offsets[i + 1]))
        self._mode: str | None = None
        self._probes: dict[int, torch.Tensor] = {}
        self._calls: list[list[tuple[torch.Tensor, torch.Tensor]]] = []
        self._handles = [x.module.register_forward_hook(self._hook(j))
                         for j, x in enumerate(self.layers)]  # fmt: skip

    def release(self, theta: torch.Tensor) -> nn.Module:
        """The model copy with parameters ``theta``, hooks removed, trainable parameters and the
        train/eval mode as in the model passed in (the objective is unusable afterwards)."""
        for h in self._handles:
            h.remove()
        self._handles = []
        params = dict(self.model.named_parameters())
        with torch.no_grad():
            for name, value in self.params(theta.detach()).items():
                params[name].copy_(value)
                params[name].requires_grad_(True)
        return self.model.train(self.was_training)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_params(self) -> int:
        return int(self.theta0.numel())

    # -- functional form -----------------------------------------------------------------------
    def params(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            k: theta[a:b].view(s)
            for k, a, b, s in zip(self.names, self.offsets[:-1], self.offsets[1:], self.shapes,
                                  strict=True)
        }  # fmt: skip

    def output(self, theta: torch.Tensor, X: torch.Tensor | None = None) -> torch.Tensor:
        out = functional_call(self.model, self.params(theta), (self.X if X is None else X,))
        if not isinstance(out, torch.Tensor):
            raise bad_input("model", "return one tensor", type(out).__name__, "Wrap the model.")
        return out

    def data_loss(self, theta: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(self.output(theta), self.Y)

    def value(self, theta: torch.Tensor) -> torch.Tensor:
        """L_lam(theta)."""
        decayed = self.mask * theta
        return self.data_loss(theta) + 0.5 * self.lam * (decayed * theta).sum()

    def value_and_grad(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(L_lam(theta), grad L_lam(theta))``, detached."""
        t = theta.detach().requires_grad_(True)
        value = self.value(t)
        (g,) = torch.autograd.grad(value, t)
        return value.detach(), g

    def hvp(self, theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Exact H(theta) v: the gradient of <grad L_lam(theta), v> (reverse over reverse)."""
        t = theta.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(self.value(t), t, create_graph=True)
        (hv,) = torch.autograd.grad(g, t, v)
        return hv.detach()

    def hessian(self, theta: torch.Tensor, block: int = 64) -> torch.Tensor:
        """The exact Hessian (p x p): ``torch.func.vmap`` of ``vjp(grad(L_lam))`` over the unit
        vectors, ``block`` at a time."""
        pullback = vjp(grad(self.value), theta.detach())[1]
        eye = torch.eye(self.n_params, device=self.device, dtype=self.dtype)
        rows = [vmap(pullback)(eye[i : i + block])[0] for i in range(0, self.n_params, block)]
        H = torch.cat(rows)
        return (H + H.T) / 2

    def weight(self, theta: torch.Tensor, j: int) -> torch.Tensor:
        """Layer j's weight as its (out, in) matrix."""
        x = self.layers[j]
        return x.matrix(theta[self.weight_slices[j]].view(x.weight.shape))

    # -- hooks ---------------------------------------------------------------------------------
    def _hook(self, j: int) -> Any:
        def hook(module: nn.Module, inputs: tuple[Any, ...], out: Any) -> Any:
            if self._mode == "capture":
                self._check_call(j, inputs, out)
                self._calls[j].append((inputs[0].detach(), out))
                return out.clone()  # downstream in-place ops must not touch the captured z
            if self._mode == "probe":
                return out + self._probes[j]
            return None

        return hook

    def _check_call(self, j: int, inputs: tuple[Any, ...], out: Any) -> None:
        x = self.layers[j]
        m, k = x.shape
        ok = bool(inputs) and isinstance(inputs[0], torch.Tensor) and isinstance(out, torch.Tensor)
        if ok and x.kind == "linear":
            ok = inputs[0].shape[-1] == k and out.shape[-1] == m and out.shape[0] == self.n
        if not ok:
            raise bad_input(
                "layers", "name modules that map h (..., in) to z = h W^T + b (..., out) for "
                "W (out, in), one call per batch", f"{x.name!r} (W {m}x{k})",
                "Drop it from layers.",
            )  # fmt: skip

    def capture(self, theta: torch.Tensor) -> Capture:
        """L_data, grad L_data and per-layer (h, dL_data/dz) at ``theta`` (module docstring)."""
        t = theta.detach().clone().requires_grad_(True)
        self._calls = [[] for _ in self.layers]
        self._mode = "capture"
        try:
            loss = self.data_loss(t)
        finally:
            self._mode = None
        zs = [z for calls in self._calls for _, z in calls]
        grads = torch.autograd.grad(loss, [t, *zs], allow_unused=True)
        dzs = iter(g if g is not None else torch.zeros_like(z) for g, z in
                   zip(grads[1:], zs, strict=True))  # fmt: skip
        calls = [[(h, next(dzs)) for h, _ in layer_calls] for layer_calls in self._calls]
        self._calls = []
        g0 = grads[0] if grads[0] is not None else torch.zeros_like(t)
        return Capture(float(loss.detach()), g0.detach(), calls)

    def probed_output(self, theta: torch.Tensor, X: torch.Tensor,
                      probes: tuple[torch.Tensor, ...]) -> torch.Tensor:  # fmt: skip
        """Model output with ``probes[j]`` added to layer j's output z (for d f / d z)."""
        self._probes = dict(enumerate(probes))
        self._mode = "probe"
        try:
            return self.output(theta, X)
        finally:
            self._mode, self._probes = None, {}
