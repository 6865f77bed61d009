"""``factcheck check-torch``: verdicts and exit codes, the run-file hand-over, every bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed; pip install '.[torch]' to run the verify.torch tests"
)
nn = torch.nn

from verify.cli.main import main  # noqa: E402

LAM = 1e-2


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tanh MLP trained briefly by SGD with weight decay, its data, and broken variants."""
    d = tmp_path_factory.mktemp("torch_cli")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 4))
    Y = np.tanh(X[:, :2] - X[:, 2:])
    np.savez(d / "data.npz", X=X, Y=Y)
    np.savez(d / "data_5cols.npz", X=rng.standard_normal((32, 5)), Y=Y)
    np.savez(d / "data_noY.npz", X=X)
    np.savez(d / "data_obj.npz", X=np.array([{"a": 1}], dtype=object), Y=Y)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=LAM)
    Xt, Yt = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
    for _ in range(100):
        opt.zero_grad()
        (0.5 * ((model(Xt) - Yt) ** 2).sum() / 32).backward()
        opt.step()
    torch.save(model.state_dict(), d / "model.pt")
    torch.save(model, d / "whole.pt")
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(8, 2))
    torch.save(conv.state_dict(), d / "conv.pt")
    bn = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    torch.save(bn.state_dict(), d / "batchnorm.pt")
    torch.save(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(7, 2)).state_dict(),
               d / "mismatch.pt")  # fmt: skip
    torch.save(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2)).state_dict(), d / "adjacent.pt")
    (d / "text.pt").write_text("not a model")
    return {p.stem: p for p in d.iterdir()}


def _run(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = main(["check-torch", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_not_stationary_then_polished_then_50_digits(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    """F1, F2: the stored point is INCONCLUSIVE (exit 3, F2 quoted); --polish certifies it
    (exit 0) and --save hands it to `factcheck check --dps 50`, which confirms FACT."""
    base = (files["model"], "--data", files["data"], "--lam", LAM, "--activation", "tanh")
    code, out, _ = _run(capsys, *base)
    assert code == 3 and "INCONCLUSIVE" in out and "F2" in out and "NOT stationary" in out
    run = tmp_path / "run.npz"
    code, out, _ = _run(capsys, *base, "--polish", "--save", run)
    assert code == 0 and "polish: converged" in out and "NUMERICALLY_CONSISTENT" in out
    assert run.is_file()
    assert main(["check", str(run), "--dps", "50", "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["verdict"] == "NUMERICALLY_CONSISTENT" and checked["dps"] == 50


def test_json_and_adamw(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    """F1 hypothesis: --optimizer adamw reports OUTSIDE_HYPOTHESIS (exit 3), in JSON too."""
    code, out, _ = _run(capsys, files["model"], "--data", files["data"], "--lam", LAM,
                        "--activation", "tanh", "--optimizer", "adamw", "--json")  # fmt: skip
    report = json.loads(out)
    assert code == 3 and report["fact_outcome"] == "OUTSIDE_HYPOTHESIS"
    assert [x["layer"] for x in report["layers"]] == ["0", "2"] and report["polish"] is None


BAD = [
    ("conv", "data", "tanh", r"unsupported layer \(a 3-D/4-D weight is a convolution\)"),
    ("batchnorm", "data", "tanh", r"unsupported layer\); got '1.running_mean'"),
    ("mismatch", "data", "tanh", r"layer 2.weight must have 8 columns .*shape mismatch"),
    ("adjacent", "data", "tanh", r"indices \[0, 2\] \(one tanh module"),
    ("model", "data_5cols", "tanh", r"--data X must have 4 columns"),
    ("model", "data_noY", "tanh", r"--data must hold arrays named X and Y"),
    ("model", "data_obj", "tanh", r"--data must hold plain numbers or text, but .X. has dtype"),
    ("whole", "data", "tanh", r"holds pickled Python objects"),
    ("data", "data", "tanh", r"MODEL must be a state_dict file .*not a torch file"),
    ("text", "data", "tanh", r"MODEL must be a state_dict file .*not a torch file"),
    ("missing", "data", "tanh", r"MODEL must be an existing file"),
    ("model", "data", "swish", r"activation must be one of"),
]


@pytest.mark.parametrize(("model", "data", "act", "match"), BAD)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path,
    model: str, data: str, act: str, match: str,
) -> None:  # fmt: skip
    """F1 (inputs): unsupported layers, shape mismatches and wrong files exit 2 with one line
    naming the argument and the fix; nothing is written."""
    path = files.get(model, tmp_path / f"{model}.pt")
    save = tmp_path / "run.npz"
    code, out, err = _run(capsys, path, "--data", files[data], "--lam", LAM, "--activation",
                          act, "--save", save)  # fmt: skip
    assert code == 2 and out == "" and not save.exists()
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(match, err), err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (("--lam", "0"), r"FACT \(F1\) assumes weight decay lam > 0"),
        (("--lam", "nan"), r"lam must be finite"),
        (("--optimizer", "rmsprop"), r"optimizer must be one of"),
        (("--device", "nonsense"), r"device must be a torch device"),
    ],
)
def test_bad_options_exit_2(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], extra: tuple[str, str],
    match: str,
) -> None:  # fmt: skip
    """F1 (inputs): lam <= 0 is outside FACT's assumptions; other bad options name the fix."""
    args = {"--lam": str(LAM), "--activation": "tanh", "--optimizer": "unknown"}
    args[extra[0]] = extra[1]
    code, out, err = _run(capsys, files["model"], "--data", files["data"],
                          *[x for kv in args.items() for x in kv])  # fmt: skip
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert re.search(match, err), err
