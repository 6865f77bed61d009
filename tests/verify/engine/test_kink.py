"""ReLU points on a kink: Clarke-type stationary points certified by Newton on the square system
in the weights and the pinned slopes (verify/engine/kink/)."""

from __future__ import annotations

import dataclasses
import itertools
from functools import lru_cache
from typing import Any

import numpy as np
import pytest

from verify.claims.checks import check_fact
from verify.claims.features import layer_features
from verify.engine.backends import FLOAT64
from verify.engine.kink import PinnedProblem, is_pinned
from verify.engine.kink.certificate import SLOPE_MARGIN, KinkReport, certify_kink, pinned_z_bounds
from verify.engine.kink.surrogate import z_at
from verify.engine.network import MLP, Problem, backprop, mp_backend
from verify.engine.rounding import rounding_analysis
from verify.engine.train import Status, TrainResult, synthetic_problem, train

MP = mp_backend(50)


@lru_cache(maxsize=1)
def _on_kink() -> TrainResult:
    """A network whose trained point ends on a kink (7 pinned pre-activations), certified."""
    problem = synthetic_problem(MLP((4, 6, 2), "relu"), 24, lam=0.02, seed=0)
    return train(problem, seed=0)


def _plain(problem: Problem) -> Problem:
    return Problem(problem.net, problem.X, problem.Y, problem.loss, problem.lam,
                   problem.decay_bias)  # fmt: skip


def test_a_kinked_point_is_certified_with_interior_slopes() -> None:
    """F1 (ReLU, on a kink): the point is certified ON a kink, and says so: pinned pairs at 0
    within rounding (recomputed at 50 digits: exact |z_p| <= 2 e_p), every other live pair at
    least the reported kink distance from 0 (50 digits), slopes inside [margin, 1 - margin]."""
    result = _on_kink()
    assert result.status is Status.CONVERGED and is_pinned(result.problem)
    rep = result.pieces
    assert isinstance(rep, KinkReport) and rep.certified and not rep.inside
    assert "ON A KINK" in result.reason and "Clarke-type" in result.reason
    assert result.to_dict()["pieces"]["on_kink"] is True
    pp = result.problem
    assert isinstance(pp, PinnedProblem)
    _, e = pinned_z_bounds(pp, result.theta, FLOAT64)
    zs = [MP.to_float(z) for z in backprop(_plain(pp), MP.asarray(result.theta), MP).zs[:-1]]
    exact = np.array([zs[la][i, j] for la, i, j in pp.pins])
    assert (np.abs(exact) <= 2 * e).all()  # computed |z| <= e and computed - exact <= e
    pins = set(pp.pins)
    for layer, z in enumerate(zs):
        live = (z > 0).any(axis=0)
        for i, j in np.argwhere(np.ones_like(z, dtype=bool) & live[None, :]):
            if (layer, int(i), int(j)) not in pins:
                assert abs(z[i, j]) >= rep.kink_distance > 0
    s = np.array(rep.slopes)
    assert rep.slope_margin == SLOPE_MARGIN * rep.slope_error > 0
    assert (s >= rep.slope_margin).all() and (s <= 1 - rep.slope_margin).all()


def test_fact_holds_with_the_slopes_and_fails_without_them() -> None:
    """F1 (ReLU, on a kink): FACT holds with the certified slopes, recomputed at 50 digits from
    the float64 point (defect within F2 + rounding); with relu'(0) = 0 at the pinned pairs (the
    slopes not passed to the FACT check) the defect is orders of magnitude above that."""
    result = _on_kink()
    pp = result.problem
    n, k = pp.n, pp.n + pp.net.depth * max(pp.net.sizes)
    for feat in layer_features(pp, MP.asarray(result.theta), MP):
        tol = feat.f2_bound + (pp.net.depth + 1) * k * 2**-53 * feat.rounding_scale
        assert feat.fact_defect <= tol, feat.layer
    assert check_fact(result).verdict.value == "NUMERICALLY_CONSISTENT"
    without = layer_features(_plain(pp), result.theta)
    assert max(f.fact_rel_error for f in without) > 1e-6
    plain_result = dataclasses.replace(result, problem=_plain(pp))
    assert check_fact(plain_result, recheck=False).verdict.value != "NUMERICALLY_CONSISTENT"
    del n


