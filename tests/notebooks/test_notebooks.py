"""Every notebook runs top to bottom at small size (FACTCHECK_SMALL=1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: notebooks with optional extras run with their own tests (torch_bridge: tests/verify/torch/)
OPTIONAL = {"torch_bridge"}
#: files of answers next to a notebook (exercises_solutions.py) are not notebooks
NOTEBOOKS = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "notebooks").glob("*.py")
    if p.stem not in OPTIONAL and not p.stem.endswith("_solutions")
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    """F1 (and each notebook's own tags): the notebook executes without error at small size."""
    env = os.environ | {"FACTCHECK_SMALL": "1", "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
