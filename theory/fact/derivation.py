"""FACT, the Features at Convergence Theorem, derived from first-order optimality.

Reference: Boix-Adsera, Mallinar, Simon, Belkin, arXiv:2507.05644 (tags F1, F2, F4, F5 of
REFERENCE.md). For a layer z = W h (+ b) and L_lam = (1/n) sum_i l_i + (lam/2) sum ||W_k||^2:

(F1) grad_W L_lam = 0, lam > 0  =>  W^T W = FACT := -(1/(n lam)) sum_i grad_h l_i h_i^T
(F2) at any parameters:             W^T W - FACT = (1/lam) W^T grad_W L_lam
(F4) backward form:                 W W^T - bFACT = (1/lam) grad_W L_lam W^T,
                                    bFACT := -(1/(n lam)) sum_i delta_i (W h_i)^T
(F5) at a stationary point FACT = FACT^T = (FACT + FACT^T)/2 = (FACT FACT^T)^{1/2}.

Each derivation goes objective -> gradient (trusted matrix calculus) -> stationarity -> multiply by
W^T -> chain rule W^T delta_i = grad_h l_i -> FACT. Every step is checked twice: its symbolic
difference must reduce to zero, and it must hold exactly (rational arithmetic, undefined sigma and
ell kept symbolic) on explicit instances at two size assignments, where the gradient and the deltas
are computed by scalar differentiation of the per-sample losses. The verdict is PROVED only when
every check passes. :func:`check_fact_variant` runs the same machinery on a (possibly false)
variant of F1 and REFUTES it with an exact stationary counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from theory._checks import assumption, definition
from theory._records import FACT_PAPER, Claim, Derivation, Step, Verdict
from theory.chain_rule import linear_map_lemma
from theory.fact.context import (
    ACTIVATIONS,
    _assumptions,
    _checked_activation,
    _conclude,
    _context,
    _Ctx,
    _fact_expr,
    _reduces_to_zero,
    _step,
    _sym,
    _witness_check,
)
from theory.fact.models import layer_model
from theory.fact.symmetry import derive_f5 as _derive_f5
from theory.fact.variants import VARIANTS, check_fact_variant
from theory.matrix_calculus import matrices_equal

__all__ = [
    "ACTIVATIONS",
    "FactDerivations",
    "VARIANTS",
    "check_fact_variant",
    "derive_fact",
    "f2_statement",
]


# -- F1 --------------------------------------------------------------------------------------
def _objective_text(M: Any) -> Any:
    if M.arch == "mlp":
        z = "W h_i + b" if M.bias else "W h_i"
        return sp.Symbol(f"(1/n) sum_i l_i(z_i) + (lambda/2) sum_k ||W_k||_F^2, z_i = {z}")
    return M.objective


def _gradient_steps(ctx: _Ctx) -> list[Step]:
    """grad_W L_lam = Delta H^T / n + lam W: the chain-rule lemma for an MLP layer (L_data
    sees W only through Z), the trusted matrix calculus for an explicit linear objective."""
    M, W, H, D, n, lam = ctx.parts
    G = ctx.target_grad
    explicit = ctx.explicit_all(
        lambda E: matrices_equal(E.grad, E.Delta * E.H.T / E.n + lam * E.W)
    )  # fmt: skip
    if M.arch != "mlp":
        return [
            _step(sp.Symbol("grad_W L_lambda"), ctx.grad, "trusted matrix calculus",
                  [ctx.grad_check]),
            _step(ctx.grad, G, "collect terms: delta_i = dl_i/dz_i are the columns of Delta",
                  [_sym(_reduces_to_zero(ctx.grad - G)), explicit]),
        ]  # fmt: skip
    lemma = M.lemma_instance_w()
    return [
        _step(
            sp.Symbol("grad_W L_data"), D * H.T / n,
            "chain-rule lemma: L_data depends on W only through Z = W H"
            + (" + b 1^T" if M.bias else "") + ", and dL_data/dZ = Delta/n (l_i sees only "
            "column z_i); so dL_data = Tr(Delta^T dZ)/n",
            [linear_map_lemma(),
             _sym(_reduces_to_zero(lemma - D * H.T / n)),
             ctx.explicit_all(lambda E: matrices_equal(E.grad - lam * E.W, E.Delta * E.H.T / E.n))],
        ),
        _step(
            sp.Symbol("grad_W L_lambda"), G,
            "add the gradient of (lam/2)||W||_F^2; the matrix calculus of the first-order form "
            "Tr(Delta^T Z)/n + (lam/2) Tr(W^T W) (Delta held fixed) gives the same",
            [ctx.grad_check, _sym(_reduces_to_zero(ctx.grad - G)), explicit],
        ),
    ]  # fmt: skip


def _derive_f1(ctx: _Ctx) -> Derivation:
    M, W, H, D, n, lam = ctx.parts
    G = ctx.target_grad
    steps = [
        definition(sp.Symbol("L_lambda"), _objective_text(M),
                   "the objective: mean loss plus weight decay"),
        *_gradient_steps(ctx),
        assumption(sp.MatrixSymbol("grad_W L_lambda", *W.shape), sp.ZeroMatrix(*W.shape),
                   "stat"),
    ]  # fmt: skip
    stat_l, stat_r = lam * W, -(1 / n) * D * H.T
    steps.append(
        _step(
            stat_l,
            stat_r,
            "stationarity (stat): the difference of the two sides is grad_W L_lam "
            "= Delta H^T / n + lam W, which is 0",
            [_sym(_reduces_to_zero(stat_l - stat_r - G))],
        )
    )
    l5, r5 = W.T * W, -(1 / (n * lam)) * W.T * D * H.T
    steps.append(
        _step(
            l5,
            r5,
            "left-multiply by W^T / lam (lam > 0)",
            [_sym(_reduces_to_zero(l5 - r5 - (1 / lam) * W.T * G)),
             (bool(lam.is_positive), "lam is declared positive (lam>0)")],
        )
    )  # fmt: skip
    steps.append(_chain_step(ctx))
    fact = _fact_expr(ctx, ctx.Gh)
    steps.append(
        _step(
            W.T * W,
            fact,
            "substitute the chain rule; -(1/(n lam)) G_h H^T = -(1/(n lam)) sum_i grad_h l_i h_i^T",
            [
                _sym(_reduces_to_zero(r5 - _fact_expr(ctx, W.T * D))),
                ctx.explicit_all(
                    lambda E: matrices_equal(
                        E.W.T * E.W - (-(1 / (E.n * lam)) * E.Gh * E.H.T),
                        (1 / lam) * E.W.T * E.grad,
                    )
                ),
            ],
        )
    )
    claim = Claim(
        f"FACT (F1) for {M.description}",
        "F1",
        W.T * W,
        fact,
        _assumptions(M),
        FACT_PAPER,
        M.symbols | {"G_h": "columns grad_h l_i, gradient of the LOSS w.r.t. the layer input"},
    )
    wit = _witness_check(
        ctx, lambda w: (w["W"].T * w["W"], -(1 / (w["n"] * w["lam"])) * w["Gh"] * w["H"].T)
    )
    steps.append(
        _step(
            W.T * W,
            fact,
            "exact stationary witness (an extra check, not the proof): " + wit[1]["instance"],
            [(wit[0], "holds exactly at the witness")],
        )
    )
    return _conclude(claim, steps, "F1")


def _chain_step(ctx: _Ctx) -> Step:
    """grad_h l_i = W^T delta_i: h enters l_i only through z_i = W h_i (+ b)."""
    M, W, H, D, n, lam = ctx.parts
    checks = [ctx.chain_check, _sym(_reduces_to_zero(ctx.chain.xreplace({M.Hvar: H}) - W.T * D)),
              ctx.explicit_all(lambda E: matrices_equal(E.Gh, E.W.T * E.Delta))]  # fmt: skip
    if M.arch == "mlp":
        checks[:0] = [linear_map_lemma(), _sym(_reduces_to_zero(M.lemma_instance_h() - W.T * D))]
    why = "chain-rule lemma: h_i enters l_i only through z_i = W h_i" + (" + b" if M.bias else "")
    return _step(W.T * D, ctx.Gh, why + ", so grad_h l_i = W^T delta_i", checks)


# -- F2 and F4 ---------------------------------------------------------------------------------
def _derive_f2(ctx: _Ctx) -> Derivation:
    M, W, H, D, n, lam = ctx.parts
    G = ctx.target_grad
    GradW = sp.MatrixSymbol("grad_W L_lambda", *W.shape)
    fact = _fact_expr(ctx, ctx.Gh)
    s1r = W.T * W + (1 / (n * lam)) * W.T * D * H.T
    s2r = (1 / lam) * W.T * (lam * W + (1 / n) * D * H.T)
    steps = [
        _step(
            W.T * W - fact,
            s1r,
            "chain rule G_h = W^T Delta (the chain-rule step of F1)",
            [_sym(_reduces_to_zero(W.T * W - _fact_expr(ctx, W.T * D) - s1r))],
        ),
        _step(s1r, s2r, "factor W^T / lam out", [_sym(_reduces_to_zero(s1r - s2r))]),
        _step(
            s2r,
            (1 / lam) * W.T * GradW,
            "the bracket is grad_W L_lam (the gradient step of F1)",
            [
                _sym(_reduces_to_zero(s2r - (1 / lam) * W.T * G)),
                ctx.explicit_all(
                    lambda E: matrices_equal(
                        E.W.T * E.W + (1 / (E.n * lam)) * E.Gh * E.H.T, (1 / lam) * E.W.T * E.grad
                    )
                ),
            ],
        ),
    ]
    claim = Claim(
        f"off-convergence identity (F2) for {M.description}",
        "F2",
        W.T * W - fact,
        (1 / lam) * W.T * GradW,
        (_assumptions(M)[0], _assumptions(M)[2]),
        FACT_PAPER,
        M.symbols | {"grad_W L_lambda": "gradient of the regularized objective at ANY W"},
    )
    return _conclude(claim, steps, "F2")


def _derive_f4(ctx: _Ctx) -> Derivation:
    M, W, H, D, n, lam = ctx.parts
    G = ctx.target_grad
    GradW = sp.MatrixSymbol("grad_W L_lambda", *W.shape)
    bfact = -(1 / (n * lam)) * D * (W * H).T
    s1r = (1 / lam) * (lam * W + (1 / n) * D * H.T) * W.T
    steps = [
        _step(
            W * W.T - bfact,
            s1r,
            "factor W^T / lam out on the right",
            [_sym(_reduces_to_zero(W * W.T - bfact - s1r))],
        ),
        _step(
            s1r,
            (1 / lam) * GradW * W.T,
            "the bracket is grad_W L_lam (the gradient step of F1)",
            [
                _sym(_reduces_to_zero(s1r - (1 / lam) * G * W.T)),
                ctx.explicit_all(
                    lambda E: matrices_equal(
                        E.W * E.W.T + (1 / (E.n * lam)) * E.Delta * (E.W * E.H).T,
                        (1 / lam) * E.grad * E.W.T,
                    )
                ),
            ],
        ),
        _step(
            W * W.T,
            bfact,
            "at a stationary point (stat) the right side vanishes",
            [
                _sym(
                    _reduces_to_zero(
                        ((1 / lam) * GradW * W.T).xreplace({GradW: sp.ZeroMatrix(*W.shape)})
                    )
                ),
                (
                    _witness_check(
                        ctx,
                        lambda w: (
                            w["W"] * w["W"].T,
                            -(1 / (w["n"] * w["lam"])) * w["Delta"] * (w["W"] * w["H"]).T,
                        ),
                    )[0],
                    "exact at the stationary witness",
                ),
            ],
        ),
    ]
    claim = Claim(
        f"backward FACT (F4) for {M.description}",
        "F4",
        W * W.T - bfact,
        (1 / lam) * GradW * W.T,
        _assumptions(M),
        FACT_PAPER,
        M.symbols,
    )
    return _conclude(claim, steps, "F4")


# -- public entry --------------------------------------------------------------------------
@dataclass(frozen=True)
class FactDerivations:
    """The F1 derivation with its companions F2, F4 and F5 for one layer."""

    f1: Derivation
    f2: Derivation
    f4: Derivation
    f5: Derivation
    activation: str

    @property
    def all(self) -> tuple[Derivation, ...]:
        return (self.f1, self.f2, self.f4, self.f5)

    @property
    def verdict(self) -> Verdict:
        if all(d.verdict is Verdict.PROVED for d in self.all):
            return Verdict.PROVED
        return Verdict.INCONCLUSIVE

    def to_dict(self) -> dict[str, Any]:
        out = self.f1.to_dict()
        out["activation"] = self.activation
        out["related"] = [d.to_dict() for d in (self.f2, self.f4, self.f5)]
        return out

    def to_text(self) -> str:
        return "\n\n".join(d.to_text() for d in self.all)

    def to_latex(self) -> str:
        return "\n\n".join(d.to_latex() for d in self.all)


def derive_fact(
    arch: str = "linear",
    depth: int = 1,
    layer: int = 1,
    bias: bool = False,
    activation: str = "sigma",
) -> FactDerivations:
    """Derive F1, F2, F4 and F5 for one layer; every step checked (see module docstring).

    ``activation`` (mlp only): the symbolic derivation holds for an arbitrary sigma; a named
    activation is substituted into the explicit instances, so the exact checks run on it too.
    """
    model = layer_model(arch, depth, layer, bias)
    ctx = _context(model, _checked_activation(arch, activation))
    return FactDerivations(
        _derive_f1(ctx), _derive_f2(ctx), _derive_f4(ctx), _derive_f5(ctx), activation
    )


def f2_statement(bias: bool = False) -> tuple[tuple[Any, ...], Any, Any]:
    """F2 as SymPy matrix expressions, for turning into numeric code (verify/ lambdifies it).

    Returns ``(args, lhs, rhs)`` with args ``(W, H, G_h, grad_W, n, lam)`` (samples as columns):
    lhs = W^T W - FACT(G_h, H), rhs = (1/lam) W^T grad_W.
    """
    model = layer_model("mlp", 2, 1, bias)
    W, H, n, lam = model.W, model.H, model.n, model.lam
    Gh = sp.MatrixSymbol("G_h", *H.shape)
    GradW = sp.MatrixSymbol("grad_W", *W.shape)
    lhs = W.T * W - (-(1 / (n * lam)) * Gh * H.T)
    rhs = (1 / lam) * W.T * GradW
    return (W, H, Gh, GradW, n, lam), lhs, rhs