def test_the_slopes_enter_backprop_and_its_rounding() -> None:
    """F1 (ReLU, on a kink): the surrogate's slopes are relu'(z_p) in backpropagation (h_p =
    s_p z_p), and its rounding analysis takes them as exact (no unknown-slope term there)."""
    pp = _on_kink().problem
    assert isinstance(pp, PinnedProblem)
    theta = _on_kink().theta
    bp = backprop(pp, theta)
    for (la, i, j), s in zip(pp.pins, pp.slopes, strict=True):
        assert bp.slopes[la][i, j] == s and bp.hs[la + 1][i, j] == s * bp.zs[la][i, j]
    plain = rounding_analysis(_plain(pp), theta)
    assert plain.kinks > 0 and rounding_analysis(pp, theta).kinks < plain.kinks
    assert rounding_analysis(pp, theta).certified


@pytest.mark.parametrize("rule", ["gradient", "pinned_z", "other_pairs", "slopes"])
def test_each_certificate_rule_is_required(rule: str) -> None:
    """F1 (ReLU, on a kink): the certificate fails when any one of its four rules fails."""
    rep, _ = certify_kink(_on_kink().problem, _on_kink().theta)
    assert rep.certified
    broken = {
        "gradient": {"gradient_ok": False},
        "pinned_z": {"pinned_z_ratio": 1.5},
        "other_pairs": {"at_kink": 1},
        "slopes": {"slopes_ok": False},
    }[rule]
    assert not dataclasses.replace(rep, **broken).certified


def test_a_singular_square_system_is_not_certified_and_says_why() -> None:
    """F1 (ReLU, on a kink): a zero mode of the square Jacobian that moves the slopes (here: the
    same pinned pair listed twice: the second copy's slope overwrites the first's, which then
    enters no equation) leaves the
    slopes undetermined: not certified, and the reason names the singular system."""
    pp, theta = _on_kink().problem, _on_kink().theta
    assert isinstance(pp, PinnedProblem)
    s = np.array(pp.slopes, dtype=float)
    twice = dataclasses.replace(pp, pins=(*pp.pins, pp.pins[0]),
                                slopes=np.append(s, 0.0))  # fmt: skip
    object.__setattr__(twice, "_cache", {})
    rep, solver = certify_kink(twice, theta)
    assert solver.zero_modes >= 1 and not rep.slopes_determined and not rep.certified
    assert "singular" in rep.text()


def test_the_rules_see_a_moved_point() -> None:
    """F1 (ReLU, on a kink): moving the certified point breaks the rules that see the move: a
    weight change of 1e-9 lifts the gradient above its floor; shifting a pinned unit's incoming
    weights lifts its pinned z above its rounding bound; a slope set to 0 or 1 is not interior."""
    result = _on_kink()
    pp, theta = result.problem, result.theta
    assert isinstance(pp, PinnedProblem)
    moved = theta.copy()
    moved[-1] += 1e-9  # an output weight: z of the hidden layer is unchanged
    rep, _ = certify_kink(pp, moved)
    assert not rep.gradient_ok and rep.pinned_z_ratio <= 1 and not rep.certified
    la, i, j = pp.pins[0]
    w, _ = pp.net.unflatten(theta)[la]
    x = np.asarray(backprop(pp, theta).hs[la][i])
    shifted = theta.copy()
    shifted_w, _ = pp.net.unflatten(shifted)[la]
    shifted_w[j] += 1e-9 * x / (x @ x)  # z_p moves by 1e-9
    assert abs(z_at(backprop(pp, shifted), (pp.pins[0],))[0]) > 5e-10
    rep, _ = certify_kink(pp, shifted)
    assert rep.pinned_z_ratio > 1 and not rep.certified
    del w
    for end in (0.0, 1.0):
        s = np.array(pp.slopes, dtype=float)
        s[0] = end
        rep, _ = certify_kink(pp.with_slopes(s), theta)
        assert not rep.slopes_ok and not rep.certified


