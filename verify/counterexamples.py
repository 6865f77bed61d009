"""Counterexamples: claims as data, certified witnesses, and the search that finds them.

A *claim* about converged networks (the NFA, FACT, deep-linear balancedness, or any user
function) is turned into a *violation score* at a stationary point: the claim fails at a witness
when the score exceeds the claim's tolerance there. This module

1. scores claims (:class:`Claim`; :func:`nfa_claim`, :func:`fact_claim`, :func:`balance_claim`,
   :func:`custom_claim`);
2. certifies a witness (:func:`certify`): Newton in mpmath at ``dps`` digits (50 by default)
   until the gradient of L_lam is at its rounding floor, then the claim is scored there, and a
   violation is re-checked at ``dps + 20`` digits before it is reported REFUTED;
3. searches (:func:`search`: seeded random search over :class:`SearchSpace`, then local
   refinement of the input distribution, target, decay and initialisation around the worst
   violation) and shrinks (:func:`shrink`: fewer samples, smaller widths and input dimension,
   data rounded to few digits), with candidates described by :class:`Candidate`.

The built-in families (quadratic, deep-linear-unbalanced, dead-relu, adamw) live in
:mod:`verify.counterexample_families`; ``factcheck counterexample`` is the command line.

Violation scores (REFERENCE.md tags):

- NFA (N2, N3): ``1 - max over the alpha grid of max(Pearson, cosine)`` between W^T W and
  AGOP^alpha (uncentered AGOP unless asked). The grid is :func:`alpha_grid`: 1/8, 2/8, ..., 1
  plus 1/L for the depths in play (D5, D6). A fixed alpha scores that exponent only.
- FACT (F1): max over layers of ||W^T W - FACT||_F / ||W^T W||_F; tolerance at a certified point
  is the F2 bound ||W|| ||grad_W L_lam|| / lam plus rounding (the engine's rule in
  verify.checks), relative to ||W^T W||_F. Planted false variants flip the sign or drop 1/n.
- balance (D4): max_j ||W_{j+1}^T W_{j+1} - W_j W_j^T||_F / (||W_j||_F^2 + ||W_{j+1}||_F^2) for
  deep linear networks; tolerance from the exact identity
  lam D_j = W_{j+1}^T G_{j+1} - G_j W_j^T (G = grad L_lam; D1) plus rounding.

Non-convergence is never a refutation: a point that does not reach its rounding floor gives the
verdict INCONCLUSIVE. Search candidates must be certified stationary by the engine in float64
(verify.train.train) to be scored at all; the reported witness is certified at 50 digits.

Known limit of the score: the grid stops at alpha = 1/8, and as alpha -> 0+ AGOP^alpha tends to
the projector onto range(AGOP); certificates report that limit's cosine ("alpha_to_0_cosine")
so a reader can see when an exponent below the grid would correlate better.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

from theory._errors import bad_input
from theory._records import Verdict, to_jsonable
from verify._io import write_text_atomic
from verify.features import LayerFeatures, correlation, fro, layer_features
from verify.network import FLOAT64, Array, Backend, Problem, backprop, hvp, mp_backend
from verify.runfile import save_run
from verify.train import Status, TrainResult, dense_hessian, gradient_floor

__all__ = [
    "CLAIMS",
    "Candidate",
    "Certificate",
    "Claim",
    "Evaluation",
    "Witness",
    "alpha_grid",
    "balance_claim",
    "certify",
    "custom_claim",
    "fact_claim",
    "make_claim",
    "nfa_claim",
    "polish",
    "report_entries",
    "run_trial",
    "save_certificate",
    "search",
    "SearchSpace",
    "shrink",
    "SearchResult",
    "Trial",
]

#: names accepted by :func:`make_claim` (and the CLI)
CLAIMS = ("nfa", "fact", "balance")
#: default working precision of a certificate (decimal digits)
CERT_DPS = 50
#: extra digits of the re-check that every refutation must pass
RECHECK_EXTRA_DPS = 20


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

    @property
    def fails(self) -> bool:
        return bool(self.violation > self.tolerance)

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
            rows.append({"layer": layer, "by_alpha": table, "best_alpha": best[0],
                         "best_correlation": best[3], "pearson": best[1], "cosine": best[2],
                         "alpha_to_0_cosine": _projector_cosine(w.features[layer - 1], w.be,
                                                                centered)})  # fmt: skip
            if worst is None or best[3] < worst["best_correlation"]:
                worst = rows[-1]
        assert worst is not None
        corr = float(worst["best_correlation"])
        what = f"alpha={a:g}" if a is not None else "best alpha over the grid"
        return Evaluation(
            1 - corr, 1 - t,
            f"layer {worst['layer']}: max(Pearson, cosine) = {corr:.6f} at alpha = "
            f"{worst['best_alpha']:g} ({what}); threshold {t:g}",
            {"layers": rows, "correlation": corr, "threshold": t},
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

    AGOP^alpha by one symmetric eigendecomposition; eigenvalues at or below ten times their
    rounding level k u ||AGOP|| (k = n + depth * width terms per entry) count as exact zeros.
    Why: AGOP is usually rank-deficient, and alpha = 1/8 lifts rounding noise e to e^(1/8)
    (1e-6 at 50 digits), which would make the score depend on the precision."""
    net = w.problem.net
    k = w.problem.n + net.depth * max(net.sizes)
    agop = feat.agop_centered if centered else feat.agop
    rows = []
    with w.be.working():
        vals, vecs = w.be.eigh((agop + agop.T) / 2)
        top = max(abs(float(v)) for v in vals)
        level = 10 * k * w.unit_roundoff * top
        for a in grid:
            powered = np.array([v**a if float(v) > level else v * 0 for v in vals],
                               dtype=vecs.dtype)  # fmt: skip
            c = correlation(feat.nfm, (vecs * powered) @ vecs.T, w.be)
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


