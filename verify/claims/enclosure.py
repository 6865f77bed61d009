"""CERTIFIED verdicts: rigorous enclosures of FACT (F1, F2) and of the NFA correlation (N3).

At the stored weights and data, taken as exact binary rationals, the engine's backpropagation
runs in arb ball arithmetic (:mod:`verify.engine.arb`), and every quantity below comes out as a
ball that contains its exact value:

- both sides of F2 per layer: D = W^T W - FACT (with FACT = -(1/(n lam)) sum_i grad_h l_i h_i^T,
  F1) and R = W^T grad_W L_lam / lam. F2 makes them equal, so their balls must overlap (checked:
  a disjoint pair would expose an error in the code) and their intersection encloses both;
- ||D||_F and ||W^T W||_F, hence the relative FACT defect ||D||_F / ||W^T W||_F;
- ||grad L_lam||_2 at those weights.

FACT is CERTIFIED at the weights when, in every layer, the upper end of the relative defect's
enclosure is at most epsilon: "at these weights, FACT holds to within epsilon, rigorously". It
is a statement about the given weights, not about training; F2 explains a larger defect (the
gradient enclosure shows how far from stationary the weights are).

The NFA correlation: AGOP^alpha is enclosed through arb's rigorous eigendecomposition
(acb_mat.eig, which returns balls for the eigenvalues and for left and right eigenvector
matrices L, R with A = R diag(lambda) L), as R diag(lambda^alpha) L. It needs isolated
eigenvalues: a rank-deficient AGOP (repeated zero eigenvalues, e.g. the last layer's
W_L^T W_L with fewer outputs than inputs) is reported as not enclosed. Pearson and cosine
(N3) follow from the enclosed matrices.

Endpoints are rounded outward to float64 for the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._verdict import Verdict
from verify.engine.arb import ARB_PREC, ArbBackend, arb_backend
from verify.engine.backprop import backprop, input_jacobians
from verify.engine.problem import Problem

__all__ = [
    "DEFAULT_EPSILON",
    "Ball",
    "FactEnclosure",
    "LayerEnclosure",
    "NfaEnclosure",
    "enclose_fact",
    "enclose_nfa",
]

#: default epsilon for the relative FACT defect. Why 1e-6: a float64 stationary point leaves a
#: defect of about cond(H) * u at its stored (rounded) weights, 1e-14 on well-conditioned
#: networks and 2e-8 on the ill-conditioned quadratic counterexample witness (lam 4.7e-9);
#: 1e-6 accepts both with room and still states six correct digits of W^T W = FACT.
DEFAULT_EPSILON = 1e-6


@dataclass(frozen=True)
class Ball:
    """A closed interval [lo, hi] (float64 endpoints rounded outward) containing a real."""

    lo: float
    hi: float

    @classmethod
    def of(cls, x: Any) -> Ball:
        lo, hi = float(x.lower()), float(x.upper())
        if x.lower() < lo:  # float() rounds to nearest: push the endpoints outward
            lo = math.nextafter(lo, -math.inf)
        if x.upper() > hi:
            hi = math.nextafter(hi, math.inf)
        return cls(lo, hi)

    def to_list(self) -> list[float]:
        return [self.lo, self.hi]

    def __str__(self) -> str:
        """Midpoint and half-width: ``mid +- rad`` (the JSON carries the two ends)."""
        mid, rad = (self.lo + self.hi) / 2, (self.hi - self.lo) / 2
        return f"{mid:.12g} +- {rad:.1g}"


@dataclass
class LayerEnclosure:
    """One layer: enclosures of ||W^T W - FACT||_F, ||W^T W||_F and their ratio."""

    layer: int
    defect: Ball
    nfm: Ball
    rel_defect: Ball
    f2_sides_overlap: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "fact_defect": self.defect.to_list(),
            "nfm_norm": self.nfm.to_list(),
            "fact_rel_defect": self.rel_defect.to_list(),
            "f2_sides_overlap": self.f2_sides_overlap,
        }


@dataclass
class FactEnclosure:
    """FACT enclosed at given weights; CERTIFIED when every layer's defect is <= epsilon."""

    verdict: Verdict
    reason: str
    epsilon: float
    layers: list[LayerEnclosure]
    grad_norm: Ball
    prec: int
    flint_version: str
    nfa: list[NfaEnclosure] = field(default_factory=list)

    def what(self) -> str:
        return (
            "enclosed at the stored weights and data taken as exact binary rationals, by arb "
            f"ball arithmetic at {self.prec} bits (python-flint {self.flint_version}): per layer "
            "||W^T W - FACT||_F (both sides of F2, intersected), ||W^T W||_F and their ratio; "
            "||grad L_lam||_2"
            + ("; the NFA correlations of W^T W and AGOP^alpha (N3)" if self.nfa else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "evidence": self.verdict.evidence,
            "reason": self.reason,
            "enclosed": self.what(),
            "epsilon": self.epsilon,
            "precision_bits": self.prec,
            "python_flint": self.flint_version,
            "grad_norm": self.grad_norm.to_list(),
            "layers": [x.to_dict() for x in self.layers],
            "nfa": [x.to_dict() for x in self.nfa],
        }

    def to_text(self) -> str:
        lines = [
            f"[F1] FACT enclosure (interval arithmetic): {self.verdict.value}",
            f"  {self.what()}",
            f"  ||grad L_lam|| in {self.grad_norm}",
        ]
        for x in self.layers:
            lines.append(
                f"  layer {x.layer}: ||W'W - FACT|| in {x.defect}, ||W'W|| in {x.nfm}, "
                f"relative in {x.rel_defect}"
            )
        lines.append(f"  {self.reason}")
        lines += [x.to_text() for x in self.nfa]
        return "\n".join(lines)


@dataclass
class NfaEnclosure:
    """The NFA correlation of one layer enclosed at each exponent (or why it was not)."""

    layer: int
    by_alpha: list[tuple[float, Ball, Ball]]  # (alpha, Pearson, cosine)
    note: str = ""

    @property
    def best(self) -> Ball | None:
        """Enclosure of max over the exponents of max(Pearson, cosine)."""
        if not self.by_alpha:
            return None
        lo = max(max(p.lo, c.lo) for _, p, c in self.by_alpha)
        hi = max(max(p.hi, c.hi) for _, p, c in self.by_alpha)
        return Ball(lo, hi)

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "layer": self.layer,
            "by_alpha": [
                {"alpha": a, "pearson": p.to_list(), "cosine": c.to_list()}
                for a, p, c in self.by_alpha
            ],
            "max_correlation": best.to_list() if best else None,
            "note": self.note,
        }

    def to_text(self) -> str:
        if not self.by_alpha:
            return f"[N3] NFA layer {self.layer}: not enclosed ({self.note})"
        lines = [
            f"[N3] NFA layer {self.layer} enclosed: max over alpha of max(Pearson, cosine) in "
            f"{self.best}",
            "  alpha     Pearson                       cosine",
        ]
        lines += [f"  {a:<8.4g}  {p!s:<28}  {c}" for a, p, c in self.by_alpha]
        return "\n".join(lines)


