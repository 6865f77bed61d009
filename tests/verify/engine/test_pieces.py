"""ReLU networks: activation patterns, dead units, kinks, and certified stationary points inside
one smooth piece (verify/engine/pieces.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from verify.claims.checks import check_fact
from verify.claims.features import layer_features
from verify.engine.backends import FLOAT64
from verify.engine.kink import PinnedProblem
from verify.engine.kink.certificate import KinkReport, pinned_z_bounds
from verify.engine.lbfgs import lbfgs
from verify.engine.network import MLP, Problem, backprop, mp_backend
from verify.engine.newton64 import grad64, newton_step
from verify.engine.pieces import Reduction, pattern, piece_report, settle, structural_zeros
from verify.engine.train import Status, TrainResult, evaluate, refine_mp, synthetic_problem, train

MP = mp_backend(50)


def _certified_relu() -> tuple:
    """A ReLU network whose trained point lies inside a smooth piece (found by the search in
    the Hypothesis test below; the acceptance configuration, width 16, ends on a kink)."""
    problem = synthetic_problem(MLP((4, 2, 2), "relu"), 32, seed=0)
    return problem, train(problem, seed=0)


def test_certified_point_is_inside_its_piece() -> None:
    """F1 (ReLU): a certified point has every live pre-activation clear of 0 by more than the
    piece's Newton step and the rounding, and FACT holds there in every layer."""
    problem, result = _certified_relu()
    assert result.status is Status.CONVERGED and result.pieces is not None
    rep = result.pieces
    assert rep.inside and rep.at_kink == 0 and rep.kink_distance > 1e3 * rep.margin
    zs = backprop(problem, result.theta).zs[:-1]
    # the reported distance is a lower bound: the computed min |z| less its rounding bound
    assert 0 < min(float(np.abs(z).min()) for z in zs) - rep.kink_distance <= rep.margin
    assert check_fact(result).verdict.value == "NUMERICALLY_CONSISTENT"


def test_point_on_a_kink_is_not_certified() -> None:
    """F1 (ReLU): moving a certified point onto a kink (one pre-activation exactly 0, by
    rescaling nothing else) turns it into status on_kink with that reason, never converged."""
    problem, result = _certified_relu()
    theta = result.theta.copy()
    w, _ = problem.net.unflatten(theta)[0]
    z = problem.X @ w.T
    i, j = np.unravel_index(int(np.argmin(np.abs(z))), z.shape)
    # put sample i on unit j's hyperplane: remove the component of w_j along x_i
    x = problem.X[i]
    w[j] -= (w[j] @ x) / (x @ x) * x
    assert abs(float((problem.X @ w.T)[i, j])) <= 1e-15
    given_point = evaluate(problem, theta)
    assert given_point.status in (Status.ON_KINK, Status.NOT_STATIONARY)
    assert given_point.pieces is not None and not given_point.pieces.inside
    assert not given_point.certified_at(MP)


def test_default_relu_network_ends_on_a_kink_and_is_certified_there() -> None:
    """F1 (ReLU): the acceptance network (4, 16, 16, 2) ends on a non-differentiable point: the
    piece test says so (live pre-activations at rounding level of 0, not inside a piece), and
    the result is certified ON the kink as a Clarke-type stationary point (verify/engine/kink/),
    saying so, with FACT consistent; the same point given to evaluate (which never
    moves a point) stays on_kink, INCONCLUSIVE."""
    problem = synthetic_problem(MLP((4, 16, 16, 2), "relu"), 32, seed=0)
    result = train(problem, seed=0, spectrum="none")
    assert result.status is Status.CONVERGED and "ON A KINK" in result.reason
    assert result.pieces is not None and not result.pieces.inside and result.pieces.certified
    piece = piece_report(problem, result.theta)
    assert not piece.inside and piece.at_kink > 0 and piece.kink_distance < piece.margin
    assert check_fact(result).verdict.value == "NUMERICALLY_CONSISTENT"
    given_point = evaluate(problem, result.theta, spectrum="none")
    assert given_point.status is Status.ON_KINK and given_point.remedy
    assert check_fact(given_point).verdict.value == "INCONCLUSIVE"


def test_newton_refuses_a_step_that_leaves_the_piece() -> None:
    """F1 (ReLU): Newton on the smooth piece may not change the activation pattern. Here the
    full Newton step halves the gradient but flips a pre-activation's sign; it must be refused
    (without the pattern re-check it would be taken and the pattern would change)."""
    problem = synthetic_problem(MLP((3, 2, 2), "relu"), 12, lam=0.05, seed=26)
    start = settle(problem, lbfgs(lambda t: grad64(problem, t), problem.net.init(26), gtol=0.0,
                                  maxiter=20).x)  # fmt: skip
    g = backprop(problem, start).grad
    cand = start + newton_step(problem, start, g)
    # the premise: the step would be accepted on the gradient alone, and it leaves the piece
    assert np.linalg.norm(backprop(problem, cand).grad) <= 0.5 * np.linalg.norm(g)
    before = pattern(problem, start)
    assert any((a != b).any() for a, b in zip(before, pattern(problem, cand), strict=True))
    import verify.engine.train as train_module

    history: list[tuple[str, float]] = []
    theta, _, _, _ = train_module._newton_piecewise(problem, start, 1, history, float("inf"))
    assert not np.allclose(theta, cand)  # the full step was refused (a damped one may be taken)
    after = pattern(problem, theta)
    assert all((a == b).all() for a, b in zip(before, after, strict=True))


