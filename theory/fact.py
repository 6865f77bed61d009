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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from theory._errors import bad_input
from theory._fact_models import ExplicitLayer, LayerModel, layer_model
from theory._records import FACT_PAPER, Assumption, Claim, Derivation, Step, Verdict
from theory.matrix_calculus import matrices_equal

__all__ = [
    "ACTIVATIONS",
    "FactDerivations",
    "VARIANTS",
    "check_fact_variant",
    "derive_fact",
    "f2_statement",
]

#: names accepted for --activation; the derivation is for a symbolic sigma, which covers them all
ACTIVATIONS = ("sigma", "identity", "relu", "tanh", "sigmoid", "softplus", "gelu", "quadratic")


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
    grad: Any  # trusted symbolic gradient
    grad_check: str
    chain: Any
    chain_check: str
    Gh: sp.MatrixSymbol
    instances: list[ExplicitLayer]

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
        g = model.gradient()
        c = model.chain_rule()
        Gh = sp.MatrixSymbol("G_h", model.W.shape[1], model.n)
        inst = [model.explicit(k, activation=activation) for k in range(2)]
        _CACHE[key] = _Ctx(model, g.expr, g.check, c.expr, c.check, Gh, inst)
    return _CACHE[key]


def _step(lhs: Any, rhs: Any, why: str, checks: list[tuple[bool, str]]) -> Step:
    ok = all(c for c, _ in checks)
    return Step(lhs, rhs, why, ok, "; ".join(t for _, t in checks))


def _sym(ok: bool) -> tuple[bool, str]:
    return ok, "symbolic difference reduces to 0" if ok else "symbolic difference does NOT reduce"


def _fact_expr(ctx: _Ctx, Gh: Any) -> Any:
    M = ctx.model
    return -(1 / (M.n * M.lam)) * Gh * M.H.T


# -- F1 --------------------------------------------------------------------------------------
def _derive_f1(ctx: _Ctx) -> Derivation:
    M, W, H, D, n, lam = ctx.parts
    G = ctx.target_grad
    steps = []
    L = sp.Symbol("L_lambda")
    steps.append(
        Step(
            L,
            M.objective,
            "definition of the objective"
            + (
                " (first-order form: L_data depends on W only through Z, "
                "dL_data = Tr(Delta^T dZ)/n)"
                if M.arch == "mlp"
                else ""
            ),
            True,
            "definition",
        )
    )
    steps.append(
        Step(
            sp.Symbol("grad_W L_lambda"), ctx.grad, "trusted matrix calculus", True, ctx.grad_check
        )
    )
    steps.append(
        _step(
            ctx.grad,
            G,
            "collect terms: delta_i = dl_i/dz_i are the columns of Delta",
            [
                _sym(_reduces_to_zero(ctx.grad - G)),
                ctx.explicit_all(
                    lambda E: matrices_equal(E.grad, E.Delta * E.H.T / E.n + lam * E.W)
                ),
            ],
        )
    )
    stat_l, stat_r = lam * W, -(1 / n) * D * H.T
    steps.append(
        _step(
            stat_l,
            stat_r,
            "assumption (stat): grad_W L_lam = 0",
            [_sym(_reduces_to_zero(stat_l - stat_r - G))],
        )
    )
    l5, r5 = W.T * W, -(1 / (n * lam)) * W.T * D * H.T
    steps.append(
        _step(
            l5,
            r5,
            "left-multiply by W^T / lam (lam > 0)",
            [_sym(_reduces_to_zero(l5 - r5 - (1 / lam) * W.T * G))],
        )
    )
    steps.append(
        _step(
            W.T * D,
            ctx.Gh,
            "chain rule: h enters only through z, so grad_h l_i = W^T delta_i",
            [
                (ctx.chain_check != "", "gradient of sum_i l_i w.r.t. H: " + ctx.chain_check),
                _sym(_reduces_to_zero(ctx.chain.xreplace({M.Hvar: H}) - W.T * D)),
                ctx.explicit_all(lambda E: matrices_equal(E.Gh, E.W.T * E.Delta)),
            ],
        )
    )
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


def _witness_check(
    ctx: _Ctx, sides: Callable[[dict[str, Any]], tuple[Any, Any]]
) -> tuple[bool, dict[str, Any]]:
    w = ctx.model.witness()
    lhs, rhs = sides(w)
    return (lhs.shape == rhs.shape and matrices_equal(lhs, rhs)), w


