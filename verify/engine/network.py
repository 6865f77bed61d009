"""Multilayer perceptrons with exact gradients, Hessian-vector products and input Jacobians.

One implementation serves float64 NumPy and mpmath: every routine takes a *backend*
(:data:`FLOAT64` or :func:`mp_backend`), whose arrays are float64 ndarrays or object ndarrays of
``mpmath.mpf``. NumPy's ``@``, ``.T``, ``sum`` and elementwise arithmetic work on both; only the
elementwise transcendental functions differ, and they live in the backend. So the 50-digit check
runs the same backpropagation as the float64 training.

Conventions (fixed)
-------------------
- Data ``X`` has shape (n, d), one sample per row; targets ``Y`` have shape (n, c).
- Weights ``W_l`` have shape (out, in); a layer computes ``z = h @ W.T + b``. Layer l has input
  ``h_l`` (``h_1 = X``); the activation is applied after every layer except the last (the last
  layer is linear). Depth ``L`` = number of weight matrices (depth 1 = a linear/softmax model).
- Mean squared error: per-sample loss ``l_i = 0.5 * ||f(x_i) - y_i||^2`` (so delta = residual).
  Cross-entropy: ``l_i = -sum_k y_ik log softmax(f(x_i))_k`` (Y one-hot or rows of probabilities).
- Objective ``L_lam = (1/n) sum_i l_i + (lam/2) sum_l ||W_l||_F^2``
  (``+ (lam/2) ||b_l||^2`` only if ``decay_bias`` is True; default False).
- Parameters travel as one flat vector ``theta``: W1 (row-major), b1, W2, b2, ..., WL, bL.

Derivatives are exact (backpropagation; Hessian-vector products by Pearlmutter's R-operator, i.e.
forward-mode differentiation of the backpropagation, with the activation's second derivative).
The tests check them against mpmath central differences and against SymPy differentiation.

The implementation is split by concept: :mod:`verify.engine.backends` (number backends),
:mod:`verify.engine.activations` (activations and losses), :mod:`verify.engine.problem`
(architecture and
problem, validated), :mod:`verify.engine.backprop` (derivatives). This module is the public face.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verify.engine.activations import ACTIVATIONS, LOSSES
from verify.engine.backends import FLOAT64, Array, Backend, mp_backend
from verify.engine.backprop import Backprop, backprop, gradient, hvp, input_jacobians, objective
from verify.engine.problem import MLP, Problem

if TYPE_CHECKING:
    from verify.engine.mpbackend import MpBackend

__all__ = [
    "Array",
    "ACTIVATIONS",
    "FLOAT64",
    "LOSSES",
    "MLP",
    "MpBackend",
    "Backend",
    "Backprop",
    "Problem",
    "backprop",
    "gradient",
    "hvp",
    "input_jacobians",
    "mp_backend",
    "objective",
]


def __getattr__(name: str) -> Any:
    """``MpBackend`` on first use: its module imports mpmath (verify/engine/mpbackend.py)."""
    if name == "MpBackend":
        from verify.engine.mpbackend import MpBackend

        return MpBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
