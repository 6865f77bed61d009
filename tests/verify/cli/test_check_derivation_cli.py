"""`factcheck check-derivation FILE`: exit status, formats, and one-line errors for bad files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from verify.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "derivations"
FACT_FILE = EXAMPLES / "fact_proof.toml"
STEP3 = 'expr = "-(1/(n*lam))*W.T*Delta*H.T"'


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = FACT_FILE.read_text()
    assert text.count(old) == 1, old
    path = tmp_path / "mine.toml"
    path.write_text(text.replace(old, new))
    return path


def test_fact_proof_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    """F1: the four-line FACT proof: every step PROVED, exit 0."""
    assert main(["check-derivation", str(FACT_FILE)]) == 0
    out = capsys.readouterr().out
    assert out.count("[PROVED]") == 4 and "verdict: PROVED" in out


def test_dropped_transpose_exit_1_with_instance(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """F1: one transpose dropped: REFUTED at that step, the instance shown as matrices, exit 1."""
    path = _variant(tmp_path, STEP3, STEP3.replace("W.T", "W"))
    assert main(["check-derivation", str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "REFUTED" and data["first_wrong_step"] == 3
    assert data["steps"][2]["verdict"] == "REFUTED"
    witness = data["witness"]
    assert witness["step"] == 3 and witness["lhs"] != witness["rhs"]
    assert all(isinstance(row, list) for row in witness["values"]["W"])
    assert main(["check-derivation", str(path)]) == 1
    text = capsys.readouterr().out
    assert "step 3 is the first wrong step" in text and "counterexample for step 3" in text


def test_latex_format(capsys: pytest.CaptureFixture[str]) -> None:
    """D5: --format latex prints an align* block per derivation."""
    assert (
        main(["check-derivation", str(EXAMPLES / "d5_telescoping_L3.toml"), "--format", "latex"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.count(r"\begin{align*}") == out.count(r"\end{align*}") == 1


def test_inconclusive_exit_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """F1: a step whose hypothesis admits no constructed instance and no symbolic proof: exit 3."""
    path = tmp_path / "orth.toml"
    path.write_text(
        '[matrices]\nW = "m x d"\n[hypotheses]\northo = "W.T*W = Identity(d)"\n'
        '[[steps]]\nexpr = "W*inv(W.T*W)"\n[[steps]]\nexpr = "W"\nuses = ["ortho"]\n'
    )
    assert main(["check-derivation", str(path)]) == 3
    assert "INCONCLUSIVE" in capsys.readouterr().out


STEP4 = 'expr = "-(1/(n*lam))*G_h*H.T"'
# (text replaced, replacement, text whose line the message must name, expected message)
BAD = [
    (STEP3, STEP3.replace("W.T*", "V*"), STEP3, r"step 3 \(line {line}\).*Undeclared name 'V'"),
    (STEP3, STEP3.replace("W.T*", "W*H*"), STEP3, r"step 3 \(line {line}\) must have matching"),
    (
        STEP3,
        "expr = \"__import__('os').system('echo hi')\"",
        STEP3,
        r"step 3 \(line {line}\).*dunder",
    ),
    (STEP3, 'expr = "().__class__"', STEP3, r"step 3 \(line {line}\).*'__class__'"),
    (STEP3, 'expr = "W.T.__class__"', STEP3, r"step 3 \(line {line}\).*'__class__'"),
    (STEP3, 'expr = "(lambda: W)()"', STEP3, r"step 3 \(line {line}\).*'lambda' is Python code"),
    ('uses = ["chain"]', 'uses = ["chains"]', STEP4, r"step 4 \(line {line}\) must cite declared"),
    ('"G_h = W.T*Delta"', '"G_h = W*W"', "chain = ", r"hypothesis chain \(line {line}\) must have"),
    ('"grad(L, W) = 0"', '"grad(L, W)"', "stat = ", r"hypothesis stat \(line {line}\) must be one"),
    (
        '[[steps]]\nexpr = "W.T*W"',
        '[[step]]\nexpr = "W.T*W"',
        "",
        r"use only the keys .*got 'step'",
    ),
    ('"stationarity: grad_W L = 0"', "stationarity", 'why = "stationarity', r"TOML.*line {line},"),
]


@pytest.mark.parametrize(("old", "new", "anchor", "match"), BAD)
def test_malformed_file_exit_2_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old: str, new: str, anchor: str, match: str
) -> None:
    """F1: malformed files exit 2 with one line naming the step (and its line) and the problem."""
    lines = FACT_FILE.read_text().splitlines()
    line = next((k + 1 for k, s in enumerate(lines) if anchor and s.startswith(anchor)), 0)
    assert main(["check-derivation", str(_variant(tmp_path, old, new))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("factcheck check-derivation: error: ")
    assert re.search(match.format(line=line), err), err


def test_missing_file_and_bad_format_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """F1: a missing file or an unknown --format is bad input: one line, exit 2."""
    assert main(["check-derivation", "no-such-file.toml"]) == 2
    assert main(["check-derivation", str(FACT_FILE), "--format", "yaml"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "FILE must be an existing" in err[0] and "--format" in err[1]


def test_installed_command_runs_end_to_end() -> None:
    """F1: the console command checks a file and says nothing on stderr."""
    out = subprocess.run(
        [sys.executable, "-m", "verify.cli.main", "check-derivation", str(FACT_FILE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0 and out.stderr == "" and "PROVED" in out.stdout


def test_readme_example_file_is_proved(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """F1: the derivation file printed in the README's "Derivation files" section is PROVED."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme.split("## Derivation files", 1)[1]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "readme.toml"
    path.write_text(block)
    assert main(["check-derivation", str(path)]) == 0
    assert capsys.readouterr().out.count("[PROVED]") == 4