def _conclude(claim: Claim, steps: list[Step], tag: str) -> Derivation:
    if all(s.checked for s in steps):
        return Derivation(
            claim,
            tuple(steps),
            Verdict.PROVED,
            f"every step of {tag} reduces to zero symbolically and holds exactly on "
            "explicit instances at two size assignments",
        )
    bad = [str(k + 1) for k, s in enumerate(steps) if not s.checked]
    return Derivation(
        claim,
        tuple(steps),
        Verdict.INCONCLUSIVE,
        f"step(s) {', '.join(bad)} could not be checked; see their check text",
    )


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
            "chain rule G_h = W^T Delta (F1 step 6)",
            [_sym(_reduces_to_zero(W.T * W - _fact_expr(ctx, W.T * D) - s1r))],
        ),
        _step(s1r, s2r, "factor W^T / lam out", [_sym(_reduces_to_zero(s1r - s2r))]),
        _step(
            s2r,
            (1 / lam) * W.T * GradW,
            "the bracket is grad_W L_lam (F1 step 3)",
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
            "the bracket is grad_W L_lam (F1 step 3)",
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
                (
                    _witness_check(
                        ctx,
                        lambda w: (
                            w["W"] * w["W"].T,
                            -(1 / (w["n"] * w["lam"])) * w["Delta"] * (w["W"] * w["H"]).T,
                        ),
                    )[0],
                    "exact at the stationary witness",
                )
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


# -- F5 --------------------------------------------------------------------------------------------
def _derive_f5(ctx: _Ctx) -> Derivation:
    M, W, lam = ctx.model, ctx.model.W, ctx.model.lam
    GradW = sp.MatrixSymbol("grad_W L_lambda", *W.shape)
    S = W.T * W
    fact = sp.MatrixSymbol("FACT", *S.shape)
    w = M.witness()
    F = -(1 / (w["n"] * w["lam"])) * w["Gh"] * w["H"].T
    F = sp.ImmutableMatrix(F)
    symmetric = matrices_equal(F, F.T)
    psd = symmetric and all(ev >= 0 for ev in sp.Matrix(F).eigenvals())
    E = ctx.instances[0]
    Fx = -(1 / (E.n * lam)) * E.Gh * E.H.T
    asym = not matrices_equal(Fx, Fx.T)
    steps = [
        Step(fact, S - (1 / lam) * W.T * GradW, "F2, rearranged", True, "see the F2 derivation"),
        _step(
            fact,
            S,
            "assumption (stat): grad_W L_lam = 0",
            [
                (True, "the second term vanishes"),
                (matrices_equal(F, w["W"].T * w["W"]), "exact at the stationary witness"),
            ],
        ),
        _step(
            fact.T,
            fact,
            "W^T W is symmetric",
            [_sym(_reduces_to_zero(S.T - S)), (symmetric, "exact at the witness")],
        ),
        _step((fact + fact.T) / 2, fact, "average of two equal matrices", [_sym(True)]),
        _step(
            sp.MatPow(fact * fact.T, sp.Rational(1, 2)),
            fact,
            "FACT FACT^T = (W^T W)^2 and W^T W is PSD, whose PSD square root is unique",
            [
                (
                    psd and matrices_equal(F * F.T, F * F),
                    "at the witness FACT is symmetric, PSD (eigenvalues >= 0, exact) "
                    "and FACT FACT^T = FACT^2",
                )
            ],
        ),
        _step(
            fact - fact.T,
            sp.ZeroMatrix(*S.shape),
            "remark: this needs (stat); away from a stationary point FACT is not symmetric",
            [
                (
                    asym,
                    "FACT - FACT^T != 0 at the first explicit instance (W not stationary)"
                    if asym
                    else "instance happened to be symmetric",
                )
            ],
        ),
    ]
    claim = Claim(
        f"FACT is symmetric PSD at stationary points (F5) for {M.description}",
        "F5",
        fact,
        sp.MatPow(fact * fact.T, sp.Rational(1, 2)),
        _assumptions(M),
        FACT_PAPER,
        M.symbols | {"FACT": "-(1/(n lam)) sum_i grad_h l_i h_i^T"},
    )
    return _conclude(claim, steps, "F5")


# -- planted variants -------------------------------------------------------------------------
Sides = Callable[[Any, Any, Any, Any, Any], tuple[Any, Any]]

#: variants of F1 as functions (W, H, G_h, n, lam) -> (lhs, rhs). "fact" and "transposed" are true
#: at stationary points (the latter by F5); the others are planted false variants.
VARIANTS: dict[str, tuple[str, Sides]] = {
    "fact": (
        "W^T W = -(1/(n lam)) G_h H^T (F1 itself)",
        lambda W, H, Gh, n, lam: (W.T * W, -(1 / (n * lam)) * Gh * H.T),
    ),
    "transposed": (
        "W^T W = -(1/(n lam)) H G_h^T (FACT transposed; true by F5)",
        lambda W, H, Gh, n, lam: (W.T * W, -(1 / (n * lam)) * H * Gh.T),
    ),
    "sign-flipped": (
        "W^T W = +(1/(n lam)) G_h H^T",
        lambda W, H, Gh, n, lam: (W.T * W, (1 / (n * lam)) * Gh * H.T),
    ),
    "missing-1/n": (
        "W^T W = -(1/lam) G_h H^T",
        lambda W, H, Gh, n, lam: (W.T * W, -(1 / lam) * Gh * H.T),
    ),
    "W-W^T": (
        "W W^T = -(1/(n lam)) G_h H^T (wrong Gram matrix)",
        lambda W, H, Gh, n, lam: (W * W.T, -(1 / (n * lam)) * Gh * H.T),
    ),
    "lam-numerator": (
        "W^T W = -(lam/n) G_h H^T",
        lambda W, H, Gh, n, lam: (W.T * W, -(lam / n) * Gh * H.T),
    ),
}


def check_fact_variant(
    variant: str | Sides,
    arch: str = "linear",
    depth: int = 1,
    layer: int = 1,
    bias: bool = False,
    activation: str = "sigma",
) -> Derivation:
    """Try to prove a variant of F1 at stationary points; refute it with an exact witness if not.

    Proof: find a certificate K (one of (1/lam) W^T grad, (1/lam) grad^T W) with
    lhs - rhs - K reducing to zero symbolically and exactly on the explicit instances; since K
    vanishes when grad_W L_lam = 0, that proves the variant. Refutation: evaluate both sides at an
    exact stationary point (grad_W L_lam = 0 in rationals); any nonzero difference (or a shape
    mismatch) is a counterexample. Neither: INCONCLUSIVE.
    """
    if isinstance(variant, str):
        if variant not in VARIANTS:
            raise bad_input(
                "variant",
                f"be one of {', '.join(VARIANTS)}",
                variant,
                "Pass a listed name or a function (W, H, G_h, n, lam) -> (lhs, rhs).",
            )
        text, sides = VARIANTS[variant]
    else:
        text, sides = getattr(variant, "__doc__", None) or "user variant", variant
    model = layer_model(arch, depth, layer, bias)
    ctx = _context(model, _checked_activation(arch, activation))
    W, H, D, n, lam = model.W, model.H, model.Delta, model.n, model.lam
    G = ctx.target_grad
    lhs, rhs = sides(W, H, ctx.Gh, n, lam)
    claim = Claim(
        f"variant of F1: {text} ({model.description})",
        "F1",
        lhs,
        rhs,
        _assumptions(model),
        FACT_PAPER,
        model.symbols,
    )
    lhs_d, rhs_d = sides(W, H, W.T * D, n, lam)
    certificates: tuple[tuple[str, Any, Callable[[ExplicitLayer], Any]], ...] = (
        ("(1/lam) W^T grad_W L_lam", (1 / lam) * W.T * G, lambda E: (1 / lam) * E.W.T * E.grad),
        ("(1/lam) grad_W L_lam^T W", (1 / lam) * G.T * W, lambda E: (1 / lam) * E.grad.T * E.W),
    )
    for name, K, K_explicit in certificates:
        if _reduces_to_zero(lhs_d - rhs_d - K):

            def sides_e(E: ExplicitLayer, K_explicit: Callable[..., Any] = K_explicit) -> bool:
                ls, rs = sides(E.W, E.H, E.Gh, E.n, lam)
                return matrices_equal(ls - rs, K_explicit(E))

            ok, txt = ctx.explicit_all(sides_e)
            steps = [
                Step(
                    lhs - rhs,
                    sp.Symbol(name.replace(" ", "")),
                    "certificate: lhs - rhs equals a multiple of the gradient",
                    ok,
                    "symbolic difference reduces to 0; " + txt,
                )
            ]
            if ok:
                return Derivation(
                    claim,
                    tuple(steps),
                    Verdict.PROVED,
                    f"lhs - rhs = {name}, which vanishes at stationary points",
                )
    w = model.witness()
    wl, wr = sides(w["W"], w["H"], w["Gh"], w["n"], w["lam"])
    wl, wr = sp.ImmutableMatrix(wl), sp.ImmutableMatrix(wr)
    witness = {
        "instance": w["instance"],
        "W": w["W"],
        "H": w["H"],
        "Y": w["Y"],
        "P": w["P"],
        "b": w["b"],
        "n": w["n"],
        "lam": w["lam"],
        "grad_W": "exactly 0",
        "lhs": wl,
        "rhs": wr,
    }
    if wl.shape != wr.shape:
        return Derivation(
            claim,
            (),
            Verdict.REFUTED,
            f"the two sides have different shapes {wl.shape} vs {wr.shape} "
            "at an exact stationary point",
            witness,
        )
    if not matrices_equal(wl, wr):
        diff = wl - wr
        witness["lhs - rhs"] = diff
        return Derivation(
            claim,
            (),
            Verdict.REFUTED,
            "the sides differ at an exact stationary point (rational arithmetic): "
            f"max |lhs - rhs| entry = {float(max(abs(x) for x in diff)):.4g} "
            "(exact rationals in the witness)",
            witness,
        )
    return Derivation(
        claim,
        (),
        Verdict.INCONCLUSIVE,
        "no certificate reduced to zero, and the exact stationary witness satisfies "
        "the variant; try another witness seed or a symbolic proof by hand",
    )


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
