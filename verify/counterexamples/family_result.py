"""The record of a counterexample family run (:class:`FamilyResult`) and its shared helpers.

A family (verify.counterexamples.families) trains a sequence of members over one parameter,
certifies the last (or worst) member at 50 digits and reports the sequence, the certificate and
a verdict; this record holds all three and renders them as text or JSON.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._verdict import Verdict
from verify.counterexamples.certify import Certificate
from verify.counterexamples.claims import Claim, Witness, nfa_claim
from verify.engine.network import Problem

__all__ = ["FamilyResult"]


@dataclass
class FamilyResult:
    """A family run: the sequence over its parameter, the certified witness, and a verdict."""

    family: str
    claim: Claim
    verdict: Verdict
    reason: str
    parameter: str
    sequence: list[dict[str, Any]]
    certificate: Certificate | None
    extra: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    point: tuple[Problem, np.ndarray] | None = None  # uncertified end point (adamw)
    #: "" or "hypothesis_not_met": the claim's hypothesis fails at the point (e.g. AdamW's fixed
    #: point is not stationary for L_lam), so the claim is neither confirmed nor refuted there
    outcome: str = ""

    def __post_init__(self) -> None:
        # a refutation needs its certificate (a witness certified at 50 digits, re-checked at 70)
        if self.verdict is Verdict.REFUTED and self.certificate is None:
            raise ValueError(f"family {self.family}: REFUTED without a certificate")
        if (
            self.certificate is not None
            and self.verdict is Verdict.REFUTED
            and (self.certificate.verdict is not Verdict.REFUTED)
        ):
            raise ValueError(f"family {self.family}: REFUTED but its certificate is not")

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "outcome": self.outcome or None,
            "claim": self.claim.name,
            "tag": self.claim.tag,
            "statement": self.claim.statement,
            "verdict": self.verdict.value,
            "evidence": self.verdict.evidence,
            "reason": self.reason,
            "parameter": self.parameter,
            "sequence": self.sequence,
            "certificate": self.certificate.to_dict() if self.certificate else None,
            **self.extra,
        }

    def to_text(self) -> str:
        lines = [f"family {self.family}: {self.claim.statement}",
                 f"verdict: {self.verdict.value} - {self.reason}"]  # fmt: skip
        if self.outcome:
            lines.insert(1, f"outcome: {self.outcome.replace('_', ' ')} (not a refutation)")
        if self.sequence:
            keys = list(self.sequence[0])
            lines.append("  ".join(keys))
            for row in self.sequence:
                lines.append("  ".join(_fmt(row[k]) for k in keys))
        if self.certificate is not None:
            lines.append(self.certificate.to_text())
        for k, v in self.extra.items():
            if isinstance(v, str):
                lines.append(f"{k}: {v}")
        return "\n".join(lines)


def _fmt(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def _best_corr(problem: Problem, theta: np.ndarray, layer: int = 1) -> dict[str, float]:
    data = nfa_claim(None, 0.5, layers=(layer,)).score(Witness(problem, theta)).data
    row = data["layers"][0]
    return {"best_correlation": float(row["best_correlation"]), "best_alpha": row["best_alpha"]}


def _from_certificate(family: str, claim: Claim, param: str, seq: list[dict[str, Any]],
                      cert: Certificate, t0: float, **extra: Any) -> FamilyResult:  # fmt: skip
    return FamilyResult(family, claim, cert.verdict, cert.reason, param, seq, cert, extra,
                        time.perf_counter() - t0)  # fmt: skip
