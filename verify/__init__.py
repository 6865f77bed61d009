"""factcheck.verify: numerical verification (NumPy, SciPy, mpmath); may import theory.

The public API is re-exported lazily (PEP 562): ``import verify`` loads nothing heavy, so the
command-line tool can set its BLAS defaults before NumPy is first imported. ``verify.train``,
``from verify import check_fact`` and friends load their module on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from verify._report_entry import ReportEntry

#: public name -> module that defines it
_EXPORTS = {
    "MLP": "verify.network",
    "Problem": "verify.network",
    "backprop": "verify.network",
    "gradient": "verify.network",
    "input_jacobians": "verify.network",
    "mp_backend": "verify.network",
    "refine_mp": "verify.train",
    "layer_features": "verify.features",
    "nfa_score": "verify.features",
    "correlation": "verify.features",
    "check_fact": "verify.checks",
    "check_nfa": "verify.checks",
    "check_f2": "verify.fact_numeric",
    "save_run": "verify.runfile",
    "load_run": "verify.runfile",
    "run_flow": "verify.deep_linear_flow",
    "search": "verify.counterexamples",
    "certify": "verify.counterexamples",
    "run_family": "verify.counterexample_families",
    "run_modular": "verify.rfm_experiments",
    "run_parity": "verify.rfm_experiments",
    "run_tabular": "verify.rfm_experiments",
    "run_report": "verify.report",
}

__all__ = ["ReportEntry", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
