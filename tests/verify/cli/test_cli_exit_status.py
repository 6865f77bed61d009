"""Exit status always matches the verdicts printed (F1, N2): a counterexample file exits 1, a
trivial stationary point is flagged alike by `verify fact` and `verify nfa`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from theory._records import Verdict
from verify.cli.main import main
from verify.cli.verify import exit_status


def test_exit_status_of_each_verdict() -> None:
    """N2: REFUTED -> 1, INCONCLUSIVE -> 3, every supporting verdict -> 0."""
    assert exit_status(Verdict.REFUTED) == 1 and exit_status(Verdict.INCONCLUSIVE) == 3
    for v in (Verdict.PROVED, Verdict.EXACT_AT_SIZES, Verdict.CERTIFIED,
              Verdict.NUMERICALLY_CONSISTENT):  # fmt: skip
        assert exit_status(v) == 0


@pytest.mark.slow
def test_check_on_counterexample_file_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """N2: the quadratic family's certified witness, saved and re-checked with `factcheck check`:
    FACT holds there, the NFA is REFUTED (re-checked), so the exit status is 1 and says so."""
    path = tmp_path / "cx.npz"
    assert main(["counterexample", "nfa", "--family", "quadratic", "--save", str(path)]) == 1
    capsys.readouterr()
    code = main(["check", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["tag"] == "F1" and out["verdict"] == "NUMERICALLY_CONSISTENT"  # FACT holds
    assert out["nfa_verdict"] == "REFUTED" and out["overall_verdict"] == "REFUTED"
    assert code == 1
    assert main(["check", str(path)]) == 1
    text = capsys.readouterr().out
    assert "overall: REFUTED" in text


def test_verify_fact_scores_the_nfa_without_judging_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """F1, N2: on the standard net (tanh 20-64-1, n = 256) the NFA's Pearson is 0.82 in layer 1.
    `verify fact` judges FACT (exit 0) and shows the NFA as "below threshold (not re-checked)":
    no re-check ran, nothing reads REFUTED, and the low Pearson does not set the exit status."""
    std = ["--d", "20", "--width", "64", "--n", "256", "--outputs", "1", "--lam", "1e-3"]
    code = main(["verify", "fact", *std, "--json"])
    out = json.loads(capsys.readouterr().out)
    first = out["layers"][0]["nfa"]
    assert first["pearson"] < 0.9 and first["verdict"] == "below threshold (not re-checked)"
    assert out["verdict"] == out["overall_verdict"] == "NUMERICALLY_CONSISTENT" and code == 0
    assert out["nfa_verdict"] == "below threshold (not re-checked)"
    assert main(["verify", "fact", *std]) == 0
    text = capsys.readouterr().out
    assert "REFUTED" not in text and "not judged here" in text
    assert "overall: NUMERICALLY_CONSISTENT" in text


def test_trivial_point_flagged_by_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """F1, N2: one output with cross-entropy is a constant loss, whose stationary point has all
    weights zero. `verify fact` and `verify nfa` both flag it, agree on both verdicts, and
    exit 3 (the NFA is undefined there), never 1."""
    args = ["--outputs", "1", "--loss", "cross_entropy", "--json"]
    code_fact = main(["verify", "fact", *args, "--alpha", "0.5"])
    fact_out = json.loads(capsys.readouterr().out)
    code_nfa = main(["verify", "nfa", *args, "--alpha", "0.5"])
    nfa_out = json.loads(capsys.readouterr().out)
    assert code_fact == code_nfa == 3
    assert fact_out["trivial_stationary_point"] and nfa_out["trivial_stationary_point"]
    assert fact_out["verdict"] == nfa_out["fact_verdict"] == "NUMERICALLY_CONSISTENT"
    assert fact_out["nfa_verdict"] == nfa_out["verdict"] == "INCONCLUSIVE"
    assert main(["verify", "nfa", "--outputs", "1", "--loss", "cross_entropy"]) == 3
    assert "TRIVIAL STATIONARY POINT" in capsys.readouterr().out


def test_all_zero_weights_without_decay_are_trivial(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """N2: a run file with lam = 0 and all weights zero (W^T W = 0 = AGOP) is flagged trivial,
    INCONCLUSIVE (exit 3), not REFUTED."""
    import numpy as np

    from verify.engine.network import MLP
    from verify.engine.runfile import save_run
    from verify.engine.train import synthetic_problem

    problem = synthetic_problem(MLP((3, 4, 2), "tanh"), 12, lam=0.0, seed=1)
    path = tmp_path / "zero.npz"
    save_run(path, problem, np.zeros(problem.net.n_params))
    code = main(["check", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 3 and out["verdict"] == "INCONCLUSIVE" and out["trivial_stationary_point"]


def test_derive_exit_status_follows_the_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """D5: `derive` exits 0 for PROVED and 3 for an INCONCLUSIVE derivation (never 1, which
    means REFUTED)."""
    import sympy as sp

    from theory._checks import _step, conclude
    from theory._records import Claim
    from theory.deep_linear import optimality

    x = sp.Symbol("x")
    claim = Claim("x = x", "D5", x, x)
    failed = conclude(claim, [_step(x, x, "s", [(False, "c")])], "ok")
    monkeypatch.setattr(optimality, "derive_nfa_deep_linear", lambda L, j: failed)
    assert main(["derive", "nfa-deep-linear", "--depth", "2"]) == 3
    proved = conclude(claim, [_step(x, x, "s", [(True, "c")])], "ok")
    monkeypatch.setattr(optimality, "derive_nfa_deep_linear", lambda L, j: proved)
    assert main(["derive", "nfa-deep-linear", "--depth", "2"]) == 0
