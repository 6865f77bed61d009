"""factcheck.theory: symbolic derivations (SymPy only; never imports verify)."""

from theory._errors import InputError, MatrixCalculusError, OutsideAssumptionsError, bad_input
from theory._records import Assumption, Claim, Derivation, Reference, Step, Verdict, to_jsonable

__all__ = [
    "Assumption",
    "Claim",
    "Derivation",
    "InputError",
    "MatrixCalculusError",
    "OutsideAssumptionsError",
    "Reference",
    "Step",
    "Verdict",
    "bad_input",
    "to_jsonable",
]