def test_dead_units_are_switched_off_and_removed() -> None:
    """F1 (ReLU, dead units): a unit inactive on every sample gets exactly zero weights, the
    reduced network has the same gradient on the remaining entries, and embedding restores it."""
    problem = synthetic_problem(MLP((4, 5, 3, 2), "relu", bias=True), 16, seed=3)
    theta = problem.net.init(3)
    w1, b1 = problem.net.unflatten(theta)[0]
    w1[1], b1[1] = 0.1 * w1[1], -50.0  # unit 2 of layer 1: off on every sample
    settled = settle(problem, theta)
    (w1s, b1s), (w2s, _) = problem.net.unflatten(settled)[:2]
    assert not w1s[1].any() and not w2s[:, 1].any() and b1s[1] == -50.0
    red = Reduction.of(problem, settled)
    assert red is not None and red.reduced.net.sizes == (4, 4, 3, 2)
    full_grad = backprop(problem, settled).grad
    assert np.array_equal(red.embed(red.shrink(settled)), settled)
    assert np.allclose(red.shrink(full_grad), backprop(red.reduced, red.shrink(settled)).grad,
                       rtol=0, atol=1e-15)  # fmt: skip
    dead = np.setdiff1d(np.arange(problem.net.n_params), red.keep)
    assert not full_grad[dead].any()  # zero gradient, exactly, in the dead unit's coordinates
    assert piece_report(problem, settled).dead_units == [[1], []]


def test_relu_at_50_digits_with_a_dead_unit() -> None:
    """F1 (ReLU, 50 digits): a network with a dead unit certifies at 50 digits; the mpmath point
    keeps the dead unit's weights exactly 0 and the piece test is repeated at 50 digits."""
    problem = synthetic_problem(MLP((4, 4, 2), "relu", bias=True), 32, lam=0.1, seed=0)
    result = refine_mp(train(problem, seed=0), 50)
    assert result.status is Status.CONVERGED and result.grad_norm_mp is not None
    assert result.grad_norm_mp <= result.grad_floor_mp  # type: ignore[operator]
    rep = result.pieces
    assert rep is not None and rep.inside and rep.precision == "50 digits"
    assert sum(len(d) for d in rep.dead_units) >= 1
    params = problem.net.unflatten(result.theta_mp)
    for j in rep.dead_units[0]:
        assert all(x == 0 for x in params[0][0][j]) and all(x == 0 for x in params[1][0][:, j])
    check = check_fact(result)
    assert check.verdict.value == "NUMERICALLY_CONSISTENT" and check.precision.startswith("50")


def test_a_sample_switched_off_below_is_not_a_kink() -> None:
    """F1 (ReLU, no bias): a sample on which every unit of layer 1 is off has z = 0 exactly in
    layer 2, identically near theta: L_lam is differentiable there (central differences match
    the gradient) and the piece report does not count those zeros as kinks."""
    net = MLP((4, 3, 3, 2), "relu")
    base = synthetic_problem(net, 16, seed=5)
    theta = net.init(5)
    w1 = net.unflatten(theta)[0][0]
    X = base.X.copy()
    X[0] = -np.linalg.pinv(w1) @ np.ones(3)  # w1 @ x_0 = -1: every layer-1 unit off on sample 1
    problem = Problem(net, X, base.Y, base.loss, base.lam, base.decay_bias)
    z2 = backprop(problem, theta).zs[1]
    assert not z2[0].any() and structural_zeros(problem, np.maximum(problem.X @ w1.T, 0))[0]
    rep = piece_report(problem, theta)
    assert rep.closest is not None and rep.closest[1] != 0 and rep.kink_distance > 1e-8
    g, rng = backprop(problem, theta).grad, np.random.default_rng(0)
    for _ in range(3):
        v = rng.standard_normal(theta.size)
        # why 1e-6 and 1e-6: central differences err by O(eps^2) ~ 1e-12 plus rounding
        # u |L| / eps ~ 1e-10; a kink in the direction v would err by O(1)
        eps = 1e-6
        fd = backprop(problem, theta + eps * v).value - backprop(problem, theta - eps * v).value
        assert abs(fd / (2 * eps) - g @ v) <= 1e-6 * max(1.0, abs(g @ v))


def _relu_problems() -> st.SearchStrategy:
    return st.tuples(
        st.integers(2, 4),  # d
        st.lists(st.integers(1, 4), min_size=1, max_size=2),  # hidden widths
        st.booleans(),  # bias
        st.sampled_from(["mse", "cross_entropy"]),
        st.sampled_from([0.02, 0.05, 0.1, 0.3]),  # lam
        st.integers(4, 24),  # n
        st.integers(0, 1000),  # seed
    )


