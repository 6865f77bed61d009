"""Built-in counterexample families, reproducible by name (REFERENCE.md section 6).

- ``quadratic``, ``deep-linear-unbalanced``, ``dead-relu``: certified stationary witnesses where
  the NFA (or balancedness without weight decay) fails; see
  :mod:`verify.counterexamples.stationary_families` for the constructions. FACT holds at the
  quadratic witness (it is a theorem).
- ``adamw``: the AdamW fixed point violates FACT's hypothesis, not the theorem; see
  :mod:`verify.counterexamples.adamw`.

This module is the families' registry (:data:`FAMILIES`, :func:`family_claim`,
:func:`run_family`), the seeded Hypothesis sweep within a family (:func:`search_family`) and
the report entries; it re-exports the families' public names.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from theory._errors import bad_input
from theory._verdict import Verdict
from verify.base.records import ReportEntry
from verify.base.validate import check_seed
from verify.counterexamples.adamw import adam, adamw_family
from verify.counterexamples.certify import CERT_DPS, Certificate, certify, save_certificate
from verify.counterexamples.claims import (
    Claim,
    Witness,
    balance_claim,
    fact_claim,
    nfa_claim,
)
from verify.counterexamples.family_result import FamilyResult
from verify.counterexamples.search import _check_budget, _without_local_constants, search
from verify.counterexamples.stationary_families import (
    QUADRATIC_LIGHT,
    QUADRATIC_R,
    dead_relu_family,
    dead_relu_problem,
    deep_linear_family,
    deep_linear_problem,
    quadratic_family,
    quadratic_problem,
)
from verify.engine.network import Problem
from verify.engine.train import train

__all__ = [
    "FAMILIES",
    "FAMILY_SPACES",
    "QUADRATIC_LIGHT",
    "QUADRATIC_R",
    "FamilyResult",
    "adam",
    "adamw_family",
    "dead_relu_family",
    "dead_relu_problem",
    "deep_linear_family",
    "deep_linear_problem",
    "family_claim",
    "family_report_entries",
    "quadratic_family",
    "quadratic_problem",
    "run_family",
    "search_family",
]


# -- seeded search within a family ------------------------------------------------------------
#: family -> (parameter name, Hypothesis strategy of the parameter, builder (param, seed) ->
#: (problem, start)); the parameter ranges are the families' documented ranges
FAMILY_SPACES: dict[str, tuple[str, st.SearchStrategy[float], Callable[..., Any]]] = {
    "quadratic": ("kappa", st.floats(0.5, 3.0).map(lambda e: float(10**e)),
                  lambda p, seed: quadratic_problem(p, seed=seed)),
    "deep-linear-unbalanced": ("s", st.floats(1.0, 8.0), deep_linear_problem),
    "dead-relu": ("s", st.floats(0.0, 8.0), dead_relu_problem),
}  # fmt: skip


def _sweep_settings(budget: int) -> settings:
    """``budget`` examples, generation and targeting only: a sweep keeps its worst member (no
    failure is raised, so there is nothing to shrink); seeded by the caller, no database."""
    return settings(
        settings.get_profile("default"), max_examples=budget, database=None, deadline=None,
        derandomize=False, phases=(Phase.generate, Phase.target),
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
    )  # fmt: skip


def search_family(
    family: str, claim: Claim, *, budget: int = 6, seed: int = 0, dps: int = CERT_DPS,
) -> FamilyResult:  # fmt: skip
    """Seeded Hypothesis sweep over a family's parameter and data seed (``budget`` examples,
    ``hypothesis.target`` steering toward larger violation / tolerance): each member is trained
    in float64 and scored (a screening score only); the worst member is then certified at
    ``dps`` digits, and only that certificate can give REFUTED. Members whose training ended
    in non-finite values or divergence are skipped and counted."""
    if family not in FAMILY_SPACES:
        raise bad_input("family", f"be one of {sorted(FAMILY_SPACES)} for a search", family,
                        "Pick a listed family.")  # fmt: skip
    budget = _check_budget(budget)
    seed = check_seed(seed, "seed")
    name, params, build = FAMILY_SPACES[family]
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    best: list[tuple[float, Problem, np.ndarray, dict[str, Any]]] = []
    skipped = [0]

    def member(param: float, data_seed: int) -> None:
        problem, theta0 = build(param, data_seed)
        res = train(problem, theta0=theta0, spectrum="none")
        if res.status.value in ("non_finite", "diverged"):
            skipped[0] += 1
            return
        ev = claim.score(Witness(problem, res.theta))
        rows.append({name: param, "data_seed": data_seed, "float64_status": res.status.value,
                     "violation": ev.violation})  # fmt: skip
        closeness = ev.violation / ev.tolerance if ev.tolerance > 0 else ev.violation
        if math.isfinite(closeness):
            target(closeness, label="violation / tolerance")
        if not best or ev.violation > best[0][0]:
            best[:] = [(ev.violation, problem, res.theta, rows[-1])]

    sweep = given(params, st.integers(0, 2**31 - 1))(member)
    with _without_local_constants():
        hypothesis_seed(seed)(_sweep_settings(budget)(sweep))()
    if not best:
        return FamilyResult(family, claim, Verdict.INCONCLUSIVE, "every member diverged", name,
                            rows, None, {"skipped": skipped[0]},
                            time.perf_counter() - t0)  # fmt: skip
    _, problem, theta, row = best[0]
    cert = certify(claim, problem, theta, dps=dps, origin={"family": family, **row})
    return FamilyResult(family, claim, cert.verdict, cert.reason, name, rows, cert,
                        {"skipped": skipped[0], "budget": budget, "examples_tried": len(rows)
                         + skipped[0], "seed": seed}, time.perf_counter() - t0)  # fmt: skip


# -- registry ----------------------------------------------------------------------------------
Family = Callable[..., FamilyResult]

#: family name -> (runner, claims it speaks about)
FAMILIES: dict[str, tuple[Family, tuple[str, ...]]] = {
    "quadratic": (quadratic_family, ("nfa", "fact")),
    "deep-linear-unbalanced": (deep_linear_family, ("nfa", "balance")),
    "dead-relu": (dead_relu_family, ("nfa",)),
    "adamw": (adamw_family, ("fact",)),
}


def family_claim(family: str, claim: str, alpha: float | None, threshold: float) -> Claim:
    """The claim a family is checked against: the named claim, adapted to the family's decay
    (lam = 0 families check the NFA at lam = 0, and balance as the planted no-decay variant)."""
    if family not in FAMILIES:
        raise bad_input("family", f"be one of {sorted(FAMILIES)}", family, "Pick a listed name.")
    if claim not in FAMILIES[family][1]:
        raise bad_input(
            "claim", f"be one of {list(FAMILIES[family][1])} for family {family!r}", claim,
            "Pick a claim the family speaks about (see factcheck counterexample --help).",
        )  # fmt: skip
    zero = family in ("deep-linear-unbalanced", "dead-relu")
    if claim == "nfa":
        if alpha is None and family == "deep-linear-unbalanced":
            alpha = 0.5  # D5: 1/L for L = 2
        return nfa_claim(alpha, threshold, lam_policy="zero" if zero else "positive")
    if claim == "balance":
        return balance_claim(decay=not zero)
    return fact_claim("F1")


def run_family(
    family: str, claim: str = "nfa", *, alpha: float | None = None, threshold: float = 0.9,
    seed: int = 0, quick: bool = False, dps: int = CERT_DPS,
) -> FamilyResult:  # fmt: skip
    """Run a built-in family against ``claim`` ("nfa", "fact" or "balance")."""
    c = family_claim(family, claim, alpha, threshold)
    return FAMILIES[family][0](c, seed=check_seed(seed, "seed"), quick=quick, dps=dps)


def _certificate_files(cert: Certificate, stem: str) -> dict[str, bytes]:
    """The certificate's run file and JSON summary as bytes, for the report to write."""
    with tempfile.TemporaryDirectory() as tmp:
        run, summary = save_certificate(cert, Path(tmp) / f"{stem}.npz")
        return {
            Path(run).name: Path(run).read_bytes(),
            Path(summary).name: Path(summary).read_bytes(),
        }


