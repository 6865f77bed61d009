"""Claims as data: a claim about stationary points scored as a violation at a witness.

A *claim* about converged networks (the NFA, FACT, deep-linear balancedness, or any user
function) is a :class:`Claim` whose ``score`` turns a :class:`Witness` (a point of a problem, in
float64 or mpmath numbers) into an :class:`Evaluation`: the claim fails at the witness when the
violation exceeds the claim's tolerance there. Certification at 50 digits is
:mod:`verify.counterexamples.certify`.

Violation scores (REFERENCE.md tags):

- NFA (N2, N3): ``1 - max over the alpha grid of max(Pearson, cosine)`` between W^T W and
  AGOP^alpha (uncentered AGOP unless asked). The grid is :func:`alpha_grid`: 1/8, 2/8, ..., 1
  plus 1/L for the depths in play (D5, D6). A fixed alpha scores that exponent only.
- FACT (F1): max over layers of ||W^T W - FACT||_F / ||W^T W||_F; tolerance at a certified point
  is the F2 bound ||W|| ||grad_W L_lam|| / lam plus rounding (the engine's rule in
  verify.claims.checks), relative to ||W^T W||_F. Planted false variants flip the sign or drop 1/n.
- balance (D4): max_j ||W_{j+1}^T W_{j+1} - W_j W_j^T||_F / (||W_j||_F^2 + ||W_{j+1}||_F^2) for
  deep linear networks; tolerance from the exact identity
  lam D_j = W_{j+1}^T G_{j+1} - G_j W_j^T (G = grad L_lam; D1) plus rounding.

Known limit of the score: the grid stops at alpha = 1/8, and as alpha -> 0+ AGOP^alpha tends to
the projector onto range(AGOP); certificates report that limit's cosine ("alpha_to_0_cosine")
so a reader can see when an exponent below the grid would correlate better.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.claims.features import LayerFeatures, all_zero, correlation, fro, layer_features
from verify.engine.linalg import psd_eigh, psd_power_from_eigh
from verify.engine.network import FLOAT64, Array, Backend, Problem, backprop

__all__ = [
    "CLAIMS",
    "Claim",
    "Evaluation",
    "Witness",
    "alpha_grid",
    "balance_claim",
    "custom_claim",
    "fact_claim",
    "make_claim",
    "nfa_claim",
]

#: names accepted by :func:`make_claim` (and the CLI)
CLAIMS = ("nfa", "fact", "balance")


def alpha_grid(depth: int = 2) -> tuple[float, ...]:
    """Exponents for the best-alpha NFA score: k/8 for k = 1..8, plus 1/L for L = 2..max(depth, 3)
    (D5: balanced deep linear networks obey the NFA with alpha = 1/L; D6: 1/(L-j+1) per layer)."""
    vals = {k / 8 for k in range(1, 9)} | {1 / m for m in range(2, max(int(depth), 3) + 1)}
    return tuple(sorted(vals))


# -- witnesses and claims ----------------------------------------------------------------------
@dataclass
class Witness:
    """A point of a problem in the numbers of ``be``, with its layer features (computed once)."""

    problem: Problem
    theta: Array
    be: Backend = FLOAT64
    _features: list[LayerFeatures] | None = None

    @property
    def features(self) -> list[LayerFeatures]:
        if self._features is None:
            pb = self.problem
            if not pb.lam > 0:  # W^T W and the AGOP do not involve lam; FACT (1/lam) is unused
                pb = Problem(pb.net, pb.X, pb.Y, pb.loss, 1.0, pb.decay_bias)
            self._features = layer_features(pb, self.theta, self.be)
        return self._features

    @property
    def unit_roundoff(self) -> float:
        return float(self.be.unit_roundoff)


@dataclass
class Evaluation:
    """A claim scored at one witness: violation, the tolerance it must exceed, and details."""

    violation: float
    tolerance: float
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    undefined: bool = False  # the score is 0/0 here (e.g. a correlation of a zero matrix)

    @property
    def fails(self) -> bool:
        """The claim fails at the witness: a defined score above the tolerance."""
        return bool(not self.undefined and self.violation > self.tolerance)

    @property
    def margin(self) -> float:
        return float(self.violation - self.tolerance)


@dataclass(frozen=True)
class Claim:
    """A claim about stationary points, as data.

    ``score(witness) -> Evaluation``; ``lam_policy`` says which weight decays the claim speaks
    about ("positive": lam > 0, "zero": lam = 0, "any"); ``applies(problem)`` returns None or
    the reason the claim says nothing about that problem (such candidates are skipped);
    ``planted`` marks deliberately false variants (REFUTED is the expected outcome).
    """

    name: str
    tag: str
    statement: str
    score: Callable[[Witness], Evaluation]
    lam_policy: str = "positive"
    applies: Callable[[Problem], str | None] = field(default=lambda problem: None)
    planted: bool = False

    def applies_to(self, problem: Problem) -> str | None:
        if self.lam_policy == "positive" and not problem.lam > 0:
            return f"{self.name} assumes weight decay lam > 0; got lam={problem.lam:g}"
        if self.lam_policy == "zero" and problem.lam != 0:
            return f"{self.name} is about lam = 0; got lam={problem.lam:g}"
        return self.applies(problem)


def _check_threshold(threshold: float) -> float:
    t = float(threshold)
    if not 0 < t < 1:
        raise bad_input(
            "threshold", "be a correlation strictly between 0 and 1", threshold,
            "Pass e.g. --threshold 0.9 (the claim fails where the correlation is below it).",
        )  # fmt: skip
    return t


def _check_alpha(alpha: float | None) -> float | None:
    if alpha is None:
        return None
    a = float(alpha)
    if not (0 < a <= 1):
        raise bad_input("alpha", "be in (0, 1]", alpha, "Pass e.g. --alpha 0.5, or omit it.")
    return a


def nfa_claim(
    alpha: float | None = None,
    threshold: float = 0.9,
    *,
    layers: Sequence[int] | None = (1,),
    centered: bool = False,
    lam_policy: str = "positive",
    planted: bool = False,
) -> Claim:
    """N2: W_l^T W_l is proportional to AGOP_l^alpha; scored as max(Pearson, cosine) (N3).

    ``alpha=None``: the best exponent over :func:`alpha_grid`. ``layers`` 1-based (None: all).
    The claim fails where that correlation is below ``threshold``.
    """
    t, a = _check_threshold(threshold), _check_alpha(alpha)

    def score(w: Witness) -> Evaluation:
        net = w.problem.net
        chosen = list(range(1, net.depth + 1)) if layers is None else list(layers)
        rows: list[dict[str, Any]] = []
        worst: dict[str, Any] | None = None
        for layer in chosen:
            if not 1 <= layer <= net.depth:
                raise bad_input("layers", f"be in 1..{net.depth}", layers, "Pass e.g. [1].")
            grid = (a,) if a is not None else alpha_grid(net.depth - layer + 1)
            table = _by_alpha(w.features[layer - 1], w, centered, grid)
            best = max(table, key=lambda r: r[3])
            feat = w.features[layer - 1]
            zero = all_zero(feat.nfm) or all_zero(feat.agop_centered if centered else feat.agop)
            rows.append({"layer": layer, "by_alpha": table, "best_alpha": best[0],
                         "best_correlation": best[3], "pearson": best[1], "cosine": best[2],
                         "undefined": zero,  # W^T W = 0 or AGOP = 0: correlations are 0/0
                         "alpha_to_0_cosine": _projector_cosine(w.features[layer - 1], w.be,
                                                                centered)})  # fmt: skip
            # the worst layer among those with a defined score (an undefined one decides nothing)
            if (
                worst is None
                or worst["undefined"]
                or (not zero and best[3] < worst["best_correlation"])
            ):
                worst = rows[-1]
        assert worst is not None
        corr = float(worst["best_correlation"])
        what = f"alpha={a:g}" if a is not None else "best alpha over the grid"
        return Evaluation(
            1 - corr, 1 - t,
            f"layer {worst['layer']}: max(Pearson, cosine) = {corr:.6f} at alpha = "
            f"{worst['best_alpha']:g} ({what}); threshold {t:g}",
            {"layers": rows, "correlation": corr, "threshold": t},
            bool(worst["undefined"]),
        )  # fmt: skip

    what = f"alpha = {a:g}" if a is not None else "some alpha in the grid"
    return Claim(
        "nfa" if a is None else f"nfa(alpha={a:g})", "N2",
        f"W^T W ~ AGOP^alpha for {what}: max(Pearson, cosine) >= {t:g} "
        f"({'centered' if centered else 'uncentered'} AGOP)",
        score, lam_policy, planted=planted,
    )  # fmt: skip


def _by_alpha(
    feat: LayerFeatures, w: Witness, centered: bool, grid: Sequence[float]
) -> list[tuple[float, float, float, float]]:
    """``(alpha, Pearson, cosine, max of the two)`` of W^T W against AGOP^alpha (N2, N3).

    AGOP^alpha by one symmetric eigendecomposition (verify.engine.linalg, the toolkit's PSD power):
    eigenvalues below the rounding floor 100 k u ||AGOP|| (k = n + depth * width terms per
    entry) count as exact zeros. Why: AGOP is usually rank-deficient, and alpha = 1/8 lifts
    rounding noise e to e^(1/8) (1e-6 at 50 digits), which would make the score depend on the
    precision."""
    net = w.problem.net
    k = w.problem.n + net.depth * max(net.sizes)
    agop = feat.agop_centered if centered else feat.agop
    eig = psd_eigh(agop, w.be, terms=k)
    rows = []
    with w.be.working():
        for a in grid:
            c = correlation(feat.nfm, psd_power_from_eigh(eig, a, w.be), w.be)
            rows.append((float(a), c.pearson, c.cosine, max(c.pearson, c.cosine)))
    return rows


def _projector_cosine(feat: LayerFeatures, be: Backend, centered: bool) -> float:
    """Cosine of W^T W with the projector onto range(AGOP): the limit alpha -> 0+ (informative:
    the grid stops at 1/8, and this says what an arbitrarily small exponent would give)."""
    agop = feat.agop_centered if centered else feat.agop
    with be.working():
        vals, vecs = be.eigh((agop + agop.T) / 2)
        top = max(abs(float(v)) for v in vals)
        # why 1e-8 of the top eigenvalue: range(AGOP) up to rounding at any precision used here
        keep = [i for i, v in enumerate(vals) if float(v) > 1e-8 * top]
        p = vecs[:, keep] @ vecs[:, keep].T
        den = fro(feat.nfm, be) * fro(p, be)
        return float(np.sum(feat.nfm * p) / den) if den != 0 else 0.0


def _rounding(w: Witness, scale: float) -> float:
    """Absolute rounding error of a sum of k products of total size ``scale`` (Higham's gamma_k,
    times depth + 1 for the backprop layers that fed it), the engine's rule in verify.checks."""
    net = w.problem.net
    k = w.problem.n + net.depth * max(net.sizes)
    return (net.depth + 1) * k * w.unit_roundoff * scale


def fact_claim(formula: str = "F1") -> Claim:
    """F1 at every layer; ``formula`` "F1", or planted "sign_flipped" / "missing_1_over_n"."""
    variants: dict[str, Callable[[LayerFeatures, int], Array]] = {
        "F1": lambda f, n: f.fact,
        "sign_flipped": lambda f, n: -f.fact,
        "missing_1_over_n": lambda f, n: f.fact * n,
    }
    if formula not in variants:
        raise bad_input("formula", f"be one of {sorted(variants)}", formula, "Use F1.")
    fn = variants[formula]

    def score(w: Witness) -> Evaluation:
        rows = []
        for feat in w.features:
            with w.be.working():
                defect = float(fro(feat.nfm - fn(feat, w.problem.n), w.be))
            norm = feat.nfm_norm or 1.0
            tol = (feat.f2_bound + _rounding(w, feat.rounding_scale)) / norm  # F2 + rounding
            rows.append({"layer": feat.layer, "rel_error": defect / norm, "tolerance": tol,
                         "f2_bound_rel": feat.f2_bound / norm})  # fmt: skip
        worst = max(rows, key=lambda r: r["rel_error"] / r["tolerance"] if r["tolerance"] else 0)
        return Evaluation(
            worst["rel_error"], worst["tolerance"],
            f"layer {worst['layer']}: relative FACT defect {worst['rel_error']:.3g} vs "
            f"tolerance {worst['tolerance']:.3g} (F2 bound + rounding)",
            {"layers": rows},
        )  # fmt: skip

    planted = formula != "F1"
    return Claim(
        "fact" if not planted else f"fact({formula})", "F1",
        "W^T W = -(1/(n lam)) sum_i grad_h l_i h_i^T at every stationary point of L_lam"
        + (f" [planted false variant: {formula}]" if planted else ""),
        score, "positive", planted=planted,
    )  # fmt: skip


def _linear_only(problem: Problem) -> str | None:
    net = problem.net
    if net.activation != "identity" or net.depth < 2 or net.bias:
        return "balancedness (D4) is a statement about deep linear networks without biases"
    return None


def balance_claim(decay: bool = True) -> Claim:
    """D4: stationary points of a weight-decayed deep linear network are balanced.

    ``decay=False`` is the planted false variant "balanced without weight decay" (lam = 0)."""

    def score(w: Witness) -> Evaluation:
        params = w.problem.net.unflatten(w.theta)
        grads = backprop(w.problem, w.theta, w.be).grads
        lam, rows = w.problem.lam, []
        with w.be.working():
            for j in range(len(params) - 1):
                (wj, _), (wk, _) = params[j], params[j + 1]
                (gj, _), (gk, _) = grads[j], grads[j + 1]
                d = float(fro(wk.T @ wk - wj @ wj.T, w.be))
                size = float(np.sum(wj * wj) + np.sum(wk * wk))
                bound = (
                    float(fro(wk, w.be) * fro(gk, w.be) + fro(gj, w.be) * fro(wj, w.be)) / lam
                    if lam > 0 else 0.0  # D1: lam D_j = W_{j+1}^T G_{j+1} - G_j W_j^T
                )  # fmt: skip
                rows.append({"j": j + 1, "imbalance_rel": d / size,
                             "tolerance": (bound + _rounding(w, size)) / size})  # fmt: skip
        worst = max(rows, key=lambda r: r["imbalance_rel"] - r["tolerance"])
        return Evaluation(
            worst["imbalance_rel"], worst["tolerance"],
            f"D_{worst['j']}: ||W_{{j+1}}^T W_{{j+1}} - W_j W_j^T|| / (||W_j||^2 + ||W_{{j+1}}||^2)"
            f" = {worst['imbalance_rel']:.3g} vs tolerance {worst['tolerance']:.3g}",
            {"imbalances": rows},
        )  # fmt: skip

    return Claim(
        "balance" if decay else "balance(no decay)", "D4",
        "W_{j+1}^T W_{j+1} = W_j W_j^T at stationary points of a deep linear network"
        + (" with lam > 0" if decay else " [planted false variant: lam = 0]"),
        score, "positive" if decay else "zero", _linear_only, planted=not decay,
    )  # fmt: skip


def custom_claim(
    name: str,
    violation: Callable[[Problem, Array, Backend], float],
    threshold: float,
    *,
    lam_policy: str = "positive",
    statement: str = "",
) -> Claim:
    """A user claim: ``violation(problem, theta, be) -> float``; it fails where the score is
    above ``threshold``. The function receives numbers of ``be`` (float64 or mpmath)."""
    if not callable(violation):
        raise bad_input("violation", "be callable (problem, theta, be) -> float", violation,
                        "Pass a function.")  # fmt: skip
    if lam_policy not in ("positive", "zero", "any"):
        raise bad_input("lam_policy", "be positive, zero or any", lam_policy, "Use positive.")

    def score(w: Witness) -> Evaluation:
        v = float(violation(w.problem, w.theta, w.be))
        return Evaluation(v, float(threshold), f"{name}: score {v:.6g} vs {threshold:g}")

    return Claim(name, "user", statement or f"{name} <= {threshold:g}", score, lam_policy)


def make_claim(name: str, *, alpha: float | None = None, threshold: float = 0.9) -> Claim:
    """The CLI's claims: "nfa" (best alpha, or ``alpha``), "fact" (F1), "balance" (D4)."""
    if name == "nfa":
        return nfa_claim(alpha, threshold)
    _check_threshold(threshold)
    if name == "fact":
        return fact_claim("F1")
    if name == "balance":
        return balance_claim(True)
    raise bad_input("claim", f"be one of {list(CLAIMS)}", name, "Pick a listed claim.")
