"""``factcheck emergence``: bad input exits 2 with one line; output is deterministic for a seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify.cli.main import main

TINY = [
    "--d", "16", "--D", "8", "--k", "3", "--n-train", "300", "--n-test", "150", "--width", "8",
    "--steps", "10", "--seeds", "2", "--rf-sizes", "8", "--kernel-n", "60", "--rfm-n", "60",
    "--rfm-iters", "1", "--cert-n", "60", "--cert-width", "4", "--jobs", "1", "--quiet",
]  # fmt: skip

BAD = [
    (["--seed", "-1"], "--seed must be an integer from 0"),
    (["--seeds", "0"], "--seeds must be >= 1"),
    (["--k", "4"], "k must be odd"),
    (["--k", "40"], "k must be <= D"),
    (["--D", "100"], "D must be <= d"),
    (["--p-o", "0.8"], "p_o must be in"),
    (["--p-aligned", "0"], "gamma > 0"),
    (["--labels", "xor"], "labels must be one of"),
    (["--noise", "-0.1"], "noise must be"),
    (["--n-train", "5"], "n_train must be an integer >= 10"),
    (["--n-test", "0"], "--n-test must be >= 1"),
    (["--width", "7"], "width must be an even integer"),
    (["--steps", "-1"], "steps must be"),
    (["--lr", "0"], "lr must be"),
    (["--lam", "-1"], "lam must be"),
    (["--activation", "gelu"], "activation must be one of"),
    (["--rf-sizes", "0"], "--rf-sizes must list positive integers"),
    (["--kernel-n", "9000"], "kernel_n must be <= 4000"),
    (["--rfm-n", "9000"], "rfm_n must be <= n_train"),
    (["--rfm-s", "0"], "rfm_s must be"),
    (["--cert-activation", "gelu"], "cert_activation must be"),
    (["--cert-width", "5"], "cert_width must be even"),
    (["--cert-lam", "0"], "cert_lam must be > 0"),
    (["--cert-n", "9000"], "cert_n must be <= n_train"),
    (["--jobs", "0"], "--jobs must be"),
    (["--plot", "figure.png"], "--plot must end in .svg"),
    (["--seeds", "x"], "invalid int value"),
]


@pytest.mark.parametrize("argv,match", BAD, ids=[m for _, m in BAD])
def test_bad_input_exits_2_with_one_line(
    argv: list[str], match: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """S1: every bad argument gives exit status 2, one line on stderr naming it, no files."""
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["emergence", *argv])
    except SystemExit as exc:  # argparse's own errors (e.g. a non-integer) exit from parse_args
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and match in err, err
    assert list(tmp_path.iterdir()) == []


def _run(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["emergence", *TINY, *extra])
    return code, capsys.readouterr().out


def test_json_is_deterministic_for_a_seed(capsys: pytest.CaptureFixture[str]) -> None:
    """S6: the same seed gives the same JSON (timings aside), with one job or two."""
    outs = []
    for jobs in ("1", "1", "2"):
        code, out = _run(capsys, "--json", "--jobs", jobs)
        assert code in (0, 3)
        data = json.loads(out)
        data.pop("seconds")
        outs.append(data)
    assert outs[0] == outs[1] == outs[2]
    assert [s["seed"] for s in outs[0]["seeds"]] == [0, 1]
    keys = {c["key"] for c in outs[0]["claims"]}
    assert {"emergence", "baselines", "control", "certified-fact", "rfm-nfa"} <= keys
    code, out = _run(capsys, "--json", "--seed", "3")
    assert json.loads(out)["seeds"][0]["seed"] == 3


def test_text_table_and_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """S4: the text output has the table and the verdicts; --plot writes an SVG."""
    plot = tmp_path / "fig.svg"
    code, out = _run(capsys, "--plot", str(plot), "--no-rfm", "--no-certified")
    assert code in (0, 3)
    assert "network on control" in out and "best fixed-feature" in out and "[S4]" in out
    assert "RFM" not in out
    svg = plot.read_text()
    assert svg.startswith("<svg") and "share of W^T W (network)" in svg


def test_exit_status_follows_the_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    """S6: exit 0 iff every claim is NUMERICALLY_CONSISTENT, else 3."""
    code, out = _run(capsys, "--json")
    verdicts = [c["verdict"] for c in json.loads(out)["claims"]]
    assert code == (0 if all(v == "NUMERICALLY_CONSISTENT" for v in verdicts) else 3)
