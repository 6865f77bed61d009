"""RFM on small tabular sets (REFERENCE section 5): scikit-learn's bundled classification data.

:func:`run_tabular` compares the plain Laplace kernel with NFA- and FACT-RFM over fixed random
splits; scikit-learn is an optional extra (``pip install '.[tabular]'`` from the source tree).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.base.validate import check_seed
from verify.rfm import TABULAR_DATASETS
from verify.rfm.inputs import Progress, _check_methods
from verify.rfm.kernels import Kernel
from verify.rfm.machine import rfm

__all__ = ["TABULAR_DATASETS", "TabularResult", "run_tabular"]


def _load_tabular(name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn import datasets
    except ModuleNotFoundError as exc:  # optional extra
        raise bad_input(
            "tabular datasets",
            "come from scikit-learn's bundled data",
            "scikit-learn not installed",
            "from the source tree, pip install '.[tabular]' (or pip install scikit-learn).",
        ) from exc
    loader = getattr(datasets, f"load_{name}")
    data = loader()
    return np.asarray(data.data, dtype=np.float64), np.asarray(data.target)


@dataclass
class TabularResult:
    """Test accuracy (%) per dataset and method over fixed random splits."""

    settings: dict[str, Any]
    rows: list[dict[str, Any]]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        means: dict[str, float] = {}
        for method in dict.fromkeys(r["method"] for r in self.rows):
            means[method] = float(
                np.mean([r["mean_acc"] for r in self.rows if r["method"] == method])
            )
        return {
            "experiment": "tabular",
            "settings": self.settings,
            "rows": self.rows,
            "mean_over_datasets": means,
            "seconds": round(self.seconds, 2),
        }

    def table(self) -> str:
        """A Markdown table for the README."""
        lines = [
            "| dataset | n | d | classes | method | test acc % (mean +- s.e.) |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r['dataset']} | {r['n']} | {r['d']} | {r['classes']} | "
                f"{r['method']} | {r['mean_acc']:.2f} +- {r['stderr']:.2f} |"
            )
        return "\n".join(lines)


def run_tabular(
    *,
    datasets: Sequence[str] = TABULAR_DATASETS,
    methods: Sequence[str] = ("kernel", "nfa", "fact"),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    test_fraction: float = 0.2,
    iters: int = 5,
    bandwidth: float = 10.0,
    ridge: float = 1e-3,
    progress: Progress | None = None,
) -> TabularResult:
    """Laplace-kernel RFM on scikit-learn's bundled sets; features standardised on the train split.

    Split s: a random permutation from ``default_rng(seed)``, the first ``test_fraction`` for
    testing. One-hot targets, argmax accuracy; the model after the last iteration is reported.
    """
    methods = _check_methods(methods)
    seeds = [check_seed(seed, "seeds") for seed in seeds]
    if not seeds:
        raise bad_input("seeds", "name at least one split seed", seeds, "Pass e.g. --seeds 0 1.")
    for name in datasets:
        if name not in TABULAR_DATASETS:
            raise bad_input(
                "dataset",
                f"be one of {', '.join(TABULAR_DATASETS)}",
                name,
                "Pick a bundled dataset.",
            )
    if not 0 < test_fraction < 1:
        raise bad_input(
            "test_fraction", "be strictly between 0 and 1", test_fraction, "Pass e.g. 0.2."
        )
    start = time.perf_counter()
    rows = []
    for name in datasets:
        Xraw, labels = _load_tabular(name)
        classes = np.unique(labels)
        Yraw = (labels[:, None] == classes[None, :]).astype(np.float64)
        for method in methods:
            accs = []
            for seed in seeds:
                perm = np.random.default_rng(seed).permutation(len(labels))
                n_test = int(round(test_fraction * len(labels)))
                te, tr = perm[:n_test], perm[n_test:]
                mu, sd = Xraw[tr].mean(0), Xraw[tr].std(0)
                sd[sd == 0] = 1.0
                out = rfm(
                    (Xraw[tr] - mu) / sd,
                    Yraw[tr],
                    method=method,
                    ridge=ridge,
                    kernel=Kernel("laplace", bandwidth),
                    iters=iters,
                    X_test=(Xraw[te] - mu) / sd,
                    Y_test=Yraw[te],
                )
                accs.append(100.0 * out.test_acc[-1])
            rows.append(
                {
                    "dataset": name,
                    "n": int(len(labels)),
                    "d": int(Xraw.shape[1]),
                    "classes": int(len(classes)),
                    "method": method,
                    "mean_acc": float(np.mean(accs)),
                    "stderr": float(np.std(accs, ddof=1) / np.sqrt(len(accs)))
                    if len(accs) > 1
                    else 0.0,
                    "accs": [round(a, 2) for a in accs],
                }
            )
            if progress:
                progress(f"tabular {name} {method}: {np.mean(accs):.2f}%")
    settings = {
        "kernel": "laplace",
        "bandwidth": bandwidth,
        "ridge": ridge,
        "iters": iters,
        "seeds": list(seeds),
        "test_fraction": test_fraction,
        "standardise": "train-split mean and std",
        "targets": "one-hot, argmax",
    }
    return TabularResult(settings, rows, time.perf_counter() - start)
