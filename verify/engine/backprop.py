"""Exact derivatives of L_lam: backpropagation, Hessian-vector products, input Jacobians.

Hessian-vector products use Pearlmutter's R-operator (forward-mode differentiation of the
backpropagation, with the activation's second derivative).
Conventions: :mod:`verify.engine.network`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verify.engine.activations import ACTIVATIONS
from verify.engine.backends import FLOAT64, Array, Backend
from verify.engine.problem import Problem

__all__ = [
    "Backprop",
    "backprop",
    "backprop_at",
    "gradient",
    "hvp",
    "hvp_many",
    "input_jacobians",
    "objective",
    "remember_point",
]


# -- forward and backward ----------------------------------------------------------------------
@dataclass
class Backprop:
    """Everything one forward/backward pass computes (arrays in the backend's numbers).

    ``hs[l]`` input of layer l (n x in), ``zs[l]`` pre-activation (n x out), ``slopes[l]`` and
    ``curvs[l]`` the activation's first/second derivative at ``zs[l]`` (hidden layers only),
    ``losses`` the per-sample losses l_i, ``deltas[l]`` = dl_i/dz_l (n x out, NOT divided by n),
    ``grad_h[l]`` = dl_i/dh_l = deltas[l] @ W_l (n x in), ``grad`` the flat gradient of L_lam.
    """

    params: list[tuple[Array, Array | None]]
    hs: list[Array]
    zs: list[Array]
    slopes: list[Array]
    curvs: list[Array]
    losses: Array
    deltas: list[Array] = field(default_factory=list)
    grad_h: list[Array] = field(default_factory=list)
    grads: list[tuple[Array, Array | None]] = field(default_factory=list)
    value: Any = None
    grad: Array = None


def _forward(problem: Problem, theta: Array, be: Backend) -> Backprop:
    X, Y, _ = problem.data(be)
    act = ACTIVATIONS[problem.net.activation]
    params = problem.net.unflatten(theta)
    hs, zs, slopes, curvs = [X], [], [], []
    h = X
    pin = getattr(problem, "pin", None)  # verify.engine.kink.surrogate.PinnedProblem
    for layer, (w, b) in enumerate(params):
        z = be.matmul(h, w.T) if b is None else be.matmul(h, w.T) + b
        zs.append(z)
        if layer < len(params) - 1:
            h, ds, d2s = act(be, z)
            if pin is not None:
                h, ds, d2s = pin(be, layer, z, h, ds, d2s)
            hs.append(h)
            slopes.append(ds)
            curvs.append(d2s)
    losses, delta = _loss(problem.loss, be, zs[-1], Y)
    bp = Backprop(params, hs, zs, slopes, curvs, losses)
    bp.deltas = [delta]
    return bp


def _softmax(be: Backend, f: Array) -> tuple[Array, Array]:
    """``(softmax(f), logsumexp(f))`` row-wise, shifted by the row maximum for stability."""
    m = np.max(f, axis=1, keepdims=True)
    e = be.exp(f - m)
    s = np.sum(e, axis=1, keepdims=True)
    return e / s, (m + be.log(s))[:, 0]


def _loss(name: str, be: Backend, f: Array, Y: Array) -> tuple[Array, Array]:
    """Per-sample losses and delta = dl_i/df (n x c)."""
    if name == "mse":
        r = f - Y
        return 0.5 * np.sum(r * r, axis=1), r
    p, lse = _softmax(be, f)
    mass = np.sum(Y, axis=1)  # 1 for probability rows; kept so the formula is exact for any Y
    return mass * lse - np.sum(Y * f, axis=1), p * mass[:, None] - Y


def backprop(problem: Problem, theta: Array, be: Backend = FLOAT64) -> Backprop:
    """Forward and backward pass: objective value, flat gradient and all per-layer caches."""
    with be.working():
        theta = be.asarray(theta)
        bp = _forward(problem, theta, be)
        _, _, lam = problem.data(be)
        n = problem.n
        g = bp.deltas[0]
        grads: list[tuple[Array, Array | None]] = []
        grad_h: list[Array] = []
        deltas: list[Array] = []
        for layer in range(len(bp.params) - 1, -1, -1):
            w, b = bp.params[layer]
            deltas.append(g)
            # grad_W L_lam = (1/n) sum delta h^T + lam W
            gw = be.matmul(g.T, bp.hs[layer]) / n + lam * w
            gb = None
            if b is not None:
                gb = np.sum(g, axis=0) / n + (lam * b if problem.decay_bias else 0)
            grads.append((gw, gb))
            gh = be.matmul(g, w)  # dl_i/dh_l = W^T delta_i (F1's grad_h l_i)
            grad_h.append(gh)
            if layer > 0:
                g = gh * bp.slopes[layer - 1]
        bp.deltas, bp.grad_h, bp.grads = deltas[::-1], grad_h[::-1], grads[::-1]
        bp.grad = problem.net.flatten(bp.grads)
        decay = sum(np.sum(w * w) for w, _ in bp.params)
        if problem.decay_bias:
            decay = decay + sum(np.sum(b * b) for _, b in bp.params if b is not None)
        bp.value = np.sum(bp.losses) / n + lam * decay / 2
    return bp


def objective(problem: Problem, theta: Array, be: Backend = FLOAT64) -> Any:
    """L_lam(theta) = (1/n) sum_i l_i + (lam/2) sum_l ||W_l||_F^2 (+ biases if decayed)."""
    return backprop(problem, theta, be).value


def gradient(problem: Problem, theta: Array, be: Backend = FLOAT64) -> tuple[Any, Array]:
    """``(L_lam(theta), grad L_lam(theta))`` with the gradient as a flat vector."""
    bp = backprop(problem, theta, be)
    return bp.value, bp.grad


def hvp(problem: Problem, theta: Array, v: Array, be: Backend = FLOAT64) -> Array:
    """Exact Hessian-vector product H(theta) v by the R-operator (forward mode over backprop).

    The forward and backward pass at ``theta`` (everything that does not depend on ``v``) is
    computed once and reused while consecutive calls ask for the same point (:func:`_at_point`):
    Newton's Krylov solves, power iterations and dense Hessians call this hundreds of times at
    one point, and the pass was 30% of each call.
    """
    with be.working():
        bp = _at_point(problem, be.asarray(theta), be)
        return problem.net.flatten(_rop(problem, bp, problem.net.unflatten(be.asarray(v)), be))


def hvp_many(problem: Problem, theta: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Float64 Hessian-vector products for the ROWS of ``V`` (k x p) at once: returns (k x p).

    The same R-operator as :func:`hvp`, with the k directions stacked on a leading axis of every
    array, so a dense Hessian costs p / k calls of a few NumPy operations instead of p calls.
    """
    with FLOAT64.working():
        bp = _at_point(problem, FLOAT64.asarray(theta), FLOAT64)
        net, V = problem.net, np.asarray(V, dtype=np.float64)
        parts, k = [], 0
        for (o, i), b in net.shapes:
            vw = V[:, k : k + o * i].reshape(-1, o, i)
            k += o * i
            vb = None
            if b is not None:
                vb, k = V[:, None, k : k + o], k + o
            parts.append((vw, vb))
        out = _rop(problem, bp, parts, FLOAT64, stacked=True)
        return np.concatenate(
            [a.reshape(len(V), -1) for wb in out for a in wb if a is not None], axis=1
        )


def backprop_at(problem: Problem, theta: Array, be: Backend = FLOAT64) -> Backprop:
    """:func:`backprop` at ``theta``, sharing the pass kept for :func:`hvp` (:func:`_at_point`):
    the gradient, its rounding floor, the Newton solve and the layer features of one point all
    need the same pass, and at 50 digits each pass costs ~0.5 s. Treat the result as read-only."""
    with be.working():
        return _at_point(problem, be.asarray(theta), be)


def remember_point(problem: Problem, theta: Array, be: Backend, bp: Backprop) -> None:
    """Keep ``bp``, the pass of :func:`backprop` at ``theta`` computed elsewhere (the rounding
    analysis), as the point of :func:`_at_point`. ``theta`` must not be changed afterwards."""
    problem._cache[f"hvp-point-{be.name}-{be.dps}"] = (theta, bp)


def _at_point(problem: Problem, theta: Array, be: Backend) -> Backprop:
    """Forward and backward pass at ``theta``, kept on the problem and reused while the next
    call asks for the same point (compared by value; the pass runs on a private copy, so a
    caller that later changes its array in place cannot corrupt it). One point per problem and
    precision (the float64 report of a 50-digit point does not evict the 50-digit pass)."""
    bp = _kept(problem, theta, be)
    if bp is None:
        at = theta.copy()
        bp = backprop(problem, at, be)
        remember_point(problem, at, be, bp)
    return bp


def _kept(problem: Problem, theta: Array, be: Backend) -> Backprop | None:
    """The pass kept by :func:`_at_point` if it is at ``theta`` (by value) in ``be``'s numbers."""
    saved = problem._cache.get(f"hvp-point-{be.name}-{be.dps}")
    if saved is not None:
        at, bp = saved
        if at.shape == theta.shape and bool(np.all(at == theta)):
            return bp
    return None


def _rop(
    problem: Problem, bp: Backprop, vparams: list[tuple[Array, Array | None]], be: Backend,
    stacked: bool = False,
) -> list[tuple[Array, Array | None]]:  # fmt: skip
    """The R-operator pass: d(grad L_lam)/dtheta along ``vparams`` at the point of ``bp``.

    ``stacked``: every direction array has a leading axis of k directions (float64 only).
    """
    _, Y, lam = problem.data(be)
    n = problem.n
    depth = len(bp.params)

    def tr(a: Array) -> Array:  # transpose of the last two axes
        return np.swapaxes(a, -1, -2) if stacked else a.T

    # forward: R z_l = R h_l W_l^T + h_l V_l^T + R b_l, R h_{l+1} = s'(z_l) R z_l
    rzs, rhs, rh = [], [], None
    for layer, ((w, _), (vw, vb)) in enumerate(zip(bp.params, vparams, strict=True)):
        rz = be.matmul(bp.hs[layer], tr(vw))
        if rh is not None:
            rz = rz + be.matmul(rh, w.T)
        if vb is not None:
            rz = rz + vb
        rzs.append(rz)
        if layer < depth - 1:
            rh = bp.slopes[layer] * rz
            rhs.append(rh)
    g, rg = bp.deltas[-1], _loss_rop(problem.loss, be, bp.zs[-1], Y, rzs[-1], stacked)
    out: list[tuple[Array, Array | None]] = []
    for layer in range(depth - 1, -1, -1):
        (w, _), (vw, vb) = bp.params[layer], vparams[layer]
        rgw = be.matmul(tr(rg), bp.hs[layer]) / n + lam * vw
        if layer > 0:  # R h_l is nonzero only for hidden inputs
            rgw = rgw + be.matmul(g.T, rhs[layer - 1]) / n
        rgb = None
        if vb is not None:
            rgb = np.sum(rg, axis=-2, keepdims=stacked) / n + (
                lam * vb if problem.decay_bias else 0
            )
        out.append((rgw, rgb))
        if layer > 0:
            gh, rgh = bp.grad_h[layer], be.matmul(rg, w) + be.matmul(g, vw)
            ds, d2s = bp.slopes[layer - 1], bp.curvs[layer - 1]
            g, rg = bp.deltas[layer - 1], rgh * ds + gh * d2s * rzs[layer - 1]
    return out[::-1]


def _loss_rop(
    name: str, be: Backend, f: Array, Y: Array, rf: Array, stacked: bool = False
) -> Array:
    """R(delta): the directional derivative of dl/df along R f (``rf`` may be stacked)."""
    if name == "mse":
        return rf
    p, _ = _softmax(be, f)
    mass = np.sum(Y, axis=1)[:, None]
    return mass * (p * rf - p * np.sum(p * rf, axis=-1, keepdims=True))


def input_jacobians(problem: Problem, theta: Array, be: Backend = FLOAT64) -> list[list[Array]]:
    """``J[l][k]`` (n x in_l): row i is d f_k(x_i) / d h_l, the output-k Jacobian w.r.t. layer l's
    input, by backpropagating the unit vector e_k through the layers above l."""
    with be.working():
        theta = be.asarray(theta)
        # the pass kept at this point, if any (the layer features ask at the certified point)
        bp = _kept(problem, theta, be) or _forward(problem, theta, be)
        c = problem.net.sizes[-1]
        out: list[list[Array]] = [[] for _ in bp.params]
        for k in range(c):
            g = bp.zs[-1] * 0
            g[:, k] = g[:, k] + 1
            for layer in range(len(bp.params) - 1, -1, -1):
                gh = be.matmul(g, bp.params[layer][0])
                out[layer].append(gh)
                if layer > 0:
                    g = gh * bp.slopes[layer - 1]
        return out
