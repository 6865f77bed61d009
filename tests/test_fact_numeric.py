"""F2 in float64 through code generated from the SymPy statement."""

from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import Verdict
from theory.fact import f2_statement
from verify.fact_numeric import check_f2
from verify.network import MLP, Problem

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
    """F1/F2: the engine's FACT and F2 residual agree with the code lambdified from SymPy."""
    from verify.features import layer_features

    problem, theta = _problem(11, (3, 4, 4, 2), "sigmoid", True, "mse", 0.2)
    generated = check_f2(problem, theta)
    for feat, gen in zip(layer_features(problem, theta), generated, strict=True):
        # the engine's F2 residual and the generated check measure the same quantity
        assert feat.f2_residual <= gen.tolerance
        assert abs(feat.fact_defect - np.linalg.norm(feat.nfm - feat.fact)) <= 1e-12 * (
            1 + feat.fact_defect
        )
