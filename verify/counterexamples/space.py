"""The counterexample search space: network specs, drawn and shrunk by Hypothesis.

A candidate is a :class:`verify.strategies.NetworkSpec` (activation, widths, input distribution,
target, weight decay, initialisation, seed, optional rounding of the data), which builds its
problem deterministically; :class:`SearchSpace` (:class:`verify.strategies.NetworkSpace`) says
where candidates come from, and :func:`candidates` is the Hypothesis strategy the search runs.
Choices are listed simplest first, so Hypothesis shrinks a witness toward few samples, small
widths and input dimension, the first activation, seed 0 and data rounded to 2 significant
digits. ``Candidate`` and ``SearchSpace`` are the search's names for the strategies' records.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from verify.counterexamples.claims import Claim, _linear_only
from verify.strategies import (
    ACTIVATION_CHOICES,
    INPUT_CHOICES,
    TARGET_CHOICES,
    NetworkSpace,
    NetworkSpec,
    specs,
)

__all__ = [
    "ACTIVATION_CHOICES",
    "DEFAULT_SPACE",
    "INPUT_CHOICES",
    "TARGET_CHOICES",
    "Candidate",
    "SearchSpace",
    "candidates",
    "space_summary",
    "spec_changes",
]

Candidate = NetworkSpec
SearchSpace = NetworkSpace

#: the default search: every activation (ReLU draws that do not certify are skipped and
#: counted), depth 2-3, widths up to 6, d up to 5, 16-48 samples, lam in 1e-5..1e-1, one or two
#: outputs, data in float64 or rounded to 2 significant digits (the simpler, so shrinking
#: prefers it)
DEFAULT_SPACE = NetworkSpace(digits=(2, None))


def candidates(claim: Claim, space: SearchSpace | None = None) -> st.SearchStrategy[NetworkSpec]:
    """Specs for ``claim``: deep linear ones for a linear-only claim (balancedness), lam = 0
    for a claim about lam = 0, else drawn from ``space`` (default :data:`DEFAULT_SPACE`)."""
    return specs(space or DEFAULT_SPACE, linear_only=claim.applies is _linear_only,
                 zero_lam=claim.lam_policy == "zero")  # fmt: skip


def space_summary(cands: list[NetworkSpec]) -> dict[str, Any]:
    """What was actually tried (activations, sizes, data, lam range)."""
    if not cands:
        return {}
    lams = [c.lam for c in cands]
    return {
        "activations": sorted({c.activation for c in cands}),
        "depths": sorted({c.depth for c in cands}),
        "widths": sorted({w for c in cands for w in c.widths}),
        "input dims": sorted({c.d for c in cands}),
        "inputs": sorted({c.inputs for c in cands}),
        "targets": sorted({c.target for c in cands}),
        "lam range": [min(lams), max(lams)],
        "samples": sorted({c.n for c in cands}),
        "data digits": sorted({str(c.digits or "float64") for c in cands}),
        "inits": "Gaussian, first/last layer scaled by 1/e..e",
    }


def spec_changes(first: NetworkSpec, small: NetworkSpec) -> list[str]:
    """How shrinking changed the first failing candidate, field by field."""
    a, b = first.to_dict(), small.to_dict()
    return [f"{k} {_fmt(a[k])}->{_fmt(b[k])}" for k in a if a[k] != b[k]]


def _fmt(x: Any) -> str:
    return f"{x:.3g}" if isinstance(x, float) else str(x)
