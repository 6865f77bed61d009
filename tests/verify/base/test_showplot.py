"""Notebook figures never vanish: matplotlib when installed, else the toolkit's SVG, in a file.

Checked in process (matplotlib hidden from the import system) and end to end: the FACT notebook
run with matplotlib made unimportable writes its figure as SVG and says where.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from verify.base.showplot import show_lines

SERIES = {"defect": ([1e-3, 1e-2, 1e-1], [1e-5, 1e-3, 1e-1]), "bound": ([1e-3, 1e-1], [1e-4, 1])}


def test_svg_when_matplotlib_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """F2: without matplotlib the figure is the toolkit's SVG (log axes), written and announced."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    monkeypatch.chdir(tmp_path)
    how = show_lines(SERIES, title="FACT defect", xlabel="gradient", ylabel="defect",
                     logx=True, logy=True)  # fmt: skip
    assert how == "svg file fact-defect.svg"
    svg = (tmp_path / "fact-defect.svg").read_text()
    root = ET.fromstring(svg)
    assert root.get("viewBox") and "gradient (log10 scale)" in svg and "1e-3" in svg
    assert "figure written to fact-defect.svg" in capsys.readouterr().out


def test_matplotlib_file_on_a_non_interactive_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F2: with matplotlib on the Agg backend the figure is saved as PNG, not discarded."""
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib not installed (plot extra)")
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    how = show_lines(SERIES, title="FACT defect", xlabel="g", ylabel="d", path="fig")
    assert how == "matplotlib file fig.png" and (tmp_path / "fig.png").stat().st_size > 1000


def test_notebook_without_matplotlib_draws_svg(tmp_path: Path) -> None:
    """F2: notebooks/fact.py with matplotlib unimportable still produces its figure."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('matplotlib hidden by the test')\n")
    run = tmp_path / "run"
    run.mkdir()
    env = os.environ | {"FACTCHECK_SMALL": "1", "PYTHONPATH": str(blocker)}
    notebook = Path(__file__).resolve().parents[3] / "notebooks" / "fact.py"
    out = subprocess.run([sys.executable, str(notebook)], cwd=run, env=env, capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "matplotlib is not installed: figure written to" in out.stdout
    assert list(run.glob("*.svg"))
