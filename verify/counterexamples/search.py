"""Counterexample search on Hypothesis: a strategy, targeting, shrinking, then certification.

:func:`search` hands Hypothesis a strategy over network, data and hyperparameters
(:func:`verify.counterexamples.space.candidates`, drawing :class:`NetworkSpec` records) and a
probe that trains each candidate (verify.strategies.train_spec: the engine's training, then the
engine's certificate at the trained point). Only certified candidates are scored; the others
are skipped and counted, never refutations, and so are collapsed ones (a layer with W = 0,
where a claim about feature matrices compares zero with zero). For a scored candidate,
``hypothesis.target`` reports how close it came to failing (violation / tolerance), which
steers generation toward larger violations. The first candidate whose float64 score fails
ends generation; Hypothesis then shrinks it (each step retrains a simpler candidate: fewer
samples, smaller widths and input dimension, simpler numbers) to the smallest failing one in
its order. That witness is certified at ``dps`` digits and re-checked at ``dps + 20``
(:func:`verify.counterexamples.certify.certify`); if it is not confirmed, the first failing
candidate is certified too. A float64 failure that no certificate confirms makes the verdict
INCONCLUSIVE, never "no violation".

Reproducible: the search is seeded (``hypothesis.seed``), uses no example database and no
deadline, and every limit counts examples, never seconds: ``budget`` examples in generation,
``shrink_budget`` trainings while shrinking (a memo answers every candidate seen before, so
Hypothesis's replay of the final example agrees). Hypothesis's only wall-clock rule left is a
five-minute ceiling on shrinking, far above ``shrink_budget`` trainings of these small networks.
One more thing Hypothesis does would tie results to the environment: it mixes into its draws
numeric constants it finds in the source of "local" modules (those not installed in
site-packages, e.g. an editable install), and caches them under ``.hypothesis/`` in the current
directory. The search switches that off while it runs (:func:`_without_local_constants`), so a
seed gives the same search from a checkout and from an installed package, and nothing is
written to the user's directory.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed

from theory._errors import bad_input
from theory._verdict import Verdict
from verify.base.validate import check_seed
from verify.counterexamples.certify import CERT_DPS, Certificate, certify
from verify.counterexamples.claims import Claim, Evaluation, Witness
from verify.counterexamples.space import SearchSpace, candidates, space_summary, spec_changes
from verify.strategies import NetworkSpec, is_collapsed, train_spec

__all__ = ["SearchResult", "Trial", "run_trial", "search"]


@dataclass
class Trial:
    """One trained candidate: training status and, if certified in float64, the claim's score."""

    candidate: NetworkSpec
    status: str
    evaluation: Evaluation | None
    theta: np.ndarray | None
    seconds: float

    @property
    def violation(self) -> float:
        return self.evaluation.violation if self.evaluation else -math.inf

    @property
    def closeness(self) -> float:
        """How close to failing: violation / tolerance (the quantity Hypothesis targets)."""
        ev = self.evaluation
        if ev is None:
            return -math.inf
        return ev.violation / ev.tolerance if ev.tolerance > 0 else ev.violation


def run_trial(claim: Claim, cand: NetworkSpec, *, cache: bool = False) -> Trial:
    """Train ``cand`` and score ``claim`` if the engine certifies the trained point."""
    t0 = time.perf_counter()
    problem = cand.problem()
    if claim.applies_to(problem) is not None:
        return Trial(cand, "not applicable", None, None, time.perf_counter() - t0)
    net = train_spec(cand, cache=cache)
    assert net.result is not None
    if not net.converged:
        return Trial(cand, net.result.status.value, None, None, time.perf_counter() - t0)
    if is_collapsed(problem, net.theta):
        # W = 0 in some layer: a claim about feature matrices holds or fails there as 0 vs 0
        # (the NFA's correlation of two zero matrices counts as 0), so this is no evidence
        return Trial(cand, "collapsed (W = 0)", None, None, time.perf_counter() - t0)
    ev = claim.score(Witness(problem, net.theta))
    if not math.isfinite(ev.violation):
        return Trial(cand, "non_finite score", None, None, time.perf_counter() - t0)
    return Trial(cand, "converged", ev, net.theta, time.perf_counter() - t0)


