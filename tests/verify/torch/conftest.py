"""Shared fixtures of the verify.torch tests.

Without PyTorch every test module here skips with the reason below (``pytest.importorskip``).
CI installs torch and sets ``FACTCHECK_REQUIRE_TORCH=1``, which turns a missing torch into an
error instead of a skip, so the torch tests can never silently not run there.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

TORCH_MISSING = (
    "PyTorch is not installed; install the optional extra (pip install '.[torch]', or "
    "pip install torch==2.13.0) to run the verify.torch tests"
)

if os.environ.get("FACTCHECK_REQUIRE_TORCH") == "1":
    import torch  # noqa: F401  (CI: a missing torch must fail, not skip)


@pytest.fixture(scope="session")
def standard_net() -> dict[str, Any]:
    """The standard net (tanh, d=20, width 64, n=256, 1 output, lam=1e-3, MSE) trained to a
    certified stationary point by the engine, and the same weights in an nn.Sequential."""
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    from verify.engine.network import MLP
    from verify.engine.train import synthetic_problem, train

    problem = synthetic_problem(MLP((20, 64, 1), "tanh"), 256, lam=1e-3, seed=0)
    result = train(problem, seed=0, spectrum="none")
    assert result.converged, result.reason
    (w1, _), (w2, _) = problem.net.unflatten(result.theta)
    model = torch.nn.Sequential(
        torch.nn.Linear(20, 64, bias=False), torch.nn.Tanh(), torch.nn.Linear(64, 1, bias=False)
    ).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(w1))
        model[2].weight.copy_(torch.from_numpy(w2))
    return {"problem": problem, "result": result, "model": model}
