"""Memory rules of the sweep tasks, checked for every point before anything is submitted.

The estimates are the toolkit's own (:mod:`verify.engine.memory` for a trained network,
:func:`verify.rfm.inputs.rfm_bytes` for RFM), compared with the memory limit of the validation
layer (:func:`verify.base.validate.check_memory`: ``--max-memory`` / FACTCHECK_MAX_MEMORY); a grid
with one point too large for a worker is refused as a whole with the point named, instead of
that point failing on a worker after the others have run. The limit applies per point: each
worker runs one point at a time.
"""

from __future__ import annotations

from typing import Any

from verify.base.validate import check_memory

__all__ = ["modular", "network", "parity"]


def network(p: dict[str, Any]) -> None:
    """Training and checking the task's MLP (verify-fact, verify-nfa, fact-gd)."""
    from verify.engine.memory import SizeSummary, check_training_memory

    sizes = SizeSummary.uniform(p["d"], p["width"], p["depth"], p["outputs"], p["bias"])
    check_training_memory(
        sizes, p["n"], activation=p["activation"], argument="sweep point",
        value=f"d={p['d']} width={p['width']} depth={p['depth']} n={p['n']}",
        fix="Lower width, depth, d or n on the grid.",
    )  # fmt: skip


def parity(p: dict[str, Any]) -> None:
    """RFM on sparse parity: n training points, n_test test points, d inputs, one output."""
    from verify.rfm.inputs import rfm_bytes

    check_memory(
        rfm_bytes(p["n"], p["n_test"], p["d"], 1), argument="sweep point",
        value=f"n={p['n']} n_test={p['n_test']} d={p['d']}",
        what=f"RFM on {p['n']:,} training points in dimension {p['d']:,}",
        fix="Lower n or n_test on the grid.",
    )  # fmt: skip


def modular(p: dict[str, Any]) -> None:
    """RFM on modular addition: a share of the p^2 pairs, one-hot inputs (2p) and outputs (p)."""
    from verify.rfm.inputs import rfm_bytes

    q = p["p"]
    n_train = max(1, int(p["train_fraction"] * q * q))
    check_memory(
        rfm_bytes(n_train, q * q, 2 * q, q), argument="sweep point", value=f"p={q}",
        what=f"RFM on {n_train:,} pairs modulo {q:,}", fix="Lower p on the grid.",
    )  # fmt: skip
