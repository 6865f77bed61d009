"""The NumPy L-BFGS of the training stage: compact representation, convergence, stopping rules."""

from __future__ import annotations

import numpy as np
import pytest

from verify.engine.compact import Pairs
from verify.engine.lbfgs import lbfgs


def _two_loop(
    pairs: list[tuple[np.ndarray, np.ndarray]], g: np.ndarray, P: np.ndarray | None = None
) -> np.ndarray:
    """H g by the classical two-loop recursion (Nocedal and Wright, Algorithm 7.4): the oracle.
    ``P``: H_0 = gamma diag(P), gamma = s.y / y.Py (default H_0 = gamma I, P = 1)."""
    q, alphas = g.copy(), []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        alphas.append(a)
        q -= a * y
    s, y = pairs[-1]
    P = np.ones_like(g) if P is None else P
    r = (s @ y) / (y @ (P * y)) * (P * q)
    for (s, y), a in zip(pairs, reversed(alphas), strict=True):
        r += s * (a - (y @ r) / (s @ y))
    return r


@pytest.mark.parametrize("added", [1, 3, 5, 12])
def test_compact_representation_matches_the_two_loop_recursion(added: int) -> None:
    """F1 (certification, L-BFGS): the compact H g equals the two-loop recursion, also after the
    ring buffer has dropped old pairs (added > m)."""
    rng = np.random.default_rng(added)
    p, m = 40, 5
    A = rng.standard_normal((p, p))
    A = A @ A.T + np.eye(p)  # SPD: every pair has s . y > 0
    mem, pairs = Pairs(m, p), []
    for _ in range(added):
        s = rng.standard_normal(p)
        mem.add(s, A @ s)
        pairs.append((s, A @ s))
    g = rng.standard_normal(p)
    expected = _two_loop(pairs[-m:], g)
    assert np.allclose(mem.apply(g), expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("P", [None, "scaled"])
def test_float32_pairs_give_the_two_loop_product_of_the_rounded_pairs(P: str | None) -> None:
    """F1 (certification, L-BFGS): with the pairs stored in float32 (from LARGE_P parameters on)
    the compact H g is the two-loop product of the float32-rounded pairs, to float32 accuracy;
    gamma and the newest curvature come from the float64 pair, so they are the two-loop's of the
    unrounded newest pair."""
    rng = np.random.default_rng(7)
    p, m = 300, 6
    A = rng.standard_normal((p, p))
    A = A @ A.T + np.eye(p)
    scale = rng.uniform(0.1, 10, p) if P else None
    mem, pairs = Pairs(m, p, np.float32), []
    mem.scale(scale)
    for _ in range(9):
        s = rng.standard_normal(p)
        mem.add(s, A @ s)
        pairs.append((s, A @ s))
    assert mem.S.dtype == np.float32 and mem.Y.dtype == np.float32
    rounded = [(s.astype(np.float32).astype(float), y.astype(np.float32).astype(float))
               for s, y in pairs[-m:-1]] + [pairs[-1]]  # fmt: skip
    g = rng.standard_normal(p)
    expected = _two_loop(rounded, g, scale)
    # why 1e-4: float32 products over p = 300 terms carry a relative error of a few 1e-7 of
    # |S| |g|, amplified by R^{-1} (condition of the pairs' inner products, ~1e2 here)
    assert np.allclose(mem.apply(g), expected, rtol=0, atol=1e-4 * np.abs(expected).max())
    # the float32 memory is not the float64 one's product: the test sees the rounding
    exact = _two_loop(pairs[-m:], g, scale)
    assert np.abs(mem.apply(g) - exact).max() > 0


def test_rosenbrock_minimum() -> None:
    """F1 (certification, L-BFGS): the Rosenbrock valley's minimum (1, 1) to gradient 1e-9."""

    def rosen(x: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = x
        f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        return f, np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])

    res = lbfgs(rosen, np.array([-1.2, 1.0]), gtol=1e-9, maxiter=500)
    assert res.stop == "gtol" and np.linalg.norm(res.g) <= 1e-9
    assert np.allclose(res.x, [1.0, 1.0], atol=1e-8)


def test_ill_conditioned_quadratic_and_precision_limit() -> None:
    """F1 (certification, L-BFGS): on a quadratic with condition 1e6 and f ~ 1 the iteration goes
    past the point where decreases of f drop below their rounding, and then stops by the line
    search (the precision limit), not by running out of iterations."""
    d, c = np.logspace(-3, 3, 200), np.linspace(1.0, 2.0, 200)
    res = lbfgs(
        lambda x: (0.5 * float((x - c) @ (d * (x - c))) + 1.0, d * (x - c)), np.zeros(200),
        gtol=0.0, maxiter=10**5,
    )  # fmt: skip
    assert res.stop == "line search" and res.nit < 10**4
    # why 1e-6: with the sufficient-decrease test alone the search cannot see a decrease below
    # the rounding of f (64 u |f| ~ 1.4e-14), i.e. it stalls near |g| ~ sqrt(2e-14 * 1e3) ~ 5e-6;
    # the approximate Wolfe conditions must carry it further
    assert np.linalg.norm(res.g) <= 1e-6


