"""Variants of FACT (F1), true or planted false, proved or refuted by the same machinery.

Reference: arXiv:2507.05644 (F1). A variant is a function (W, H, G_h, n, lam) -> (lhs, rhs).
:func:`check_fact_variant` proves it with a gradient certificate (lhs - rhs equals a multiple of
grad_W L_lam, which vanishes at stationary points) or refutes it at an exact rational stationary
point. A check that cannot fail proves nothing: the planted false variants show this one can.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from theory._checks import _step
from theory._errors import bad_input
from theory._records import FACT_PAPER, Claim, Derivation, Step, Verdict
from theory.fact.context import _assumptions, _checked_activation, _context, _reduces_to_zero
from theory.fact.models import ExplicitLayer, layer_model
from theory.matrix_calculus import matrices_equal

__all__ = ["VARIANTS", "Sides", "check_fact_variant"]

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
    w = ctx.witness
    wl, wr = sides(w["W"], w["H"], w["Gh"], w["n"], w["lam"])
    wl, wr = sp.ImmutableMatrix(wl), sp.ImmutableMatrix(wr)
    # the certificate of a refutation, re-checked here: the witness is EXACTLY stationary
    # (its gradient recomputed from Delta, H and W) and the two sides differ there exactly
    grad_w = w["Delta"] * w["H"].T / w["n"] + w["lam"] * w["W"]
    stationary = matrices_equal(grad_w, sp.zeros(*w["W"].shape))
    differ = wl.shape != wr.shape or not matrices_equal(wl, wr)
    cert = _step(sp.Symbol("lhs - rhs at the witness"), sp.Symbol("nonzero"),
                 "exact stationary witness: " + w["instance"],
                 [(stationary, "grad_W L_lam = Delta H^T / n + lam W = 0 exactly (recomputed)"),
                  (differ, "the sides differ exactly (or have different shapes)")])  # fmt: skip
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
    if cert.checked and wl.shape != wr.shape:
        return Derivation(
            claim,
            (cert,),
            Verdict.REFUTED,
            f"the two sides have different shapes {wl.shape} vs {wr.shape} "
            "at an exact stationary point",
            witness,
        )
    if cert.checked:
        diff = wl - wr
        witness["lhs - rhs"] = diff
        return Derivation(
            claim,
            (cert,),
            Verdict.REFUTED,
            "the sides differ at an exact stationary point (rational arithmetic): "
            f"max |lhs - rhs| entry = {float(max(abs(x) for x in diff)):.4g} "
            "(exact rationals in the witness)",
            witness,
        )
    return Derivation(
        claim,
        (cert,),
        Verdict.INCONCLUSIVE,
        "no certificate reduced to zero, and the exact stationary witness "
        + ("satisfies the variant" if stationary else "is not stationary")
        + "; try another witness seed or a symbolic proof by hand",
    )
