"""Verdicts and JSON conversion, without SymPy (so the command line starts fast).

A verdict says how strong the evidence for a claim is:

PROVED                  a symbolic argument valid for all sizes (a symbolic difference reduced
                        to zero);
EXACT_AT_SIZES          exact rational or symbolic checks at the listed sizes only: true at those
                        sizes for all values, but not a proof for every size;
CERTIFIED               an enclosure (interval or high-precision bound) proves it;
NUMERICALLY_CONSISTENT  it agrees to stated digits at stated points;
INCONCLUSIVE            the check could not decide (says why and what to change);
REFUTED                 a counterexample, confirmed exactly or at higher precision, with
                        the witness.

EXACT_AT_SIZES supports the claim (exit status 0, like NUMERICALLY_CONSISTENT): the check
agrees wherever it ran, and it ran exactly. It is visibly weaker than PROVED: its own name in the
command line, the report and the JSON, and an evidence line that says "not a proof for all
sizes". :data:`STRENGTH` orders the verdicts for "the weakest of several" (REFUTED weakest).

:mod:`theory._records` re-exports these names next to the SymPy records (claims, steps,
derivations).
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["STRENGTH", "Verdict", "to_jsonable"]


class Verdict(enum.Enum):
    """How strong the evidence for a claim is (see module docstring)."""

    PROVED = "PROVED"
    EXACT_AT_SIZES = "EXACT_AT_SIZES"
    CERTIFIED = "CERTIFIED"
    NUMERICALLY_CONSISTENT = "NUMERICALLY_CONSISTENT"
    INCONCLUSIVE = "INCONCLUSIVE"
    REFUTED = "REFUTED"

    @property
    def evidence(self) -> str:
        """One line saying what kind of evidence stands behind this verdict."""
        return _EVIDENCE[self]

    @property
    def supports(self) -> bool:
        """True for the verdicts that support the claim (PROVED, EXACT_AT_SIZES, CERTIFIED,
        NUMERICALLY_CONSISTENT); REFUTED and INCONCLUSIVE do not."""
        return self in _SUPPORTING

    def __str__(self) -> str:
        return self.value


_SUPPORTING = frozenset(
    {Verdict.PROVED, Verdict.EXACT_AT_SIZES, Verdict.CERTIFIED, Verdict.NUMERICALLY_CONSISTENT}
)

#: weakest first: the verdict of several checks together is the one with the lowest strength
STRENGTH = {
    Verdict.REFUTED: 0,
    Verdict.INCONCLUSIVE: 1,
    Verdict.NUMERICALLY_CONSISTENT: 2,
    Verdict.CERTIFIED: 3,
    Verdict.EXACT_AT_SIZES: 4,
    Verdict.PROVED: 5,
}

_EVIDENCE = {
    Verdict.PROVED: "symbolic proof valid for all sizes: the difference reduces to zero",
    Verdict.EXACT_AT_SIZES: (
        "exact rational checks at the listed sizes only, not a proof for all sizes"
    ),
    Verdict.CERTIFIED: "certified: a rigorous or high-precision enclosure",
    Verdict.NUMERICALLY_CONSISTENT: "numerical: agrees to the stated digits at the stated points",
    Verdict.INCONCLUSIVE: "undecided: see the reason for what to change",
    Verdict.REFUTED: "counterexample confirmed exactly or at higher precision",
}


def to_jsonable(obj: Any) -> Any:
    """Convert SymPy objects, NumPy arrays and tuples into JSON-able Python data."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if obj == obj and abs(obj) != float("inf") else repr(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    sp = sys.modules.get("sympy")  # a SymPy object exists only if SymPy is loaded: never import it
    if sp is not None and isinstance(obj, sp.MatrixBase):
        return [[to_jsonable(v) for v in obj.row(i)] for i in range(obj.rows)]
    if sp is not None and isinstance(obj, sp.Basic):
        if obj.is_Integer:
            return int(obj)
        return str(obj)
    if hasattr(obj, "tolist"):
        return to_jsonable(obj.tolist())
    if isinstance(obj, Sequence):
        return [to_jsonable(v) for v in obj]
    return str(obj)
