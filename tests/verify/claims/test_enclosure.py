"""Ball-arithmetic enclosures (python-flint) against a second number system (mpmath, 50 digits).

An enclosure must contain the exact value; the 50-digit mpmath evaluation of the same float64
weights and data is exact to ~1e-45, so it must lie inside every ball (widened by that much).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory._verdict import Verdict
from verify.claims.features import layer_features, nfa_score
from verify.engine.network import MLP, backprop, mp_backend
from verify.engine.train import synthetic_problem, train

flint = pytest.importorskip("flint", reason="python-flint (the certify extra) not installed")

from verify.claims.enclosure import Ball, enclose_fact, enclose_nfa  # noqa: E402

BE50 = mp_backend(50)


def _inside(x: float, ball: Ball, slack: float = 1e-40) -> bool:
    """x in the ball, widened by the 50-digit evaluation's own error (relative 1e-40)."""
    pad = slack * max(1.0, abs(x))
    return ball.lo - pad <= x <= ball.hi + pad


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    act=st.sampled_from(["identity", "relu", "tanh", "sigmoid", "softplus", "gelu", "quadratic"]),
    loss=st.sampled_from(["mse", "cross_entropy"]),
    bias=st.booleans(),
    seed=st.integers(0, 1000),
    trained=st.booleans(),
)
def test_fact_enclosure_contains_the_50_digit_values(act, loss, bias, seed, trained) -> None:  # noqa: ANN001
    """F1, F2: ||W^T W - FACT||, ||W^T W|| and ||grad L_lam|| computed at 50 digits lie in
    their enclosures, and the two sides of F2 overlap, at random and trained weights."""
    net = MLP((3, 4, 2), act, bias=bias)
    problem = synthetic_problem(net, 8, loss=loss, seed=seed)
    theta = train(problem, seed=seed, spectrum="none").theta if trained else net.init(seed)
    enc = enclose_fact(problem, theta)
    feats = layer_features(problem, theta, BE50)
    for layer, feat in zip(enc.layers, feats, strict=True):
        assert layer.f2_sides_overlap
        assert _inside(feat.fact_defect, layer.defect)
        assert _inside(feat.nfm_norm, layer.nfm)
    g = backprop(problem, theta, BE50).grad
    with BE50.working():  # the norm at 50 digits too (mpmath's default is 53 bits)
        norm = float(BE50.sqrt(np.sum(g * g)))
    assert _inside(norm, enc.grad_norm)


def test_fact_enclosure_is_tight_and_decides() -> None:
    """F1: at a converged float64 point the enclosure proves FACT to ~1e-15 (CERTIFIED); at
    initial weights it proves the defect is large (lower end > 0.1), and is INCONCLUSIVE."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    result = train(problem, seed=0, spectrum="none")
    enc = enclose_fact(problem, result.theta)
    assert enc.verdict is Verdict.CERTIFIED
    assert all(x.rel_defect.hi < 1e-13 for x in enc.layers)
    assert all(x.defect.hi - x.defect.lo < 1e-25 for x in enc.layers)  # 200 bits: tiny radii
    early = enclose_fact(problem, problem.net.init(0))
    assert early.verdict is Verdict.INCONCLUSIVE
    assert all(x.rel_defect.lo > 0.1 for x in early.layers)


def test_certified_needs_the_upper_end_below_epsilon() -> None:
    """F1: CERTIFIED only when the whole enclosure of the relative defect is <= epsilon: at 64
    bits the balls are wide enough to put epsilon inside one, and then the verdict is
    INCONCLUSIVE (its lower end alone below epsilon proves nothing)."""
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    theta = train(problem, seed=0, spectrum="none").theta
    wide = max(enclose_fact(problem, theta, prec=64).layers, key=lambda x: x.rel_defect.hi)
    lo, hi = wide.rel_defect.lo, wide.rel_defect.hi
    assert lo < hi
    inside = enclose_fact(problem, theta, epsilon=(lo + hi) / 2, prec=64)
    assert inside.verdict is Verdict.INCONCLUSIVE
    assert enclose_fact(problem, theta, epsilon=hi, prec=64).verdict is Verdict.CERTIFIED


def test_disjoint_f2_sides_expose_a_wrong_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    """F2: a planted error (the weight gradient doubled) makes the two sides of F2 disjoint
    balls: the enclosure says so and is INCONCLUSIVE, never CERTIFIED on one side alone."""
    import verify.claims.enclosure as enclosure

    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, seed=0)
    theta = problem.net.init(0)  # far from stationary: the gradient is large

    def doubled(*args: object, **kwargs: object) -> object:
        bp = backprop(*args, **kwargs)
        bp.grads = [(2 * gw, gb) for gw, gb in bp.grads]
        return bp

    monkeypatch.setattr(enclosure, "backprop", doubled)
    enc = enclose_fact(problem, theta, epsilon=1e9)  # an epsilon any defect would meet
    assert enc.verdict is Verdict.INCONCLUSIVE and "disjoint" in enc.reason
    assert not all(x.f2_sides_overlap for x in enc.layers)


def test_nfa_enclosure_contains_the_50_digit_correlation() -> None:
    """N3: Pearson and cosine of W^T W and AGOP^alpha, enclosed through arb's rigorous
    eigendecomposition, contain the 50-digit values (mpmath eigensolver) at several alpha;
    a rank-deficient AGOP (the last layer: W_2^T W_2 of rank 2 < 5) is not enclosed."""
    problem = synthetic_problem(MLP((3, 5, 2), "tanh"), 16, seed=2)
    theta = train(problem, seed=2, spectrum="none").theta
    alphas = (0.125, 1 / 3, 0.5, 1.0)
    enc = enclose_nfa(problem, theta, {1: alphas, 2: (0.5,)})
    assert len(enc[0].by_alpha) == len(alphas)
    feat = layer_features(problem, theta, BE50)[0]
    for alpha, pearson, cosine in enc[0].by_alpha:
        score = nfa_score(feat, alpha, be=BE50)
        assert _inside(score.pearson, pearson, 1e-30) and _inside(score.cosine, cosine, 1e-30)
        assert pearson.hi - pearson.lo < 1e-12
    assert enc[1].by_alpha == [] and "not isolated" in enc[1].note
    best = enc[0].best
    assert best is not None and best.hi == max(max(p.hi, c.hi) for _, p, c in enc[0].by_alpha)


def test_ball_endpoints_round_outward() -> None:
    """F1 (enclosures): float64 ends of a ball never cut into it: 1/3 rounds down to nearest,
    1/10 rounds up, so both ends must be pushed outward."""
    old, flint.ctx.prec = flint.ctx.prec, 200
    try:
        for q in (flint.arb(1) / 3, flint.arb(1) / 10, -flint.arb(2) / 3):
            ball = Ball.of(q)
            assert flint.arb(ball.lo) < q < flint.arb(ball.hi)
            assert ball.hi - ball.lo <= 2 * math.ulp(float(q.mid()))
    finally:
        flint.ctx.prec = old
    assert Ball.of(flint.arb(0.25)) == Ball(0.25, 0.25)  # exact values stay exact
