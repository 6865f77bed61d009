"""The lean float64 gradient of training and the batched, cached Hessian-vector products,
checked against the full backpropagation (which tests/verify/engine/test_network.py checks
against mpmath finite differences and SymPy)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from verify.engine.backprop import hvp_many
from verify.engine.network import ACTIVATIONS, LOSSES, MLP, backprop, hvp
from verify.engine.objective64 import value_and_grad
from verify.engine.train import synthetic_problem

CASES = list(itertools.product(sorted(ACTIVATIONS), LOSSES, [False, True]))


@pytest.mark.parametrize("hidden", [(6, 5), (6,), (3,)])
@pytest.mark.parametrize("outputs", [3, 1])
@pytest.mark.parametrize(("act", "loss", "bias"), CASES)
def test_value_and_grad_match_backprop(
    act: str, loss: str, bias: bool, outputs: int, hidden: tuple[int, ...]
) -> None:
    """F1 (gradient): the training gradient equals the full backprop to rounding, every
    activation, loss, with biases (decayed when bias is set) and without; one output too, where
    the backward pass forms delta W by broadcasting, and one hidden layer with one output, where
    it never forms delta_1 (objective64._one_hidden_one_output: 6 hidden units scale the data,
    3 the slopes)."""
    problem = synthetic_problem(MLP((4, *hidden, outputs), act, bias), 20, loss=loss, seed=1,
                                decay_bias=bias)  # fmt: skip
    theta = problem.net.init(1) + 0.1
    value, grad = value_and_grad(problem, theta)
    bp = backprop(problem, theta)
    # why 1e-13: the same sums in a different order (in-place scaling by 1/n, fused updates)
    assert abs(value - bp.value) <= 1e-13 * abs(bp.value)
    assert np.abs(grad - bp.grad).max() <= 1e-13 * np.abs(bp.grad).max()


@pytest.mark.parametrize("width", [6, 3])
@pytest.mark.parametrize("act", ["tanh", "relu", "identity"])
def test_one_hidden_one_output_with_undecayed_biases(act: str, width: int) -> None:
    """F1 (gradient): one hidden layer, one output, biases that weight decay leaves alone: the
    gradient and value equal backprop's to rounding (the biases' own decay terms absent)."""
    problem = synthetic_problem(MLP((4, width, 1), act, True), 20, seed=1, decay_bias=False)
    theta = problem.net.init(1) + 0.1
    value, grad = value_and_grad(problem, theta)
    bp = backprop(problem, theta)
    assert abs(value - bp.value) <= 1e-13 * abs(bp.value)
    assert np.abs(grad - bp.grad).max() <= 1e-13 * np.abs(bp.grad).max()


@pytest.mark.parametrize(("act", "loss", "bias"), CASES[::3])
def test_batched_hvp_matches_single(act: str, loss: str, bias: bool) -> None:
    """F1 (Hessian): Hessian-vector products of stacked directions equal one-at-a-time ones."""
    problem = synthetic_problem(MLP((3, 4, 2), act, bias), 10, loss=loss, seed=2, decay_bias=bias)
    theta = problem.net.init(2) + 0.2
    V = np.random.default_rng(3).standard_normal((5, problem.net.n_params))
    single = np.array([hvp(problem, theta, v) for v in V])
    assert np.allclose(hvp_many(problem, theta, V), single, rtol=1e-13, atol=1e-14)


def test_hvp_point_cache_is_by_value() -> None:
    """F1 (Hessian): the cached forward pass is reused only at the same point: changing the
    caller's array in place, or passing another point, gives the fresh product."""
    problem = synthetic_problem(MLP((3, 5, 2), "tanh"), 12, seed=4)
    a = problem.net.init(4)
    b = a + 0.05
    v = np.random.default_rng(5).standard_normal(problem.net.n_params)
    ha, hb = hvp(problem, a.copy(), v), hvp(problem, b.copy(), v)
    assert not np.allclose(ha, hb)
    theta = a.copy()
    assert np.array_equal(hvp(problem, theta, v), ha)
    theta[:] = b  # same array object, new values
    assert np.array_equal(hvp(problem, theta, v), hb)
    assert np.array_equal(hvp(problem, a.copy(), v), ha)  # a copy of the first point again
