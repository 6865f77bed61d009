"""What :func:`verify.torch.feature_report` returns: one record per layer and the whole report.

Matrices are float64 NumPy arrays on the CPU (in x in for NFM, FACT, AGOP; out x out for
bFACT). ``to_dict`` gives the numbers (no matrices) for JSON; ``to_text`` a table.

FACT outcomes are the verdicts of :class:`theory.Verdict`, plus :data:`OUTSIDE_HYPOTHESIS` for a
model trained by an optimizer whose fixed points are not stationary points of L_lam (AdamW's
decoupled decay), at a point that is not stationary: FACT makes no claim there, so it is neither
confirmed nor refuted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._records import Verdict
from verify.claims.common import _table

__all__ = ["OUTSIDE_HYPOTHESIS", "FeatureReport", "LayerReport"]

#: the FACT outcome outside the theorem's hypothesis (module docstring)
OUTSIDE_HYPOTHESIS = "OUTSIDE_HYPOTHESIS"


@dataclass
class LayerReport:
    """FACT (F1/F3), bFACT (F4), the F2 bound and the NFA (N1-N3) at one layer."""

    name: str
    kind: str
    shape: tuple[int, int]  # (out, in) of the weight matrix
    rows: int  # samples x positions summed over
    nfm: np.ndarray  # W^T W (N1)
    fact: np.ndarray  # -(1/lam) W^T grad_W L_data (F3 form of F1)
    fact_f1: np.ndarray  # -(1/lam) sum_r (W^T dz_r) u_r^T, the F1 sum assembled by hand
    bfact: np.ndarray  # -(1/lam) grad_W L_data W^T (F4)
    agop: np.ndarray  # (1/n) sum_{i,p} J_ip^T J_ip w.r.t. the layer's input (N1)
    grad_norm: float  # ||grad_W L_lam||_F
    defect: float  # ||W^T W - FACT||_F
    f2_bound: float  # ||W||_F ||grad_W L_lam||_F / lam >= defect (F2)
    rounding: float  # rounding tolerance of the defect (engine's rule)
    fact_rel_error: float
    bfact_rel_error: float
    fact_asymmetry: float  # ||FACT - FACT^T|| / ||FACT|| (F5: 0 at a stationary point)
    f1_gap: float  # ||FACT_F1 - FACT|| / ||FACT||: the two routes agree within rounding
    nfm_norm: float
    alpha: float
    pearson: float  # N3, entries centred by their mean
    cosine: float  # N3, plain cosine
    nfa_tolerance: float
    fact_outcome: str = ""  # a Verdict value or OUTSIDE_HYPOTHESIS
    fact_verdict: Verdict | None = None
    fact_reason: str = ""
    nfa_verdict: Verdict = Verdict.INCONCLUSIVE
    nfa_reason: str = ""

    @property
    def tolerance(self) -> float:
        """F2 bound + rounding: what the FACT defect is compared with at a certified point."""
        return self.f2_bound + self.rounding

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.name,
            "kind": self.kind,
            "shape": list(self.shape),
            "rows": self.rows,
            "fact_outcome": self.fact_outcome,
            "fact_rel_error": self.fact_rel_error,
            "fact_defect": self.defect,
            "fact_bound": self.f2_bound,
            "fact_bound_rel": self.f2_bound / self.nfm_norm if self.nfm_norm else None,
            "tolerance": self.tolerance,
            "grad_norm": self.grad_norm,
            "bfact_rel_error": self.bfact_rel_error,
            "fact_asymmetry": self.fact_asymmetry,
            "f1_f3_gap": self.f1_gap,
            "fact_reason": self.fact_reason,
            "nfa": {
                "verdict": self.nfa_verdict.value,
                "alpha": self.alpha,
                "pearson": self.pearson,
                "cosine": self.cosine,
                "agop": "uncentered",
                "verdict_score": "pearson",
                "tolerance": self.nfa_tolerance,
                "reason": self.nfa_reason,
            },
        }


@dataclass
class FeatureReport:
    """FACT and the NFA in every checked layer of one model at one point (full batch)."""

    layers: list[LayerReport]
    n: int
    lam: float
    optimizer: str
    grad_norm: float  # ||grad L_lam|| over all trainable parameters
    grad_floor: float
    certified: bool
    decay_alignment: float
    fact_outcome: str
    reason: str
    nfa_verdict: Verdict
    nfa_threshold: float
    device: str
    seconds: float
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def fact_verdict(self) -> Verdict | None:
        """The FACT verdict, or None when the point is outside FACT's hypothesis."""
        return None if self.fact_outcome == OUTSIDE_HYPOTHESIS else Verdict(self.fact_outcome)

    def layer(self, name: str) -> LayerReport:
        for x in self.layers:
            if x.name == name:
                return x
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": "FACT: W^T W = -(1/lam) W^T grad_W L_data at a stationary point of L_lam",
            "tag": "F1",
            "fact_outcome": self.fact_outcome,
            "reason": self.reason,
            "nfa_verdict": self.nfa_verdict.value,
            "nfa_threshold": self.nfa_threshold,
            "n": self.n,
            "lam": self.lam,
            "optimizer": self.optimizer,
            "grad_norm": self.grad_norm,
            "grad_floor": self.grad_floor,
            "certified": self.certified,
            "decay_alignment": self.decay_alignment,
            "precision": "float64",
            "device": self.device,
            "seconds": self.seconds,
            "layers": [x.to_dict() for x in self.layers],
            "skipped": [{"layer": a, "reason": b} for a, b in self.skipped],
        }

    def to_text(self) -> str:
        rows = [("layer", "shape", "FACT rel.err", "F2 bound/|W'W|", "bFACT rel", "F1-F3",
                 "Pearson", "cosine", "FACT")]  # fmt: skip
        for x in self.layers:
            norm = x.nfm_norm or 1.0
            rows.append((
                x.name or "(model)", f"{x.shape[0]}x{x.shape[1]}", f"{x.fact_rel_error:.2e}",
                f"{x.f2_bound / norm:.2e}", f"{x.bfact_rel_error:.2e}", f"{x.f1_gap:.1e}",
                f"{x.pearson:.6f}", f"{x.cosine:.6f}", x.fact_outcome,
            ))  # fmt: skip
        state = "certified stationary" if self.certified else "NOT stationary"
        lines = [
            f"[F1] FACT (F3 form, float64, full batch n={self.n}, lam={self.lam:g}): "
            f"{self.fact_outcome}",
            f"point: {state}, ||grad L_lam|| = {self.grad_norm:.3g}, rounding floor "
            f"{self.grad_floor:.3g}; optimizer: {self.optimizer}; device {self.device}",
            _table(rows),
            self.reason,
            f"[N2] NFA (alpha = {self.layers[0].alpha:g}, verdict by Pearson >= "
            f"{self.nfa_threshold:g}): {self.nfa_verdict.value}",
        ]
        lines += [f"  {x.name or '(model)'}: {x.nfa_reason}" for x in self.layers]
        lines += [f"skipped {a}: {b}" for a, b in self.skipped]
        return "\n".join(lines)