@dataclass
class SearchResult:
    """What :func:`search` did: the certificate (or None), counts, and what was tried."""

    claim: Claim
    verdict: Verdict
    reason: str
    certificate: Certificate | None
    tried: int  # examples Hypothesis ran while generating (the budget counts these)
    converged: int
    skipped: dict[str, int]
    seconds: float
    best: Trial | None
    shrink_log: list[str]
    space: dict[str, Any]
    seed: int
    budget: int
    trained: int = 0  # distinct candidates trained, shrinking included
    shrink_trainings: int = 0
    witnesses: list[Trial] = field(default_factory=list)  # shrunk witness, then the first found

    def to_dict(self, timings: bool = True) -> dict[str, Any]:
        """JSON-able summary; ``timings=False`` drops wall times (reproducible output)."""
        return {
            "claim": self.claim.name, "tag": self.claim.tag, "statement": self.claim.statement,
            "verdict": self.verdict.value, "evidence": self.verdict.evidence,
            "reason": self.reason, "seed": self.seed, "budget": self.budget,
            "examples_tried": self.tried, "candidates_tried": self.tried,
            "converged": self.converged, "candidates_trained": self.trained,
            "shrink_trainings": self.shrink_trainings,
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
            f"tried {self.tried} example{'s' if self.tried != 1 else ''}{took} (Hypothesis, "
            f"seed {self.seed}, budget "
            f"{self.budget}): {self.converged} certified stationary in float64, skipped "
            + (", ".join(f"{v} {k}" for k, v in self.skipped.items()) or "none")
            + f" (never counted as refutations); {self.trained} distinct candidates trained, "
            f"{self.shrink_trainings} of them while shrinking",
            "search space: " + "; ".join(f"{k}: {v}" for k, v in self.space.items()),
        ]  # fmt: skip
        if self.shrink_log:
            lines.append("shrinking: " + "; ".join(self.shrink_log))
        if self.certificate is not None:
            lines.append(self.certificate.to_text())
        return "\n".join(lines)


