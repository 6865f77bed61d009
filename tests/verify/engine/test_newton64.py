"""Float64 Newton on Hessian-vector products: probes outside the basin, certification in it."""

from __future__ import annotations

import numpy as np
import pytest

import verify.engine.newton64 as newton_module
from verify.engine.hessian import gradient_floor
from verify.engine.lbfgs import lbfgs
from verify.engine.network import MLP, Problem
from verify.engine.newton64 import PROBE_ITER, grad64, newton64
from verify.engine.train import synthetic_problem, train


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = newton_module.hvp

    def hvp(*args: object) -> np.ndarray:
        calls[0] += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(newton_module, "hvp", hvp)
    monkeypatch.setattr(newton_module, "DENSE_MAX", 10)  # the Krylov path on a small network
    monkeypatch.setattr(newton_module, "CHOLESKY_MAX", 0)  # (not the closed-form Hessian's)
    return calls


def _near_stationary() -> tuple[Problem, np.ndarray]:
    """The tanh (6, 12, 1) net on 40 samples (lam 1e-2, seed 2) and an L-BFGS point at
    gradient 1e-7, inside Newton's basin."""
    problem = synthetic_problem(MLP((6, 12, 1), "tanh"), 40, seed=2, lam=1e-2)
    run = lbfgs(lambda t: grad64(problem, t), problem.net.init(2), gtol=1e-7, maxiter=5000)
    return problem, run.x


def test_a_failed_probe_costs_at_most_probe_iter_products(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification, Newton): far from a stationary point (the initial weights) a Krylov
    Newton call gives up after one probing MINRES solve of <= PROBE_ITER Hessian-vector products,
    with no shifted solve, and hands back (not certified) to L-BFGS."""
    calls = _counting(monkeypatch)
    problem = synthetic_problem(MLP((6, 12, 1), "tanh"), 40, seed=2, lam=1e-2)
    theta = problem.net.init(2)
    history: list[tuple[str, float]] = []
    out, steps, certified, _ = newton64(problem, theta, 6, history)
    assert not certified and steps <= 1
    assert 0 < calls[0] <= PROBE_ITER * (steps + 1)
    assert np.array_equal(out, theta) or history  # moved only by an accepted step


def test_krylov_newton_certifies_from_an_lbfgs_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification, Newton): from an L-BFGS point near stationarity the probe lands in
    Newton's basin and the following full MINRES steps reach the per-entry rounding floor."""
    _counting(monkeypatch)
    problem = synthetic_problem(MLP((6, 12, 1), "tanh"), 40, seed=2, lam=1e-2)
    run = lbfgs(lambda t: grad64(problem, t), problem.net.init(2), gtol=1e-8, maxiter=5000)
    theta, _, certified, _ = newton64(problem, run.x, 6, [])
    gn, floor = gradient_floor(problem, theta)
    assert certified and gn <= floor


