"""What the FACT derivations of one layer share (used by the derivations and the variants).

A :class:`_Ctx` holds, for one layer of one architecture, everything every derivation needs and
computes it once: the trusted symbolic gradient and chain rule (theory/matrix_calculus.py) and
two exact explicit instances (theory/fact/models.py). Checks come in two kinds: ``_sym`` (the
symbolic difference reduces to zero) and ``explicit_all`` (exact equality on the instances).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from theory._checks import _step as _step
from theory._checks import conclude
from theory._errors import bad_input
from theory._options import ACTIVATIONS
from theory._records import Assumption, Claim, Derivation, Step
from theory.fact.models import ExplicitLayer, LayerModel
from theory.matrix_calculus import checked_gradient, matrices_equal

#: names accepted for --activation; the derivation is for a symbolic sigma, which covers them all


def _assumptions(model: LayerModel) -> tuple[Assumption, ...]:
    out = [
        Assumption("lam>0", "weight decay lam > 0 on W"),
        Assumption("stat", "grad_W L_lam = 0 (stationary in W; the other parameters need not be)"),
        Assumption(
            "mult", "W enters the network only through z = W h" + (" + b" if model.bias else "")
        ),
    ]
    if model.arch == "mlp":
        out.append(
            Assumption("diff", "the loss is differentiable in z (sigma, ell differentiable)")
        )
    return tuple(out)


def _reduces_to_zero(expr: Any) -> bool:
    """The symbolic-shape test: the matrix expression expands to the zero matrix."""
    try:
        out = sp.expand(expr.doit())
    except sp.ShapeError:
        return False
    return out == 0 or isinstance(out, sp.ZeroMatrix)


@dataclass
class _Ctx:
    """Everything a derivation for one layer needs, computed once."""

    model: LayerModel
    grad: Any  # trusted symbolic gradient (a zero placeholder if it could not be confirmed)
    grad_check: tuple[bool, str]  # (confirmed, what was shown)
    chain: Any
    chain_check: tuple[bool, str]
    Gh: sp.MatrixSymbol
    instances: list[ExplicitLayer]

    @functools.cached_property
    def witness(self) -> dict[str, Any]:
        """The exact stationary witness of this layer (a rational linear solve), computed once."""
        return self.model.witness()

    @property
    def parts(self) -> tuple[LayerModel, Any, Any, Any, Any, Any]:
        """``(model, W, H, Delta, n, lam)``, the symbols every derivation starts from."""
        M = self.model
        return M, M.W, M.H, M.Delta, M.n, M.lam

    @property
    def target_grad(self) -> Any:
        M = self.model
        return M.Delta * M.H.T / M.n + M.lam * M.W

    def explicit_all(self, test: Callable[[ExplicitLayer], bool]) -> tuple[bool, str]:
        ok = all(test(E) for E in self.instances)
        sizes = "; ".join(",".join(f"{k}={v}" for k, v in E.sizes.items()) for E in self.instances)
        return ok, f"exact on explicit instances [{sizes}]" if ok else f"FAILS on [{sizes}]"


_CACHE: dict[tuple[Any, ...], _Ctx] = {}


def _context(model: LayerModel, activation: str) -> _Ctx:
    key = (model.arch, model.depth, model.layer, model.bias, activation)
    if key not in _CACHE:
        g, g_check = checked_gradient(model.objective, model.W)
        c, c_check = checked_gradient(model.objective_in_h, model.Hvar)
        Gh = sp.MatrixSymbol("G_h", model.W.shape[1], model.n)
        inst = [model.explicit(k, activation=activation) for k in range(2)]
        zero_w, zero_h = sp.ZeroMatrix(*model.W.shape), sp.ZeroMatrix(*model.Hvar.shape)
        _CACHE[key] = _Ctx(model, g.expr if g else zero_w, g_check,
                           c.expr if c else zero_h, c_check, Gh, inst)  # fmt: skip
    return _CACHE[key]


def _sym(ok: bool) -> tuple[bool, str]:
    return ok, "symbolic difference reduces to 0" if ok else "symbolic difference does NOT reduce"


def _fact_expr(ctx: _Ctx, Gh: Any) -> Any:
    M = ctx.model
    return -(1 / (M.n * M.lam)) * Gh * M.H.T


def _witness_check(
    ctx: _Ctx, sides: Callable[[dict[str, Any]], tuple[Any, Any]]
) -> tuple[bool, dict[str, Any]]:
    w = ctx.witness
    lhs, rhs = sides(w)
    return (lhs.shape == rhs.shape and matrices_equal(lhs, rhs)), w


def _conclude(claim: Claim, steps: list[Step], tag: str, notes: tuple[str, ...] = ()) -> Derivation:
    return conclude(
        claim, steps,
        f"every step of {tag} reduces to zero symbolically (all sizes) and holds exactly on "
        "explicit instances at two size assignments", notes=notes,
    )  # fmt: skip


def _checked_activation(arch: str, activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise bad_input(
            "activation",
            f"be one of {', '.join(ACTIVATIONS)}",
            activation,
            "Choose a listed activation (sigma = an arbitrary symbolic function).",
        )
    if arch != "mlp" and activation not in ("sigma", "identity"):
        raise bad_input(
            "activation",
            f"be left out for --arch {arch} (it has no activation)",
            activation,
            "Use --arch mlp to derive FACT with an activation.",
        )
    return activation if arch == "mlp" else "identity"
