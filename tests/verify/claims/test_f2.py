"""F2 in float64 through code generated from the SymPy statement."""

from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import Verdict
from theory.fact import f2_statement
from verify.claims.f2 import check_f2, f2_function
from verify.engine.network import MLP, Problem

ACTS = ["identity", "tanh", "sigmoid", "softplus", "gelu", "quadratic"]


def _problem(seed: int, sizes: tuple[int, ...], act: str, bias: bool, loss: str, lam: float):
    rng = np.random.default_rng(seed)
    net = MLP(sizes, act, bias)
    n = 7
    X = rng.standard_normal((n, sizes[0]))
    Y = (
        rng.standard_normal((n, sizes[-1]))
        if loss == "mse"
        else np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    )
    return Problem(net, X, Y, loss=loss, lam=lam), net.init(rng)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    widths=st.lists(st.integers(1, 5), min_size=2, max_size=5),
    act=st.sampled_from(ACTS),
    bias=st.booleans(),
    loss=st.sampled_from(["mse", "cross_entropy"]),
    lam=st.floats(1e-3, 1.0),
)
def test_f2_float64_at_random_parameters(seed, widths, act, bias, loss, lam) -> None:
    """F2: generated code agrees with backprop at random unconverged points, every layer."""
    problem, theta = _problem(seed, tuple(widths), act, bias, loss, lam)
    for c in check_f2(problem, theta):
        assert c.verdict is Verdict.NUMERICALLY_CONSISTENT, c


def test_f2_check_catches_wrong_statements() -> None:
    """F2 quality: statements with a flipped sign or a missing 1/n are caught in float64."""
    problem, theta = _problem(3, (4, 5, 3), "tanh", True, "mse", 0.1)
    (W, H, Gh, G, n, lam), lhs, rhs = f2_statement()
    flipped = W.T * W + (-(1 / (n * lam)) * Gh * H.T)
    no_n = W.T * W - (-(1 / lam) * Gh * H.T)
    for wrong in (flipped, no_n):
        sides = (
            sp.lambdify((W, H, Gh, G, n, lam), wrong, "numpy"),
            sp.lambdify((W, H, Gh, G, n, lam), rhs, "numpy"),
        )
        assert any(c.verdict is Verdict.REFUTED for c in check_f2(problem, theta, sides))


def test_engine_fact_matches_generated_code() -> None:
    """F1: the engine's FACT matrix equals FACT lambdified from the SymPy statement of F2.

    The engine (verify/claims/features.py) writes FACT by hand;
    the statement gives it independently as
    W^T W - lhs(F2). A flipped sign, a missing 1/n or a transposed factor in either fails here.
    """
    from verify.claims.features import layer_features
    from verify.engine.network import backprop

    problem, theta = _problem(11, (3, 4, 4, 2), "sigmoid", True, "mse", 0.2)
    lhs_f, _ = f2_function()
    bp = backprop(problem, theta)
    for feat, (W, _), (gW, _), h, gh in zip(
        layer_features(problem, theta), bp.params, bp.grads, bp.hs, bp.grad_h, strict=True
    ):
        generated = W.T @ W - lhs_f(W, h.T, gh.T, gW, problem.n, problem.lam)
        scale = np.linalg.norm(generated)
        assert scale > 1e-3  # FACT is not trivially zero here, so the comparison has teeth
        # rounding: a few products of inner dimension <= n = 7, entries of size ~scale
        assert np.linalg.norm(feat.fact - generated) <= 1e-12 * scale
        assert np.linalg.norm(feat.fact.T - generated) > 1e-6 * scale  # FACT is not symmetric here


def test_f2_numeric_tolerance_is_as_documented() -> None:
    """F2: a right side off by 10x the documented rounding tolerance 8 k u T is caught (a
    tolerance loosened 1000x would not catch it); off by 0.1x it passes."""
    problem, theta = _problem(5, (4, 5, 3), "tanh", True, "mse", 0.1)
    lhs_f, rhs_f = f2_function()
    for factor, expected in ((10.0, Verdict.REFUTED), (0.1, Verdict.NUMERICALLY_CONSISTENT)):

        def rhs(W, H, Gh, grad, n, lam, factor=factor):  # noqa: ANN001, ANN202
            k = max(W.shape + H.shape)
            T = (np.linalg.norm(W) ** 2 + np.linalg.norm(Gh) * np.linalg.norm(H) / (n * lam)
                 + np.linalg.norm(W) * np.linalg.norm(grad) / lam)  # fmt: skip
            e = np.zeros((W.shape[1], W.shape[1]))
            e[0, 0] = factor * 8 * k * (np.finfo(np.float64).eps / 2) * T
            return rhs_f(W, H, Gh, grad, n, lam) + e

        checks = check_f2(problem, theta, (lhs_f, rhs))
        assert all(c.verdict is expected for c in checks), (factor, checks)
