"""Layer discovery and every bad input of the Python API (one message per rule)."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed; pip install '.[torch]' to run the verify.torch tests"
)
nn = torch.nn

from theory._errors import InputError, OutsideAssumptionsError  # noqa: E402
from verify.torch import feature_report, find_layers, polish  # noqa: E402


class Shared(nn.Module):
    """One Linear applied twice: a shared module."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x: Any) -> Any:
        return self.lin(torch.tanh(self.lin(x)))


class Custom(nn.Module):
    """A module with a 2-D weight that acts like nn.Linear, and one that does not."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Parameter(torch.randn(3, 3, dtype=torch.float64))
        self.head = nn.Linear(3, 2).double()

    def forward(self, x: Any) -> Any:
        return self.head(torch.tanh(x @ self.proj))


class Mul(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(2, 3, dtype=torch.float64))

    def forward(self, x: Any) -> Any:
        return x @ self.weight.T


def _mlp() -> Any:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


X = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
Y = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))


def test_discovery_finds_multiplying_layers_and_lists_the_skipped() -> None:
    """F3 scope: every nn.Linear and supported nn.Conv1d/2d is found, in module order; a grouped
    convolution is skipped with its reason; a named module with a 2-D weight is accepted."""
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.Conv2d(4, 4, 1, groups=2),
        nn.Conv1d(4, 4, 1, padding_mode="circular"), nn.Flatten(), nn.Linear(8, 2),
    )  # fmt: skip
    layers, skipped = find_layers(model)
    assert [(x.name, x.kind, x.shape) for x in layers] == [("0", "conv2d", (4, 18)),
                                                           ("4", "linear", (2, 8))]  # fmt: skip
    assert [name for name, _ in skipped] == ["1", "2"] and "groups=2" in skipped[0][1]
    named, _ = find_layers(nn.Sequential(Mul(), nn.Tanh(), nn.Linear(2, 2)), ["0"])
    assert named[0].kind == "linear" and named[0].shape == (2, 3)
    report = feature_report(nn.Sequential(Mul(), nn.Tanh(), nn.Linear(2, 2)).double(), "mse",
                            X, Y, 1e-2, layers=["0"])  # fmt: skip
    assert [x.name for x in report.layers] == ["0"] and report.layers[0].f1_gap < 1e-13


BAD: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"lam": 0.0}, OutsideAssumptionsError, r"FACT \(F1\) assumes weight decay lam > 0"),
    ({"lam": float("nan")}, InputError, r"lam must be finite"),
    ({"lam": "big"}, InputError, r"lam must be a number"),
    ({"dtype": torch.float32}, InputError, r"dtype must be torch.float64"),
    ({"alpha": 0.0}, InputError, r"alpha must be a finite number > 0"),
    ({"threshold": 2.0}, InputError, r"threshold must be a correlation in \[-1, 1\]"),
    ({"layers": ["nope"]}, InputError, r"layers must name modules of the model"),
    ({"layers": ["1"]}, InputError, r"'1': it has no 2-D weight"),
    ({"layers": []}, InputError, r"layers must name at least one layer"),
    ({"loss_fn": "hinge"}, InputError, r"loss_fn must be a callable or one of"),
    ({"loss_fn": 3}, InputError, r"loss_fn must be a callable"),
    ({"optimizer": "rmsprop"}, InputError, r"optimizer must be one of"),
    ({"optimizer": 3}, InputError, r"optimizer must be a name or a torch.optim.Optimizer"),
    ({"device": "nonsense"}, InputError, r"device must be a torch device available here"),
    ({"Y": Y[:5]}, InputError, r"Y must have one row per sample of X \(n = 6\)"),
    ({"X": X[:, :2]}, InputError, r"X, Y must fit the model and the loss"),
    ({"X": X.clone().fill_(float("nan"))}, InputError, r"X must be finite"),
    ({"X": torch.zeros(0, 3)}, InputError, r"X must have one row per sample"),
    ({"model": "net"}, InputError, r"model must be a torch.nn.Module"),
    ({"model": nn.Sequential(nn.Tanh())}, InputError, r"model must contain an nn.Linear"),
    ({"model": Shared().double(), "Y": X}, InputError, r"be called exactly once per forward"),
    ({"max_bytes": 0}, InputError, r"max_bytes must be a positive integer"),
]


@pytest.mark.parametrize(("change", "error", "match"), BAD, ids=[m for _, _, m in BAD])
def test_bad_input(change: dict[str, Any], error: type[Exception], match: str) -> None:
    """F1 (inputs): each rule's message names the argument, the rule, the value and the fix."""
    args: dict[str, Any] = {"model": _mlp(), "loss_fn": "mse", "X": X, "Y": Y, "lam": 1e-2}
    args.update(change)
    with pytest.raises(error, match=match):
        feature_report(**args)


def test_frozen_layers() -> None:
    """F1 (inputs): FACT is about trained weights: a frozen layer is skipped with its reason,
    and naming it is an error."""
    model = _mlp()
    model[0].weight.requires_grad_(False)
    report = feature_report(model, "mse", X, Y, 1e-2)
    assert [x.name for x in report.layers] == ["2"]
    assert report.skipped == [("0", "weight frozen (requires_grad=False)")]
    with pytest.raises(InputError, match=r"layers must have trainable weights"):
        feature_report(model, "mse", X, Y, 1e-2, layers=["0"])
    with pytest.raises(InputError, match=r"max_iter must be an integer >= 1"):
        polish(_mlp(), "mse", X, Y, 1e-2, max_iter=0)


def test_custom_module_without_weight_attribute_is_not_found() -> None:
    """F3 scope: a bare parameter used by multiplication is invisible to discovery; the
    report covers the Linear head, and the parameter still counts in the certificate."""
    report = feature_report(Custom(), "mse", X, Y, 1e-2)
    assert [x.name for x in report.layers] == ["head"]
