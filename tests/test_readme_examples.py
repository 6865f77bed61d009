"""The README's command-line tour shows what the commands print now (tools/readme_examples.py).

Each ```text block that starts with ``$ factcheck`` is rerun in a scratch directory and compared
with the README after the tool's documented masks (durations; numbers below 1e-9, whose digits
are rounding). A changed verdict, step, number or message fails the test; the fix is
``python tools/readme_examples.py``, which rewrites the blocks. The minute-long examples
(counterexample search, emergence) are marked slow; the PyTorch one skips without torch (the
reason says how to install it) and runs in ``.ci/run``'s torch phase.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "readme_examples", ROOT / "tools" / "readme_examples.py"
)
assert _spec is not None and _spec.loader is not None
tool = importlib.util.module_from_spec(_spec)
sys.modules["readme_examples"] = tool  # dataclasses look their module up while it loads
_spec.loader.exec_module(tool)

README = (ROOT / "README.md").read_text()
BLOCKS = tool.blocks(README)


def _param(block: object) -> object:
    slow = any(tool.example(c).slow for c in block.commands)  # type: ignore[attr-defined]
    return pytest.param(block, id=block.name, marks=[pytest.mark.slow] if slow else [])  # type: ignore[attr-defined]


def test_every_example_is_specified_and_used() -> None:
    """F1: every tour block's commands are in EXAMPLES, and every EXAMPLE is in the README."""
    used = {c for b in BLOCKS for c in b.commands}
    assert used == {e.command for e in tool.EXAMPLES}
    assert len(BLOCKS) >= 7


def test_masks_hide_only_timings_and_rounding() -> None:
    """F1: durations and numbers below 1e-9 are masked; a changed correlation or verdict is not."""
    a = "converged, ||grad|| = 1.64e-16 (float64), 0.07 s; Pearson 0.993827 NUMERICALLY_CONSISTENT"
    b = "converged, ||grad|| = 9.99e-17 (float64), 12 s; Pearson 0.993827 NUMERICALLY_CONSISTENT"
    assert tool.mask(a) == tool.mask(b)
    assert tool.mask(a) != tool.mask(a.replace("0.993827", "0.993828"))
    assert tool.mask("rate 1.5e-3 and 2e-09") == "rate 1.5e-3 and 2e-09"  # 2e-9 is not < 1e-9
    assert tool.mask("tol 2.07e-48") == "tol <rounding>"


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_readme_example_matches_the_command(block: object) -> None:
    """F1, D3, D5, N2: the README block equals the command's output (masked)."""
    why = tool.available(block)
    if why and os.environ.get("FACTCHECK_REQUIRE_TORCH") == "1":
        pytest.fail(why)
    if why:
        pytest.skip(why)
    new = tool.render(block)
    old = README.splitlines()[block.start : block.stop]  # type: ignore[attr-defined]
    diff = "".join(difflib.unified_diff([x + "\n" for x in old], [x + "\n" for x in new]))
    assert tool.mask("\n".join(new)) == tool.mask("\n".join(old)), (
        "README example out of date; run python tools/readme_examples.py\n" + diff
    )
