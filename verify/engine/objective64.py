"""L_lam and its gradient in float64, with nothing else: the inner loop of training.

:func:`verify.engine.backprop.backprop` keeps every intermediate (inputs, pre-activations,
slopes, curvatures, per-layer deltas, the input gradient of every layer) because the FACT and NFA
checks need them. Training needs only the value and the flat gradient, so this pass

- skips the activation's second derivative (Hessian-vector products only),
- skips the input gradient of layer 1 (dl/dx is not a parameter gradient),
- writes each layer's gradient straight into one preallocated flat vector,
- keeps nothing after it returns.

The arithmetic is the same backpropagation (conventions: :mod:`verify.engine.network`):
grad_W L_lam = (1/n) sum_i delta_i h_i^T + lam W, delta_{l-1} = (delta_l W_l) * sigma'(z_{l-1}).
The tests check it against :func:`~verify.engine.backprop.backprop` to rounding.
"""

from __future__ import annotations

import numpy as np

from verify.engine.activations import ACTIVATIONS
from verify.engine.backends import FLOAT64
from verify.engine.backprop import _loss
from verify.engine.problem import MLP, Problem

__all__ = ["back_through", "forward64", "value_and_grad"]


def _value_slope(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """sigma(z) and sigma'(z); the slope None means 1 (identity). Reuses ``z``'s memory."""
    if name == "tanh":
        t = np.tanh(z, out=z)
        s = t * t
        np.subtract(1.0, s, out=s)  # tanh' = 1 - tanh^2
        return t, s
    if name == "relu":
        s = (z > 0).astype(np.float64)  # step(0) = 0, as backends.Backend.step
        return np.multiply(z, s, out=z), s
    if name == "identity":
        return z, None
    h, s, _ = ACTIVATIONS[name](FLOAT64, z)
    return h, s


def back_through(g: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``g w`` (the deltas carried back through a layer's weights). With one output unit it is
    an outer product, which matmul hands to a BLAS gemm with k = 1 (34 us on the standard net's
    256 x 64) and broadcasting forms in 16, from the same single products, bit for bit."""
    return g * w if w.shape[0] == 1 else g @ w


def forward64(
    net: MLP, X: np.ndarray, params: list[tuple[np.ndarray, np.ndarray | None]]
) -> tuple[list[np.ndarray], list[np.ndarray | None], np.ndarray]:
    """The float64 forward pass: each layer's input h_l (h_1 = X), the hidden slopes sigma'(z_l)
    (None: identity) and the output z_L. Call inside ``FLOAT64.working()``."""
    hs, slopes = [X], []
    h = X
    for layer, (w, b) in enumerate(params):
        z = h @ w.T
        if b is not None:
            z += b
        if layer < net.depth - 1:
            h, s = _value_slope(net.activation, z)
            hs.append(h)
            slopes.append(s)
    return hs, slopes, z


def value_and_grad(problem: Problem, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """``(L_lam(theta), grad L_lam(theta))`` in float64 (module docstring)."""
    net, n, lam = problem.net, problem.n, problem.lam
    X, Y, _ = problem.data(FLOAT64)
    theta = np.asarray(theta, dtype=np.float64)
    params = net.unflatten(theta)
    offsets = net.offsets
    depth = net.depth
    with FLOAT64.working():
        hs, slopes, z = forward64(net, X, params)
        losses, g = _loss(problem.loss, FLOAT64, z, Y)
        grad = np.empty(net.n_params)
        decay = 0.0
        for layer in range(depth - 1, -1, -1):
            w, b = params[layer]
            start, w_end, b_end = offsets[layer]
            gw = grad[start:w_end].reshape(w.shape)
            if w.shape[1] < w.shape[0]:
                # the same sum of products, formed as (h^T g)^T: with fewer inputs than outputs
                # OpenBLAS is faster at a wide-and-short result than at the transposed-input
                # product (100 -> 1000 units, n = 2000: 14.0 -> 11.1 ms; on square layers the
                # two took the same time, so they keep the direct product)
                gw[...] = (hs[layer].T @ g).T
            else:
                np.matmul(g.T, hs[layer], out=gw)
            gw /= n
            gw += lam * w  # grad_W L_lam = (1/n) sum delta h^T + lam W
            wf = w.reshape(-1)
            decay += float(wf @ wf)
            if b is not None:
                gb = grad[w_end:b_end]
                np.sum(g, axis=0, out=gb)
                gb /= n
                if problem.decay_bias:
                    gb += lam * b
                    decay += float(b @ b)
            if layer > 0:
                g = back_through(g, w)
                s = slopes[layer - 1]
                if s is not None:
                    g *= s
        value = float(np.sum(losses)) / n + lam * decay / 2
    return value, grad
