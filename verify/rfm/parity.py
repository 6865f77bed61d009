"""Sparse parity with RFM (REFERENCE section 5): accuracy against n, mass on hidden coordinates.

The label of x in {-1, 1}^d is the product of k hidden coordinates. :func:`run_parity` trains
RFM with a Laplace kernel at each sample size on one shared test set and records where the
learned metric M puts its mass. Settings are the function defaults; seeds are fixed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.base.validate import check_seed
from verify.rfm.inputs import Progress, _check_methods, _check_rfm_memory, _positive_int
from verify.rfm.kernels import Kernel
from verify.rfm.machine import rfm

__all__ = ["ParityResult", "run_parity", "sparse_parity_data"]


def sparse_parity_data(
    n: int, d: int, hidden: Sequence[int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs uniform in {-1, 1}^d; label = product of the hidden coordinates (n x 1)."""
    X = rng.choice(np.array([-1.0, 1.0]), size=(n, d))
    return X, np.prod(X[:, list(hidden)], axis=1, keepdims=True)


def _hidden_mass(M: np.ndarray, hidden: Sequence[int]) -> tuple[float, float]:
    """Share of trace(M) on the hidden coordinates, and how much the top-k eigenvectors live there.

    The second number is ``sum_{i<=k} lambda_i |P_h v_i|^2 / sum_{i<=k} lambda_i`` (top k
    eigenpairs, P_h the projection on the hidden coordinates): weighting by the eigenvalues keeps
    it meaningful when M collapses to rank one along the sum of the hidden coordinates (a single
    feature that already determines the parity, and what FACT-RFM tends to learn).
    """
    h = list(hidden)
    w, V = np.linalg.eigh(M)
    w, V = np.clip(w[::-1][: len(h)], 0.0, None), V[:, ::-1][:, : len(h)]
    mass = np.sum(V[h] ** 2, axis=0)
    share = float(np.trace(M[np.ix_(h, h)]) / np.trace(M))
    return share, float(mass @ w / np.sum(w))


@dataclass
class ParityResult:
    """Test accuracy against sample size for each method, and where M puts its mass."""

    d: int
    k: int
    hidden: list[int]
    n_values: list[int]
    settings: dict[str, Any]
    test_acc: dict[str, list[float]] = field(default_factory=dict)
    train_acc: dict[str, list[float]] = field(default_factory=dict)
    hidden_trace_share: dict[str, list[float]] = field(default_factory=dict)
    top_eigvec_hidden_mass: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    def transition(self, method: str, level: float = 0.95) -> int | None:
        """Smallest n whose test accuracy is >= level (None if none)."""
        for n, acc in zip(self.n_values, self.test_acc[method], strict=True):
            if acc >= level:
                return n
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": "sparse parity",
            "d": self.d,
            "k": self.k,
            "hidden": self.hidden,
            "n_values": self.n_values,
            "settings": self.settings,
            "test_acc": self.test_acc,
            "train_acc": self.train_acc,
            "transition_n_test_acc_ge_0.95": {m: self.transition(m) for m in self.test_acc},
            "hidden_trace_share": self.hidden_trace_share,
            "top_eigvec_hidden_mass": self.top_eigvec_hidden_mass,
            "definitions": {
                "hidden_trace_share": "trace of M on the hidden coordinates / trace(M)",
                "top_eigvec_hidden_mass": "eigenvalue-weighted mean over the top-k eigenvectors "
                "of their squared mass on the hidden coordinates",
            },
            "seconds": round(self.seconds, 2),
        }


def run_parity(
    *,
    d: int = 50,
    k: int = 3,
    n_values: Sequence[int] = (500, 1000, 2000, 4000, 8000),
    methods: Sequence[str] = ("nfa", "fact"),
    iters: int = 5,
    bandwidth: float = 10.0,
    ridge: float = 1e-3,
    n_test: int = 2000,
    seed: int = 0,
    progress: Progress | None = None,
) -> ParityResult:
    """Sparse parity: RFM with a Laplace kernel at each n; the same test set for every n."""
    d = _positive_int("d", d, 1, "Pass e.g. --d 50.")
    k = _positive_int("k", k, 1, "Pass e.g. --k 3.")
    if k > d:
        raise bad_input("k", f"be <= d = {d} (hidden coordinates)", k, "Lower --k or raise --d.")
    n_values = [_positive_int("n_values", n, 2, "Pass e.g. --n 500 2000.") for n in n_values]
    if not n_values:
        raise bad_input("n_values", "be integers >= 2", n_values, "Pass e.g. --n 500 2000.")
    n_test = _positive_int("n_test", n_test, 1, "Pass e.g. --n-test 2000.")
    check_seed(seed, "seed")
    methods = _check_methods(methods)
    _check_rfm_memory(max(n_values), n_test, d, 1, "n_values", max(n_values),
                      "Use fewer training points (--n) or a smaller --d.")  # fmt: skip
    rng = np.random.default_rng(seed)
    hidden = sorted(int(h) for h in rng.choice(d, size=k, replace=False))
    Xt, Yt = sparse_parity_data(n_test, d, hidden, rng)
    Xall, Yall = sparse_parity_data(max(n_values), d, hidden, rng)
    settings = {
        "kernel": "laplace",
        "bandwidth": bandwidth,
        "ridge": ridge,
        "iters": iters,
        "n_test": n_test,
        "seed": seed,
        "normalisation": "max eigenvalue 1",
    }
    res = ParityResult(d, k, hidden, [int(n) for n in n_values], settings)
    start = time.perf_counter()
    for method in methods:
        for key in ("test_acc", "train_acc", "hidden_trace_share", "top_eigvec_hidden_mass"):
            getattr(res, key)[method] = []
        for n in res.n_values:
            out = rfm(
                Xall[:n],
                Yall[:n],
                method=method,
                kernel=Kernel("laplace", bandwidth),
                ridge=ridge,
                iters=iters,
                X_test=Xt,
                Y_test=Yt,
            )
            share, top = _hidden_mass(out.M, hidden)
            res.test_acc[method].append(out.test_acc[-1])
            res.train_acc[method].append(out.train_acc[-1])
            res.hidden_trace_share[method].append(share)
            res.top_eigvec_hidden_mass[method].append(top)
            if progress:
                progress(
                    f"parity {method} n={n}: test acc {out.test_acc[-1]:.3f} ({out.seconds:.1f} s)"
                )
    res.seconds = time.perf_counter() - start
    return res
