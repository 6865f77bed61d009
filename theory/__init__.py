"""factcheck.theory: symbolic derivations (SymPy only; never imports verify).

Each result lives in its own module, named after the result: ``fact`` (F1-F5),
``deep_linear_balance`` (D1-D4), ``deep_linear_nfa`` (D5-D6), ``kernel_expansion`` (K1, K2 and
the residual identity), on the shared ``matrix_calculus`` (gradients never taken on one route's
word). ``derivation_check`` and ``derivation_file`` check a person's own derivation step by step.
The public functions and the shared records are re-exported here.
"""

from theory._errors import InputError, MatrixCalculusError, OutsideAssumptionsError, bad_input
from theory._records import Assumption, Claim, Derivation, Reference, Step, Verdict, to_jsonable
from theory.deep_linear_balance import check_flow_variant, derive_d1, derive_d4, derive_flow
from theory.deep_linear_nfa import (
    check_deep_linear_variant,
    derive_nfa_deep_linear,
    derive_nfa_induction,
)
from theory.derivation_check import DerivationCheck, check_derivation
from theory.derivation_file import check_derivation_file, read_derivation_file
from theory.fact import check_fact_variant, derive_fact, f2_statement
from theory.kernel_expansion import (
    derive_agop_expansion,
    derive_fact_expansion,
    derive_residual_identity,
)
from theory.matrix_calculus import gradient

__all__ = [
    "Assumption",
    "Claim",
    "Derivation",
    "DerivationCheck",
    "InputError",
    "MatrixCalculusError",
    "OutsideAssumptionsError",
    "Reference",
    "Step",
    "Verdict",
    "bad_input",
    "check_deep_linear_variant",
    "check_derivation",
    "check_derivation_file",
    "check_fact_variant",
    "check_flow_variant",
    "derive_agop_expansion",
    "derive_d1",
    "derive_d4",
    "derive_fact",
    "derive_fact_expansion",
    "derive_flow",
    "derive_nfa_deep_linear",
    "derive_nfa_induction",
    "derive_residual_identity",
    "f2_statement",
    "gradient",
    "read_derivation_file",
    "to_jsonable",
]
