"""L_lam and its gradient in float64, with nothing else: the inner loop of training.

:func:`verify.engine.backprop.backprop` keeps every intermediate (inputs, pre-activations,
slopes, curvatures, per-layer deltas, the input gradient of every layer) because the FACT and NFA
checks need them. Training needs only the value and the flat gradient, so this pass

- skips the activation's second derivative (Hessian-vector products only),
- skips the input gradient of layer 1 (dl/dx is not a parameter gradient),
- writes each layer's gradient straight into one preallocated flat vector,
- keeps nothing after it returns,
- with one hidden layer and one output, never forms the n x width matrix delta_1
  (:func:`_one_hidden_one_output`).

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
    if net.depth == 2 and net.sizes[2] == 1:
        return _one_hidden_one_output(problem, X, Y, theta)
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


def _one_hidden_one_output(
    problem: Problem, X: np.ndarray, Y: np.ndarray, theta: np.ndarray
) -> tuple[float, np.ndarray]:
    """:func:`value_and_grad` for one hidden layer and one output unit (f = w sigma(W x + b) + c).

    There delta_1 = (g w) * S (g the n derivatives dl_i/df, S_ij = sigma'(z_ij)) is an outer
    product scaled entrywise, so grad W = (1/n) delta_1^T X can be formed without it:
    grad W_j = (w_j / n) (S^T (g * X))_j = (w_j / n) ((g * S)^T X)_j, and
    grad b_j = (w_j / n) (S^T g)_j. The general loop makes two n x width passes (g w, then
    times S); this makes one pass over the smaller of the n x d data and the n x width slopes.
    Measured per gradient (one BLAS thread, the same numbers to rounding): the standard
    20-64-1 net (n = 256) ~140 -> ~110 us; 100-1000-1 (n = 2000), where the n x width
    matrices are 16 MB, 39-47 -> 37 ms; 100-100-1 and 100-10-1 within the noise (4.0-4.5 ms
    and 0.7-0.9 ms either way).
    """
    net, n, lam = problem.net, problem.n, problem.lam
    (start, w_end, b_end), (start2, w2_end, b2_end) = net.offsets
    width, d = net.sizes[1], net.sizes[0]
    W = theta[start:w_end].reshape(width, d)
    w = theta[start2:w2_end]
    grad = np.empty(theta.size)
    with FLOAT64.working():
        z = X @ W.T
        if b_end > w_end:
            z += theta[w_end:b_end]
        h, s = _value_slope(net.activation, z)
        f = h @ w
        if b2_end > w2_end:
            f += theta[w2_end:b2_end]
        losses, g2 = _loss(problem.loss, FLOAT64, f[:, None], Y)
        g = g2[:, 0]
        np.matmul(g, h, out=grad[start2:w2_end])
        gw = grad[start:w_end].reshape(width, d)
        if s is None:  # identity: S = 1, every row (X^T g)^T
            gw[...] = g @ X
            gs = np.full(width, np.sum(g))
        elif d <= width:  # scale the n x d data by g
            gx = X * g[:, None]
            gw[...] = (gx.T @ s).T  # (the faster product form, as in value_and_grad)
            gs = g @ s
        else:  # scale the n x width slopes by g instead
            s *= g[:, None]
            np.matmul(s.T, X, out=gw)
            gs = np.sum(s, axis=0)
        gw *= w[:, None]
        if b_end > w_end:
            grad[w_end:b_end] = w * gs
        if b2_end > w2_end:
            grad[w2_end:b2_end] = np.sum(g)
        grad /= n
        if problem.decay_bias or b_end == w_end:  # every parameter decays
            grad += lam * theta
            decay = float(theta @ theta)
        else:
            grad[start:w_end] += lam * theta[start:w_end]
            grad[start2:w2_end] += lam * w
            decay = float(theta[start:w_end] @ theta[start:w_end]) + float(w @ w)
        value = float(np.sum(losses)) / n + lam * decay / 2
    return value, grad