def test_stall_stops_a_zigzag() -> None:
    """F1 (certification, L-BFGS): on the nonsmooth |x|_1 the gradient never shrinks; with
    ``stall`` the iteration stops after that many iterations without halving it."""
    res = lbfgs(
        lambda x: (float(np.abs(x).sum()), np.sign(x)), np.linspace(-1, 1.1, 7), gtol=0.0,
        maxiter=10**4, stall=50,
    )  # fmt: skip
    assert res.stop in ("stall", "line search") and res.nit <= 60


def test_large_problems_keep_more_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification, L-BFGS): from LARGE_P parameters on, the default memory keeps
    LARGE_MEMORY pairs (20 below) in float32, and the iteration still converges on an
    ill-conditioned quadratic of that size."""
    import verify.engine.lbfgs as module

    sizes: list[int] = []
    dtypes: list[type] = []
    real = module.Pairs

    def spy(m: int, p: int, dtype: type = np.float64) -> module.Pairs:
        sizes.append(m)
        dtypes.append(dtype)
        return real(m, p, dtype)

    monkeypatch.setattr(module, "Pairs", spy)
    assert module.memory_size(module.LARGE_P - 1) == 20
    p = module.LARGE_P
    d = np.logspace(0, 3, p)  # condition number 1e3
    run = lbfgs(lambda x: (0.5 * float(x @ (d * x)), d * x), np.ones(p), gtol=1e-8, maxiter=2000)
    assert sizes[0] == module.LARGE_MEMORY and dtypes[0] is np.float32
    assert run.stop == "gtol" and np.linalg.norm(d * run.x) <= 1e-8


def _two_loop_scaled(pairs: list[tuple[np.ndarray, np.ndarray]], g: np.ndarray, P: np.ndarray
                     ) -> np.ndarray:  # fmt: skip
    """H g by the two-loop recursion with H_0 = gamma diag(P), gamma = s.y / y.Py (the oracle)."""
    return _two_loop(pairs, g, P)


@pytest.mark.parametrize("added", [1, 4, 9])
def test_scaled_initial_matrix_matches_the_two_loop_recursion(added: int) -> None:
    """F1 (certification, L-BFGS): with H_0 = gamma diag(P) the compact H g equals the two-loop
    recursion from that H_0, also when P is changed after the pairs were stored (the Gram
    matrix Y diag(P) Y^T recomputed) and after the ring buffer dropped old pairs."""
    rng = np.random.default_rng(10 + added)
    p, m = 30, 4
    A = rng.standard_normal((p, p))
    A = A @ A.T + np.eye(p)
    P_old, P = rng.uniform(0.1, 10, p), np.logspace(-3, 3, p)
    mem, pairs = Pairs(m, p), []
    mem.scale(P_old)
    for _ in range(added):
        s = rng.standard_normal(p)
        mem.add(s, A @ s)
        pairs.append((s, A @ s))
    mem.scale(P)
    g = rng.standard_normal(p)
    expected = _two_loop_scaled(pairs[-m:], g, P)
    assert np.allclose(mem.apply(g), expected, rtol=1e-11, atol=1e-11 * np.abs(expected).max())


def test_diagonal_scaling_removes_diagonal_ill_conditioning() -> None:
    """F1 (certification, L-BFGS): on a diagonal quadratic of condition 1e8 the exact diagonal as
    ``scaling`` makes H_0 the inverse Hessian up to gamma: a handful of iterations, where the
    scalar initial matrix needs hundreds."""
    d = np.logspace(-4, 4, 300)
    c = np.linspace(1.0, 2.0, 300)

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        return 0.5 * float((x - c) @ (d * (x - c))), d * (x - c)

    calls: list[int] = []

    def scaling(x: np.ndarray) -> np.ndarray:
        calls.append(1)
        return d

    scaled = lbfgs(fun, np.zeros(300), gtol=1e-6, maxiter=5000, scaling=scaling, refresh=1)
    plain = lbfgs(fun, np.zeros(300), gtol=1e-6, maxiter=1000)
    assert scaled.stop == "gtol" and scaled.nit <= 5
    assert plain.nit >= 100
    assert scaled.nit >= 2 and len(calls) >= scaled.nit  # re-estimated every iteration


def test_products_kept_across_an_iteration_give_the_same_direction() -> None:
    """F1 (certification, L-BFGS): when ``add`` is given the new gradient, the old pairs'
    s_i . y and y_i P y come from the kept products with the old and new gradients (one pass
    each over S and Y per iteration, counted); H g still equals the two-loop recursion, also
    after the ring buffer dropped pairs and after P changed."""
    rng = np.random.default_rng(5)
    p, m = 25, 4
    A = rng.standard_normal((p, p))
    A = A @ A.T + np.eye(p)
    P = rng.uniform(0.2, 5.0, p)
    mem, pairs = Pairs(m, p), []
    mem.scale(P)
    passes: list[int] = []
    real = mem._products

    def counted(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        passes.append(1)
        return real(g)

    mem._products = counted  # type: ignore[method-assign]
    x = rng.standard_normal(p)
    g = A @ x
    for k in range(9):
        if k == 6:
            P = rng.uniform(0.2, 5.0, p)
            mem.scale(P)  # a refresh: the kept products are dropped
        d = -mem.apply(g)
        if pairs:
            expected = -_two_loop_scaled(pairs[-m:], g, P)
            assert np.allclose(d, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())
        s = 0.3 * d + 0.05 * rng.standard_normal(p)
        g_new = A @ (x + s)
        mem.add(s, g_new - g, g_new)
        pairs.append((s, g_new - g))
        x, g = x + s, g_new
    # one product per add (from the second on: the first has no applied gradient to difference
    # against), plus the first apply with pairs and the apply after scale(); recomputing them in
    # every apply would make 16, computing s_i . y directly in every add 8
    assert len(passes) == 8 + 2


def test_restart_drops_the_pairs_at_each_tenfold_fall(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification, L-BFGS): with ``restart`` = 10 the memory is dropped each time ||g||
    has fallen tenfold since the last drop, and the iteration still converges; without it the
    one memory is kept throughout."""
    import verify.engine.lbfgs as module

    made: list[int] = []
    real = module.Pairs

    def spy(m: int, p: int, dtype: type = np.float64) -> module.Pairs:
        made.append(1)
        return real(m, p, dtype)

    monkeypatch.setattr(module, "Pairs", spy)
    d, c = np.logspace(-2, 2, 60), np.linspace(1.0, 2.0, 60)

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        return 0.5 * float((x - c) @ (d * (x - c))), d * (x - c)

    g0 = float(np.linalg.norm(fun(np.zeros(60))[1]))
    plain = lbfgs(fun, np.zeros(60), gtol=1e-9 * g0, maxiter=5000)
    assert plain.stop == "gtol" and len(made) == 1
    made.clear()
    run = lbfgs(fun, np.zeros(60), gtol=1e-9 * g0, maxiter=5000, restart=10.0)
    assert run.stop == "gtol"
    # nine decades from g0 to the tolerance: a drop at each of the first eight at least
    assert len(made) >= 1 + 8


