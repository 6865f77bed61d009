"""The closed-form Hessian of one hidden layer that Newton's steps on a kink use
(verify/engine/kink/shallow.py)."""

from __future__ import annotations

import numpy as np
import pytest

from verify.engine.hessian import dense_hessian
from verify.engine.kink.shallow import applies, shallow_hessian
from verify.engine.kink.start import SmoothedProblem
from verify.engine.kink.surrogate import jacobian, pinned
from verify.engine.network import MLP, backprop
from verify.engine.train import synthetic_problem


@pytest.mark.parametrize(
    ("activation", "bias", "loss", "outputs", "decay_bias"),
    [
        ("relu", False, "mse", 1, False),
        ("relu", True, "mse", 3, True),
        ("relu", True, "cross_entropy", 3, False),
        ("tanh", True, "cross_entropy", 2, True),
        ("tanh", False, "mse", 2, False),
    ],
)
def test_the_closed_form_hessian_is_the_hessian(
    activation: str, bias: bool, loss: str, outputs: int, decay_bias: bool
) -> None:
    """F1 (ReLU, on a kink): the closed-form Hessian of one hidden layer equals the one from
    exact Hessian-vector products to rounding: with pinned slopes (the surrogate), biases
    decayed or not, mean squared error and cross-entropy, and with the activation's curvature
    (tanh)."""
    net = MLP((5, 7, outputs), activation, bias)
    problem = synthetic_problem(net, 11, loss=loss, lam=1e-2, seed=1, decay_bias=decay_bias)
    theta = net.init(3)
    if activation == "relu":
        problem = pinned(problem, [(0, 2, 3), (0, 4, 1), (0, 4, 6)], np.array([0.3, 0.8, 0.1]))
    assert applies(problem)
    ref = dense_hessian(problem, theta)
    H = shallow_hessian(problem, backprop(problem, theta))
    assert np.abs(H - ref).max() <= 1e-14 * np.abs(ref).max()


def test_the_closed_form_hessian_of_the_smoothed_problem() -> None:
    """F1 (ReLU, on a kink): on the smoothed problem of the homotopy (softplus with its
    curvature on the live units, relu on a dead one) the closed form is the Hessian too, and the
    square system's Jacobian (closed-form Hessian) is the one from Hessian-vector products to
    rounding; two hidden layers fall back to Hessian-vector products."""
    net = MLP((4, 6, 2), "relu", True)
    base = synthetic_problem(net, 9, lam=0.03, seed=2, decay_bias=True)
    theta = net.init(4) + 0.1
    live = [np.array([1, 0, 1, 1, 1, 1], dtype=bool)]
    sp = SmoothedProblem(net, base.X, base.Y, base.loss, base.lam, base.decay_bias, beta=3.0,
                         live=live)  # fmt: skip
    ref = dense_hessian(sp, theta)
    assert np.abs(shallow_hessian(sp, backprop(sp, theta)) - ref).max() <= 1e-14 * abs(ref).max()
    pp = pinned(base, [(0, 1, 2), (0, 3, 0)], np.array([0.4, 0.6]))
    free, keep = np.ones(2, dtype=bool), np.ones(net.n_params, dtype=bool)
    keep[[0, 5]] = False
    J, F = jacobian(pp, theta, free, keep)
    nk = int(keep.sum())
    ref = J.copy()
    ref[:nk, :nk] = dense_hessian(pp, theta)[np.ix_(keep, keep)]
    assert np.abs(J - ref).max() <= 1e-14 * np.abs(ref).max()
    assert np.abs(J[:nk, :nk] - ref[:nk, :nk]).max() > 0  # the closed form, not the products
    assert not applies(synthetic_problem(MLP((4, 6, 5, 2), "relu"), 9, seed=2))