def _frobenius(m: np.ndarray) -> Any:
    return np.sum(m * m).sqrt()


def enclose_fact(
    problem: Problem, theta: np.ndarray, epsilon: float = DEFAULT_EPSILON, prec: int = ARB_PREC
) -> FactEnclosure:
    """Enclose FACT's defect and the gradient at ``theta`` (module docstring)."""
    if not problem.lam > 0:
        raise ValueError("FACT (F1) needs lam > 0; the caller checks this first")
    be = arb_backend(prec)
    with be.working():
        bp = backprop(problem, np.asarray(theta, dtype=np.float64), be)
        _, _, lam = problem.data(be)
        n, layers, ok = problem.n, [], True
        for idx, ((w, _), (gw, _)) in enumerate(zip(bp.params, bp.grads, strict=True)):
            h, gh = bp.hs[idx], bp.grad_h[idx]
            nfm = w.T @ w
            d = nfm + (gh.T @ h) / (n * lam)  # W^T W - FACT, FACT = -(1/(n lam)) gh^T h (F1)
            r = (w.T @ gw) / lam  # F2: the same matrix
            overlap = all(a.overlaps(b) for a, b in zip(d.ravel(), r.ravel(), strict=True))
            ok = ok and overlap
            if overlap:
                d = np.array([a.intersection(b) for a, b in zip(d.ravel(), r.ravel(),
                              strict=True)], dtype=object).reshape(d.shape)  # fmt: skip
            dn, nn = _frobenius(d), _frobenius(nfm)
            rel = dn / nn if nn > 0 else be.flint.arb("inf")
            layers.append(LayerEnclosure(idx + 1, Ball.of(dn), Ball.of(nn), Ball.of(rel), overlap))
        grad = Ball.of(_frobenius(bp.grad))
    worst = max(x.rel_defect.hi for x in layers)
    if not ok:
        verdict = Verdict.INCONCLUSIVE
        reason = "the two sides of F2 have disjoint enclosures: an error in the evaluation"
    elif worst <= epsilon:
        verdict = Verdict.CERTIFIED
        reason = (
            f"at these weights, FACT holds to within epsilon = {epsilon:g}, rigorously: "
            f"||W^T W - FACT||_F / ||W^T W||_F <= {worst:.3g} in every layer"
        )
    else:
        verdict = Verdict.INCONCLUSIVE
        reason = (
            f"the enclosure does not show FACT within epsilon = {epsilon:g}: the relative "
            f"defect may reach {worst:.3g}; F2 ties it to the gradient, ||grad L_lam|| in "
            f"{grad} (train to a stationary point, or state a larger --epsilon)"
        )
    return FactEnclosure(verdict, reason, epsilon, layers, grad, be.prec, _version(be))


