"""The README's command-line tour shows what the commands print now (tools/readme_examples.py).

Each ```text block that starts with ``$ factcheck`` is rerun in a scratch directory and compared
with the README by the tool's documented rule: the lines the README shows must still be printed,
in order, with the same words and numbers within 5% (durations ignored, numbers below 1e-9
rounding). A changed verdict, step, message or number fails the test; lines the README leaves
out may change. The fix is ``python tools/readme_examples.py``, which rewrites the blocks. The
minute-long examples (counterexample search, emergence) are marked slow; the PyTorch one skips
without torch (the reason says how to install it) and runs in ``.ci/run``'s torch phase.
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


PRINTED = """\
[N2] NFA at a certified stationary point
  converged, ||grad|| = 1.64e-16 (float64), 0.07 s; Pearson 0.993827 NUMERICALLY_CONSISTENT
  alpha       1/2      1/3
  layer 1     0.9938   0.9412
verdict: NUMERICALLY_CONSISTENT
"""


def _ok(shown: str, printed: str = PRINTED) -> bool:
    return tool.differences(shown.splitlines(), printed) == []


def test_comparison_ignores_timings_rounding_and_left_out_lines() -> None:
    """F1: durations, numbers below 1e-9, digits within 5%, alignment, lines the README leaves
    out and cut line ends do not count."""
    assert _ok(PRINTED)
    same = PRINTED.replace("1.64e-16", "9.9e-17").replace("0.07 s", "12 s")
    assert _ok(same.replace("0.993827", "0.9941").replace("     0.9938", " 0.99382"))
    assert _ok("[N2] NFA at a certified stationary point\n  ...\nverdict: NUMERICALLY_CONSISTENT")
    assert _ok("  alpha 1/2 1/3\n  layer 1 0.9938 0.9412")  # a run in the middle
    assert _ok("  converged, ||grad|| = 1.64e-16 (float64), 0.07 s; Pearson ...")  # a cut line
    printed_more = PRINTED.replace("verdict:", "(a new line of another module)\nverdict:")
    assert _ok("[N2] NFA at a certified stationary point\n  ...\nverdict: NUMERICALLY_CONSISTENT",
               printed_more)  # fmt: skip


def test_comparison_catches_what_a_reader_would_see() -> None:
    """F1, N2: a changed verdict, word, number beyond 5%, a missing line, lines out of order or a
    run split apart all fail."""
    assert not _ok(PRINTED.replace("verdict: NUMERICALLY_CONSISTENT", "verdict: REFUTED"))
    assert not _ok(PRINTED.replace("Pearson 0.993827", "Pearson 0.52"))
    assert not _ok(PRINTED.replace("1/3", "1/4"))  # a different alpha
    assert not _ok(PRINTED.replace("certified", "rounded"))
    assert not _ok(PRINTED + "one more line\n")
    assert not _ok(
        "verdict: NUMERICALLY_CONSISTENT\n  ...\n[N2] NFA at a certified stationary point"
    )
    assert not _ok("[N2] NFA at a certified stationary point\nverdict: NUMERICALLY_CONSISTENT")
    assert not _ok("  converged, ||grad|| = 1.64e-16 (float64), 0.07 s; Spearman ...")
    assert tool.block_differences(["$ factcheck a", "x"], [("factcheck b", "x\n")]) == [
        "$ factcheck b: not in the README block"
    ]


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_readme_example_matches_the_command(block: object) -> None:
    """F1, D3, D5, N2: the README block equals the command's output (masked)."""
    why = tool.available(block)
    if why and os.environ.get("FACTCHECK_REQUIRE_TORCH") == "1":
        pytest.fail(why)
    if why:
        pytest.skip(why)
    outputs = tool.run_block(block)
    new = tool.render(outputs)
    old = README.splitlines()[block.start : block.stop]  # type: ignore[attr-defined]
    diff = "".join(difflib.unified_diff([x + "\n" for x in old], [x + "\n" for x in new]))
    assert tool.block_differences(old, outputs) == [], (
        "README example out of date; run python tools/readme_examples.py\n" + diff
    )
