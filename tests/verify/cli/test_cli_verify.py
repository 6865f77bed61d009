"""`factcheck verify {fact,nfa}` and `factcheck check FILE`: acceptance, exit codes, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from verify.cli.main import main
from verify.engine.network import MLP
from verify.engine.runfile import save_run
from verify.engine.train import synthetic_problem


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def run_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "run.npz"
    assert main(["verify", "fact", "--save", str(path)]) == 0
    return path


def test_verify_fact_acceptance(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """F1: `verify fact --activation tanh --depth 2 --json --save run.npz`: converged, every
    layer NUMERICALLY_CONSISTENT, relative error <= 1e-10, run file readable by plain NumPy."""
    path = tmp_path / "run.npz"
    argv = ["verify", "fact", "--activation", "tanh", "--depth", "2", "--json", "--save", str(path)]
    code, out = _json(capsys, argv)
    assert code == 0 and out["status"] == "converged" and out["verdict"] == "NUMERICALLY_CONSISTENT"
    for layer in out["layers"]:
        assert layer["verdict"] == "NUMERICALLY_CONSISTENT" and layer["fact_rel_error"] <= 1e-10
        assert {"fact_bound", "nfa"} <= set(layer) and "pearson" in layer["nfa"]
    assert out["grad_norm"] <= 1e-14
    with np.load(path, allow_pickle=False) as f:
        assert str(f["format"]) == "factcheck-run/1" and f["W1"].shape == (8, 4)


def test_check_at_50_digits_acceptance(capsys: pytest.CaptureFixture[str], run_file: Path) -> None:
    """F1: `check run.npz --dps 50 --json` polishes and reports relative error <= 1e-40."""
    code, out = _json(capsys, ["check", str(run_file), "--dps", "50", "--json"])
    assert code == 0 and out["status"] == "converged" and out["dps"] == 50
    assert max(layer["fact_rel_error"] for layer in out["layers"]) <= 1e-40
    assert out["grad_norm_dps"] <= 1e-45


def test_check_float64_and_human_table(capsys: pytest.CaptureFixture[str], run_file: Path) -> None:
    """F1: the default check evaluates the stored point; the human output is a table."""
    assert main(["check", str(run_file)]) == 0
    text = capsys.readouterr().out
    assert "FACT rel.err" in text and "NUMERICALLY_CONSISTENT" in text and "Pearson" in text


def test_check_user_file_off_convergence_is_inconclusive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """F2: a user's unconverged weights give INCONCLUSIVE (exit 3) with the F2 explanation,
    also at 50 digits (the polish is refused), and --refine then trains to a verdict."""
    problem = synthetic_problem(MLP((3, 5, 2), "tanh", bias=True), 20, seed=1)
    path = tmp_path / "user.npz"
    save_run(path, problem, problem.net.init(1))
    for extra in ([], ["--dps", "30"]):
        code, out = _json(capsys, ["check", str(path), "--json", *extra])
        assert code == 3 and out["verdict"] == "INCONCLUSIVE" and "F2" in out["reason"]
        assert out["status"] == "not_stationary"
        assert all(layer["fact_rel_error"] > 1e-3 for layer in out["layers"])
    code, out = _json(capsys, ["check", str(path), "--json", "--refine"])
    assert code == 0 and out["verdict"] == "NUMERICALLY_CONSISTENT"


@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_check_without_weight_decay_scores_the_nfa(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, activation: str
) -> None:
    """N2, D2: a lam = 0 run file: FACT "not applicable" (no error, no verdict), the NFA is
    scored and sets the exit status; a linear network also reports its imbalance."""
    from verify.engine.train import train

    problem = synthetic_problem(MLP((3, 4, 4, 2), activation), 16, lam=0.0, seed=2)
    result = train(problem, seed=2, spectrum="none")
    path = tmp_path / "nodecay.npz"
    save_run(path, problem, result.theta)
    code, out = _json(capsys, ["check", str(path), "--json"])
    assert out["fact_verdict"] == "not applicable: FACT needs lam > 0" and out["tag"] == "N2"
    assert code == {"NUMERICALLY_CONSISTENT": 0, "REFUTED": 1, "INCONCLUSIVE": 3}[out["verdict"]]
    assert all("pearson" in layer["nfa"] and "fact_rel_error" not in layer
               for layer in out["layers"])  # fmt: skip
    if activation == "identity":
        assert out["status"] == "converged" and len(out["balance"]["imbalance"]) == 2
        assert out["balance"]["balanced"] is (max(out["balance"]["imbalance_rel"]) <= (
            out["balance"]["tolerance_rel"]))  # fmt: skip
    else:
        assert "balance" not in out
    assert main(["check", str(path)]) == code
    assert "[F1] FACT: not applicable: FACT needs lam > 0" in capsys.readouterr().out


def test_verify_nfa_reports_both_correlations(capsys: pytest.CaptureFixture[str]) -> None:
    """N2: `verify nfa` searches alpha by default and reports Pearson and cosine per layer."""
    code, out = _json(capsys, ["verify", "nfa", "--json", "--threshold", "0.5"])
    assert code == 0 and out["tag"] == "N2" and out["verdict"] == "NUMERICALLY_CONSISTENT"
    for layer in out["layers"]:
        assert layer["nfa"]["alpha_searched"] and {"pearson", "cosine"} <= set(layer["nfa"])
    code, out = _json(capsys, ["verify", "nfa", "--json", "--alpha", "1"])
    assert out["layers"][0]["nfa"]["alpha"] == 1.0


def test_nonconverged_verify_is_inconclusive(capsys: pytest.CaptureFixture[str]) -> None:
    """F1: a training budget too small gives INCONCLUSIVE and exit status 3, never REFUTED."""
    code, out = _json(capsys, ["verify", "fact", "--max-iter", "3", "--json"])
    assert code == 3 and out["verdict"] == "INCONCLUSIVE" and out["status"] == "max_iter"


BAD = [
    (["verify", "fact", "--lam", "0"], r"FACT \(F1\) assumes weight decay lam > 0"),
    (["verify", "fact", "--lam", "nan"], r"--lam must be finite"),
    (["verify", "fact", "--activation", "swish"], r"activation must be one of"),
    (["verify", "fact", "--loss", "hinge"], r"loss must be one of"),
    (["verify", "fact", "--depth", "0"], r"--depth must be >= 1"),
    (["verify", "fact", "--arch", "cnn"], r"--arch must be 'mlp'"),
    (["verify", "fact", "--dps", "4"], r"dps must be an integer in \[16, 300\]"),
    (["verify", "nfa", "--alpha", "-1"], r"alpha must be a finite number > 0"),
]


@pytest.mark.parametrize(("argv", "message"), BAD)
def test_bad_input_exits_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    """F1 (inputs): bad input prints one line naming the rule, exits 2, writes no file."""
    target = tmp_path / "never.npz"
    assert main([*argv, "--save", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and re.search(message, err)
    assert not target.exists()


def test_check_bad_files_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """F1 (inputs): a pickled or wrong-format run file is refused with exit status 2."""
    path = tmp_path / "pickled.npz"
    np.savez(path, format=np.array("factcheck-run/1"), X=np.array([object()], dtype=object))
    assert main(["check", str(path)]) == 2
    assert "pickle" in capsys.readouterr().err
    np.savez(path, format=np.array("other/1"))
    assert main(["check", str(path)]) == 2
    assert "format" in capsys.readouterr().err