def test_the_square_jacobian_matches_its_definition() -> None:
    """F1 (ReLU, on a kink): the square system's Jacobian (stacked reverse passes and per-sample
    slope differences) equals its definition, column by column: central differences in theta of
    (G, z) at 50 digits, and the full-batch differences s_q -> s_q + 1 for the slope columns
    (pins on two layers, several on one sample, one held, frozen coordinates left out)."""
    from verify.engine.kink.surrogate import jacobian

    net = MLP((3, 4, 3, 2), "relu", bias=True)
    base = synthetic_problem(net, 6, lam=0.02, seed=1)
    theta = net.init(2)
    pins = ((0, 1, 2), (0, 1, 0), (1, 1, 1), (1, 4, 2), (0, 5, 3), (1, 5, 0))
    slopes = np.array([0.3, 0.8, 0.45, 0.6, 0.2, 0.7])
    pp = PinnedProblem(net, base.X, base.Y, base.loss, base.lam, base.decay_bias, pins=pins,
                       slopes=slopes)  # fmt: skip
    free = np.array([True, True, True, False, True, True])
    keep = np.ones(net.n_params, dtype=bool)
    keep[[0, 7, 20]] = False
    J, F = jacobian(pp, theta, free, keep)
    fpins = tuple(p for p, f in zip(pins, free, strict=True) if f)

    def square(problem: PinnedProblem, t: np.ndarray, be=FLOAT64) -> np.ndarray:
        bp = backprop(problem, t, be)
        return np.concatenate([bp.grad[keep], z_at(bp, fpins)])

    assert np.array_equal(F, square(pp, theta))
    h = MP.asarray(np.float64(1e-20))
    ref = np.zeros_like(J)
    with MP.working():
        for col, k in enumerate(np.flatnonzero(keep)):
            up, down = MP.asarray(theta), MP.asarray(theta)
            up[k], down[k] = up[k] + h, down[k] - h
            ref[:, col] = MP.to_float((square(pp, up, MP) - square(pp, down, MP)) / (2 * h))
    for col, q in enumerate(np.flatnonzero(free)):
        s1 = slopes.copy()
        s1[q] += 1.0
        ref[:, keep.sum() + col] = square(pp.with_slopes(s1), theta) - F
    assert np.abs(ref[:, keep.sum() :]).max() > 0.1  # the slope columns are not trivial
    assert np.allclose(J, ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def test_newton_steps_on_a_large_singular_system_use_a_rank_revealing_qr() -> None:
    """F1 (ReLU, on a kink): above QR_FROM unknowns a Newton step on a singular square system
    comes from a pivoted QR (the same zero modes as the SVD, and a solution of a consistent
    system to rounding); the certificate's solver (no ``search``) keeps the SVD; before the last
    smoothing level (``lu_only``) there is no solver at all."""
    from verify.engine.kink.solver import QR_FROM, Solver

    rng = np.random.default_rng(0)
    n, rank = QR_FROM + 20, QR_FROM + 15
    J = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n))
    r = J @ rng.standard_normal(n)
    step, cert = Solver.of(J, 7, search=True), Solver.of(J, 7)
    assert step.qr is not None and step.svd is None and cert.svd is not None and cert.qr is None
    assert step.zero_modes == cert.zero_modes == n - rank
    assert not Solver.of(J, 7, search=True, lu_only=True).ok  # before the last smoothing level
    for solver in (step, cert):
        assert np.linalg.norm(J @ solver.solve(r) - r) <= 1e-12 * np.linalg.norm(r)


@pytest.mark.parametrize(("loss", "outputs"), [("mse", 3), ("cross_entropy", 3), ("mse", 1)])
def test_the_homotopy_pass_is_backpropagation_bit_for_bit(loss: str, outputs: int) -> None:
    """F1 (ReLU, on a kink): the lean value-and-gradient pass of the smoothing homotopy gives
    exactly the numbers of backpropagation on the smoothed problem (all units live, or some dead;
    biases decayed, two hidden layers; a mild level and one stiff enough for softplus's capped
    exponent; one output, where the pass forms g w by broadcasting), so the homotopy's path is
    the one backpropagation takes."""
    from verify.engine.kink.start import SmoothedProblem, _value_grad

    net = MLP((3, 5, 4, outputs), "relu", bias=True)
    base = synthetic_problem(net, 9, lam=0.03, seed=2, loss=loss, decay_bias=True)
    theta = net.init(4) + 0.1
    some = [np.array([1, 0, 1, 1, 1], dtype=bool), np.array([1, 1, 0, 1], dtype=bool)]
    for live, beta in itertools.product((some, [np.ones(5, dtype=bool), np.ones(4, dtype=bool)]),
                                        (7.0, 1e6)):  # fmt: skip
        sp = SmoothedProblem(net, base.X, base.Y, base.loss, base.lam, base.decay_bias, beta=beta,
                             live=live)  # fmt: skip
        value, grad = _value_grad(sp, theta)
        bp = backprop(sp, theta)
        assert value == float(bp.value) and np.array_equal(grad, bp.grad)
        if beta < 1e3:  # (at 1e6 softplus is relu to rounding at these pre-activations)
            assert not np.array_equal(grad, backprop(_plain(sp), theta).grad)  # smoothing used


