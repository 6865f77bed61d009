"""Built-in example sweeps (``factcheck sweep NAME``), small enough for a laptop.

- ``nfa-violation``: where the NFA (N2) fails for two-layer networks, over activation x weight
  decay x width; each point is ``factcheck verify nfa`` with the best exponent over the check's
  grid (so a violation means no exponent works), re-checked at higher precision before REFUTED.
  The heatmap of ``nfa_violation`` = 1 - Pearson has widths as columns.
- ``parity-transition``: the sparse-parity phase transition of NFA-RFM and FACT-RFM over the
  sample size n (d = 30, k = 3 hidden coordinates, three seeds; REFERENCE section 5).
- ``fact-gd``: the FACT defect (F1, F2) against training iterations, for gradient descent with
  the papers' protocol and for certified training (L-BFGS, then Newton), three seeds.
- ``quadratic-nfa``: the quadratic counterexample family (REFERENCE section 6) over kappa, each
  member certified at 50 digits.

``factcheck sweep NAME --print-spec`` prints an example as a TOML spec to copy and edit.
"""

from __future__ import annotations

from typing import Any

from theory._errors import bad_input
from verify.sweep.spec import SweepSpec

__all__ = ["EXAMPLES", "example"]

#: name -> the spec as TOML would give it
EXAMPLES: dict[str, dict[str, Any]] = {
    "nfa-violation": {
        "task": "verify-nfa",
        "seeds": [0],
        "record": ["nfa_violation", "pearson", "alpha_used", "fact_rel_error", "certified"],
        "grid": {
            "activation": ["tanh", "softplus", "relu", "quadratic"],
            "lam": [1e-3, 1e-2, 1e-1],
            "width": [4, 8, 16],
        },
        "fixed": {"alpha": 0.5, "n": 32, "d": 4, "outputs": 2},
        "plot": {"kind": "heatmap", "x": "width"},
    },
    "parity-transition": {
        "task": "rfm-parity",
        "seeds": [0, 1, 2],
        "record": ["test_acc", "top_eigvec_hidden_mass", "hidden_trace_share"],
        "grid": {"method": ["nfa", "fact"], "n": [125, 250, 500, 1000, 2000]},
        "fixed": {"d": 30, "k": 3, "iters": 5},
        "plot": {"kind": "line", "x": "n"},
    },
    "fact-gd": {
        "task": "fact-gd",
        "seeds": [0, 1, 2],
        "record": ["fact_rel_error", "f2_bound_rel", "grad_norm", "certified"],
        "grid": {
            "optimizer": ["gd", "certified"],
            "iters": [1, 3, 10, 30, 100, 300, 1000, 3000, 10000],
        },
        "fixed": {"activation": "tanh", "width": 8, "lam": 1e-2},
        "plot": {"kind": "line", "x": "iters"},
    },
    "quadratic-nfa": {
        "task": "counterexample",
        "seeds": [0],
        "record": ["best_correlation", "violation", "fact_rel_error", "certified"],
        "grid": {"scale": [1.0, 3.0, 10.0, 30.0, 100.0, 316.0]},
        "fixed": {"family": "quadratic", "claim": "nfa"},
        "plot": {"kind": "line", "x": "scale"},
    },
}


def example(name: str) -> SweepSpec:
    if name not in EXAMPLES:
        raise bad_input(
            "SPEC",
            f"be a TOML file or a built-in example ({', '.join(EXAMPLES)})",
            name,
            "See factcheck sweep --list.",
        )
    return SweepSpec.from_mapping({"name": name, **EXAMPLES[name]}, source=f"example {name}")
