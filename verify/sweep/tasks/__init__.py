"""The sweep tasks: each is one small adapter from a point's parameters to a record.

A *task* names existing toolkit code that a sweep runs at every point of a grid. Its adapter is a
pure function ``adapter(params: dict) -> dict`` in a module of this package: it calls the
toolkit's own training, certificate and verdict code (nothing is re-implemented) and returns a
record ``{"verdict": str | None, "reason": str, "values": {quantity: number | str | None}}``.
``verdict`` is None for experiments that measure rather than check a claim (RFM). A pure function
of its parameters (fixed seeds, one BLAS thread) gives the same record wherever it runs, so a
task re-run after a worker died is safe.

This module is the registry (:data:`TASKS`): names, parameters with their defaults and rules,
the quantities each record holds, and the adapter as a ``"module:function"`` string, imported on
first use, so listing and validating tasks loads no NumPy. Adding a task is one adapter function
and one :class:`Task` entry here. Still to be written, by the feature that adds its code: a
conjecture task (the conjecture feature).
"""

from __future__ import annotations

import importlib
import math
import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from theory._errors import bad_input
from verify.base.version import __version__
from verify.sweep.tasks.task import Param, Task

__all__ = ["TASKS", "Param", "Task", "get_task", "run_point"]


def _network_params(lam_above_zero: bool) -> tuple[Param, ...]:
    return (
        Param(
            "activation",
            "str",
            "tanh",
            "the hidden activation",
            ("identity", "relu", "tanh", "sigmoid", "softplus", "gelu", "quadratic"),
        ),
        Param("depth", "int", 2, "number of weight matrices L, e.g. 2", minimum=1),
        Param("width", "int", 8, "hidden width, e.g. 8", minimum=1),
        Param("d", "int", 4, "input dimension, e.g. 4", minimum=1),
        Param("n", "int", 32, "number of samples, e.g. 32", minimum=1),
        Param("outputs", "int", 2, "number of outputs c, e.g. 2", minimum=1),
        Param("loss", "str", "mse", "the loss", ("mse", "cross_entropy")),
        Param(
            "lam", "float", 1e-2, "weight decay lam, e.g. 1e-2", minimum=0.0, above=lam_above_zero
        ),
        Param("bias", "bool", False, "whether every layer has a bias: true or false"),
        Param("alpha", "alpha", 0.5, 'NFA exponent: a number > 0, or "best" over the grid'),
        Param(
            "threshold", "float", 0.9, "NFA Pearson threshold in [-1, 1], e.g. 0.9", minimum=-1.0
        ),
        Param("max_iter", "int", 20_000, "L-BFGS iteration budget, e.g. 20000", minimum=1),
        Param("hessian", "bool", False, "Hessian spectrum at the end point: true or false"),
        Param("seed", "int", 0, "seed of data and initialisation (set with seeds)", minimum=0),
    )


_NETWORK_QUANTITIES = (
    "fact_rel_error",
    "f2_bound_rel",
    "bfact_rel_error",
    "pearson",
    "cosine",
    "alpha_used",
    "nfa_violation",
    "grad_norm",
    "certified",
    "iterations",
    "status",
    "fact_verdict",
    "nfa_verdict",
    "hessian_kind",
    "hessian_min_eig",
)

_SEED = Param("seed", "int", 0, "seed (set with seeds)", minimum=0)
#: the RFM feature update of both RFM tasks (the CLI's choices; "fact-inner" is not swept)
_RFM_METHOD = Param(
    "method", "str", "fact", "the feature update", ("nfa", "fact", "fact-geometric", "kernel")
)

