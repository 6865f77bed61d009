"""Verdicts and JSON conversion, without SymPy (so the command line starts fast).

A verdict says how strong the evidence for a claim is:

PROVED                  a symbolic argument valid for all sizes (a symbolic difference reduced
                        to zero);
CERTIFIED               an enclosure (interval or high-precision bound) proves it;
EXACT_AT_SIZES          both sides agree exactly (rational arithmetic) on explicit instances at
                        the listed sizes, but no symbolic argument covers every size;
NUMERICALLY_CONSISTENT  it agrees to stated digits at stated points;
INCONCLUSIVE            the check could not decide (says why and what to change);
REFUTED                 a counterexample, confirmed exactly or at higher precision, with
                        the witness.

:mod:`theory._records` re-exports these names next to the SymPy records (claims, steps,
derivations).
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Verdict", "to_jsonable"]


class Verdict(enum.Enum):
    """How strong the evidence for a claim is (see module docstring)."""

    PROVED = "PROVED"
    CERTIFIED = "CERTIFIED"
    EXACT_AT_SIZES = "EXACT_AT_SIZES"
    NUMERICALLY_CONSISTENT = "NUMERICALLY_CONSISTENT"
    INCONCLUSIVE = "INCONCLUSIVE"
    REFUTED = "REFUTED"

    @property
    def evidence(self) -> str:
        """One line saying what kind of evidence stands behind this verdict."""
        return _EVIDENCE[self]

    @property
    def supports(self) -> bool:
        """True for the verdicts that support the claim (all but INCONCLUSIVE and REFUTED)."""
        return self in (
            Verdict.PROVED,
            Verdict.CERTIFIED,
            Verdict.EXACT_AT_SIZES,
            Verdict.NUMERICALLY_CONSISTENT,
        )

    def __str__(self) -> str:
        return self.value


_EVIDENCE = {
    Verdict.PROVED: "symbolic proof: the difference reduces to zero",
    Verdict.CERTIFIED: "certified: a rigorous or high-precision enclosure",
    Verdict.EXACT_AT_SIZES: "exact at the listed sizes (rational arithmetic), not for all sizes",
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
