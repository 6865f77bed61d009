"""The per-unit metric of the smoothing homotopy (verify/engine/kink/metric.py) and the L-BFGS
that runs in its variables (verify/engine/kink/start.py)."""

from __future__ import annotations

import numpy as np

from verify.engine.hessian import dense_hessian
from verify.engine.kink.metric import unit_metric
from verify.engine.kink.start import SmoothedProblem, _descend, _softplus, _value_grad
from verify.engine.network import MLP, backprop
from verify.engine.train import synthetic_problem


def _smoothed(sizes: tuple[int, ...], bias: bool, loss: str, lam: float, beta: float,
              seed: int = 1) -> SmoothedProblem:  # fmt: skip
    net = MLP(sizes, "relu", bias)
    base = synthetic_problem(net, 13, loss=loss, lam=lam, seed=seed)
    live = [np.ones(k, dtype=bool) for k in sizes[1:-1]]
    return SmoothedProblem(net, base.X, base.Y, base.loss, base.lam, base.decay_bias, beta=beta,
                           live=live)  # fmt: skip


def test_the_metric_is_a_change_of_variables() -> None:
    """theta = L^-T u and grad_u = L^-1 grad_theta are adjoint (so grad_u IS the gradient of the
    objective in u), u -> theta inverts theta -> u, and ||grad_theta|| <= norm ||grad_u|| (the
    bound that turns training's tolerance into one in u): two hidden layers, biases,
    cross-entropy."""
    sp = _smoothed((4, 6, 5, 3), True, "cross_entropy", 1e-2, 3.0)
    theta = sp.net.init(2)
    metric = unit_metric(sp, backprop(sp, theta))
    assert metric is not None
    rng = np.random.default_rng(0)
    v, g = rng.normal(size=theta.size), rng.normal(size=theta.size)
    assert np.allclose(metric.to_theta(metric.to_u(theta)), theta, rtol=1e-12, atol=1e-15)
    lhs, rhs = float(v @ metric.to_u_grad(g)), float(metric.to_theta(v) @ g)
    assert abs(lhs - rhs) <= 1e-12 * (abs(lhs) + abs(rhs))
    for _ in range(5):
        g = rng.normal(size=theta.size)
        assert np.linalg.norm(g) <= metric.norm * np.linalg.norm(metric.to_u_grad(g))


def test_the_blocks_are_the_hessian_blocks_of_one_hidden_layer() -> None:
    """F1 setting: with one hidden layer, MSE and dl_i/dh_ij = r_i a_j > 0 on every pair
    (positive outgoing weights, every residual positive), M_j = L_j L_j^T is the exact Hessian
    block of unit j's incoming weights (Gauss-Newton plus the softplus curvature, 1/n and the
    decay included) and the output layer's diagonal is the Hessian's there."""
    sp = _smoothed((3, 4, 1), False, "mse", 0.05, 2.0)
    sp = SmoothedProblem(sp.net, sp.X, np.full_like(sp.Y, -10.0), sp.loss, sp.lam,
                         sp.decay_bias, beta=2.0, live=sp.live)  # fmt: skip
    theta = sp.net.init(3)
    theta[12:] = np.abs(theta[12:]) + 0.1  # a_j > 0: residuals f_i + 10 > 0 then
    bp = backprop(sp, theta)
    assert (np.asarray(bp.grad_h[1]) > 0).all()
    metric = unit_metric(sp, bp)
    assert metric is not None
    H = dense_hessian(sp, theta)
    for j in range(4):
        L = np.linalg.inv(metric.inv[0][j])
        idx = metric.index[0][j]
        assert np.allclose(L @ L.T, H[np.ix_(idx, idx)], rtol=1e-12, atol=1e-14)
    assert np.allclose(metric.root**-2, np.diag(H)[metric.tail], rtol=1e-12)


def test_the_metric_of_mixed_signs_is_positive_definite() -> None:
    """With residuals of both signs (dl/dh c < 0 on some pairs) the blocks take |dl/dh| c: still
    a metric (factored), and no longer the Hessian block."""
    sp = _smoothed((3, 4, 1), False, "mse", 1e-3, 20.0)
    theta = sp.net.init(3)
    theta[12:] = [0.5, -0.7, 0.9, -0.4]  # outgoing weights of both signs
    bp = backprop(sp, theta)
    assert (np.asarray(bp.grad_h[1]) < 0).any() and (np.asarray(bp.grad_h[1]) > 0).any()
    metric = unit_metric(sp, bp)
    assert metric is not None
    H = dense_hessian(sp, theta)
    L = [np.linalg.inv(metric.inv[0][j]) for j in range(4)]
    assert any(not np.allclose(Lj @ Lj.T, H[np.ix_(metric.index[0][j], metric.index[0][j])])
               for j, Lj in enumerate(L))  # fmt: skip


def test_descend_meets_its_tolerance_in_theta() -> None:
    """L-BFGS in the metric's variables stops on the gradient in theta, not in u, at a level
    as stiff as the homotopy's (beta = 1e2 / median |z|)."""
    sp = _smoothed((4, 6, 2), True, "mse", 1e-2, 1.0)
    x = sp.net.init(1)
    beta = 1e2 / float(np.median(np.abs(np.asarray(backprop(sp, x).zs[0]))))
    sp = SmoothedProblem(sp.net, sp.X, sp.Y, sp.loss, sp.lam, sp.decay_bias, beta=beta,
                         live=sp.live)  # fmt: skip
    g0 = float(np.linalg.norm(_value_grad(sp, x)[1]))
    run, bp = _descend(sp, x, 1e-7 * g0, 5000, float("inf"))
    assert run.stop == "gtol"
    assert float(np.linalg.norm(_value_grad(sp, run.x)[1])) <= 1e-7 * g0
    assert np.array_equal(run.g, _value_grad(sp, run.x)[1])
    assert np.array_equal(np.asarray(bp.grad), run.g)  # the pass returned is at the end point


def test_the_softplus_slope_is_its_derivative() -> None:
    """The homotopy's activation: softplus_beta(z) -> relu(z) as beta grows, and its slope is
    the derivative of its value (central differences), on both sides of 0 and where the
    exponent is capped (|beta z| > 40); both equal the textbook forms log1p(exp(-|beta z|)) and
    (1 + tanh(beta z / 2)) / 2 to ~u absolutely (a flipped copysign, a lost 1/2 or a missing
    1/beta fails it)."""
    z = np.array([-3.0, -0.4, -1e-3, 0.0, 2e-3, 0.3, 5.0])
    for beta in (0.7, 10.0, 300.0):
        soft, sig = _softplus(beta, z)
        bz = beta * z
        textbook = (np.maximum(bz, 0) + np.log1p(np.exp(-np.abs(bz)))) / beta
        assert np.allclose(soft, textbook, rtol=4e-16, atol=4e-16 / beta)
        assert np.allclose(sig, (1 + np.tanh(bz / 2)) / 2, rtol=0, atol=4e-16)
        h = 1e-6 / beta
        up, down = _softplus(beta, z + h)[0], _softplus(beta, z - h)[0]
        assert np.allclose((up - down) / (2 * h), sig, rtol=1e-6, atol=1e-8)
        assert np.all(soft >= np.maximum(z, 0)) and np.all(
            soft - np.maximum(z, 0) <= np.log(2) / beta
        )