@given(_relu_problems())
@example((4, [2], False, "mse", 0.05, 24, 0))  # certifies
@example((4, [4], True, "mse", 0.1, 24, 0))  # certified on a kink, with a dead unit
@example((4, [4], False, "mse", 0.02, 24, 1))  # certified on a kink (1 pinned pair)
@example((4, [2], False, "mse", 0.02, 4, 4))  # every pin held at a side: no slope unknowns
def test_every_certified_relu_point_is_off_the_kinks_and_satisfies_fact(case: tuple) -> None:
    """F1 (ReLU): for random ReLU networks, every certified point (a) has no live
    pre-activation within the reported kink distance of 0, recomputed independently at 50
    digits, pinned pairs excepted for a point certified ON a kink, whose pinned pairs are at 0
    within rounding and whose slopes are interior (:func:`_check_kink_point`), (b) has dead
    units with exactly zero weights, and (c) satisfies FACT in every layer within the rounding
    tolerance, recomputed from the weights (with the certified slopes at pinned pairs). Points
    that are not certified say why (on a kink, or not converged)."""
    d, widths, bias, loss, lam, n, seed = case
    problem = synthetic_problem(
        MLP((d, *widths, 2), "relu", bias), n, loss=loss, lam=lam, seed=seed
    )
    result = train(problem, seed=seed, max_iter=3000)
    rep = result.pieces
    assert rep is not None
    if result.status is not Status.CONVERGED:
        assert result.status in (Status.ON_KINK, Status.MAX_ITER) and result.remedy
        assert (result.status is Status.ON_KINK) == (not rep.inside)
        return
    pins: set[tuple[int, int, int]] = set()
    if isinstance(rep, KinkReport):  # certified ON a kink (verify/engine/kink/)
        pp = result.problem
        assert isinstance(pp, PinnedProblem) and rep.certified and not rep.inside
        pins = set(pp.pins)
        _check_kink_point(result, rep)
    else:
        assert rep.inside
    assert rep.kink_distance > 0
    zs = backprop(problem, MP.asarray(result.theta), MP).zs[:-1]
    params = problem.net.unflatten(result.theta)
    h = problem.X
    for layer, z in enumerate(zs):
        z = MP.to_float(z)
        dead = rep.dead_units[layer]
        live = np.setdiff1d(np.arange(z.shape[1]), dead)
        rows = ~structural_zeros(problem, h)  # inputs exactly 0: z = 0 on a neighbourhood
        other = np.zeros(z.shape, dtype=bool)
        other[np.ix_(rows, live)] = True
        for la, i, j in pins:  # pinned pairs: at 0 within rounding, checked in _check_kink_point
            other[i, j] &= la != layer
        assert (np.abs(z[other]) >= rep.kink_distance).all()  # (a)
        h = np.maximum(z, 0.0)
        assert (z[:, dead] <= 0).all()
        assert not params[layer][0][dead].any() and not params[layer + 1][0][:, dead].any()  # (b)
    # (c): FACT from the weights, F2 + rounding, with the certified slopes at pinned pairs
    for feat in layer_features(result.problem, result.theta):
        k = n + problem.net.depth * max(problem.net.sizes)
        tol = feat.f2_bound + (problem.net.depth + 1) * k * 2**-53 * feat.rounding_scale
        assert feat.fact_defect <= tol
    verdict = check_fact(result).verdict.value
    if all(rep.live_units):
        assert verdict == "NUMERICALLY_CONSISTENT"
    else:  # a hidden layer all dead: every W^T W is 0 and FACT reads 0 = 0, nothing to resolve
        assert verdict in ("NUMERICALLY_CONSISTENT", "INCONCLUSIVE")


def _check_kink_point(result: TrainResult, rep: KinkReport) -> None:
    """A point certified on a kink: pinned pairs at 0 within rounding (exact |z_p| <= 2 e_p at
    50 digits), slopes inside [margin, 1 - margin], and FACT with the slopes recomputed at 50
    digits within F2 + rounding."""
    pp = result.problem
    assert isinstance(pp, PinnedProblem)
    _, e = pinned_z_bounds(pp, result.theta, FLOAT64)
    plain = Problem(pp.net, pp.X, pp.Y, pp.loss, pp.lam, pp.decay_bias)
    zs = [MP.to_float(z) for z in backprop(plain, MP.asarray(result.theta), MP).zs[:-1]]
    assert all(abs(zs[la][i, j]) <= 2 * e[k] for k, (la, i, j) in enumerate(pp.pins))
    s = np.array(rep.slopes)
    assert (s >= rep.slope_margin).all() and (s <= 1 - rep.slope_margin).all()
    assert rep.slope_margin >= 10 * rep.slope_error > 0
    k = pp.n + pp.net.depth * max(pp.net.sizes)
    for feat in layer_features(pp, MP.asarray(result.theta), MP):
        assert feat.fact_defect <= feat.f2_bound + (pp.net.depth + 1) * k * 2**-53 * (
            feat.rounding_scale
        )