def _fact_rows(cert: Certificate) -> str:
    """FACT at a certificate's point, layer by layer (the entry's own evidence, not the NFA's)."""
    lines = cert.to_text().splitlines()[2:3]  # the witness line: network, gradient, digits
    lines += [
        f"layer {r['layer']}: FACT relative error {r['rel_error']:.3g} (tolerance "
        f"{r['tolerance']:.3g})"
        for r in cert.fact
    ]
    return "\n".join(lines)


def family_report_entries(quick: bool, seed: int = 0) -> list[ReportEntry]:
    """Report entries: every family certified. The FACT entry at the quadratic witness is a
    theorem (theorem=True); the others are known failures or planted claims (REFUTED expected)."""
    entries = []

    def add(res: FamilyResult, title: str, t0: float, theorem: bool = False,
            verdict: Verdict | None = None, reason: str | None = None,
            details: str | None = None, expected: str = "") -> None:  # fmt: skip
        v = verdict or res.verdict
        entry = ReportEntry(
            "Counterexamples", f"{title} [family {res.family}]", "F1" if theorem else
            res.claim.tag, v.value, v.evidence, reason or res.reason,
            f"{CERT_DPS} digits (mpmath)" if res.certificate else "float64 (fixed point)",
            time.perf_counter() - t0, details or res.to_text(), "", res.to_dict(), None, theorem,
            role="" if theorem else "known-failure", expected=expected,
        )  # fmt: skip
        if res.certificate is not None and not theorem:
            entry.attachments = _certificate_files(res.certificate, f"{res.family}-{res.claim.tag}")
        entries.append(entry)

    t0 = time.perf_counter()
    quad = run_family("quadratic", "nfa", seed=seed, quick=quick)
    add(quad, "NFA (best alpha in 1/8..1) fails: quadratic network, anisotropic inputs", t0)
    cert = quad.certificate
    if cert is not None and cert.point.converged and cert.fact:
        ok = all(r["rel_error"] <= r["tolerance"] for r in cert.fact)
        worst = max(r["rel_error"] for r in cert.fact)
        add(quad, "FACT holds at the same certified quadratic witness", time.perf_counter(), True,
            Verdict.NUMERICALLY_CONSISTENT if ok else Verdict.REFUTED,
            f"max relative FACT defect {worst:.3g} at {CERT_DPS} digits, within the F2 bound "
            "plus rounding" if ok else "FACT defect above its tolerance",
            _fact_rows(cert))  # fmt: skip
    for family, claim, title in (
        ("deep-linear-unbalanced", "nfa", "NFA (alpha = 1/2) fails: unbalanced deep linear, "
         "no weight decay"),
        ("deep-linear-unbalanced", "balance", "balancedness fails without weight decay"),
        ("dead-relu", "nfa", "NFA fails: dead ReLU units, no weight decay"),
        ("adamw", "fact", "F1 at the AdamW fixed point: hypothesis not met (not stationary for "
         "L_lam), so FACT is neither confirmed nor refuted there"),
    ):  # fmt: skip
        t0 = time.perf_counter()
        # AdamW's end point is outside FACT's hypothesis: the honest outcome is INCONCLUSIVE
        # ("hypothesis not met"), never REFUTED (FACT is a theorem about stationary points)
        expected = "INCONCLUSIVE" if family == "adamw" else ""
        add(run_family(family, claim, seed=seed, quick=quick), title, t0, expected=expected)
    if not quick:  # FACT soundness under search: a theorem, so REFUTED here would be a bug
        t0 = time.perf_counter()
        # the example budget, never the wall clock, bounds this search (results.json must not
        # depend on machine load; the budget of 20 finishes in ~10-20 s)
        res = search(fact_claim("F1"), budget=20, seed=seed, quiet=True)
        entries.append(ReportEntry(
            "Counterexamples",
            f"FACT is never refuted: Hypothesis search over {res.tried} examples",
            "F1", res.verdict.value, res.verdict.evidence, res.reason, f"{CERT_DPS} digits "
            "(closest call)", time.perf_counter() - t0, res.to_text(False), "",
            res.to_dict(False), None, True,
        ))  # fmt: skip
    return entries
