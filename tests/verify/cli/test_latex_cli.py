"""``--format latex`` prints a complete document that pdflatex compiles (derive, check-derivation).

The compile tests skip when pdflatex is missing (``apt-get install texlive-latex-base``;
``.ci/run`` installs it); the structure tests run everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from verify.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
COMMANDS = {
    "fact-mlp": ["derive", "fact", "--arch", "mlp"],
    "fact-deep-linear": ["derive", "fact", "--arch", "deep-linear", "--depth", "3", "--layer", "2"],
    "nfa-deep-linear": ["derive", "nfa-deep-linear", "--depth", "3"],
    "check-derivation": [
        "check-derivation",
        str(ROOT / "examples" / "derivations" / "wrong_dropped_transpose.toml"),
    ],
}


def _latex(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    main([*argv, "--format", "latex"])
    return capsys.readouterr().out


def test_fact_document_structure(capsys: pytest.CaptureFixture[str]) -> None:
    """F1: a whole document; FACT upright (\\mathrm), justifications as text with inline maths."""
    doc = _latex(capsys, COMMANDS["fact-mlp"])
    assert doc.startswith(r"\documentclass") and doc.rstrip().endswith(r"\end{document}")
    assert doc.count(r"\begin{align*}") == 4  # F1, F2, F4, F5
    assert r"\mathrm{FACT}" in doc and "F A C T" not in doc
    assert r"\intertext{\small 7. chain-rule lemma: " in doc and "\\checkmark" in doc
    assert r"\textasciicircum" not in doc and "grad\\_" not in doc  # no ASCII maths left


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (optional)")
@pytest.mark.parametrize("name", list(COMMANDS))
def test_document_compiles(name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """F1, D5: `factcheck ... --format latex > d.tex && pdflatex d.tex` succeeds."""
    (tmp_path / "d.tex").write_text(_latex(capsys, COMMANDS[name]))
    out = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert (tmp_path / "d.pdf").stat().st_size > 10_000
