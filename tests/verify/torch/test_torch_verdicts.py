"""Verdict rules on torch models: non-convergence, AdamW, re-checked refutations (F1, F2, N2)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed; pip install '.[torch]' to run the verify.torch tests"
)
nn = torch.nn

from theory._records import Verdict  # noqa: E402
from verify.engine.network import MLP  # noqa: E402
from verify.engine.train import synthetic_problem, train  # noqa: E402
from verify.torch import OUTSIDE_HYPOTHESIS, feature_report, mse_loss, polish  # noqa: E402

LAM = 1e-2


def _data(seed: int = 0) -> tuple[Any, Any]:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 4, generator=g, dtype=torch.float64)
    return X, torch.tanh(X[:, :2] - X[:, 2:])


def _mlp(seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double()


def _fit(model: Any, opt: Any, X: Any, Y: Any, steps: int) -> Any:
    for t in range(steps):
        for group in opt.param_groups:  # decaying rate: the iterates settle at a fixed point
            group["lr"] = 1e-2 / (1 + t / 300)
        opt.zero_grad()
        mse_loss(model(X), Y).backward()
        opt.step()
    return model


def test_not_converged_is_inconclusive_with_f2_bound() -> None:
    """F2 (acceptance): a model trained briefly by SGD with weight decay is INCONCLUSIVE, never
    REFUTED, and the reason quotes the F2 bound, which does bound every layer's defect."""
    X, Y = _data()
    model = _mlp()
    _fit(model, torch.optim.SGD(model.parameters(), lr=1e-2, weight_decay=LAM), X, Y, 200)
    report = feature_report(model, "mse", X, Y, LAM, optimizer="sgd")
    assert not report.certified and report.grad_norm > 1e3 * report.grad_floor
    assert report.fact_outcome == "INCONCLUSIVE" and report.fact_verdict is Verdict.INCONCLUSIVE
    assert report.nfa_verdict is Verdict.INCONCLUSIVE
    for x in report.layers:
        assert x.fact_verdict is Verdict.INCONCLUSIVE and x.fact_rel_error > 1e-3
        assert x.defect <= x.f2_bound + x.rounding  # F2 holds at any point
        assert f"{x.f2_bound:.3g}" in report.reason and f"{x.f2_bound:.3g}" in x.fact_reason
    assert "F2" in report.reason and "polish" in report.reason


@pytest.fixture(scope="module")
def adamw_model() -> tuple[Any, Any, Any, Any]:
    X, Y = _data()
    model = _mlp()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=LAM)
    return _fit(model, opt, X, Y, 3000), opt, X, Y


def test_adamw_is_outside_facts_hypothesis(adamw_model: tuple[Any, Any, Any, Any]) -> None:
    """F1 hypothesis (acceptance): a model trained by AdamW is reported as outside FACT's
    hypothesis (its own outcome, not REFUTED), whether the optimizer is named or passed."""
    model, opt, X, Y = adamw_model
    for optimizer in ("adamw", opt):
        report = feature_report(model, "mse", X, Y, LAM, optimizer=optimizer)
        assert report.fact_outcome == OUTSIDE_HYPOTHESIS and report.fact_verdict is None
        assert report.optimizer == "adamw" and not report.certified
        assert all(x.fact_outcome == OUTSIDE_HYPOTHESIS for x in report.layers)
        assert "AdamW" in report.reason and "no claim" in report.reason
        assert "REFUTED" not in report.to_text()


def test_adamw_signature_is_detected_without_the_optimizer(
    adamw_model: tuple[Any, Any, Any, Any],
) -> None:
    """F2: unnamed, the AdamW point is INCONCLUSIVE and its residual gradient is the decay term
    lam * theta (cosine ~ 1), the mark of decoupled decay; SGD's residual is not."""
    model, _, X, Y = adamw_model
    report = feature_report(model, "mse", X, Y, LAM)
    assert report.fact_outcome == "INCONCLUSIVE" and report.decay_alignment > 0.99
    assert "decoupled decay" in report.reason
    sgd = _mlp()
    _fit(sgd, torch.optim.SGD(sgd.parameters(), lr=1e-2, weight_decay=LAM), X, Y, 200)
    assert feature_report(sgd, "mse", X, Y, LAM).decay_alignment < 0.5


def test_polished_adamw_model_is_checked(adamw_model: tuple[Any, Any, Any, Any]) -> None:
    """F1: once polished to a stationary point of L_lam, FACT applies whatever the optimizer."""
    model, _, X, Y = adamw_model
    result = polish(model, "mse", X, Y, LAM)
    assert result.certified and result.moved > 1e-3  # AdamW's point is far from stationary
    report = feature_report(result.model, "mse", X, Y, LAM, optimizer="adamw")
    assert report.fact_verdict is Verdict.NUMERICALLY_CONSISTENT


def _engine_point() -> tuple[Any, Any, Any]:
    problem = synthetic_problem(MLP((4, 8, 2), "tanh"), 32, lam=LAM, seed=0)
    result = train(problem, seed=0)
    assert result.converged
    (w1, _), (w2, _) = problem.net.unflatten(result.theta)
    model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.Tanh(), nn.Linear(8, 2, bias=False))
    model = model.double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(w1))
        model[2].weight.copy_(torch.from_numpy(w2))
    return model, problem.X, problem.Y


def test_nfa_refutation_is_rechecked_by_the_engine() -> None:
    """N2: below the threshold at a certified float64 point, an engine-kind MLP is REFUTED only
    after the engine's 40-digit re-check; another architecture stays INCONCLUSIVE."""
    model, X, Y = _engine_point()
    report = feature_report(model, "mse", X, Y, LAM, threshold=0.9999)
    x = report.layer("0")
    assert report.certified and x.pearson < 0.9999
    assert x.nfa_verdict is Verdict.REFUTED and "confirmed at 40 digits" in x.nfa_reason
    wrapped = nn.Sequential(nn.Flatten(), *model)  # same function, not the engine's kind
    other = feature_report(wrapped, "mse", X, Y, LAM, threshold=0.9999).layer("1")
    assert other.pearson == pytest.approx(x.pearson, rel=1e-12)
    assert other.nfa_verdict is Verdict.INCONCLUSIVE and "not REFUTED" in other.nfa_reason
    assert np.allclose(other.fact, x.fact, rtol=1e-12, atol=0)


def test_planted_false_fact_is_caught_but_not_refuted_unconfirmed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F1 (planted variant): with FACT's sign flipped, every layer exceeds its tolerance at a
    certified point; the engine's re-check of the true claim does not confirm it, so the
    verdict is INCONCLUSIVE (never REFUTED unconfirmed), and so it is without an engine twin."""
    import verify.torch._report as report_module

    original = report_module.layer_reports

    def sign_flipped(*args: Any, **kwargs: Any) -> Any:
        layers = original(*args, **kwargs)
        for x in layers:
            x.fact = -x.fact
            x.defect = float(np.linalg.norm(x.nfm - x.fact))
            x.fact_rel_error = x.defect / x.nfm_norm
        return layers

    monkeypatch.setattr(report_module, "layer_reports", sign_flipped)
    model, X, Y = _engine_point()
    for m, text in ((model, "NOT confirmed"), (nn.Sequential(nn.Flatten(), *model), "not re-")):
        report = feature_report(m, "mse", X, Y, LAM)
        assert report.certified and report.fact_verdict is Verdict.INCONCLUSIVE
        for x in report.layers:
            assert x.defect > x.tolerance and text in x.fact_reason
