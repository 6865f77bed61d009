"""The Gauss-Newton diagonal that preconditions training's L-BFGS (verify/engine/precondition)."""

from __future__ import annotations

import numpy as np
import pytest

import verify.engine.precondition as precondition_module
from verify.engine.network import MLP, Problem
from verify.engine.precondition import gauss_newton_diagonal
from verify.engine.train import Status, synthetic_problem, train


def _exact_diagonal(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """mean_i (df_i / dtheta)^2 + lam (weights; biases too when they decay) for a one-output,
    one-hidden-layer tanh network with biases, from the Jacobian written out by hand:
    df/dW1_jk = w2_j s_ij x_ik, df/db1_j = w2_j s_ij, df/dW2_j = h_ij, df/db2 = 1."""
    (w1, b1), (w2, b2) = problem.net.unflatten(theta)
    X, lam = problem.X, problem.lam
    h = np.tanh(X @ w1.T + b1)
    s = 1 - h * h
    jw1 = (w2[0] * s)[:, :, None] * X[:, None, :]
    jb1 = w2[0] * s
    bias_decay = lam if problem.decay_bias else 0.0
    return np.concatenate([
        np.mean(jw1**2, axis=0).reshape(-1) + lam, np.mean(jb1**2, axis=0) + bias_decay,
        np.mean(h**2, axis=0) + lam, np.ones(1) + bias_decay,
    ])  # fmt: skip


@pytest.mark.parametrize("decay_bias", [False, True])
def test_diagonal_is_exact_for_one_output_and_unit_size_inputs(decay_bias: bool) -> None:
    """F1 (certification, L-BFGS preconditioner): for one output, one hidden layer and inputs of
    size 1 (random signs, so the factorised sample mean is exact) the estimate is the exact
    Gauss-Newton diagonal of L_lam (floored at lam)."""
    rng = np.random.default_rng(3)
    net = MLP((3, 5, 1), "tanh", bias=True)
    X = rng.choice([-1.0, 1.0], size=(40, 3))
    problem = Problem(net, X, rng.standard_normal((40, 1)), "mse", 0.05, decay_bias)
    theta = net.init(1) + 0.3 * rng.standard_normal(net.n_params)
    # entries are floored at lam (only undecayed biases can fall below it)
    expected = np.maximum(_exact_diagonal(problem, theta), problem.lam)
    assert np.allclose(gauss_newton_diagonal(problem, theta), expected, rtol=1e-13, atol=0)


def test_diagonal_is_positive_for_dead_units_and_no_decay() -> None:
    """F1 (certification, L-BFGS preconditioner): a ReLU network with a dead unit and lam = 0 has
    zero Gauss-Newton entries; the estimate stays positive and finite (floored at 1e-4 of the
    largest entry), so 1 / d is a valid L-BFGS initial matrix."""
    net = MLP((2, 3, 1), "relu")
    problem = Problem(net, np.array([[1.0, 0.5], [0.2, 1.0]]), np.ones((2, 1)), "mse", 0.0)
    theta = net.init(0)
    theta[:2] = -10.0  # unit 1 never active on the (positive) inputs
    d = gauss_newton_diagonal(problem, theta)
    assert np.all(np.isfinite(d)) and np.all(d > 0)
    assert d.min() == pytest.approx(1e-4 * d.max(), rel=1e-12)


def test_training_preconditions_lbfgs(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification): training's L-BFGS takes its initial matrix from the Gauss-Newton
    diagonal, re-estimated as it goes, and still ends certified (fails when train passes no
    ``scaling``)."""
    calls: list[int] = []
    real = precondition_module.gauss_newton_diagonal

    def spy(problem: Problem, theta: np.ndarray) -> np.ndarray:
        calls.append(1)
        return real(problem, theta)

    monkeypatch.setattr(precondition_module, "gauss_newton_diagonal", spy)
    monkeypatch.setattr(precondition_module, "MIN_PARAMS", 1)
    result = train(synthetic_problem(MLP((4, 8, 1), "tanh"), 32, seed=0), seed=0)
    assert result.status is Status.CONVERGED
    assert len(calls) >= 1 + result.iterations // 20 - 1  # once per L-BFGS run and per REFRESH


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "gelu", "quadratic", "identity"])
def test_only_tanh_training_is_preconditioned(
    activation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1 (certification): training preconditions L-BFGS for tanh only (measured: the diagonal
    cost iterations for non-centred activations; for ReLU the kink certificate depends on where
    L-BFGS stops), and only from MIN_PARAMS parameters on; the others keep gamma I."""
    other = synthetic_problem(MLP((4, 8, 1), activation), 16, seed=0)
    tanh = synthetic_problem(MLP((4, 8, 1), "tanh"), 16, seed=0)
    theta = tanh.net.init(0)
    assert precondition_module.diagonal_scaling(tanh) is None  # 40 < MIN_PARAMS parameters
    monkeypatch.setattr(precondition_module, "MIN_PARAMS", tanh.net.n_params)
    assert precondition_module.diagonal_scaling(other) is None
    scaling = precondition_module.diagonal_scaling(tanh)
    assert scaling is not None
    assert np.array_equal(scaling(theta), gauss_newton_diagonal(tanh, theta))


def test_a_costly_gradient_is_preconditioned_below_min_params() -> None:
    """F1 (certification): below MIN_PARAMS parameters a tanh network is preconditioned when
    samples x parameters (a gradient's cost) reach MIN_WORK, not below: the 100-10-1 net at
    n = 2000 is, the standard 20-64-1 net at n = 256 is not."""
    costly = synthetic_problem(MLP((100, 10, 1), "tanh"), 2000, seed=0)
    standard = synthetic_problem(MLP((20, 64, 1), "tanh"), 256, seed=0)
    assert costly.net.n_params < precondition_module.MIN_PARAMS
    assert costly.n * costly.net.n_params >= precondition_module.MIN_WORK
    assert standard.n * standard.net.n_params < precondition_module.MIN_WORK
    assert precondition_module.diagonal_scaling(costly) is not None
    assert precondition_module.diagonal_scaling(standard) is None
    fewer = synthetic_problem(MLP((100, 10, 1), "tanh"), 900, seed=0)  # n x p < MIN_WORK
    assert precondition_module.diagonal_scaling(fewer) is None
