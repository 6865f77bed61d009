"""Adapter for counterexample families: one family member per point, certified.

What ``factcheck counterexample --family NAME`` does for its last member, at the member the point
names: the family's builder (verify.counterexamples.families.FAMILY_SPACES: the problem and its
start for the family's parameter and a data seed), float64 training (verify.engine.train.train),
then verify.counterexamples.certify: Newton in mpmath to the 50-digit rounding floor, the claim
scored there, and a violation re-checked at 70 digits before it is REFUTED. A member that does
not certify is INCONCLUSIVE. The claim is verify.counterexamples.families.family_claim (for the
lam = 0 families the NFA at lam = 0 and balancedness as the planted no-decay variant).

Recorded: the claim's ``violation``, ``tolerance`` and ``margin`` (violation - tolerance) at 50
digits, ``best_correlation`` (the NFA's best max(Pearson, cosine) over alpha, worst layer),
``fact_rel_error`` (max over layers; lam > 0 only), ``grad_norm_dps`` and ``certified``.
The ``adamw`` family has no certified witness (its point is a fixed point of AdamW, not a
stationary point) and is not sweepable.
"""

from __future__ import annotations

from typing import Any

from theory._errors import bad_input
from verify.counterexamples.certify import certify
from verify.counterexamples.families import FAMILY_SPACES, family_claim
from verify.engine.train import train

__all__ = ["family_point", "validate"]


def _claim_args(p: dict[str, Any]) -> tuple[str, str, float | None, float]:
    alpha = None if p["alpha"] == "best" else float(p["alpha"])
    return p["family"], p["claim"], alpha, p["threshold"]


def validate(p: dict[str, Any]) -> None:
    """Rules that involve several parameters: the claim must suit the family, kappa >= 1."""
    family, claim, alpha, threshold = _claim_args(p)
    if not threshold < 1:
        raise bad_input(
            "parameter 'threshold'", "be < 1 (a correlation)", threshold, "Pass e.g. 0.9."
        )
    if alpha is not None and claim != "nfa":
        raise bad_input(
            "parameter 'alpha'",
            'be "best" unless the claim is nfa',
            p["alpha"],
            'Drop alpha or set it to "best".',
        )
    family_claim(family, claim, alpha, threshold)
    if family == "quadratic" and p["scale"] < 1:
        raise bad_input(
            "parameter 'scale'",
            "be >= 1 for the quadratic family (kappa, a ratio of input standard deviations)",
            p["scale"],
            "Pass e.g. 10.",
        )


def family_point(p: dict[str, Any]) -> dict[str, Any]:
    family, claim_name, alpha, threshold = _claim_args(p)
    claim = family_claim(family, claim_name, alpha, threshold)
    _, _, build = FAMILY_SPACES[family]
    problem, theta0 = build(p["scale"], p["seed"])
    start = train(problem, theta0=theta0, spectrum="none")
    cert = certify(claim, problem, start.theta, origin={"family": family, "scale": p["scale"]})
    d = cert.to_dict()
    return {
        "verdict": cert.verdict.value,
        "reason": cert.reason,
        "values": {
            "violation": d["violation"],
            "tolerance": d["tolerance"],
            "margin": d["margin"],
            "best_correlation": d["nfa_best_correlation"],
            "fact_rel_error": d["fact_rel_error_max"],
            "grad_norm_dps": d["grad_norm_dps"],
            "certified": 1 if cert.point.converged else 0,
        },
    }