def enclose_nfa(
    problem: Problem, theta: np.ndarray, alphas: dict[int, tuple[float, ...]],
    prec: int = ARB_PREC,
) -> list[NfaEnclosure]:  # fmt: skip
    """Enclose Pearson and cosine of W^T W against AGOP^alpha for ``{layer: alphas}``."""
    be = arb_backend(prec)
    out = []
    with be.working():
        jac = input_jacobians(problem, np.asarray(theta, dtype=np.float64), be)
        params = problem.net.unflatten(be.asarray(np.asarray(theta, dtype=np.float64)))
        for layer, grid in sorted(alphas.items()):
            w = params[layer - 1][0]
            nfm = w.T @ w
            agop = sum(j.T @ j for j in jac[layer - 1]) / problem.n  # N1
            eig = _eigen(be, agop)
            if isinstance(eig, str):
                out.append(NfaEnclosure(layer, [], eig))
                continue
            rows = []
            for a in grid:
                power = _power(be, eig, float(a))
                rows.append((float(a), *_correlations(be, nfm, power)))
            out.append(NfaEnclosure(layer, rows))
    return out


def _eigen(be: ArbBackend, a: np.ndarray) -> tuple[list[Any], Any, Any] | str:
    """Enclosures (real eigenvalues, L, R) with A = R diag(lambda) L, or why not."""
    flint = be.flint
    m = flint.acb_mat([[flint.acb(x) for x in row] for row in a.tolist()])
    try:
        values, left, right = m.eig(left=True, right=True)
    except (ValueError, ZeroDivisionError):
        return f"eigenvalues of the AGOP not isolated at {be.prec} bits (repeated or zero)"
    lams = [v.real for v in values]
    if any(not lam_ > 0 for lam_ in lams):
        return "an eigenvalue of the AGOP is not certainly positive (rank-deficient AGOP)"
    return lams, left, right


def _power(be: ArbBackend, eig: tuple[list[Any], Any, Any], alpha: float) -> np.ndarray:
    """R diag(lambda^alpha) L, real part (the exact matrix is real), as an object array."""
    lams, left, right = eig
    flint = be.flint
    k = len(lams)
    diag = flint.acb_mat(k, k)
    for i, lam_ in enumerate(lams):
        diag[i, i] = flint.acb(lam_ ** flint.arb(alpha))
    prod = right * diag * left
    return np.array([[prod[i, j].real for j in range(k)] for i in range(k)], dtype=object)


def _correlations(be: ArbBackend, a: np.ndarray, b: np.ndarray) -> tuple[Ball, Ball]:
    """(Pearson, cosine) of the entries of ``a`` and ``b`` (N3), enclosed."""
    ac, bc = a - np.mean(a), b - np.mean(b)
    pearson = np.sum(ac * bc) / (_frobenius(ac) * _frobenius(bc))
    cosine = np.sum(a * b) / (_frobenius(a) * _frobenius(b))
    return Ball.of(pearson), Ball.of(cosine)


def _version(be: ArbBackend) -> str:
    return str(getattr(be.flint, "__version__", "?"))