def test_newton_on_the_square_system_reuses_its_factorization(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F1 (ReLU, on a kink): Newton on the square system takes chord steps with the last LU
    while they halve the residual, so it needs fewer Jacobians than steps, and still ends
    certified."""
    import verify.engine.kink.newton as kn

    jacobians: list[int] = []
    outs: list[Any] = []
    jac, active_set = kn.jacobian, kn._active_set

    def counted(*args: Any, **kw: Any) -> Any:
        jacobians.append(1)
        return jac(*args, **kw)

    def recorded(*args: Any, **kw: Any) -> Any:
        outs.append(active_set(*args, **kw))
        return outs[-1]

    monkeypatch.setattr(kn, "jacobian", counted)
    monkeypatch.setattr(kn, "_active_set", recorded)
    problem = synthetic_problem(MLP((4, 6, 2), "relu"), 24, lam=0.02, seed=0)
    assert train(problem, seed=0).status is Status.CONVERGED and outs[-1].converged
    assert 0 < len(jacobians) < outs[-1].steps  # steps: cumulative over the levels tried


def test_kink_point_refined_at_50_digits() -> None:
    """F1 (ReLU, on a kink, 50 digits): mixed-precision Newton on the square system reaches the
    50-digit floor, the four rules hold there, and FACT holds at 50 digits with the slopes."""
    from verify.engine.newton_mp import refine_mp

    out = refine_mp(_on_kink(), 50)
    assert out.status is Status.CONVERGED and out.certified_at(MP), out.reason
    assert isinstance(out.pieces, KinkReport) and out.pieces.precision == "50 digits"
    assert out.grad_norm_mp is not None and out.grad_norm_mp < 1e-45
    assert check_fact(out, dps=50).verdict.value == "NUMERICALLY_CONSISTENT"


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--bias"], ["--loss", "cross_entropy"], ["--dps", "50"]])
def test_cli_relu_acceptance_network_certifies(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """F1 (ReLU): `factcheck verify fact --activation relu --depth 3 --width 16` (and with
    --bias, cross-entropy, --dps 50) exits 0 at a point certified on a kink."""
    import json

    from verify.cli.main import main

    code = main(["verify", "fact", "--activation", "relu", "--depth", "3", "--width", "16",
                 "--json", *extra])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    training = out["training"]
    assert training["status"] == "converged" and training["pieces"]["on_kink"] is True
    assert training["pieces"]["pinned_count"] > 0 and out["verdict"] == "NUMERICALLY_CONSISTENT"


def test_the_certificate_reusing_newtons_last_lu_judges_as_a_fresh_one() -> None:
    """F1 (ReLU, on a kink): the certificate takes the LU of Newton's last step (from a point
    that already passed the float64 test, so its Jacobian is the final one to rounding); its
    four rules then read the same as with the Jacobian rebuilt at the final point."""
    from verify.engine.kink.newton import solve_on_kink

    problem = synthetic_problem(MLP((4, 6, 2), "relu"), 24, lam=0.02, seed=0)
    solved = solve_on_kink(problem, problem.net.init(0), from_start=True)
    assert solved.converged and solved.solver is not None and solved.problem is not None
    reused, _ = certify_kink(solved.problem, solved.theta, solver=solved.solver)
    fresh, _ = certify_kink(solved.problem, solved.theta)
    assert reused.certified and fresh.certified
    assert abs(reused.slope_error - fresh.slope_error) <= 1e-6 * fresh.slope_error
    assert abs(reused.margin - fresh.margin) <= 1e-6 * fresh.margin
    assert abs(np.log(reused.cond / fresh.cond)) <= 1e-3


def test_a_round_that_only_drops_held_pairs_is_a_confirming_one() -> None:
    """F1 (ReLU, on a kink): at the end of an active-set round a free slope outside [0, 1] is
    held at its side, a held pair whose z is on its side is dropped, one on the wrong side is
    pinned again at slope 1/2; only a round whose sole change is dropping held pairs is
    'confirming' (the point already solves the smaller system: the round after it is not
    counted against the limit)."""
    from verify.engine.kink.newton import _release

    a, b, c, d = (0, 1, 2), (0, 3, 1), (0, 4, 0), (0, 5, 2)
    pins, slopes, free, confirming = _release(
        [a, b, c, d], np.array([0.3, 1.0, 0.0, 1.2]), np.array([True, False, False, True]),
        np.array([1e-17, 0.5, -0.2, 0.0]),
    )  # fmt: skip
    assert pins == [a, d] and slopes.tolist() == [0.3, 1.0] and free.tolist() == [True, False]
    assert not confirming  # d was released: the next round solves a changed system
    pins, slopes, free, confirming = _release([a], np.array([1.0]), np.array([False]),
                                              np.array([-0.1]))  # fmt: skip
    assert pins == [a] and slopes.tolist() == [0.5] and free.tolist() == [True] and not confirming
    pins, slopes, free, confirming = _release(
        [a, b], np.array([1.0, 0.0]), np.array([False, False]), np.array([2.0, 3.0])
    )
    assert pins == [b] and slopes.tolist() == [0.5] and not confirming  # b pinned again
    pins, slopes, free, confirming = _release([a, b], np.array([0.4, 0.0]), np.array([True, False]),
                                              np.array([0.0, -1.0]))  # fmt: skip
    assert pins == [a] and slopes.tolist() == [0.4] and free.tolist() == [True] and confirming


def test_newton_leaves_the_callers_pins_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (ReLU, on a kink): a round that pins pairs crossing 0 grows its own copy of the pin
    list, so the caller's list stays the candidate set it passed (the homotopy compares it with
    the next level's candidates, and skips a level whose candidates Newton already failed
    from)."""
    import verify.engine.kink.newton as kn

    crossings, active_set = kn._crossings, kn._active_set
    injected: list[tuple[int, int, int]] = []
    seen: list[bool] = []

    def crossing_once(problem: Any, theta: Any, masks: Any, sides: Any) -> Any:
        out = crossings(problem, theta, masks, sides)
        if not injected:  # one live pair that is not pinned, as if a step had carried it across
            i, j = next((int(i), int(j)) for i, j in np.argwhere(masks[0])
                        if (0, int(i), int(j)) not in problem.pins)  # fmt: skip
            injected.append((0, i, j))
            out = [*out, (0, i, j)]
        return out

    def checked(problem: Any, theta: Any, pins: Any, *args: Any, **kw: Any) -> Any:
        before = list(pins)
        out = active_set(problem, theta, pins, *args, **kw)
        seen.append(pins == before)
        return out

    monkeypatch.setattr(kn, "_crossings", crossing_once)
    monkeypatch.setattr(kn, "_active_set", checked)
    problem = synthetic_problem(MLP((4, 6, 2), "relu"), 24, lam=0.02, seed=0)
    train(problem, seed=0)
    assert injected and seen and all(seen)


def test_the_float64_test_is_computed_once_per_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (ReLU, on a kink): Newton's float64 test remembers its last point: asked again at the
    same point, pins, slopes and free mask it answers without a new rounding analysis; any of
    them changed, it analyses again (and answers for the new point)."""
    import verify.engine.kink.newton as kn

    calls: list[int] = []
    real = kn.rounding_analysis

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(kn, "rounding_analysis", counted)
    found = _on_kink()
    problem, theta = found.problem, found.theta
    free = np.ones(len(problem.pins), dtype=bool)
    test = kn._Float64Test()
    calls.clear()  # (training's own tests)
    assert test(problem, theta, free) and test(problem, theta.copy(), free.copy())
    assert len(calls) == 1
    moved = theta + 1e-3
    assert not test(problem, moved, free) and len(calls) == 2
    assert not test(problem.with_slopes(np.asarray(problem.slopes) + 0.1), theta, free)
    assert len(calls) == 3 and test(problem, theta, free) and len(calls) == 4
