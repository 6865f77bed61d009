"""Convolutions: FACT with weights shared across positions (F3), F1 by hand, F2, the patch AGOP."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed; pip install '.[torch]' to run the verify.torch tests"
)
nn = torch.nn
F = torch.nn.functional

from theory._records import Verdict  # noqa: E402
from verify.torch import feature_report, polish  # noqa: E402

LAM = 1e-2
# why 1e-13: two routes to the same float64 sums of <= n * positions * channels ~ 2e3 products
# (relative error k u ~ 2e-13 at worst, typically sqrt(k) u ~ 1e-14)
ROUTES = 1e-13


def _cnn(seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(48, 2)
    ).double()  # fmt: skip


def _data(n: int = 40, seed: int = 0) -> tuple[Any, Any]:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 1, 6, 6, generator=g, dtype=torch.float64)
    Y = torch.tanh(X.flatten(1)[:, :2] + X.flatten(1)[:, 5:7])
    return X, Y


@pytest.fixture(scope="module")
def polished_cnn() -> tuple[Any, Any, Any]:
    X, Y = _data()
    result = polish(_cnn(), "mse", X, Y, LAM)
    assert result.certified, result.reason
    return result, X, Y


def test_cnn_fact_equals_nfm_at_polished_point(polished_cnn: tuple[Any, Any, Any]) -> None:
    """F3 (acceptance): a CNN layer's FACT, summed over positions, equals W^T W at a polished
    stationary point to the F2 bound (plus rounding)."""
    result, X, Y = polished_cnn
    report = feature_report(result.model, "mse", X, Y, LAM)
    conv = report.layer("0")
    assert conv.kind == "conv2d" and conv.shape == (3, 9) and conv.rows == 40 * 16
    assert report.certified and conv.fact_verdict is Verdict.NUMERICALLY_CONSISTENT
    assert conv.defect <= conv.f2_bound + conv.rounding
    W = result.model[0].weight.detach().reshape(3, 9).numpy()
    assert np.linalg.norm(W.T @ W - conv.fact) == pytest.approx(conv.defect, rel=1e-12)
    # the point is stationary, so the defect is at rounding level, not merely below a large bound
    assert conv.fact_rel_error <= 1e-12
    assert report.fact_verdict is Verdict.NUMERICALLY_CONSISTENT


def test_cnn_is_inconclusive_before_polish() -> None:
    """F2: the same CNN before polishing is INCONCLUSIVE, its defect explained by F2."""
    X, Y = _data()
    report = feature_report(_cnn(), "mse", X, Y, LAM)
    conv = report.layer("0")
    assert not report.certified and conv.fact_verdict is Verdict.INCONCLUSIVE
    assert conv.fact_rel_error > 1 and conv.defect <= conv.f2_bound + conv.rounding
    assert "F2" in report.reason and f"{conv.f2_bound:.3g}" in report.reason


# torch itself warns that an even kernel with padding='same' pads asymmetrically (a copy)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize(
    "conv",
    [
        lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2)),
        lambda: nn.Conv2d(2, 3, 3, padding=(0, 2)),
        lambda: nn.Conv2d(2, 3, (2, 3), padding="same"),  # asymmetric: (0, 1) rows, (1, 1) cols
        lambda: nn.Conv1d(2, 4, 3, padding="same", dilation=2),
        lambda: nn.Conv1d(2, 4, 4, stride=2, padding=1),
    ],
)
def test_f1_by_hand_equals_f3_and_f2_holds_at_any_point(conv: Any) -> None:
    """F1 = F3 for shared weights, F2: at a random point, the F1 sum over (sample, position)
    built from unfolded patches equals -(1/lam) W^T grad_W L_data from autograd, and
    W^T W - FACT_F1 equals W^T grad_W L_lam / lam."""
    torch.manual_seed(3)
    layer = conv()
    shape = (12, 2, 7, 6) if isinstance(layer, nn.Conv2d) else (12, 2, 9)
    X = torch.randn(*shape, dtype=torch.float64)
    with torch.no_grad():
        out = layer.double()(X)
    model = nn.Sequential(layer, nn.Tanh(), nn.Flatten(), nn.Linear(out[0].numel(), 2)).double()
    Y = torch.randn(12, 2, dtype=torch.float64)
    x = feature_report(model, "mse", X, Y, LAM, layers=["0"]).layers[0]
    assert x.f1_gap <= ROUTES
    W = layer.weight.detach().reshape(layer.weight.shape[0], -1)
    theta = layer.weight.detach().clone().requires_grad_(True)
    loss = 0.5 * ((model[3](torch.tanh(_conv_with(layer, X, theta)).flatten(1)) - Y) ** 2).sum()
    (g,) = torch.autograd.grad(loss / 12, theta)
    G = g.reshape(W.shape) + LAM * W  # grad_W L_lam, by an independent forward
    f2 = (W.T @ G / LAM).numpy()  # F2's right-hand side
    lhs = (W.T @ W).numpy() - x.fact_f1
    assert np.linalg.norm(lhs - f2) <= ROUTES * np.linalg.norm(f2)


def _conv_with(layer: Any, X: Any, weight: Any) -> Any:
    f = F.conv2d if isinstance(layer, nn.Conv2d) else F.conv1d
    return f(X, weight, layer.bias, layer.stride, layer.padding, layer.dilation)


def test_conv_agop_equals_jacobian_wrt_patches() -> None:
    """N1 for shared weights: the AGOP w.r.t. the layer's input patches, summed over positions,
    equals an independent computation that feeds the unfolded patches as free inputs."""
    torch.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, stride=2), nn.Tanh(), nn.Flatten(),
                          nn.Linear(3 * 3 * 3, 2)).double()  # fmt: skip
    X = torch.randn(7, 2, 5, 5, dtype=torch.float64)
    Y = torch.randn(7, 2, dtype=torch.float64)
    agop = feature_report(model, "mse", X, Y, LAM).layer("0").agop
    conv, head = model[0], model[3]
    U = F.unfold(X, 3, padding=1, stride=2).detach().requires_grad_(True)  # (n, 18, 9)
    W = conv.weight.reshape(3, -1)
    Z = (W @ U + conv.bias[:, None]).reshape(7, 3, 3, 3)
    out = head(torch.tanh(Z).flatten(1))
    expected = torch.zeros(18, 18, dtype=torch.float64)
    for k in range(2):
        (J,) = torch.autograd.grad(out[:, k].sum(), U, retain_graph=True)  # d f_k / d u_ip
        rows = J.transpose(1, 2).reshape(-1, 18)
        expected += rows.T @ rows
    expected = (expected / 7).detach().numpy()
    assert np.linalg.norm(agop - expected) <= ROUTES * np.linalg.norm(expected)
