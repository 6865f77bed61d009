"""Where Newton on a kink starts: the levels of the smoothing homotopy
(verify/engine/kink/start.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import verify.engine.kink.start as start
from verify.engine.network import MLP
from verify.engine.pieces import _dead, settle
from verify.engine.train import synthetic_problem


def test_a_newton_level_yields_once_its_candidates_settle_then_once_converged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F1 (ReLU, on a kink): on the levels Newton starts from, L-BFGS runs CHUNK iterations at a
    time and the level is handed to Newton once the candidate pins stop changing (SETTLED runs
    in a row), long before MAXITER; if Newton asks for more, the same level goes on where it
    stopped, within MAXITER in all, and is handed over again; the levels below NEWTON_FROM are
    never handed over. (With gamma I: in the per-unit metric's variables this small level
    converges inside one chunk, and the settling is never needed.)"""
    monkeypatch.setattr(start, "unit_metric", lambda *args: None)
    problem = synthetic_problem(MLP((4, 6, 2), "relu"), 24, lam=0.02, seed=0)
    rng = np.random.default_rng(0)
    theta = settle(problem, problem.net.init(0) + 0.05 * rng.standard_normal(problem.net.n_params))
    live = [~d for d in _dead(problem, theta)]
    runs: list[tuple[int, int, str]] = []
    lbfgs = start.lbfgs

    def counted(*args: Any, **kw: Any) -> Any:
        out = lbfgs(*args, **kw)
        runs.append((kw["maxiter"], out.nit, out.stop))
        return out

    monkeypatch.setattr(start, "lbfgs", counted)
    levels = start.smoothed_levels(problem, theta, live, float("inf"))
    beta, x, pins, slopes, _ = next(levels)
    assert beta == start.NEWTON_FROM and len(pins) == len(slopes) > 0
    below = sum(b < start.NEWTON_FROM for b in start.BETAS)
    chunks = runs[below:]
    assert len(chunks) >= start.SETTLED + 1 and all(r[:2] == (start.CHUNK,) * 2 for r in chunks)
    assert sum(r[1] for r in chunks) < start.MAXITER  # handed over early
    again, x2, _, _, _ = next(levels)  # Newton failed: the same level, on from where it stopped
    assert again == beta and not np.array_equal(x, x2)
    assert runs[-1][0] == start.MAXITER - sum(r[1] for r in chunks)
