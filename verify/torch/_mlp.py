"""MLPs of the engine's kind in torch: ``nn.Sequential`` of ``nn.Linear`` and one activation.

The engine's network (:mod:`verify.engine.network`) is h_1 = x, z_l = W_l h_l + b_l, h_{l+1} =
sigma(z_l), f = z_L: in torch, ``nn.Sequential(Linear, act, Linear, act, ..., Linear)`` with one
activation type throughout (no activation modules at all for the identity network) and biases
in every Linear or in none. Activation modules that compute exactly the engine's functions:

| engine    | torch                                                                        |
|-----------|------------------------------------------------------------------------------|
| identity  | ``nn.Identity()``, or no module between two Linear layers                    |
| relu      | ``nn.ReLU()`` (slope 0 at the kink, as the engine)                           |
| tanh      | ``nn.Tanh()``                                                                |
| sigmoid   | ``nn.Sigmoid()``                                                             |
| softplus  | ``nn.Softplus(beta=1, threshold=t)`` with t >= 40                            |
| gelu      | ``nn.GELU()`` (approximate='none': z Phi(z), the exact erf form)             |
| quadratic | :class:`Quadratic` (z^2)                                                     |

Why t >= 40 for softplus: torch returns z itself when z > t, where log(1 + e^z) = z +
log1p(e^-z) differs by e^-t relative to z >= t; e^-40 / 40 ~ 1e-19 is below float64's unit
roundoff, so both are the same float64 function. torch's default t = 20 differs by up to 2e-9.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from theory._errors import bad_input
from verify.engine.network import ACTIVATIONS, MLP

__all__ = ["ACTIVATION_MODULES", "Quadratic", "activation_module", "engine_mlp"]

#: softplus thresholds at or above this make torch's Softplus the exact function (docstring)
SOFTPLUS_MIN_THRESHOLD = 40.0


class Quadratic(nn.Module):
    """sigma(z) = z^2 (the engine's ``quadratic`` activation)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * z


def activation_module(name: str) -> nn.Module:
    """A fresh torch module computing the engine's activation ``name``."""
    if name not in ACTIVATIONS:
        raise bad_input("activation", f"be one of {sorted(ACTIVATIONS)}", name, "Pick one.")
    factories: dict[str, Callable[[], nn.Module]] = {
        "identity": nn.Identity,
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "softplus": lambda: nn.Softplus(beta=1.0, threshold=SOFTPLUS_MIN_THRESHOLD),
        "gelu": nn.GELU,
        "quadratic": Quadratic,
    }
    return factories[name]()


def _engine_name(mod: nn.Module) -> str | None:
    """The engine's name for an activation module, or None if it is not exactly one of them."""
    if isinstance(mod, nn.Softplus):
        ok = mod.beta == 1 and mod.threshold >= SOFTPLUS_MIN_THRESHOLD
        return "softplus" if ok else None
    if isinstance(mod, nn.GELU):
        return "gelu" if mod.approximate == "none" else None
    for cls, name in ACTIVATION_MODULES.items():
        if type(mod) is cls:
            return name
    return None


ACTIVATION_MODULES: dict[type[nn.Module], str] = {
    nn.Identity: "identity",
    nn.ReLU: "relu",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    Quadratic: "quadratic",
}


def engine_mlp(model: nn.Module) -> tuple[MLP, list[str]]:
    """``(MLP, names of the Linear modules in order)`` if ``model`` is an MLP of the engine's
    kind (module docstring); otherwise an InputError that says what differs."""

    def fail(rule: str, got: object) -> Exception:
        return bad_input(
            "model", f"be an MLP of the engine's kind for a run file: {rule}", got,
            "Use nn.Sequential(Linear, act, ..., Linear) with one activation of "
            f"{sorted(ACTIVATIONS)} (see verify/torch/_mlp.py); other models are checked in "
            "float64 only.",
        )  # fmt: skip

    if not isinstance(model, nn.Sequential):
        raise fail("an nn.Sequential", type(model).__name__)
    mods = list(model.named_children())
    if not mods or not isinstance(mods[0][1], nn.Linear) or not isinstance(mods[-1][1], nn.Linear):
        raise fail("starting and ending with nn.Linear", [type(m).__name__ for _, m in mods])
    acts: set[str] = set()
    linears: list[tuple[str, nn.Linear]] = []
    previous_linear = False
    for name, mod in mods:
        if isinstance(mod, nn.Linear) and type(mod) is nn.Linear:
            if previous_linear:
                acts.add("identity")
            linears.append((name, mod))
            previous_linear = True
            continue
        act = _engine_name(mod)
        if act is None or not previous_linear:
            raise fail("Linear layers separated by exactly one activation module", f"{name}: {mod}")
        acts.add(act)
        previous_linear = False
    if len(acts) > 1:
        raise fail("one activation throughout", sorted(acts))
    biases = {m.bias is not None for _, m in linears}
    if len(biases) > 1:
        raise fail("biases in every Linear or in none", [m.bias is not None for _, m in linears])
    sizes = [linears[0][1].in_features] + [m.out_features for _, m in linears]
    for (_, a), (name, b) in zip(linears, linears[1:], strict=False):
        if b.in_features != a.out_features:
            raise fail("consecutive Linear sizes that match", f"{name}: {b}")
    return MLP(tuple(sizes), acts.pop() if acts else "identity", biases.pop()), [
        n for n, _ in linears
    ]