#: every task, by name
TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(
            "verify-fact",
            "F1",
            "factcheck verify fact at each point: FACT (F1) in every layer "
            "at a certified stationary point, with the NFA scores",
            "verify.sweep.tasks.network:fact_point",
            _network_params(True),
            _NETWORK_QUANTITIES,
            theorem=True,
            validate="verify.sweep.tasks.limits:network",
        ),
        Task(
            "verify-nfa",
            "N2",
            "factcheck verify nfa at each point: the NFA (N2) in every "
            "layer; pearson and nfa_violation = 1 - pearson are the worst layer's",
            "verify.sweep.tasks.network:nfa_point",
            _network_params(False),
            _NETWORK_QUANTITIES,
            validate="verify.sweep.tasks.limits:network",
        ),
        Task(
            "fact-gd",
            "F2",
            "FACT defect after ITERS steps of full-batch gradient descent "
            "(L2 in the gradient, step 1/||H|| at the start: the papers' protocol) or of "
            "certified training (ITERS L-BFGS iterations, then Newton)",
            "verify.sweep.tasks.network:gd_point",
            (
                *(
                    p
                    for p in _network_params(True)
                    if p.name not in ("alpha", "threshold", "max_iter", "hessian")
                ),
                Param("optimizer", "str", "gd", "the optimiser", ("gd", "certified")),
                Param("iters", "int", 100, "training iterations, e.g. 100", minimum=0),
            ),
            ("fact_rel_error", "f2_bound_rel", "grad_norm", "certified", "steps", "status"),
            theorem=True,
            validate="verify.sweep.tasks.network:validate_gd",
        ),
        Task(
            "counterexample",
            "N2",
            "a counterexample family member (factcheck counterexample "
            "--family): trained, certified at 50 digits, re-checked at 70; scale is the "
            "family's parameter (kappa for quadratic, s for the others)",
            "verify.sweep.tasks.counterexample:family_point",
            (
                Param(
                    "family",
                    "str",
                    "quadratic",
                    "the family",
                    ("quadratic", "deep-linear-unbalanced", "dead-relu"),
                ),
                Param("claim", "str", "nfa", "the claim", ("nfa", "fact", "balance")),
                Param("scale", "float", 10.0, "the family's parameter, e.g. 10", minimum=0.0),
                Param("alpha", "alpha", "best", 'NFA exponent: a number > 0, or "best"'),
                Param(
                    "threshold",
                    "float",
                    0.9,
                    "correlation threshold in (0, 1), e.g. 0.9",
                    minimum=0.0,
                    above=True,
                ),
                _SEED,
            ),
            (
                "violation",
                "tolerance",
                "margin",
                "best_correlation",
                "fact_rel_error",
                "grad_norm_dps",
                "certified",
            ),
            validate="verify.sweep.tasks.counterexample:validate",
        ),
        Task(
            "rfm-parity",
            "RFM",
            "sparse parity with RFM at one sample size n (factcheck rfm "
            "parity): test accuracy and the mass of M on the hidden coordinates",
            "verify.sweep.tasks.rfm:parity_point",
            (
                Param("d", "int", 30, "input dimension, e.g. 30", minimum=1),
                Param("k", "int", 3, "number of hidden coordinates, e.g. 3", minimum=1),
                Param("n", "int", 500, "training-set size, e.g. 500", minimum=2),
                _RFM_METHOD,
                Param("iters", "int", 5, "RFM iterations, e.g. 5", minimum=0),
                Param(
                    "bandwidth",
                    "float",
                    10.0,
                    "Laplace bandwidth, e.g. 10",
                    minimum=0.0,
                    above=True,
                ),
                Param("ridge", "float", 1e-3, "KRR ridge, e.g. 1e-3", minimum=0.0),
                Param("n_test", "int", 1000, "test-set size, e.g. 1000", minimum=1),
                _SEED,
            ),
            ("test_acc", "train_acc", "hidden_trace_share", "top_eigvec_hidden_mass"),
            validate="verify.sweep.tasks.limits:parity",
        ),
        Task(
            "rfm-modular",
            "RFM",
            "modular addition with RFM (factcheck rfm modular): accuracy "
            "and block-circulant structure of M after ITERS iterations",
            "verify.sweep.tasks.rfm:modular_point",
            (
                Param("p", "int", 23, "modulus, e.g. 23", minimum=2),
                Param(
                    "train_fraction",
                    "float",
                    0.5,
                    "share of pairs to train on, in (0, 1)",
                    minimum=0.0,
                    above=True,
                ),
                _RFM_METHOD,
                Param("iters", "int", 30, "RFM iterations, e.g. 30", minimum=0),
                Param(
                    "bandwidth",
                    "float",
                    2.5,
                    "Gaussian bandwidth, e.g. 2.5",
                    minimum=0.0,
                    above=True,
                ),
                Param("ridge", "float", 0.0, "KRR ridge, e.g. 0", minimum=0.0),
                Param(
                    "s", "float", 0.5, "AGOP exponent for nfa, e.g. 0.5", minimum=0.0, above=True
                ),
                Param("centered", "bool", True, "centred AGOP for nfa: true or false"),
                _SEED,
            ),
            ("test_acc", "train_acc", "first_iter_test_acc_ge_0.9", "circulant_share"),
            validate="verify.sweep.tasks.limits:modular",
        ),
        Task(
            "emergence",
            "S4",
            "one seed of the feature-emergence experiment (factcheck "
            "emergence): the network's test error and share of W^T W in span(M_A), its control, "
            "the best fixed-feature model, optionally RFM and a certified point",
            "verify.sweep.tasks.emergence:emergence_point",
            (
                Param("d", "int", 64, "input dimension, e.g. 64", minimum=1),
                Param("D", "int", 32, "number of patterns D <= d, e.g. 32", minimum=1),
                Param("k", "int", 5, "relevant patterns k <= D, e.g. 5", minimum=1),
                Param("labels", "str", "parity", "the labels", ("parity", "majority")),
                Param(
                    "activation",
                    "str",
                    "truncated-relu",
                    "the network's activation",
                    ("truncated-relu", "relu", "tanh"),
                ),
                Param("width", "int", 128, "neurons 2m, even, e.g. 128", minimum=2),
                Param("steps", "int", 200, "GD steps after the feature steps", minimum=0),
                Param("lam", "float", 1e-4, "weight decay, e.g. 1e-4", minimum=0.0),
                Param("n_train", "int", 4000, "training samples, e.g. 4000", minimum=10),
                Param("n_test", "int", 2000, "test samples, e.g. 2000", minimum=1),
                Param("rf_size", "int", 256, "random features of the baseline", minimum=1),
                Param("kernel_n", "int", 1000, "samples of the kernel baselines", minimum=2),
                Param("rfm", "bool", False, "run NFA-RFM and FACT-RFM: true or false"),
                Param("rfm_n", "int", 1000, "RFM training samples", minimum=2),
                Param("certified", "bool", False, "certified point (FACT): true or false"),
                Param("cert_n", "int", 1000, "samples of the certified run", minimum=2),
                _SEED,
            ),
            (
                "test_error",
                "share",
                "control_test_error",
                "control_share",
                "baseline_error",
                "baseline",
                "advantage",
                "nfa_rfm_share",
                "fact_rfm_share",
                "cert_fact_rel_error",
                "cert_fact_verdict",
            ),
            validate="verify.sweep.tasks.emergence:validate",
        ),
    )
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise bad_input(
            "task", f"be one of {', '.join(TASKS)}", name, "See factcheck sweep --list."
        )
    return TASKS[name]


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, function = ref.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return fn


def validate_point(task: Task, params: Mapping[str, Any]) -> None:
    """The task's own cross-parameter rules (raises InputError)."""
    if task.validate is not None:
        _resolve(task.validate)(dict(params))


def run_point(task_name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run one point: what a sweep submits to a worker (a pure function of its arguments).

    Returns ``{"record": ..., "seconds": ..., "worker": "host:pid", "version": ...}``; only the
    record is a function of the parameters, the rest describes the run. Non-finite numbers in
    the record become None (no NaN into a verdict or a JSON file).
    """
    task = get_task(task_name)
    t0 = time.perf_counter()
    record = _resolve(task.adapter)(dict(params))
    seconds = time.perf_counter() - t0
    values = {k: _finite(v) for k, v in record.get("values", {}).items()}
    clean = {
        "verdict": record.get("verdict"),
        "reason": str(record.get("reason", "")),
        "values": values,
    }
    return {
        "record": clean,
        "seconds": seconds,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "version": __version__,
    }


def _finite(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, (str, int)):
        return v
    f = float(v)
    return f if math.isfinite(f) else None
