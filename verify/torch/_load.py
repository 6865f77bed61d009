"""Load an ``nn.Sequential`` MLP from a state_dict file, never unpickling arbitrary objects.

The file must be ``torch.save(model.state_dict(), PATH)`` of an ``nn.Sequential`` of
``nn.Linear`` layers and parameterless activation modules. It is read with
``torch.load(PATH, weights_only=True)``, which accepts tensors and plain containers only. The
state_dict shows the Linear layers (keys ``"<index>.weight"`` and ``"<index>.bias"``) but not
the activations, which have no parameters: the activation is given by name, and one activation
module must sit between consecutive Linear layers (indices 0, 2, 4, ...), or none for the
identity. The network's output is the last Linear layer's (logits; the loss applies softmax).
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from theory._errors import bad_input
from verify.torch._mlp import activation_module

__all__ = ["load_sequential"]

_KEY = re.compile(r"^(\d+)\.(weight|bias)$")
_HINT = "Save it with torch.save(model.state_dict(), PATH) for an nn.Sequential of Linear layers."


def _read(path: Path) -> Any:
    if not path.is_file():
        raise bad_input("MODEL", "be an existing file", str(path), "Check the path.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        text = str(exc).strip()
        if "unsupported global" in text.lower():  # a class to unpickle: refused, by design
            why = "it holds pickled Python objects (a whole model saved with torch.save(model)?)"
        elif "weights only load failed" in text.lower():
            why = "not a torch file (torch.load(weights_only=True) cannot parse it)"
        else:
            why = f"not a torch file ({text.splitlines()[0][:120] if text else type(exc).__name__})"
        raise bad_input(
            "MODEL", "be a state_dict file readable by torch.load(weights_only=True)",
            f"{path.name}: {why}", _HINT,
        ) from None  # fmt: skip


def load_sequential(path: str | os.PathLike[str], activation: str) -> nn.Sequential:
    """The ``nn.Sequential`` (float64, CPU) whose state_dict is stored at ``path``."""
    act = activation_module(activation)  # validates the name first
    state = _read(Path(path))
    if not isinstance(state, dict) or not state:
        raise bad_input("MODEL", "hold a non-empty state_dict (a dict of tensors)",
                        type(state).__name__, _HINT)  # fmt: skip
    layers: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        m = _KEY.match(str(key))
        if m is None or not isinstance(value, torch.Tensor):
            raise bad_input(
                "MODEL", "hold only Linear parameters '<index>.weight' / '<index>.bias' of an "
                "nn.Sequential (unsupported layer)", str(key),
                "check-torch loads nn.Sequential(Linear, activation, ..., Linear); check other "
                "models from Python with verify.torch.feature_report.",
            )  # fmt: skip
        layers.setdefault(int(m.group(1)), {})[m.group(2)] = value
    idx = sorted(layers)
    for i in idx:
        w = layers[i].get("weight")
        if w is None or w.ndim != 2 or not w.is_floating_point():
            got = "no weight" if w is None else f"weight of shape {tuple(w.shape)}"
            kind = " (a 3-D/4-D weight is a convolution)" if w is not None and w.ndim > 2 else ""
            raise bad_input(
                "MODEL", "hold nn.Linear layers only: a floating 2-D weight (out, in) per index "
                f"(unsupported layer{kind})", f"layer {i}: {got}",
                "Check convolutional and other models from Python with verify.torch.",
            )  # fmt: skip
        b = layers[i].get("bias")
        if b is not None and tuple(b.shape) != (w.shape[0],):
            raise bad_input(f"MODEL layer {i}.bias", f"have shape ({w.shape[0]},)",
                            tuple(b.shape), _HINT)  # fmt: skip
    allowed = [[2 * j for j in range(len(idx))]]
    if activation == "identity":  # nn.Identity modules in between, or nothing
        allowed.append(list(range(len(idx))))
    if idx not in allowed:
        raise bad_input(
            "MODEL", f"have Linear layers at indices {allowed[0]} (one {activation} module between "
            "consecutive Linear layers)", idx,
            "Pass the activation the model uses (--activation identity for no activation "
            "modules); other layer types are not supported.",
        )  # fmt: skip
    if len({layers[i].get("bias") is None for i in idx}) > 1:
        raise bad_input("MODEL", "have a bias in every Linear layer or in none",
                        [f"{i}.bias" in state for i in idx], _HINT)  # fmt: skip
    modules: list[nn.Module] = []
    for j, i in enumerate(idx):
        w, b = layers[i]["weight"], layers[i].get("bias")
        if j > 0:
            prev = layers[idx[j - 1]]["weight"]
            if w.shape[1] != prev.shape[0]:
                raise bad_input(
                    f"MODEL layer {i}.weight", f"have {prev.shape[0]} columns (the outputs of "
                    f"layer {idx[j - 1]}) (shape mismatch)", tuple(w.shape),
                    "The state_dict is not of one nn.Sequential; re-save it.",
                )  # fmt: skip
            if i - idx[j - 1] == 2:
                modules.append(activation_module(activation) if j > 1 else act)
        lin = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(w.double())
            if b is not None:
                assert lin.bias is not None
                lin.bias.copy_(b.double())
        modules.append(lin)
    return nn.Sequential(*modules)
