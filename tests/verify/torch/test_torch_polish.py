"""polish: certified stationary points of L_lam from torch (F1), and the run-file export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed; pip install '.[torch]' to run the verify.torch tests"
)
nn = torch.nn

from theory._errors import InputError  # noqa: E402
from theory._records import Verdict  # noqa: E402
from verify.claims.checks import check_fact  # noqa: E402
from verify.engine.runfile import load_run  # noqa: E402
from verify.engine.train import evaluate, hessian_summary, refine_mp  # noqa: E402
from verify.torch import engine_twin, feature_report, polish, save_runfile  # noqa: E402


def test_polish_recovers_the_engines_stationary_point(standard_net: dict[str, Any]) -> None:
    """F1: from the engine's certified point of the standard net pushed away by 1e-3, polish
    returns to a certified point, the same one within what the two certificates allow."""
    problem, result, model = (standard_net[k] for k in ("problem", "result", "model"))
    torch.manual_seed(0)
    pushed = nn.Sequential(*[m for m in model]).double()
    pushed.load_state_dict(model.state_dict())
    with torch.no_grad():
        for p in pushed.parameters():
            p.mul_(1 + 1e-3 * torch.randn_like(p))
    before = [p.detach().clone() for p in pushed.parameters()]
    out = polish(pushed, "mse", problem.X, problem.Y, problem.lam)
    assert out.certified and out.grad_norm <= out.grad_floor, out.reason
    assert all(torch.equal(a, b) for a, b in zip(before, pushed.parameters(), strict=True))
    _, theta, _ = engine_twin(out.model, problem.X, problem.Y, problem.lam, "mse")
    _, theta0, _ = engine_twin(pushed, problem.X, problem.Y, problem.lam, "mse")
    assert out.moved == pytest.approx(
        np.linalg.norm(theta - theta0) / np.linalg.norm(theta0), rel=1e-12
    )
    # two certified points of a strictly convex basin lie within (|g1| + |g2|) / mu_min of each
    # other (mu_min the Hessian's smallest eigenvalue; tanh has no continuous symmetry)
    mu = hessian_summary(problem, result.theta, "lanczos").min_eig
    assert mu is not None and mu > 0
    assert np.linalg.norm(theta - result.theta) <= 2 * (out.grad_floor + result.grad_floor) / mu
    assert evaluate(problem, theta, spectrum="none").converged  # the engine certifies it too


def test_polish_of_float32_model_leaves_it_untouched() -> None:
    """F1: a float32 model is polished as a float64 copy; the original keeps dtype and values."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 5), nn.Sigmoid(), nn.Linear(5, 2))
    X = torch.randn(20, 3)
    Y = torch.randn(20, 2)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    out = polish(model, "mse", X, Y, 5e-2)
    assert out.certified and next(out.model.parameters()).dtype == torch.float64
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert next(model.parameters()).dtype == torch.float32
    assert set(out.moved_by_parameter) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    # a plain model: trainable, the caller's train/eval mode, no hooks left behind
    assert all(p.requires_grad for p in out.model.parameters()) and out.model.training
    assert not any(m._forward_hooks for m in out.model.modules())
    assert torch.equal(out.model(X.double()), out.model(X.double()))


def test_polish_budget_exhausted_is_not_certified() -> None:
    """F1: out of iterations, polish says so (status max_iter) instead of certifying."""
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    X = torch.randn(30, 3, dtype=torch.float64)
    out = polish(model, "mse", X, X[:, :1] ** 2, 1e-3, max_iter=2, newton_steps=0)
    assert not out.certified and out.status.value == "max_iter"
    assert "stayed above its rounding floor" in out.reason
    assert feature_report(out.model, "mse", X, X[:, :1] ** 2, 1e-3).fact_outcome == "INCONCLUSIVE"


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_exported_run_file_is_certified_at_50_digits(loss: str, tmp_path: Path) -> None:
    """F1 at 50 digits: a model trained and polished in torch, exported as a run file, is
    re-verified by the engine (Newton in mpmath) with FACT consistent at 50 digits."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 3)).double()
    X = torch.randn(24, 4, dtype=torch.float64)
    labels = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    Y = labels if loss == "cross_entropy" else torch.nn.functional.one_hot(labels, 3).double()
    out = polish(model, loss, X, Y, 2e-2)
    assert out.certified
    path = save_runfile(tmp_path / "run.npz", out.model, X, Y, 2e-2, loss)
    run = load_run(path)
    assert run.problem.loss == loss and run.problem.net.activation == "gelu"
    assert run.problem.decay_bias  # torch.optim decays biases by default
    result = refine_mp(evaluate(run.problem, run.theta, spectrum="none"), 50)
    assert result.converged and result.moved < 1e-12
    fact = check_fact(result)
    assert fact.verdict is Verdict.NUMERICALLY_CONSISTENT and fact.precision.startswith("50")


def test_export_refuses_what_the_run_file_cannot_say() -> None:
    """F1: only exact correspondences are exported (engine MLPs and losses), with the fix."""
    X, Y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    with pytest.raises(InputError, match=r"2/c\) x the engine's mse"):
        engine_twin(mlp, X, Y, 1e-2, nn.MSELoss())
    cases = [
        (nn.Sequential(nn.Linear(3, 4), nn.ELU(), nn.Linear(4, 2)), "exactly one activation"),
        (nn.Sequential(nn.Linear(3, 4), nn.Softplus(), nn.Linear(4, 2)), "exactly one activat"),
        (nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.ReLU(), nn.Linear(4, 2)), "exactly one"),
        (
            nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)),
            "one activation throughout",
        ),  # fmt: skip
        (nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2)), "biases"),
        (nn.Sequential(nn.Flatten(), nn.Linear(3, 2)), "starting and ending with nn.Linear"),
        (nn.Linear(3, 2), "an nn.Sequential"),
    ]
    for model, match in cases:
        with pytest.raises(InputError, match=match):
            engine_twin(model.double(), X, Y, 1e-2, "mse")
