"""notebooks/torch_bridge.py runs top to bottom at small size (needs torch and scikit-learn)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip(
    "torch", reason="PyTorch is not installed; pip install '.[torch]' to run the verify.torch tests"
)
pytest.importorskip(
    "sklearn", reason="scikit-learn is not installed; pip install '.[tabular]' for the digits data"
)

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "torch_bridge.py"


def test_torch_bridge_notebook_runs(tmp_path: Path) -> None:
    """F1, F2, F3, N2: the notebook executes without error at small size (its own asserts:
    F2 bounds the defect along SGD, FACT consistent at the polished points)."""
    env = os.environ | {"FACTCHECK_SMALL": "1", "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, str(NOTEBOOK)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "NUMERICALLY_CONSISTENT" in out.stdout