# -- certification: Newton in mpmath -----------------------------------------------------------
def _solvers(H: np.ndarray) -> list[Callable[[np.ndarray], np.ndarray]]:
    """Float64 solvers for H p = r, tried in order: plain LU, then eigen pseudo-inverses.

    Why several cut-offs: ill-conditioned but regular Hessians (the quadratic family, cond ~1e12)
    need every eigenvalue kept, while symmetry zero modes (linear networks at lam = 0) must be
    dropped; 1e-13 / 1e-10 / 1e-7 (relative to the top eigenvalue) separate the two cases."""
    ev, V = np.linalg.eigh(H)
    top = float(np.max(np.abs(ev))) or 1.0
    out: list[Callable[[np.ndarray], np.ndarray]] = []
    with np.errstate(all="ignore"):
        try:
            lu = np.linalg.inv(H)
            if np.isfinite(lu).all():
                out.append(lambda r: lu @ r)
        except np.linalg.LinAlgError:
            pass
    for cut in (1e-13, 1e-10, 1e-7):
        keep = np.abs(ev) > cut * top
        Vk, ek = V[:, keep], ev[keep]
        out.append(_pinv_solver(Vk, ek))
    return out


def _pinv_solver(Vk: np.ndarray, ek: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def solve(r: np.ndarray) -> np.ndarray:
        return np.asarray(Vk @ ((Vk.T @ r) / ek))

    return solve


def _mp_hessian(problem: Problem, theta: Array, be: Backend) -> Any:
    """The exact Hessian of L_lam in mpmath: p Hessian-vector products (R-operator)."""
    p = len(theta)
    cols = [hvp(problem, theta, be.asarray(np.eye(p)[j]), be) for j in range(p)]
    with be.working():
        return mpmath.matrix([[cols[j][i] for j in range(p)] for i in range(p)])


def _mp_steps(H: Any, g: Array, be: Backend) -> list[Array]:
    """Least-squares Newton steps -H^+ g with the exact mpmath Hessian, for eigenvalue cut-offs
    10^(-dps/2), 1e-14, 1e-10 and 1e-6 of the largest (most inclusive first).

    Why several: zero modes of continuous symmetries and flat directions (linear networks, dead
    units at lam = 0) sit at rounding level at an exact stationary point but at the level of the
    residual gradient near it, and a step along them would slide along a manifold of stationary
    points; genuine curvature can itself be small (the quadratic family's is ~1e-11 relative).
    The caller keeps the step that lowers the gradient most."""
    p = len(g)
    vals, vecs = mpmath.eigsy(H)
    top = max(abs(vals[i]) for i in range(p))
    gv = mpmath.matrix([x for x in g])
    coef = [((vecs[:, i].T * gv)[0], vals[i]) for i in range(p)]
    out = []
    for cut in (mpmath.mpf(10) ** (-(be.dps // 2)), 1e-14, 1e-10, 1e-6):
        step = mpmath.matrix(p, 1)
        for i, (c, v) in enumerate(coef):
            if abs(v) > cut * top:
                step -= vecs[:, i] * (c / v)
        out.append(np.array([step[i] for i in range(p)], dtype=object))
    return out


def polish(
    problem: Problem, theta: Array, dps: int = CERT_DPS, *, max_steps: int = 40,
    dense_max: int = 80,
) -> TrainResult:  # fmt: skip
    """Newton in mpmath at ``dps`` digits from ``theta`` until ||grad L_lam|| <= its floor.

    Steps solve H p = -g with a float64 Hessian factorisation (chord Newton: each step gains
    about -log10(cond(H) u_64) digits, enough for ill-conditioned problems where the engine's
    truncated pseudo-inverse stalls), then, if that stalls, with the exact mpmath Hessian
    (networks of <= ``dense_max`` parameters). A step is kept only if it lowers the gradient.
    Certification is the engine's rule (verify.train.gradient_floor at ``dps`` digits).
    """
    be = mp_backend(dps)
    with be.working():  # every mpmath operation below (th + step, ...) at dps digits
        return _polish(problem, theta, dps, be, max_steps, dense_max)


def _polish(
    problem: Problem, theta: Array, dps: int, be: Backend, max_steps: int, dense_max: int
) -> TrainResult:
    start = time.perf_counter()
    th = be.asarray(theta)
    hnorm = float(np.max(np.abs(np.linalg.eigvalsh(dense_hessian(problem, be.to_float(th))))))
    history: list[tuple[str, float]] = []

    def grad_at(t: Array) -> tuple[Array, float, float]:
        g = backprop(problem, t, be).grad
        gn, floor = gradient_floor(problem, t, be, hnorm=hnorm)
        return g, gn, floor

    g, gn, floor = grad_at(th)
    scale = floor / be.unit_roundoff
    steps, certified, detours = 0, gn <= floor, 0
    dense = problem.net.n_params <= dense_max
    best = (gn, th, g, floor)
    while not certified and steps < max_steps:
        accepted, first = False, None
        if dense:  # exact mpmath Hessian, fresh at every step
            tried: list[tuple[Any, int, Array, Array, Any]] = []
            for step in _mp_steps(_mp_hessian(problem, th, be), g, be):
                g2, gn2, floor2 = grad_at(th + step)
                if np.isfinite(gn2):
                    tried.append((gn2, len(tried), th + step, g2, floor2))
                    if gn2 <= max(1e-2 * gn, floor2):
                        break  # why 1e-2: two digits gained, Newton is in its basin; no need
                        # to try the more truncated steps
            if tried:
                gn2, k, cand, g2, floor2 = min(tried, key=lambda t: (t[0], t[1]))
                first = (tried[0][2], tried[0][3], tried[0][0], tried[0][4])
                # why 0.9: a negligible decrease from a truncated step would waste iterations
                # (the detour below with the full step is the better move then)
                if gn2 < 0.9 * gn:
                    th, g, gn, floor, accepted = cand, g2, gn2, floor2, True
        else:  # float64 Hessian with the mpmath gradient: linear contraction ~cond(H) u_64
            g64 = be.to_float(g)
            for solve in _solvers(dense_hessian(problem, be.to_float(th))):
                for frac in (1.0, 0.5):
                    p64 = solve(-g64)
                    if not np.isfinite(p64).all():
                        continue
                    cand = th + be.asarray(frac * p64)
                    g2, gn2, floor2 = grad_at(cand)
                    first = first or (cand, g2, gn2, floor2)
                    if np.isfinite(gn2) and gn2 < 0.9 * gn:  # why 0.9: any clear decrease
                        th, g, gn, floor, accepted = cand, g2, gn2, floor2, True
                        break
                if accepted:
                    break
        # a plain Newton step of an ill-conditioned problem may raise the gradient before it
        # falls quadratically (non-monotone Newton): allow a few such detours with the most
        # inclusive step, keeping the best point seen. Why 1e-3 of the gradient scale (floor / u,
        # the size of the terms that cancel in the gradient): a point whose gradient stays that
        # far below its own terms is still near a stationary point
        if not accepted and first is not None and detours < 3 and first[2] < 1e-3 * scale:
            detours += 1
            (th, g, gn, floor), accepted = first, True
        if not accepted:
            break
        steps += 1
        history.append((f"newton@{dps}", gn))
        certified = gn <= floor
        if gn < best[0]:
            best = (gn, th, g, floor)
    gn, th, g, floor = best
    certified = gn <= floor
    final64 = be.to_float(th)
    gn64, floor64 = gradient_floor(problem, final64, hnorm=hnorm)
    with be.working():
        t0 = be.asarray(theta)
        moved = float(be.sqrt(np.sum((th - t0) ** 2)) / max(be.sqrt(np.sum(t0 * t0)), 1e-300))
    how = "Newton (exact mpmath Hessian)" if dense else "Newton (float64 Hessian, mpmath gradient)"
    reason = (
        f"at {dps} digits: ||grad L_lam|| = {gn:.3g} " + ("<=" if certified else "stayed above")
        + f" rounding floor {floor:.3g} after {steps} {how} steps"
    )  # fmt: skip
    return TrainResult(
        problem, final64, Status.CONVERGED if certified else Status.MAX_ITER, reason,
        "" if certified else "train closer to a stationary point first, or raise max_steps",
        gn64, floor64, float(backprop(problem, final64).value), 0, 0,
        time.perf_counter() - start, None, dps, th, gn, floor, steps, history, moved,
    )  # fmt: skip


# -- certificates ------------------------------------------------------------------------------
@dataclass
class Certificate:
    """A claim checked at a witness refined to ``dps`` digits (see :func:`certify`)."""

    claim: Claim
    verdict: Verdict
    reason: str
    point: TrainResult
    evaluation: Evaluation | None
    recheck: dict[str, Any]
    fact: list[dict[str, Any]]
    nfa: dict[str, Any]
    origin: dict[str, Any] = field(default_factory=dict)

    @property
    def problem(self) -> Problem:
        return self.point.problem

    def to_dict(self) -> dict[str, Any]:
        pb, ev = self.problem, self.evaluation
        best = min((r["best_correlation"] for r in self.nfa.get("layers", [])), default=None)
        return {
            "claim": self.claim.name,
            "tag": self.claim.tag,
            "statement": self.claim.statement,
            "planted": self.claim.planted,
            "verdict": self.verdict.value,
            "evidence": self.verdict.evidence,
            "reason": self.reason,
            "dps": self.point.dps,
            "grad_norm_dps": self.point.grad_norm_mp,
            "grad_floor_dps": self.point.grad_floor_mp,
            "grad_norm_float64": self.point.grad_norm,
            "violation": ev.violation if ev else None,
            "tolerance": ev.tolerance if ev else None,
            "margin": ev.margin if ev else None,
            "summary": ev.summary if ev else None,
            "details": ev.data if ev else {},
            "fact_rel_error_max": max((r["rel_error"] for r in self.fact), default=None),
            "fact": self.fact,
            "nfa_best_correlation": best,
            "nfa": self.nfa,
            "recheck": self.recheck,
            "network": {"sizes": list(pb.net.sizes), "activation": pb.net.activation,
                        "bias": pb.net.bias, "loss": pb.loss, "lam": pb.lam, "n": pb.n},
            "origin": self.origin,
            "theta_dps": [mpmath.nstr(x, (self.point.dps or 17) + 2)
                          for x in (self.point.theta_mp if self.point.theta_mp is not None
                                    else self.point.theta)],
        }  # fmt: skip

    def to_text(self) -> str:
        d = self.to_dict()
        pb = self.problem
        lines = [
            f"[{self.claim.tag}] {self.claim.statement}",
            f"verdict: {self.verdict.value} - {self.reason}",
            f"witness: MLP {pb.net.sizes}, {pb.net.activation}, lam={pb.lam:.3g}, n={pb.n}; "
            f"||grad L_lam|| = {_g(d['grad_norm_dps'])} at {d['dps']} digits "
            f"(floor {_g(d['grad_floor_dps'])})",
        ]
        if self.fact:
            lines.append("FACT relative error per layer: " + ", ".join(
                f"{r['rel_error']:.3g}" for r in self.fact))  # fmt: skip
        for row in self.nfa.get("layers", []):
            table = ", ".join(f"{a:.3g}:{c:.4f}" for a, _, _, c in row["by_alpha"])
            lines.append(
                f"NFA layer {row['layer']}: best max(Pearson, cosine) {row['best_correlation']:.6f}"
                f" at alpha={row['best_alpha']:g}; alpha->0 cosine "
                f"{row['alpha_to_0_cosine']:.4f}; by alpha {table}"
            )  # fmt: skip
        if self.evaluation:
            lines.append(f"claim score: {self.evaluation.summary}; margin {d['margin']:.3g}")
        return "\n".join(lines)


def _g(x: Any) -> str:
    return "n/a" if x is None else f"{float(x):.3g}"


def _side_info(w: Witness) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """FACT per layer (if lam > 0) and the best-alpha NFA table per layer, at the witness."""
    fact = fact_claim("F1").score(w).data["layers"] if w.problem.lam > 0 else []
    nfa = nfa_claim(None, 0.5, layers=None).score(w).data
    return fact, nfa


def certify(
    claim: Claim,
    problem: Problem,
    theta: Array,
    *,
    dps: int = CERT_DPS,
    origin: dict[str, Any] | None = None,
) -> Certificate:
    """Refine ``theta`` to ``dps`` digits, score ``claim`` there, re-check a violation at
    ``dps + 20`` digits. REFUTED only if the point is certified at both precisions and the
    violation is confirmed; a point that does not certify gives INCONCLUSIVE."""
    why_not = claim.applies_to(problem)
    if why_not is not None:
        raise bad_input("claim", "apply to the witness", why_not, "Pick a matching claim.")
    point = polish(problem, theta, dps)
    be = mp_backend(dps)
    if not point.converged:
        return Certificate(
            claim, Verdict.INCONCLUSIVE, f"not a certified stationary point: {point.reason}",
            point, None, {}, [], {}, origin or {},
        )  # fmt: skip
    w = Witness(problem, point.theta_mp, be)
    ev = claim.score(w)
    fact, nfa = _side_info(w)
    recheck: dict[str, Any] = {}
    if not ev.fails:
        verdict = Verdict.NUMERICALLY_CONSISTENT
        reason = f"the claim holds at this certified point ({dps} digits): {ev.summary}"
    else:
        hi = dps + RECHECK_EXTRA_DPS
        high = polish(problem, point.theta_mp, hi)
        ev_hi = claim.score(Witness(problem, high.theta_mp, mp_backend(hi))) if high.converged \
            else None  # fmt: skip
        # why 1e-10: both scores are of the same stationary point known to >= 40 digits; a
        # larger disagreement means the refinement moved to another point
        agree = ev_hi is not None and abs(ev_hi.violation - ev.violation) <= 1e-10 * max(
            1.0, abs(ev.violation)
        )
        recheck = {"dps": hi, "certified": high.converged, "grad_norm": high.grad_norm_mp,
                   "violation": ev_hi.violation if ev_hi else None, "agrees": agree}  # fmt: skip
        if agree and ev_hi is not None and ev_hi.fails:
            verdict = Verdict.REFUTED
            reason = (f"counterexample at a certified stationary point, confirmed at {hi} "
                      f"digits: {ev.summary}")  # fmt: skip
        else:
            verdict = Verdict.INCONCLUSIVE
            reason = f"violation at {dps} digits NOT confirmed at {hi} digits: {ev.summary}"
    return Certificate(claim, verdict, reason, point, ev, recheck, fact, nfa, origin or {})


def save_certificate(cert: Certificate, path: str | os.PathLike[str]) -> tuple[str, str]:
    """Write the witness as a run file (verify.runfile format) and the certificate as JSON
    next to it (same name, suffix .json). Returns (run file, JSON file)."""
    target = Path(path)
    if target.suffix != ".npz":
        raise bad_input("save", "end in .npz (a run file)", str(path), "Pass e.g. --save cx.npz.")
    pt = cert.point
    save_run(target, cert.problem, pt.theta,
             {"status": pt.status.value, "grad_norm": pt.grad_norm})  # fmt: skip
    summary = target.with_suffix(".json")
    write_text_atomic(summary, json.dumps(to_jsonable(cert.to_dict()), indent=2) + "\n")
    return str(target), str(summary)


# -- search space ------------------------------------------------------------------------------
ACTIVATION_CHOICES = ("tanh", "relu", "quadratic", "gelu", "softplus", "identity")
INPUT_CHOICES = ("isotropic", "anisotropic", "lowrank", "sparse")
TARGET_CHOICES = ("teacher", "quadratic", "linear", "product")


@dataclass(frozen=True)
class Candidate:
    """One point of the search space; :meth:`problem` builds it deterministically.

    Inputs (n x d), rows from ``inputs``: "isotropic" N(0, I); "anisotropic" coordinate
    standard deviations kappa^(-k/(d-1)), k = 0..d-1 (``input_param`` = kappa >= 1);
    "lowrank" rank round(input_param) (exact copies of Gaussian columns); "sparse" each entry
    nonzero with probability ``input_param``. Targets (n x c), scaled to unit root-mean-square:
    "teacher" a random tanh two-layer net (4 units); "quadratic" y_k = sum_j a_jk x_j^2 with
    a_j ~ std_j^(-beta) (``target_param`` = beta: large weight on low-variance inputs,
    REFERENCE section 6); "linear" X B; "product" x_1 x_2 (+ x_3 x_4 for the second output).
    ``digits``: inputs and targets rounded to that many significant digits (None: float64).
    """

    activation: str = "tanh"
    widths: tuple[int, ...] = (4,)
    d: int = 3
    c: int = 1
    n: int = 24
    lam: float = 1e-3
    inputs: str = "isotropic"
    input_param: float = 1.0
    target: str = "teacher"
    target_param: float = 1.0
    init_scale: float = 1.0
    seed: int = 0
    digits: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    def describe(self) -> str:
        return (
            f"{self.activation} MLP {(self.d, *self.widths, self.c)}, lam={self.lam:.2g}, "
            f"n={self.n}, {self.inputs}({self.input_param:.3g}) inputs, {self.target}"
            f"({self.target_param:.3g}) target, init x{self.init_scale:.2g}, seed {self.seed}"
            + (f", data rounded to {self.digits} digits" if self.digits else "")
        )

    def problem(self) -> Problem:
        from verify.network import MLP

        rng = np.random.default_rng(self.seed)
        d, n, c = self.d, self.n, self.c
        std = np.ones(d)
        Z = rng.standard_normal((n, d))
        if self.inputs == "anisotropic":
            std = float(self.input_param) ** (-np.arange(d) / max(d - 1, 1))
            X = Z * std
        elif self.inputs == "lowrank":
            r = int(min(max(round(self.input_param), 1), d))
            # columns beyond r are exact copies of earlier ones times +-1/2 or +-2 (exact in
            # float64), so X has rank r exactly: a float64 mixture would leave a direction of
            # variance ~1e-32, which makes lam = 0 problems ill-posed at 50 digits
            Zr = rng.standard_normal((n, r))
            factors = rng.choice([-2.0, -0.5, 0.5, 2.0], size=d)
            X = np.stack([Zr[:, k] if k < r else Zr[:, k % r] * factors[k] for k in range(d)], 1)
        elif self.inputs == "sparse":
            X = Z * (rng.random((n, d)) < self.input_param)
        else:
            X = Z
        if self.target == "quadratic":
            a = std ** (-float(self.target_param)) * np.linspace(1.0, 0.6, d)
            A = a[:, None] * (1 + 0.5 * np.arange(c)[None, :] * rng.random((d, c)))
            Y = (X**2) @ A
        elif self.target == "linear":
            Y = X @ rng.standard_normal((d, c))
        elif self.target == "product":
            cols = [X[:, (2 * k) % d] * X[:, (2 * k + 1) % d] for k in range(c)]
            Y = np.stack(cols, axis=1)
        else:
            T = rng.standard_normal((4, d)) / np.sqrt(d)
            Y = np.tanh(X @ T.T) @ rng.standard_normal((c, 4)).T
        rms = float(np.sqrt(np.mean(Y * Y)))
        Y = Y / rms if rms > 0 else Y
        if self.digits:
            X, Y = _round_sig(X, self.digits), _round_sig(Y, self.digits)
        net = MLP((d, *self.widths, c), self.activation)
        return Problem(net, X, Y, "mse", self.lam)

    def theta0(self, problem: Problem) -> np.ndarray:
        """Gaussian init (verify.network.MLP.init) times ``init_scale`` in the first layer and
        divided by it in the last (an unbalanced start when init_scale != 1)."""
        net = problem.net
        params = net.unflatten(net.init(self.seed + 1).copy())
        params[0] = (params[0][0] * self.init_scale, params[0][1])
        params[-1] = (params[-1][0] / self.init_scale, params[-1][1])
        return net.flatten(params)


def _round_sig(a: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits (zeros stay zero)."""
    with np.errstate(divide="ignore"):
        mag = np.where(a != 0, np.floor(np.log10(np.abs(np.where(a != 0, a, 1.0)))), 0.0)
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(a * scale) / scale


@dataclass(frozen=True)
class SearchSpace:
    """Where :func:`search` draws candidates from (defaults: the whole space)."""

    activations: tuple[str, ...] = ACTIVATION_CHOICES
    inputs: tuple[str, ...] = INPUT_CHOICES
    targets: tuple[str, ...] = TARGET_CHOICES
    depths: tuple[int, ...] = (2, 3)
    max_width: int = 6
    max_d: int = 5
    samples: tuple[int, ...] = (16, 24, 32, 48)
    log10_lam: tuple[float, float] = (-5.0, -1.0)

    def __post_init__(self) -> None:
        from verify.network import ACTIVATIONS

        for name, values, allowed in (("activations", self.activations, tuple(ACTIVATIONS)),
                                      ("inputs", self.inputs, INPUT_CHOICES),
                                      ("targets", self.targets, TARGET_CHOICES)):  # fmt: skip
            bad = [v for v in values if v not in allowed]
            if not values or bad:
                raise bad_input(f"space.{name}", f"be a non-empty subset of {list(allowed)}",
                                values, "Drop the unknown names.")  # fmt: skip
        if not self.depths or min(self.depths) < 2 or self.max_width < 1 or self.max_d < 2:
            raise bad_input("space", "have depths >= 2, max_width >= 1 and max_d >= 2",
                            self, "Pass e.g. SearchSpace(depths=(2,), max_d=3).")  # fmt: skip


def _random_candidate(
    rng: np.random.Generator, claim: Claim, space: SearchSpace = SearchSpace()
) -> Candidate:
    acts = ("identity",) if claim.applies is _linear_only else space.activations
    act = str(rng.choice(acts))
    depth = int(rng.choice(space.depths))
    d = int(rng.integers(2, space.max_d + 1))
    inputs = str(rng.choice(space.inputs))
    param = {"anisotropic": float(np.exp(rng.uniform(0, np.log(300)))),
             "lowrank": float(rng.integers(1, max(d, 2))),
             "sparse": float(rng.uniform(0.3, 0.9))}.get(inputs, 1.0)  # fmt: skip
    lo, hi = space.log10_lam
    lam = 0.0 if claim.lam_policy == "zero" else float(10 ** rng.uniform(lo, hi))
    return Candidate(
        activation=act,
        widths=tuple(int(rng.integers(min(2, space.max_width), space.max_width + 1))
                     for _ in range(depth - 1)),  # fmt: skip
        d=d, c=int(rng.integers(1, 3)), n=int(rng.choice(space.samples)), lam=lam,
        inputs=inputs, input_param=param, target=str(rng.choice(space.targets)),
        target_param=float(rng.uniform(0, 2)), init_scale=float(np.exp(rng.uniform(-1, 1))),
        seed=int(rng.integers(0, 2**31)),
    )  # fmt: skip


def _mutate(rng: np.random.Generator, c: Candidate, claim: Claim) -> Candidate:
    """Local refinement: move one or two continuous parameters of the input distribution,
    target, decay or initialisation (log-normal steps), or draw a new data sample."""
    out = c
    for _ in range(int(rng.integers(1, 3))):
        k = int(rng.integers(0, 5))
        if k == 0 and c.inputs == "anisotropic":
            out = replace(out, input_param=float(min(max(out.input_param * np.exp(
                rng.normal(0, 0.7)), 1.0), 3e3)))  # fmt: skip
        elif k == 0 and c.inputs == "sparse":
            out = replace(out, input_param=float(np.clip(out.input_param + rng.normal(0, .1),
                                                         .1, 1)))  # fmt: skip
        elif k == 1 and claim.lam_policy != "zero":
            out = replace(out, lam=float(np.clip(out.lam * np.exp(rng.normal(0, 1)), 1e-7, 1)))
        elif k == 2:
            out = replace(out, target_param=float(np.clip(out.target_param + rng.normal(0, .4),
                                                          0, 3)))  # fmt: skip
        elif k == 3:
            out = replace(out, init_scale=float(out.init_scale * np.exp(rng.normal(0, 0.5))))
        else:
            out = replace(out, seed=int(rng.integers(0, 2**31)))
    return out


# -- search ------------------------------------------------------------------------------------
@dataclass
class Trial:
    """One trained candidate: training status and, if certified in float64, the claim's score."""

    candidate: Candidate
    status: str
    evaluation: Evaluation | None
    theta: np.ndarray | None
    seconds: float

    @property
    def violation(self) -> float:
        return self.evaluation.violation if self.evaluation else -math.inf


def run_trial(claim: Claim, cand: Candidate, *, max_iter: int = 3000) -> Trial:
    """Train ``cand`` (verify.train.train, float64) and score ``claim`` if it converged."""
    from verify.train import train

    t0 = time.perf_counter()
    problem = cand.problem()
    if claim.applies_to(problem) is not None:
        return Trial(cand, "not applicable", None, None, time.perf_counter() - t0)
    res = train(problem, theta0=cand.theta0(problem), max_iter=max_iter, spectrum="none")
    if not res.converged:
        return Trial(cand, res.status.value, None, None, time.perf_counter() - t0)
    ev = claim.score(Witness(problem, res.theta))
    if not math.isfinite(ev.violation):
        return Trial(cand, "non_finite score", None, None, time.perf_counter() - t0)
    return Trial(cand, "converged", ev, res.theta, time.perf_counter() - t0)


@dataclass
class SearchResult:
    """What :func:`search` did: the certificate (or None), counts, and what was tried."""

    claim: Claim
    verdict: Verdict
    reason: str
    certificate: Certificate | None
    tried: int
    converged: int
    skipped: dict[str, int]
    seconds: float
    best: Trial | None
    shrink_log: list[str]
    space: dict[str, Any]
    seed: int
    budget: int

    def to_dict(self, timings: bool = True) -> dict[str, Any]:
        """JSON-able summary; ``timings=False`` drops wall times (reproducible output)."""
        return {
            "claim": self.claim.name, "tag": self.claim.tag, "statement": self.claim.statement,
            "verdict": self.verdict.value, "evidence": self.verdict.evidence,
            "reason": self.reason, "seed": self.seed, "budget": self.budget,
            "candidates_tried": self.tried, "converged": self.converged,
            "skipped": self.skipped, **({"seconds": self.seconds} if timings else {}),
            "best_float64": None if self.best is None else {
                "candidate": self.best.candidate.to_dict(),
                "violation": self.best.violation,
                "summary": self.best.evaluation.summary if self.best.evaluation else None},
            "shrinking": self.shrink_log, "search_space": self.space,
            "certificate": self.certificate.to_dict() if self.certificate else None,
        }  # fmt: skip

    def to_text(self, timings: bool = True) -> str:
        took = f" in {self.seconds:.1f} s" if timings else ""
        lines = [
            f"[{self.claim.tag}] counterexample search for: {self.claim.statement}",
            f"verdict: {self.verdict.value} - {self.reason}",
            f"tried {self.tried} candidates{took} (seed {self.seed}): "
            f"{self.converged} certified stationary in float64, skipped "
            + (", ".join(f"{v} {k}" for k, v in self.skipped.items()) or "none")
            + " (never counted as refutations)",
            "search space: " + "; ".join(f"{k}: {v}" for k, v in self.space.items()),
        ]  # fmt: skip
        if self.shrink_log:
            lines.append("shrinking: " + "; ".join(self.shrink_log))
        if self.certificate is not None:
            lines.append(self.certificate.to_text())
        return "\n".join(lines)


def _progress(msg: str, quiet: bool) -> None:
    if not quiet:
        import sys

        print(msg, file=sys.stderr, flush=True)


def _check_budget(budget: int) -> int:
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise bad_input("budget", "be an integer >= 1 (candidates to train)", budget,
                        "Pass e.g. --budget 200.")  # fmt: skip
    return int(budget)


def search(
    claim: Claim,
    *,
    budget: int = 200,
    seed: int = 0,
    max_seconds: float = 240.0,
    dps: int = CERT_DPS,
    shrink_budget: int = 20,
    quiet: bool = False,
    space: SearchSpace | None = None,
) -> SearchResult:
    """Seeded random search (first half of the budget) and local refinement around the worst
    violation found (second half), then shrinking and 50-digit certification of the witness.

    Deterministic for a seed unless the wall-time budget ``max_seconds`` cuts it short (the
    result then says so). Non-converged candidates are skipped and counted.
    """
    budget = _check_budget(budget)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    trials: list[Trial] = []
    skipped: dict[str, int] = {}
    best: Trial | None = None
    timed_out = False
    for i in range(budget):
        if time.perf_counter() - t0 > max_seconds:
            timed_out = True
            break
        explore = i < max(budget // 2, 1) or best is None or best.evaluation is None
        if explore:
            cand = _random_candidate(rng, claim, space or SearchSpace())
        else:
            assert best is not None
            cand = _mutate(rng, best.candidate, claim)
        trial = run_trial(claim, cand)
        trials.append(trial)
        if trial.evaluation is None:
            skipped[trial.status] = skipped.get(trial.status, 0) + 1
        elif best is None or trial.violation > best.violation:
            best = trial
        if (i + 1) % max(budget // 20, 1) == 0 or i + 1 == budget:
            bv = "n/a" if best is None else f"{best.violation:.4g}"
            _progress(f"[counterexample {claim.name}] {i + 1}/{budget} candidates, "
                      f"{sum(skipped.values())} skipped, best violation {bv}, "
                      f"{time.perf_counter() - t0:.1f} s", quiet)  # fmt: skip
    converged = sum(t.evaluation is not None for t in trials)
    tried_space = _space_summary(trials, claim)
    cert: Certificate | None = None
    log: list[str] = []
    failing = sorted((t for t in trials if t.evaluation is not None and t.evaluation.fails),
                     key=lambda t: -t.violation)  # fmt: skip
    for trial in failing[:3]:
        small, log = shrink(claim, trial, budget=shrink_budget, quiet=quiet)
        for witness in (small, trial) if small is not trial else (trial,):
            _progress(f"[counterexample {claim.name}] certifying at {dps} digits: "
                      f"{witness.candidate.describe()}", quiet)  # fmt: skip
            assert witness.theta is not None
            cert = certify(claim, witness.candidate.problem(), witness.theta, dps=dps,
                           origin={"candidate": witness.candidate.to_dict(),
                                   "description": witness.candidate.describe()})  # fmt: skip
            if cert.verdict is Verdict.REFUTED:
                break
        if cert is not None and cert.verdict is Verdict.REFUTED:
            break
    if cert is None and best is not None and best.theta is not None:
        # nothing fails: certify the closest call, so the "holds" answer is also at dps digits
        _progress(f"[counterexample {claim.name}] no violation; certifying the closest call",
                  quiet)  # fmt: skip
        cert = certify(
            claim,
            best.candidate.problem(),
            best.theta,
            dps=dps,
            origin={
                "candidate": best.candidate.to_dict(),
                "description": best.candidate.describe(),
                "role": "closest call (largest violation score found)",
            },
        )
    seconds = time.perf_counter() - t0
    verdict, reason = _search_verdict(claim, cert, converged, len(trials), timed_out, failing)
    return SearchResult(claim, verdict, reason, cert, len(trials), converged, skipped, seconds,
                        best, log, tried_space, seed, budget)  # fmt: skip


def _search_verdict(
    claim: Claim, cert: Certificate | None, converged: int, tried: int, timed_out: bool,
    failing: list[Trial],
) -> tuple[Verdict, str]:  # fmt: skip
    cut = " (stopped by the wall-time budget)" if timed_out else ""
    if cert is not None and cert.verdict is Verdict.REFUTED:
        return Verdict.REFUTED, f"certified counterexample found{cut}: {cert.reason}"
    if converged == 0:
        return Verdict.INCONCLUSIVE, (f"none of the {tried} candidates reached a certified "
                                      f"stationary point{cut}; nothing was tested")  # fmt: skip
    if failing:
        return Verdict.INCONCLUSIVE, (
            f"{len(failing)} float64 violations, none confirmed at high precision{cut}"
        )
    closest = f"; closest call: {cert.reason}" if cert is not None else ""
    return Verdict.NUMERICALLY_CONSISTENT, (
        f"no certified violation exists among {converged} certified stationary points of "
        f"{tried} candidates{cut}{closest}"
    )  # fmt: skip


def _space_summary(trials: list[Trial], claim: Claim) -> dict[str, Any]:
    cs = [t.candidate for t in trials]
    if not cs:
        return {}
    lams = [c.lam for c in cs]
    return {
        "activations": sorted({c.activation for c in cs}),
        "depths": sorted({len(c.widths) + 1 for c in cs}),
        "widths": sorted({w for c in cs for w in c.widths}),
        "input dims": sorted({c.d for c in cs}),
        "inputs": sorted({c.inputs for c in cs}),
        "targets": sorted({c.target for c in cs}),
        "lam range": [min(lams), max(lams)],
        "samples": sorted({c.n for c in cs}),
        "inits": "Gaussian, first/last layer scaled by 1/e..e",
    }


def shrink(
    claim: Claim, trial: Trial, *, budget: int = 20, quiet: bool = True
) -> tuple[Trial, list[str]]:
    """Greedy simplification of a failing candidate: fewer samples, smaller widths and input
    dimension, data rounded to 3 then 2 significant digits; a step is kept only if the result
    still trains to a certified stationary point at which the claim fails (float64) with at
    least half the original margin."""
    cur, log, spent = trial, [], 0
    start_margin = trial.evaluation.margin if trial.evaluation else 0.0
    improved = True
    while improved and spent < budget:
        improved = False
        c = cur.candidate
        moves: list[tuple[str, Candidate]] = []
        if c.n > 8:
            moves.append(
                (f"n {c.n}->{max(8, (3 * c.n) // 4)}", replace(c, n=max(8, (3 * c.n) // 4)))
            )
        for i, w in enumerate(c.widths):
            if w > 1:
                ws = c.widths[:i] + (w - 1,) + c.widths[i + 1 :]
                moves.append((f"width {i + 1} {w}->{w - 1}", replace(c, widths=ws)))
        if c.d > 2:
            moves.append((f"d {c.d}->{c.d - 1}", replace(c, d=c.d - 1)))
        for digits in (3, 2):
            if c.digits is None or c.digits > digits:
                moves.append((f"data to {digits} digits", replace(c, digits=digits)))
                break
        for what, cand in moves:
            if spent >= budget:
                break
            spent += 1
            t = run_trial(claim, cand)
            # why half the margin: a simpler witness must stay a clear counterexample, not
            # trade the violation away for simplicity
            if (
                t.evaluation is not None
                and t.evaluation.fails
                and t.evaluation.margin >= (0.5 * start_margin)
            ):
                cur, improved = t, True
                log.append(f"{what} (violation {t.violation:.4g})")
                break
    _progress(f"[counterexample {claim.name}] shrunk in {spent} trainings: "
              + ("; ".join(log) or "no simpler witness"), quiet)  # fmt: skip
    return cur, log


# -- report ------------------------------------------------------------------------------------
def report_entries(quick: bool = False, seed: int = 0) -> list[Any]:
    """The built-in families, certified (quick < 15 s, default < 60 s)."""
    from verify.counterexample_families import family_report_entries

    return family_report_entries(quick, seed)
