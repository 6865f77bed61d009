"""The built-in data: Gaussian inputs and a random tanh teacher (:func:`synthetic_problem`), the
problem every command trains on unless given a data file."""

from __future__ import annotations

import numpy as np

from theory._errors import bad_input
from verify.base.validate import check_seed
from verify.engine.memory import check_network_memory
from verify.engine.network import MLP, Problem

__all__ = ["synthetic_problem"]


def synthetic_problem(
    net: MLP, n: int, *, loss: str = "mse", lam: float = 1e-2, seed: int = 0,
    decay_bias: bool = False,
) -> Problem:  # fmt: skip
    """Gaussian inputs (n x d) and targets from a random two-layer tanh teacher (4 units).

    MSE targets are the teacher's outputs plus 10% noise; cross-entropy targets are one-hot
    labels of the teacher's argmax. Deterministic for a seed.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise bad_input("n", "be a positive integer", n, "Pass e.g. --n 32.")
    check_seed(seed, "seed")
    check_network_memory(net, int(n), argument="n", value=n)
    rng = np.random.default_rng(seed)
    d, c = net.sizes[0], net.sizes[-1]
    X = rng.standard_normal((n, d))
    A, B = rng.standard_normal((4, d)) / np.sqrt(d), rng.standard_normal((c, 4))
    T = np.tanh(X @ A.T) @ B.T
    if loss == "cross_entropy":
        Y = np.eye(c)[np.argmax(T + 0.1 * rng.standard_normal(T.shape), axis=1)]
    else:
        Y = T + 0.1 * rng.standard_normal(T.shape)
    return Problem(net, X, Y, loss, lam, decay_bias)