def test_training_certifies_through_the_krylov_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification): with the dense limit lowered where Newton reads it, training reaches
    the floor by Newton-MINRES on Hessian-vector products (counted, so the dense path cannot
    stand in for it) and the Lanczos spectrum summary."""
    calls = _counting(monkeypatch)
    problem = synthetic_problem(MLP((4, 6, 2), "tanh"), 24, seed=4)
    result = train(problem, seed=4, spectrum="lanczos")
    assert calls[0] > 0
    assert result.converged and result.hessian is not None
    assert result.hessian.method.startswith("lanczos") and result.hessian.max_eig is not None


def test_at_rounding_level_switched_off_units_are_snapped_before_any_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F1 (certification, Newton): on the standard net (tanh 20-64-1, n = 256, lam 1e-3) Newton
    reaches ||g|| ~ 2e-16 with switched-off units whose tiny weights keep their entries over
    their own thresholds; there the snap comes first and certifies, so every MINRES solve of the
    run produced an accepted step (none is spent failing to halve a rounding-level gradient)."""
    solves: list[int] = []
    real = newton_module.minres

    def minres(*args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN002, ANN003, ANN202
        solves.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(newton_module, "minres", minres)
    monkeypatch.setattr(newton_module, "CHOLESKY_MAX", 0)  # the Krylov path, not Cholesky's
    problem = synthetic_problem(MLP((20, 64, 1), "tanh"), 256, lam=1e-3, seed=0)
    result = train(problem, seed=0, spectrum="none")
    assert result.status.value == "converged"
    kinds = [kind for kind, _ in result.history]
    assert kinds[-1] == "snap" and "newton" in kinds
    assert len(solves) == kinds.count("newton")


def test_one_hidden_layer_takes_cholesky_and_preconditioned_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F1 (certification, Newton): above the dense limit a one-hidden-layer network takes its
    Newton steps from the Cholesky factorization of the closed-form Hessian, and at the next
    points by conjugate gradients preconditioned with it: fewer factorizations than steps, a
    few Hessian-vector products per step, no MINRES solve. The steps reach the per-entry
    rounding floor."""
    calls, solves = [0], [0]
    real_hvp, real_of = newton_module.hvp, newton_module.Cholesky.of
    factored: list[int] = []

    def hvp(*args: object) -> np.ndarray:
        calls[0] += 1
        return real_hvp(*args)  # type: ignore[arg-type]

    def of(H: np.ndarray) -> object:
        factored.append(H.shape[0])
        return real_of(H)

    def minres(*args: object, **kwargs: object) -> object:
        solves[0] += 1
        raise AssertionError("MINRES on the Cholesky path")

    monkeypatch.setattr(newton_module, "hvp", hvp)
    monkeypatch.setattr(newton_module, "minres", minres)
    monkeypatch.setattr(newton_module, "DENSE_MAX", 10)
    monkeypatch.setattr(newton_module.Cholesky, "of", staticmethod(of))
    problem, start = _near_stationary()
    history: list[tuple[str, float]] = []
    theta, steps, certified, _ = newton64(problem, start, 6, history)
    gn, floor = gradient_floor(problem, theta)
    assert certified and gn <= floor and solves[0] == 0
    newton_steps = sum(kind == "newton" for kind, _ in history)
    assert factored == [problem.net.n_params] * len(factored)
    assert 0 < len(factored) < newton_steps
    assert 0 < calls[0] <= newton_module.PCG_ITER * newton_steps


def test_the_standard_net_ends_at_rounding_noise_through_the_cholesky_path() -> None:
    """F1 (certification, Newton): on the standard net (tanh 20-64-1, n = 256, lam 1e-3) the
    Cholesky path's last step lands below a tenth of the floor at its quadratic remainder
    (2.9e-15, floor 9e-14, FACT's error 8e-13); the polishing step (preconditioned, the
    switched-off units held at 0) takes it to the rounding noise, ~1e-16, and FACT's error to
    ~4e-14, as the Krylov path's longer solves did."""
    from verify.claims.checks import check_fact

    problem = synthetic_problem(MLP((20, 64, 1), "tanh"), 256, lam=1e-3, seed=0)
    result = train(problem, seed=0, spectrum="none")
    assert result.status.value == "converged"
    assert result.grad_norm <= result.grad_floor / 100
    assert max(layer.rel_error for layer in check_fact(result).layers) <= 1e-13


def test_an_indefinite_hessian_is_factored_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification, Newton): when the closed-form Hessian is not positive definite (a
    saddle nearby), the run takes Krylov steps and does not try the factorization again at
    every step."""
    attempts: list[int] = []

    def of(H: np.ndarray) -> None:
        attempts.append(1)
        return None  # as Cholesky.of answers for an indefinite H

    monkeypatch.setattr(newton_module, "DENSE_MAX", 10)
    monkeypatch.setattr(newton_module.Cholesky, "of", staticmethod(of))
    problem, start = _near_stationary()
    history: list[tuple[str, float]] = []
    _, _, certified, _ = newton64(problem, start, 6, history)
    assert certified and sum(kind == "newton" for kind, _ in history) >= 2
    assert attempts == [1]


def test_outside_the_basin_a_failed_cholesky_step_hands_back_without_a_probe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F1 (certification, Newton): when the Newton step from a positive definite Hessian's
    factorization does not halve the gradient (outside the basin; here forced with a
    factorization whose steps are tiny), the run hands back to L-BFGS, not certified, without
    a MINRES probe: the probe would cost more than L-BFGS there."""
    solves: list[int] = []
    real_of = newton_module.Cholesky.of

    def minres(*args: object, **kwargs: object) -> object:
        solves.append(1)
        raise AssertionError("a MINRES probe after the Cholesky step failed")

    def stiff(H: np.ndarray) -> object:  # positive definite, steps 1e-12 of the gradient
        return real_of(1e12 * np.eye(H.shape[0]))

    monkeypatch.setattr(newton_module, "minres", minres)
    monkeypatch.setattr(newton_module, "DENSE_MAX", 10)
    monkeypatch.setattr(newton_module.Cholesky, "of", staticmethod(stiff))
    problem = synthetic_problem(MLP((6, 12, 1), "tanh"), 40, seed=2, lam=1e-2)
    theta = problem.net.init(2)
    history: list[tuple[str, float]] = []
    out, steps, certified, _ = newton64(problem, theta, 6, history)
    assert not certified and steps == 0 and not history and not solves
    assert np.array_equal(out, theta)
