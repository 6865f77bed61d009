"""Certificates: a claim checked at a witness refined to 50 digits, re-checked at 70.

:func:`certify` refines a point with :func:`polish` (Newton in mpmath at ``dps`` digits: the
engine's refinement, verify.train.refine_mp) until the gradient of L_lam is at its rounding
floor (verify.train.gradient_floor, the engine's certification rule), scores the claim there,
and re-checks a violation at ``dps + 20`` digits before it is reported REFUTED.

The rules, each guarded by a test (tests/verify/counterexamples/test_certify_rules.py):

- a point counts as certified only if the refinement says it converged AND its reported
  gradient norm is at or below its reported floor, at the precision asked for (:func:`_certified`:
  whatever the floor function returns, a gradient above it is never certified);
- a violation is REFUTED only after the re-check at ``dps + 20`` digits: the point certified
  again there, the claim failing again, and the two violations agreeing (the re-check cannot be
  skipped: there is no option to skip it);
- a score that is undefined (a correlation of a zero matrix, e.g. at a trivial stationary point)
  is never a violation;
- everything else is INCONCLUSIVE. Non-convergence is never a refutation.

:func:`save_certificate` writes the witness as a run file (re-verify it with
``factcheck check``) and the certificate as JSON next to it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

from theory._errors import bad_input
from theory._verdict import Verdict, to_jsonable
from verify.base.files import staged_writes
from verify.counterexamples.claims import Claim, Evaluation, Witness, fact_claim, nfa_claim
from verify.engine.network import Array, Problem, mp_backend
from verify.engine.runfile import save_run
from verify.engine.train import TrainResult, evaluate, refine_mp

__all__ = [
    "CERT_DPS",
    "RECHECK_EXTRA_DPS",
    "Certificate",
    "certify",
    "polish",
    "save_certificate",
]

#: default working precision of a certificate (decimal digits)
CERT_DPS = 50
#: extra digits of the re-check that every refutation must pass
RECHECK_EXTRA_DPS = 20


def polish(
    problem: Problem, theta: Array, dps: int = CERT_DPS, *, max_steps: int = 6,
    robust_steps: int = 12,
) -> TrainResult:  # fmt: skip
    """Newton in mpmath at ``dps`` digits from ``theta`` until ||grad L_lam|| <= its floor.

    The engine's refinement (verify.train.refine_mp, ``max_steps`` fast and ``robust_steps``
    robust steps): Newton preconditioned by the float64 Hessian, then, for ill-conditioned
    problems (the quadratic family, cond ~1e12) and networks of <= verify.train.ROBUST_MAX
    parameters, least-squares Newton steps with the exact mpmath Hessian at several eigenvalue
    cut-offs, a few non-monotone steps allowed. ``theta`` may hold mpmath numbers (a point
    refined before, as in the re-check of :func:`certify`): the refinement restarts from its
    float64 rounding, which is in Newton's basin of the same stationary point, and the re-check
    compares the two scores to make sure of that. A point that does not reach its floor comes
    back with status MAX_ITER, never as a certified point.
    """
    start = evaluate(problem, np.array([float(x) for x in theta]), spectrum="none")
    return refine_mp(start, dps, max_steps, robust_steps)


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

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
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

    # pragma: no mutate end

    # pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
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

    # pragma: no mutate end


# pragma: no mutate start  # rendering and file output, not a formula or a verdict rule (README)
def _g(x: Any) -> str:
    return "n/a" if x is None else f"{float(x):.3g}"


# pragma: no mutate end


def _side_info(w: Witness) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """FACT per layer (if lam > 0) and the best-alpha NFA table per layer, at the witness."""
    fact = fact_claim("F1").score(w).data["layers"] if w.problem.lam > 0 else []
    nfa = nfa_claim(None, 0.5, layers=None).score(w).data
    return fact, nfa


def _certified(point: TrainResult, dps: int) -> bool:
    """Certified stationary at ``dps`` digits: converged, and gradient <= floor as reported."""
    return (
        point.converged
        and (point.dps or 0) >= dps
        and point.grad_norm_mp is not None
        and point.grad_floor_mp is not None
        and point.grad_norm_mp <= point.grad_floor_mp
    )


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
    if not _certified(point, dps):
        return Certificate(
            claim, Verdict.INCONCLUSIVE, f"not a certified stationary point: {point.reason}",
            point, None, {}, [], {}, origin or {},
        )  # fmt: skip
    w = Witness(problem, point.theta_mp, be)
    ev = claim.score(w)
    fact, nfa = _side_info(w)
    recheck: dict[str, Any] = {}
    if ev.undefined:
        verdict = Verdict.INCONCLUSIVE
        reason = f"the claim's score is undefined at this point (trivial?): {ev.summary}"
    elif not ev.fails:
        verdict = Verdict.NUMERICALLY_CONSISTENT
        reason = f"the claim holds at this certified point ({dps} digits): {ev.summary}"
    else:
        hi = dps + RECHECK_EXTRA_DPS
        high = polish(problem, point.theta_mp, hi)
        ev_hi = claim.score(Witness(problem, high.theta_mp, mp_backend(hi))) \
            if _certified(high, hi) else None  # fmt: skip
        # why 1e-10: both scores are of the same stationary point known to >= 40 digits; a
        # larger disagreement means the refinement moved to another point
        agree = ev_hi is not None and abs(ev_hi.violation - ev.violation) <= 1e-10 * max(
            1.0, abs(ev.violation)
        )
        recheck = {"dps": hi, "certified": _certified(high, hi), "grad_norm": high.grad_norm_mp,
                   "violation": ev_hi.violation if ev_hi else None, "agrees": agree}  # fmt: skip
        if agree and ev_hi is not None and ev_hi.fails and not ev_hi.undefined:
            verdict = Verdict.REFUTED
            reason = (f"counterexample at a certified stationary point, confirmed at {hi} "
                      f"digits: {ev.summary}")  # fmt: skip
        else:
            verdict = Verdict.INCONCLUSIVE
            reason = f"violation at {dps} digits NOT confirmed at {hi} digits: {ev.summary}"
    return Certificate(claim, verdict, reason, point, ev, recheck, fact, nfa, origin or {})


# pragma: no mutate block  # rendering and file output, not a formula or a verdict rule (README)
def save_certificate(cert: Certificate, path: str | os.PathLike[str]) -> tuple[str, str]:
    """Write the witness as a run file (verify.engine.runfile format) and the certificate as JSON
    next to it (same name, suffix .json). Returns (run file, JSON file)."""
    target = Path(path)
    if target.suffix != ".npz":
        raise bad_input("save", "end in .npz (a run file)", str(path), "Pass e.g. --save cx.npz.")
    pt = cert.point
    summary = target.with_suffix(".json")
    with staged_writes() as stage:  # both files, or neither (verify.base.files)
        save_run(target, cert.problem, pt.theta,
                 {"status": pt.status.value, "grad_norm": pt.grad_norm}, stage=stage)  # fmt: skip
        stage.write_text(summary, json.dumps(to_jsonable(cert.to_dict()), indent=2) + "\n")
    return str(target), str(summary)
