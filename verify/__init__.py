"""factcheck.verify: numerical verification (NumPy, SciPy, mpmath); may import theory.

A map of the parts, bottom to top; a part imports only from the parts above it in this list
(tests/test_layout.py checks it), and theory/ (symbolic, SymPy only) sits below them all:

    base             records (ReportEntry), atomic files, the SVG plotter, BLAS threads
    engine           networks, exact backprop, float64/mpmath/ball-arithmetic backends, the
                     per-entry rounding floor, training to certified stationary points,
                     Hessian, high-precision Newton, run files
    claims           FACT (F1-F5) and NFA (N1-N3) checks at a point, their tolerances and
                     verdict rules, and CERTIFIED enclosures
    strategies       Hypothesis strategies: networks, converged networks, run files
    deep_linear      gradient flow of deep linear networks (D1-D7)
    counterexamples  claims as scores, certified witnesses, search, built-in families
    rfm              Recursive Feature Machines and their experiments (K1-K3)
    torch            the PyTorch bridge: FACT and the NFA on a user's own model (optional extra)
    emergence        feature emergence from input structure (S1-S6), with RFM on the same data
    sweep            a task over a grid of parameters on dask.distributed, in a resumable store
    report           ``factcheck report``: every entry into HTML, Markdown and JSON
    exercises        the graded exercises of notebooks/exercises.py (beside report)
    cli              the ``factcheck`` command, one module per subcommand

deep_linear, counterexamples, rfm and torch form one middle layer: they import base, engine,
claims and strategies, never each other; emergence sits above them because it runs RFM on its
own data.

The public API is re-exported here lazily (PEP 562): ``import verify`` loads nothing heavy, so
the command-line tool can set its BLAS defaults before NumPy is first imported, and
``from verify import train, check_fact`` loads each module on first use. Library users get
NumPy's own BLAS threading; for the single-thread default of the command line (faster for the
toolkit's small matrices), call ``verify.base.blas.set_blas_threads(1)`` before importing NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

from verify.base.records import ReportEntry
from verify.base.version import __version__

#: public name -> module that defines it
_EXPORTS = {
    "MLP": "verify.engine.network",
    "Problem": "verify.engine.network",
    "backprop": "verify.engine.network",
    "gradient": "verify.engine.network",
    "input_jacobians": "verify.engine.network",
    "mp_backend": "verify.engine.network",
    "Status": "verify.engine.train",
    "TrainResult": "verify.engine.train",
    "evaluate": "verify.engine.train",
    "refine_mp": "verify.engine.train",
    "synthetic_problem": "verify.engine.train",
    "train": "verify.engine.train",
    "layer_features": "verify.claims.features",
    "nfa_score": "verify.claims.features",
    "correlation": "verify.claims.features",
    "check_fact": "verify.claims.checks",
    "check_nfa": "verify.claims.checks",
    "check_f2": "verify.claims.f2",
    "save_run": "verify.engine.runfile",
    "load_run": "verify.engine.runfile",
    "run_flow": "verify.deep_linear.flow",
    "search": "verify.counterexamples",
    "check_conjecture": "verify.counterexamples.conjecture",
    "certify": "verify.counterexamples",
    "fact_claim": "verify.counterexamples",
    "nfa_claim": "verify.counterexamples",
    "run_family": "verify.counterexamples.families",
    "run_modular": "verify.rfm.experiments",
    "run_parity": "verify.rfm.experiments",
    "run_tabular": "verify.rfm.experiments",
    "run_report": "verify.report.builder",
}

__all__ = ["ReportEntry", "__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
