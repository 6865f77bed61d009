"""factcheck.theory: symbolic derivations (SymPy only; never imports verify).

Each result lives in its own module, named after the result: ``fact/`` (F1-F5),
``deep_linear/`` (``balance``: D1, D4; ``flow``: D2, D3; ``nfa``: D5-D6 from balancedness;
``optimality``: the NFA with alpha = 1/L from stationarity, D4 then D5; ``induction``: D5-D6 for
a symbolic depth),
``kernel_expansion`` (K1, K2 and the residual identity, exact at listed sizes), on the shared
``matrix_calculus`` (gradients never taken on one route's word), ``chain_rule`` (the chain-rule
lemma for symbolic sizes), ``free_algebra`` and ``rewriting`` (identities for all sizes, with
concrete and with symbolic exponents), ``psd_root`` (what a PSD root step checks).
``derivation_checker`` checks a person's own derivation step by step; ``typeset`` renders the
maths as LaTeX (complete documents for pdflatex) and MathML (for the report). The shared records
live in private modules: ``_verdict`` (verdicts, JSON; no SymPy),
``_records`` (claims, steps, derivations), ``_errors`` (the error types; no SymPy) and
``_options`` (the names a user can choose; no SymPy).

The public names are re-exported here lazily (PEP 562): ``import theory`` and
``from theory._errors import InputError`` load no SymPy, so the command line starts fast;
``from theory import derive_fact`` loads its module on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from theory._errors import InputError as InputError
from theory._errors import MatrixCalculusError as MatrixCalculusError
from theory._errors import OutsideAssumptionsError as OutsideAssumptionsError
from theory._errors import bad_input as bad_input
from theory._verdict import Verdict as Verdict
from theory._verdict import to_jsonable as to_jsonable

#: public name -> module that defines it (loaded on first use)
_EXPORTS = {
    "Assumption": "theory._records",
    "Claim": "theory._records",
    "Derivation": "theory._records",
    "Reference": "theory._records",
    "Step": "theory._records",
    "check_flow_variant": "theory.deep_linear.flow",
    "derive_d1": "theory.deep_linear.balance",
    "derive_d4": "theory.deep_linear.balance",
    "derive_flow": "theory.deep_linear.flow",
    "check_deep_linear_variant": "theory.deep_linear.nfa",
    "derive_nfa_balanced": "theory.deep_linear.nfa",
    "derive_nfa_deep_linear": "theory.deep_linear.optimality",
    "derive_nfa_induction": "theory.deep_linear.induction",
    "check_fact_variant": "theory.fact",
    "derive_fact": "theory.fact",
    "f2_statement": "theory.fact",
    "derive_agop_expansion": "theory.kernel_expansion",
    "derive_fact_expansion": "theory.kernel_expansion",
    "derive_residual_identity": "theory.kernel_expansion",
    "gradient": "theory.matrix_calculus",
    "DerivationCheck": "theory.derivation_checker",
    "check_derivation": "theory.derivation_checker",
    "check_derivation_file": "theory.derivation_checker",
    "read_derivation_file": "theory.derivation_checker",
}

__all__ = sorted(
    [
        "InputError",
        "MatrixCalculusError",
        "OutsideAssumptionsError",
        "Verdict",
        "bad_input",
        "to_jsonable",
        *_EXPORTS,
    ]
)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'theory' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