def _progress(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _check_budget(budget: int, name: str = "budget", least: int = 1) -> int:
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < least:
        raise bad_input(name, f"be an integer >= {least} (examples to run)", budget,
                        "Pass e.g. --budget 200.")  # fmt: skip
    return int(budget)


class _Violation(Exception):
    """Raised by the probe at a failing candidate; Hypothesis shrinks and re-raises it."""

    def __init__(self, spec: NetworkSpec) -> None:
        super().__init__(spec.describe())
        self.spec = spec


@contextlib.contextmanager
def _without_local_constants() -> Iterator[None]:
    """No constants harvested from "local" source files in Hypothesis's draws (module docstring).

    Hypothesis (>= 6.13x) gets them from ``providers._get_local_constants`` and caches the
    allowed ones in ``providers.CONSTANTS_CACHE``; both are replaced for the duration of the
    search. Older versions have neither, and draw no such constants."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without the module
        yield
        return
    getter = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if getter is None or cache is None or not hasattr(providers, "Constants"):
        yield
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.cache.clear()


def _settings(budget: int) -> settings:
    return settings(
        settings.get_profile("default"), max_examples=budget, database=None, deadline=None,
        derandomize=False, phases=(Phase.generate, Phase.target, Phase.shrink),
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
        verbosity=Verbosity.quiet, print_blob=False,
    )  # fmt: skip


def search(
    claim: Claim,
    *,
    budget: int = 200,
    seed: int = 0,
    dps: int = CERT_DPS,
    shrink_budget: int = 40,
    quiet: bool = False,
    space: SearchSpace | None = None,
    cache: bool = False,
) -> SearchResult:
    """Search for a certified counterexample to ``claim`` (module docstring).

    ``budget``: examples Hypothesis runs while generating; ``shrink_budget``: trainings spent
    shrinking the first failure; ``cache``: reuse trained points from the on-disk cache
    (verify.strategies.cache). Deterministic for a seed.
    """
    budget = _check_budget(budget)
    shrink_budget = _check_budget(shrink_budget, "shrink_budget", 0)
    seed = check_seed(seed, "seed")
    t0 = time.perf_counter()
    memo: dict[NetworkSpec, Trial] = {}
    examples: list[Trial] = []
    shrink_trials: list[Trial] = []
    skipped: dict[str, int] = {}
    failures: list[Trial] = []

    def probe(spec: NetworkSpec) -> None:
        if spec in memo:
            trial = memo[spec]
        elif failures:  # generation is over: this is a shrinking step
            if len(shrink_trials) >= shrink_budget:
                return  # shrink budget spent: an unseen candidate is not trained
            trial = memo[spec] = run_trial(claim, spec, cache=cache)
            shrink_trials.append(trial)
        else:
            trial = memo[spec] = run_trial(claim, spec, cache=cache)
        if not failures:
            examples.append(trial)
            if trial.evaluation is None:
                skipped[trial.status] = skipped.get(trial.status, 0) + 1
            if len(examples) % max(budget // 20, 1) == 0:
                best = max((t.violation for t in examples), default=-math.inf)
                _progress(f"[counterexample {claim.name}] {len(examples)}/{budget} examples, "
                          f"{sum(skipped.values())} skipped, best violation {best:.4g}, "
                          f"{time.perf_counter() - t0:.1f} s", quiet)  # fmt: skip
        if trial.evaluation is None:
            return
        target(trial.closeness, label="violation / tolerance")
        if trial.evaluation.fails:
            if not failures:
                failures.append(trial)
            raise _Violation(spec)

    strategy = candidates(claim, space)
    run = hypothesis_seed(seed)(_settings(budget)(given(strategy)(probe)))
    minimal: NetworkSpec | None = None
    try:
        with _without_local_constants():
            run()
    except _Violation as found:
        minimal = found.spec
    return _finish(claim, memo, examples, shrink_trials, skipped, failures, minimal,
                   space, seed, budget, dps, quiet, t0)  # fmt: skip


def _finish(claim: Claim, memo: dict[NetworkSpec, Trial], examples: list[Trial],
            shrink_trials: list[Trial], skipped: dict[str, int], failures: list[Trial],
            minimal: NetworkSpec | None, space: SearchSpace | None, seed: int, budget: int,
            dps: int, quiet: bool, t0: float) -> SearchResult:  # fmt: skip
    scored = [t for t in examples if t.evaluation is not None]
    best = max(scored, key=lambda t: t.closeness, default=None)
    cert: Certificate | None = None
    log: list[str] = []
    witnesses: list[Trial] = []
    if minimal is not None:
        small = memo[minimal]
        witnesses.append(small)
        log = spec_changes(failures[0].candidate, minimal)
        if small is not failures[0]:
            witnesses.append(failures[0])
    for trial in witnesses:
        _progress(f"[counterexample {claim.name}] certifying at {dps} digits: "
                  f"{trial.candidate.describe()}", quiet)  # fmt: skip
        assert trial.theta is not None
        cert = certify(claim, trial.candidate.problem(), trial.theta, dps=dps,
                       origin={"candidate": trial.candidate.to_dict(),
                               "description": trial.candidate.describe()})  # fmt: skip
        if cert.verdict is Verdict.REFUTED:
            break
    if not witnesses and best is not None and best.theta is not None:
        # nothing fails: certify the closest call, so the "holds" answer is also at dps digits
        _progress(f"[counterexample {claim.name}] no violation; certifying the closest call",
                  quiet)  # fmt: skip
        origin = {"candidate": best.candidate.to_dict(), "description": best.candidate.describe(),
                  "role": "closest call (largest violation / tolerance found)"}  # fmt: skip
        cert = certify(claim, best.candidate.problem(), best.theta, dps=dps, origin=origin)
    verdict, reason = _search_verdict(claim, cert, len(scored), len(examples), witnesses)
    return SearchResult(claim, verdict, reason, cert, len(examples), len(scored), skipped,
                        time.perf_counter() - t0, best, log,
                        space_summary([t.candidate for t in examples]), seed, budget,
                        len(memo), len(shrink_trials), witnesses)  # fmt: skip


def _search_verdict(
    claim: Claim, cert: Certificate | None, converged: int, tried: int, failing: list[Trial]
) -> tuple[Verdict, str]:
    if cert is not None and cert.verdict is Verdict.REFUTED:
        return Verdict.REFUTED, f"certified counterexample found: {cert.reason}"
    if failing:
        return Verdict.INCONCLUSIVE, (
            f"{len(failing)} float64 violations, none confirmed at high precision (each was "
            f"certified): {cert.reason if cert else 'none'}"
        )
    if converged == 0:
        return Verdict.INCONCLUSIVE, (f"none of the {tried} examples reached a certified "
                                      "stationary point; nothing was tested")  # fmt: skip
    closest = f"; closest call: {cert.reason}" if cert is not None else ""
    return Verdict.NUMERICALLY_CONSISTENT, (
        f"no certified violation exists among {converged} certified stationary points of "
        f"{tried} examples{closest}"
    )
