"""Recursive Feature Machines (REFERENCE section 5): AGOP, FACT of a kernel machine, M updates.

A kernel machine with metric ``M = W^T W`` depends on x only through ``W x``, so it is a network
whose first layer is W, and the quantities of sections 1-2 are defined for it, with the centres
x_j and the coefficients alpha held fixed:

* AGOP (N1) ``= (1/n) sum_i sum_c grad f_c(x_i) grad f_c(x_i)^T`` at the training points.
* FACT (F1) ``= -(1/(n lam)) sum_i grad_x l_i x_i^T`` with the square loss
  ``l_i = |f(x_i) - y_i|^2 / 2``, so ``grad_x l_i = sum_c (f_c(x_i) - y_ic) grad f_c(x_i)``.
  Here ``r`` is the KRR ridge and ``lam`` is the weight decay that F1 attaches to W (a free
  positive number for a kernel machine). The residual identity ``f(x_i) - y_i = -r alpha_i``
  (exact for ``alpha = (K + r I)^{-1} Y``) turns this into
  ``FACT = (r / (n lam)) M S``, with ``S = sum_{i,c} alpha_ic u_ic x_i^T`` and
  ``grad f_c(x_i) = M u_ic``. For inner-product kernels S is S_k' of K2; for distance kernels
  ``S = X^T (diag(Q 1) - Q^T) X`` with ``Q = G o (A A^T)`` (a graph Laplacian of the pair weights).

The positive factor ``r / lam`` cannot change a normalised update, and it is 0 at ridge 0 where
the residuals vanish. :func:`kernel_fact` therefore returns the *FACT direction* ``M S / n``
computed through alpha (defined at r = 0), or the actual FACT when ``lam`` is given.

Updates (each followed by :func:`normalize_metric`, which divides by the largest eigenvalue so the
top eigenvalue of every iterate is 1, the same as for the starting metric I):

* ``nfa``:            M <- AGOP^s (s = 1/2 default; AGOP optionally centered, N1)
* ``fact``:           M <- (FACT FACT^T)^{1/2}         (F5)
* ``fact-geometric``: M <- (FACT M^2 FACT^T)^{1/4}
* ``fact-inner``:     M <- (FACT M)^{1/2}  (symmetric part; for inner-product kernels FACT M =
  M S_k' M is symmetric, and PSD when [k'(x_i^T M x_j)] is PSD, K2)

Each exponent makes ``FACT = M`` a fixed point (checked by :func:`fixed_point_residuals`).
Matrix powers use the symmetric eigendecomposition with negative eigenvalues clipped to 0 (N3).

This module holds the RFM loop; AGOP, FACT and the updates live in :mod:`verify.rfm.features`
and the float64 checks of K1, K2 and K3 in :mod:`verify.rfm.expansion`, both re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.engine.linalg import psd_power  # the toolkit's one PSD power (N3), re-exported
from verify.rfm.expansion import check_kernel_expansion, feature_agreement, tau_kprime_r2
from verify.rfm.features import (
    METHODS,
    _agop,
    _fact,
    _targets,
    agop,
    feature_update,
    fixed_point_residuals,
    kernel_fact,
    normalize_metric,
)
from verify.rfm.kernels import Kernel, KernelMachine, _as_matrix, _fit, check_metric

__all__ = [
    "METHODS",
    "RFMResult",
    "agop",
    "accuracy",
    "check_kernel_expansion",
    "feature_agreement",
    "feature_update",
    "fixed_point_residuals",
    "kernel_fact",
    "normalize_metric",
    "psd_power",
    "rfm",
    "tau_kprime_r2",
]


# -- the RFM loop --------------------------------------------------------------------------------
def accuracy(pred: np.ndarray, Y: np.ndarray) -> float:
    """Argmax agreement for several outputs; sign agreement (labels +-1) for one output."""
    if pred.shape[1] > 1:
        return float(np.mean(pred.argmax(axis=1) == Y.argmax(axis=1)))
    return float(np.mean(np.sign(pred[:, 0]) == np.sign(Y[:, 0])))


@dataclass
class RFMResult:
    """History of an RFM run: entry t is the fit after t feature updates (t = 0: plain kernel)."""

    method: str
    kernel: Kernel
    ridge: float
    machine: KernelMachine
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    train_mse: list[float] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)
    solvers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def M(self) -> np.ndarray:
        return self.machine.M

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kernel": self.kernel.kind,
            "bandwidth": self.kernel.bandwidth,
            "ridge": self.ridge,
            "iterations": len(self.train_acc) - 1,
            "train_acc": self.train_acc,
            "test_acc": self.test_acc,
            "train_mse": self.train_mse,
            "test_mse": self.test_mse,
            "solvers": sorted(set(self.solvers)),
            "seconds": round(self.seconds, 3),
        }


def rfm(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    method: str = "nfa",
    kernel: Kernel | None = None,
    ridge: float = 0.0,
    iters: int = 5,
    s: float = 0.5,
    centered: bool = False,
    X_test: np.ndarray | None = None,
    Y_test: np.ndarray | None = None,
    M0: np.ndarray | None = None,
    on_iter: Callable[[int, KernelMachine, dict[str, float]], None] | None = None,
) -> RFMResult:
    """Run RFM: fit KRR with metric M, update M by ``method``, ``iters`` times, then fit again.

    ``method="kernel"`` fits once with ``M0`` (the plain kernel). ``on_iter(t, machine, record)``
    is called after every fit (record: the accuracies and errors of that fit).
    """
    if method not in METHODS:
        raise bad_input("method", f"be one of {', '.join(METHODS)}", method, "Pick a method.")
    if int(iters) != iters or iters < 0:
        raise bad_input("iters", "be an integer >= 0", iters, "Pass e.g. --iters 5.")
    if not (np.isfinite(s) and 0 < s <= 4):  # why 4: verify.rfm.inputs.S_MAX
        raise bad_input("s", "be in (0, 4] (the AGOP exponent; 1/2 and 1 are usual)", s,
                        "Use s = 0.5 or 1.")  # fmt: skip
    if not (np.isfinite(ridge) and ridge >= 0):
        raise bad_input("ridge", "be a finite number >= 0", ridge, "Pass e.g. --ridge 0 or 1e-3.")
    kernel = Kernel() if kernel is None else kernel
    X = _as_matrix("X", X, "Pass the inputs as an n x d array.")
    Y = _targets("Y", Y, X.shape[0])
    if (X_test is None) != (Y_test is None):
        raise bad_input(
            "X_test/Y_test",
            "be given together",
            "only one of them",
            "Pass both test arrays or neither.",
        )
    if X_test is not None:
        X_test = _as_matrix("X_test", X_test, "Pass the test inputs as an m x d array.")
        if X_test.shape[1] != X.shape[1]:
            raise bad_input(
                "X_test",
                f"have {X.shape[1]} columns like X",
                f"shape {X_test.shape}",
                "Use the same features.",
            )
        Y_test = _targets("Y_test", np.asarray(Y_test), X_test.shape[0])
    M = check_metric(M0, X.shape[1])
    iters = 0 if method == "kernel" else int(iters)

    start = time.perf_counter()
    result: RFMResult | None = None
    for t in range(iters + 1):
        K, G = kernel.matrix_and_weights(X, X, M, same=True)
        machine = _fit(kernel, M, X, Y, float(ridge), K)
        pred = K @ machine.alpha
        del K
        record = {"train_acc": accuracy(pred, Y), "train_mse": float(np.mean((pred - Y) ** 2))}
        if X_test is not None and Y_test is not None:
            pt = machine.predict(X_test)
            record["test_acc"] = accuracy(pt, Y_test)
            record["test_mse"] = float(np.mean((pt - Y_test) ** 2))
        if result is None:
            result = RFMResult(method, kernel, float(ridge), machine)
        result.machine = machine
        result.solvers.append(machine.solver)
        for key, value in record.items():
            getattr(result, key).append(value)
        if on_iter is not None:
            on_iter(t, machine, record)
        if t < iters:
            if method == "nfa":
                M = feature_update("nfa", M, agop_matrix=_agop(machine, X, G, centered), s=s)
            else:
                M = feature_update(method, M, fact=_fact(machine, G))
        del G
    assert result is not None
    result.seconds = time.perf_counter() - start
    return result
