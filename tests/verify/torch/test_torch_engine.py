"""feature_report against the engine: same network, same point, same matrices (F1, F3, F4, N1)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed; pip install '.[torch]' to run the verify.torch tests"
)

from theory._records import Verdict  # noqa: E402
from verify.claims.features import layer_features  # noqa: E402
from verify.engine.hessian import handover_scale  # noqa: E402
from verify.engine.network import FLOAT64, MLP  # noqa: E402
from verify.engine.train import evaluate, gradient_floor, synthetic_problem, train  # noqa: E402
from verify.torch import engine_twin, feature_report  # noqa: E402
from verify.torch._mlp import activation_module  # noqa: E402

# why 1e-12: the acceptance bound of the issue. Both sides are sums of k = n + depth * width
# ~ 400 products per entry (Higham's gamma_k: k u ~ 1e-13 relative) over the same float64 inputs
REL = 1e-12


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _torch_mlp(net: MLP, theta: np.ndarray) -> Any:
    mods: list[Any] = []
    for i, (w, b) in enumerate(net.unflatten(theta)):
        if i:
            mods.append(activation_module(net.activation))
        lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=b is not None, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            if b is not None:
                lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
    return torch.nn.Sequential(*mods)


def test_standard_net_agrees_with_engine_to_1e12(standard_net: dict[str, Any]) -> None:
    """F1/F3, F4, N1 (acceptance): on the standard net trained by the engine and loaded into
    torch, FACT, bFACT and the AGOP agree with the engine's to 1e-12 relative."""
    problem, result, model = (standard_net[k] for k in ("problem", "result", "model"))
    report = feature_report(model, "mse", problem.X, problem.Y, problem.lam, recheck=False)
    feats = layer_features(problem, result.theta)
    assert [x.name for x in report.layers] == ["0", "2"]
    for ours, eng in zip(report.layers, feats, strict=True):
        assert _rel(ours.fact, eng.fact) <= REL
        assert _rel(ours.bfact, eng.bfact) <= REL
        assert _rel(ours.agop, eng.agop) <= REL
        assert _rel(ours.nfm, eng.nfm) <= REL
        assert ours.fact_rel_error == pytest.approx(eng.fact_rel_error, rel=0.5, abs=1e-13)
    assert report.certified and report.fact_verdict is Verdict.NUMERICALLY_CONSISTENT
    # the same global floor formula on the same quantities (verify.engine.hessian.rounding_floor;
    # the engine itself certifies with its per-entry floor, which must agree here)
    floor = FLOAT64.unit_roundoff * handover_scale(problem, result.theta)
    assert report.grad_floor == pytest.approx(floor, rel=1e-6)
    assert report.grad_norm <= floor
    gn, entry_floor = gradient_floor(problem, result.theta)
    assert gn <= entry_floor


@pytest.mark.parametrize(
    ("activation", "bias", "loss", "decay_bias", "sizes"),
    [
        ("tanh", True, "cross_entropy", True, (5, 7, 6, 3)),
        ("relu", True, "mse", False, (4, 9, 2)),
        ("gelu", False, "mse", True, (3, 6, 6, 2)),
        ("softplus", True, "cross_entropy", False, (4, 5, 3)),
        ("quadratic", False, "mse", True, (4, 5, 2)),
        ("identity", True, "mse", True, (4, 3, 3, 2)),
    ],
)
def test_engine_agreement_at_any_point(
    activation: str, bias: bool, loss: str, decay_bias: bool, sizes: tuple[int, ...]
) -> None:
    """F1/F3, F4, N1: away from convergence too (F3 is F1 at ANY point, not only where FACT
    holds), for every activation, biases, both losses, several outputs and depths."""
    net = MLP(sizes, activation, bias)
    problem = synthetic_problem(net, 24, loss=loss, lam=3e-2, seed=1, decay_bias=decay_bias)
    for theta in (net.init(2), train(problem, seed=2, max_iter=40, newton_steps=0).theta):
        model = _torch_mlp(net, theta)
        report = feature_report(model, loss, problem.X, problem.Y, problem.lam,
                                decay_bias=decay_bias, recheck=False)  # fmt: skip
        for ours, eng in zip(report.layers, layer_features(problem, theta), strict=True):
            for name in ("fact", "bfact", "agop", "nfm"):
                assert _rel(getattr(ours, name), getattr(eng, name)) <= REL, name
            assert ours.f2_bound == pytest.approx(eng.f2_bound, rel=REL)
        global_floor = FLOAT64.unit_roundoff * handover_scale(problem, theta)
        assert report.grad_floor == pytest.approx(global_floor, rel=1e-6)


def test_engine_twin_round_trip() -> None:
    """F1: engine_twin gives back the engine's problem and parameters exactly."""
    net = MLP((3, 4, 2), "tanh", True)
    problem = synthetic_problem(net, 10, loss="cross_entropy", lam=1e-2, seed=0)
    theta = net.init(0)
    labels = torch.from_numpy(problem.Y.argmax(axis=1))
    twin, theta2, names = engine_twin(_torch_mlp(net, theta), problem.X, labels, 1e-2,
                                      torch.nn.CrossEntropyLoss(), decay_bias=False)  # fmt: skip
    assert names == ["0", "2"] and np.array_equal(theta2, theta)
    assert np.array_equal(twin.Y, problem.Y) and twin.net == net and not twin.decay_bias


def test_certificate_decides_as_the_engine(standard_net: dict[str, Any]) -> None:
    """F1 hypothesis: the stationarity certificate agrees with the engine's: certified at the
    engine's point; not certified once the weights move by 1e-9 (gradient ~1e3 x its floor),
    where FACT is INCONCLUSIVE, and the engine's evaluate says not stationary too."""
    problem, result, model = (standard_net[k] for k in ("problem", "result", "model"))
    assert feature_report(model, "mse", problem.X, problem.Y, problem.lam, recheck=False).certified
    theta = result.theta * (1 + 1e-9 * np.random.default_rng(0).standard_normal(result.theta.size))
    moved = _torch_mlp(problem.net, theta)
    report = feature_report(moved, "mse", problem.X, problem.Y, problem.lam, recheck=False)
    assert report.grad_norm > 100 * report.grad_floor  # clearly above the floor...
    assert report.grad_norm < 1e-6  # ...yet far closer to stationary than any optimiser's stop
    assert not report.certified and report.fact_verdict is Verdict.INCONCLUSIVE
    assert not evaluate(problem, theta, spectrum="none").converged
