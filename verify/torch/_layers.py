"""Layer discovery: the modules whose weight acts by multiplication, and their matrix form.

A layer computes ``z = W u + b`` at every *position*: once per sample for ``nn.Linear`` on flat
inputs, once per (sample, token) for a Linear on sequences, once per (sample, output pixel) for a
convolution, where ``u`` is the input patch. FACT (F1) and its F3 form then hold for the matrix
``W`` (out x in): the linear weight as it is, a convolution weight (out, in, k...) reshaped to
(out, in * prod(k)) in the channel-major order of ``torch.nn.functional.unfold``, so that the
sums over samples run over samples and positions (F3).

Found automatically: every trainable ``nn.Linear`` and every ``nn.Conv1d``/``nn.Conv2d`` with
groups = 1 and zero padding (others are listed as skipped, with the reason). Named explicitly
(``layers``): any of those, or any module with a 2-D ``weight`` that acts like ``nn.Linear`` on
the last axis.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from theory._errors import bad_input

__all__ = ["Layer", "find_layers"]


@dataclass(frozen=True, eq=False)
class Layer:
    """One multiplying layer: its name in ``model.named_modules()``, the module and its kind."""

    name: str
    module: nn.Module
    kind: str  # "linear" (acts on the last axis) or "conv1d" / "conv2d" (channels on axis 1)

    @property
    def weight(self) -> torch.Tensor:
        w = self.module.weight
        assert isinstance(w, torch.Tensor)
        return w

    @property
    def shape(self) -> tuple[int, int]:
        """(out, in) of the weight matrix (in = in_channels * prod(kernel) for a convolution)."""
        w = self.weight
        return int(w.shape[0]), int(math.prod(w.shape[1:]))

    def matrix(self, w: torch.Tensor) -> torch.Tensor:
        """The weight (or its gradient) as the (out, in) matrix that multiplies a patch."""
        return w.reshape(w.shape[0], -1)

    def out_rows(self, z: torch.Tensor) -> torch.Tensor:
        """Outputs (or their gradients) as rows, one per (sample, position): (rows, out)."""
        if self.kind == "linear":
            return z.reshape(-1, z.shape[-1])
        return z.flatten(2).transpose(1, 2).reshape(-1, z.shape[1])

    def in_rows(self, h: torch.Tensor) -> torch.Tensor:
        """Inputs as rows of patches in the same order as :meth:`out_rows`: (rows, in)."""
        if self.kind == "linear":
            return h.reshape(-1, h.shape[-1])
        conv = self.module
        assert isinstance(conv, (nn.Conv1d, nn.Conv2d))
        if self.kind == "conv1d":  # as a 2-D convolution of height 1
            h = h.unsqueeze(2)
        pads = _padding(conv)
        # F.pad lists the last dimension first: (left_W, right_W, top_H, bottom_H)
        h = F.pad(h, [p for pair in reversed(pads) for p in pair])
        two = (lambda t: (1, t[0])) if self.kind == "conv1d" else (lambda t: tuple(t))
        u = F.unfold(h, two(conv.kernel_size), dilation=two(conv.dilation), stride=two(conv.stride))
        return u.transpose(1, 2).reshape(-1, u.shape[1])

    def row_chunks(
        self, h: torch.Tensor, z: torch.Tensor, rows: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``(in_rows, out_rows)`` over chunks of samples with about ``rows`` rows each, so a
        convolution's unfolded patches never exist for the whole batch at once."""
        n = h.shape[0]
        per_sample = max(1, z[0].numel() // self.shape[0])  # positions per sample
        step = max(1, rows // per_sample)
        for i in range(0, n, step):
            yield self.in_rows(h[i : i + step]), self.out_rows(z[i : i + step])


def _padding(conv: nn.Conv1d | nn.Conv2d) -> list[tuple[int, int]]:
    """(before, after) zero padding per spatial dimension, also for padding='same'/'valid'."""
    k, dil = conv.kernel_size, conv.dilation
    if conv.padding == "valid":
        return [(0, 0)] * len(k)
    if conv.padding == "same":  # total dilation * (k - 1), the extra one after (as torch does)
        total = [d * (kk - 1) for d, kk in zip(dil, k, strict=True)]
        return [(t // 2, t - t // 2) for t in total]
    assert isinstance(conv.padding, tuple)
    return [(int(p), int(p)) for p in conv.padding]


def _unsupported_conv(mod: nn.Module) -> str | None:
    """Why a convolution cannot be checked here, or None when it can."""
    if isinstance(mod, (nn.Conv1d, nn.Conv2d)):
        if mod.groups != 1:
            return f"groups={mod.groups} (only groups=1: one weight matrix for all channels)"
        if mod.padding_mode != "zeros":
            return f"padding_mode={mod.padding_mode!r} (only zero padding)"
        return None
    if isinstance(mod, nn.modules.conv._ConvNd):
        return f"{type(mod).__name__} is not supported (nn.Conv1d and nn.Conv2d are)"
    return None


def _kind(mod: nn.Module) -> str:
    if isinstance(mod, nn.Conv1d):
        return "conv1d"
    if isinstance(mod, nn.Conv2d):
        return "conv2d"
    return "linear"


def find_layers(
    model: nn.Module, layers: Sequence[str | nn.Module] | None = None
) -> tuple[list[Layer], list[tuple[str, str]]]:
    """``(layers, skipped)``: the layers to check, in ``named_modules`` order, and the
    ``(name, reason)`` of multiplying modules that were found but cannot be checked."""
    named = dict(model.named_modules())
    if layers is None:
        found, skipped = [], []
        for name, mod in named.items():
            why = _unsupported_conv(mod)
            if why is not None:
                skipped.append((name, why))
            elif isinstance(mod, (nn.Linear, nn.Conv1d, nn.Conv2d)) and mod.weight is not None:
                if mod.weight.requires_grad:
                    found.append(Layer(name, mod, _kind(mod)))
                else:  # not trained: FACT says nothing about it
                    skipped.append((name, "weight frozen (requires_grad=False)"))
        if not found:
            kinds = sorted({type(m).__name__ for m in named.values()})
            raise bad_input(
                "model", "contain an nn.Linear, nn.Conv1d or nn.Conv2d (groups=1)",
                f"{type(model).__name__} with modules {kinds[:8]}",
                "Name the layers to check with layers=[...].",
            )  # fmt: skip
        return found, skipped
    by_module = {id(m): name for name, m in named.items()}
    out: list[Layer] = []
    for item in layers:
        name = item if isinstance(item, str) else by_module.get(id(item))
        if name is None or name not in named:
            raise bad_input(
                "layers", "name modules of the model (names from model.named_modules())",
                item if isinstance(item, str) else type(item).__name__,
                f"Pick from {[n for n in named if n][:10]}.",
            )  # fmt: skip
        mod = named[name]
        why = _unsupported_conv(mod)
        w = getattr(mod, "weight", None)
        if why is None and not isinstance(mod, (nn.Conv1d, nn.Conv2d)):
            if not isinstance(w, torch.Tensor) or w.ndim != 2:
                why = "it has no 2-D weight acting as z = h W^T (+ b) on the last axis"
        if why is not None:
            raise bad_input(
                "layers", "name multiplying layers (nn.Linear, nn.Conv1d/2d with groups=1, or "
                "a module with a 2-D weight used like nn.Linear)", f"{name!r}: {why}",
                "Drop it from layers.",
            )  # fmt: skip
        if all(layer.module is not mod for layer in out):
            out.append(Layer(name, mod, _kind(mod)))
    if not out:
        raise bad_input("layers", "name at least one layer", list(layers), "Or pass None.")
    return out, []
