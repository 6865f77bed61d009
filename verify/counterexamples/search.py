"""Counterexample search: seeded random search, local refinement, shrinking, certification.

:func:`search` trains candidates (verify.train.train, float64) drawn from a
:class:`verify.counterexample_space.SearchSpace`: a seeded random search over the first half of
the budget, then local refinement of the input distribution, target, decay and initialisation
around the worst violation. Only candidates certified stationary in float64 are scored;
the others are skipped and counted, never refutations. The worst failing candidates are shrunk
(:func:`shrink`: fewer samples, smaller widths and input dimension, data rounded to few digits)
and certified at 50 digits (:func:`verify.counterexample_certify.certify`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from theory._errors import bad_input
from theory._verdict import Verdict
from verify.base.validate import check_seed
from verify.counterexamples.certify import CERT_DPS, Certificate, certify
from verify.counterexamples.claims import Claim, Evaluation, Witness
from verify.counterexamples.space import Candidate, SearchSpace, _mutate, _random_candidate

__all__ = ["SearchResult", "Trial", "run_trial", "search", "shrink"]


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
    from verify.engine.train import train

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
    rng = np.random.default_rng(check_seed(seed, "seed"))
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
