"""A diagonal preconditioner for L-BFGS: the Gauss-Newton diagonal of L_lam, cheaply estimated.

L-BFGS starts each two-loop (compact) product from an initial matrix H_0; the textbook choice
gamma I treats every parameter alike. A wide network's parameters are not alike: a first-layer
weight w_jk of hidden unit j feels the curvature (1/n) sum_i (df_i/dz_ij)^2 x_ik^2, which scales
with the square of the unit's outgoing weights, while weight decay pushes most units of a wide
network towards small outgoing weights; so the curvature spreads over orders of magnitude and
the scalar gamma fits none of them. With H_0 = gamma diag(1 / d), d an estimate of the Hessian
diagonal, the iteration is L-BFGS in the rescaled variables u = d^{1/2} theta (Nocedal and
Wright, Numerical Optimization, 2nd ed., section 7.2: any positive definite H_0 keeps the
method's properties; Becker and LeCun 1988 for the Gauss-Newton diagonal of a network).

The estimate here is the Gauss-Newton diagonal with each layer's squared backward signal
propagated through the squared weights (cross terms between units dropped):

    q_L = diag of the loss Hessian in the outputs (1 for MSE, p (1 - p) for softmax
          cross-entropy),
    q_{l-1} = (q_l (W_l o W_l)) o sigma'(z_{l-1})^2,
    d(W_l)_{jk} ~ mean_i q_{l,ij} * mean_i h_{l-1,ik}^2 + lam,   d(b_l)_j = mean_i q_{l,ij}
              (+ lam when biases decay),

the last line factorising the sample mean (a Kronecker-factored diagonal, which costs a few
passes over the n x width activations instead of a product as large as the gradient's). For one
output and one hidden layer the q's are exact. Nothing here decides a verdict: the
preconditioner changes only the path L-BFGS takes, never the point's certificate.

Measured (training's L-BFGS iterations to the certified point, scalar gamma I -> this diagonal,
seeds 0-2 summed; MSE, lam 1e-2, n = 2000 unless said): tanh 100-100-1 4,047 -> 2,331;
100-10-1 891 -> 742; 20-64-1 (n = 256, lam 1e-3) 5,791 -> 4,848; 100-100-100-1 (seeds 0-1)
7,304 -> 5,568; seed 0 of 100-1000-1 2,096 -> 1,952 (gradient evaluations 2,210 -> 2,040),
of 100-300-300-1 3,632 -> 3,424 gradient evaluations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from verify.engine.backends import FLOAT64
from verify.engine.objective64 import forward64
from verify.engine.problem import Problem

__all__ = ["MIN_PARAMS", "MIN_WORK", "PRECONDITIONED", "diagonal_scaling", "gauss_newton_diagonal"]

#: entries are floored at max(lam, 1e-4 of the largest). Why: the decay's lam is the true
#: curvature floor of every decayed weight, and 1 / d must stay finite for a dead unit or with
#: lam = 0. An undecayed bias of a saturated unit has a diagonal near 0, and without the floor
#: its 1 / d let L-BFGS push it to ~50 (a tanh 10-30-2 network with biases ended with a switched-
#: off unit); the relative 1e-4 bounds the preconditioner's spread where lam is tiny
_RELATIVE_FLOOR = 1e-4


#: activations whose training L-BFGS is preconditioned (:func:`diagonal_scaling`)
PRECONDITIONED = frozenset({"tanh"})
#: parameters from which it is (:func:`diagonal_scaling`)
MIN_PARAMS = 5_000
#: or samples x parameters (the cost of a gradient) from which it is
MIN_WORK = 1_000_000


def diagonal_scaling(problem: Problem) -> Callable[[np.ndarray], np.ndarray] | None:
    """The ``scaling`` training passes to :func:`~verify.engine.lbfgs.lbfgs`: the Gauss-Newton
    diagonal for the activations in :data:`PRECONDITIONED`, else None (the scalar gamma I).

    Why tanh only: it is the activation whose iterations the diagonal cut (module docstring).
    On tanh-free 100-30-1 and 100-100-1 networks (n = 2000, lam 1e-2, seed 0) it cost more
    iterations: sigmoid 404 -> 632 and 1,297 -> 1,911, softplus 316 -> 371, gelu 512 -> 818 and
    372 -> 1,031, identity 53 -> 91; these activations are not centred (sigma(z) has a mean of
    the order of its size), so the Hessian has a large rank-one part off the diagonal that the
    diagonal cannot see, and rescaling by the diagonal worsens it. On the ill-conditioned
    quadratic network of the tests (lam 1e-8) it left fewer starts certifiable at 50 digits (1-2
    of seeds 0-11 instead of 4). For ReLU the slopes, and the diagonal with them, jump across
    every kink, and the kink certificate (:mod:`verify.engine.kink`) depends on where L-BFGS
    stops: with the diagonal, `verify fact --activation relu --depth 3 --width 16 --bias`
    stopped at a kink that could not be certified.

    Why from :data:`MIN_PARAMS` parameters: below, a gradient costs so little that estimating
    the diagonal and scaling by it cost more than the iterations saved: the standard tanh
    20-64-1 net (1,344 parameters, n = 256) took 1,868 iterations and 1.15 s of CPU in training
    with it, 1,989 and 1.0 s without; at 10,100 parameters the whole process went 7.16 -> 6.01 s.
    What makes a gradient cheap is n x p, not p: the 100-10-1 net (1,010 parameters, n = 2000,
    n x p = 2e6, a gradient ~0.6 ms against the standard net's 0.12 ms) took 891 -> 742
    iterations over seeds 0-2 and its whole process 0.79-0.88 -> 0.66-0.78 s (five runs each,
    twice), so it is also used from :data:`MIN_WORK` (the standard net: n x p = 3.4e5).
    """
    p = problem.net.n_params
    if problem.net.activation not in PRECONDITIONED or (
        p < MIN_PARAMS and problem.n * p < MIN_WORK
    ):
        return None
    return lambda theta: gauss_newton_diagonal(problem, theta)


def gauss_newton_diagonal(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """The positive estimate d of the Hessian diagonal of L_lam at ``theta`` (module docstring)."""
    net, lam = problem.net, problem.lam
    X, _, _ = problem.data(FLOAT64)
    params = net.unflatten(np.asarray(theta, dtype=np.float64))
    with FLOAT64.working():
        hs, slopes, z = forward64(net, X, params)
        if problem.loss == "mse":
            q = np.ones_like(z)
        else:
            e = np.exp(z - np.max(z, axis=1, keepdims=True))
            p = e / np.sum(e, axis=1, keepdims=True)
            q = p * (1.0 - p)
        parts: list[np.ndarray] = []
        for layer in range(net.depth - 1, -1, -1):
            w, b = params[layer]
            qm = np.mean(q, axis=0)
            hm = np.mean(hs[layer] * hs[layer], axis=0)
            if b is not None:
                parts.append(qm + (lam if problem.decay_bias else 0.0))
            parts.append((np.outer(qm, hm) + lam).reshape(-1))
            if layer > 0:
                q = q @ (w * w)
                s = slopes[layer - 1]
                if s is not None:
                    q *= s * s
        d = np.concatenate(parts[::-1])
    top = float(np.max(d)) if d.size else 0.0
    if not (np.isfinite(top) and top > 0):
        return np.ones_like(d)
    return np.maximum(d, max(lam, _RELATIVE_FLOOR * top))