def test_training_restarts_large_networks_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification): training's L-BFGS drops its pairs at every tenfold fall of the
    gradient from LARGE_P parameters on (lowered here to the test network's size), not below,
    and the network still certifies."""
    import verify.engine.lbfgs as module
    import verify.engine.train as train_module
    from verify.engine.network import MLP
    from verify.engine.train import Status, synthetic_problem, train

    seen: list[float | None] = []
    real = train_module.lbfgs

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN002, ANN003, ANN202
        seen.append(kwargs.get("restart"))
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "lbfgs", spy)
    problem = synthetic_problem(MLP((4, 8, 1), "tanh"), 32, seed=0)
    assert train(problem, seed=0).status is Status.CONVERGED
    assert seen and all(r is None for r in seen)
    seen.clear()
    monkeypatch.setattr(module, "LARGE_P", problem.net.n_params)
    assert train(problem, seed=0).status is Status.CONVERGED
    assert seen and all(r == module.RESTART for r in seen)


def test_training_hands_over_later_on_large_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    """F1 (certification): training's first L-BFGS stage stops at HANDOVER times the gradient's
    scale below LARGE_P parameters and at LATE_HANDOVER from there on (lowered here to the test
    network's size), and the network certifies either way; an explicit newton_from wins."""
    import verify.engine.newton64 as newton_module
    import verify.engine.train as train_module
    from verify.engine.hessian import handover_scale
    from verify.engine.network import MLP
    from verify.engine.train import Status, synthetic_problem, train

    gtols: list[float] = []
    real = train_module.lbfgs

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN002, ANN003, ANN202
        gtols.append(kwargs["gtol"])
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "lbfgs", spy)
    problem = synthetic_problem(MLP((4, 8, 1), "tanh"), 32, seed=0)
    scale = handover_scale(problem, problem.net.init(0))
    for large, level in ((False, newton_module.HANDOVER), (True, newton_module.LATE_HANDOVER)):
        if large:
            monkeypatch.setattr(newton_module, "LARGE_P", problem.net.n_params)
        gtols.clear()
        assert train(problem, seed=0).status is Status.CONVERGED
        assert gtols[0] == pytest.approx(level * scale, rel=1e-12)
    gtols.clear()
    assert train(problem, seed=0, newton_from=1e-6).status is Status.CONVERGED
    assert gtols[0] == pytest.approx(1e-6 * scale, rel=1e-12)
