"""Without PyTorch the toolkit works, and verify.torch / check-torch say how to get it (F1).

These tests need no torch: a subprocess hides it (``sys.modules['torch'] = None`` makes every
``import torch`` fail as if it were not installed).
"""

from __future__ import annotations

import subprocess
import sys

HIDE = "import sys; sys.modules['torch'] = None\n"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", HIDE + code], capture_output=True, text=True)


def test_toolkit_imports_without_torch() -> None:
    """F1: `import verify` and the engine work without torch; the CLI lists check-torch."""
    out = _run(
        "import verify\n"
        "from verify import check_fact, save_run\n"
        "from verify.cli.main import build_parser\n"
        "assert 'check-torch' in build_parser().format_help()\n"
    )
    assert out.returncode == 0, out.stderr


def test_verify_torch_without_torch_names_the_extra() -> None:
    """F1: importing verify.torch without torch raises ImportError naming the extra."""
    out = _run("import verify.torch\n")
    assert out.returncode != 0
    assert "ImportError: verify.torch needs PyTorch" in out.stderr
    assert "pip install '.[torch]'" in out.stderr


def test_check_torch_without_torch_exits_2_with_one_line() -> None:
    """F1: `factcheck check-torch` without torch prints one line naming the extra, exit 2."""
    out = _run(
        "from verify.cli.main import main\n"
        "sys.exit(main(['check-torch', 'm.pt', '--data', 'd.npz', '--lam', '1e-3', "
        "'--activation', 'tanh']))\n"
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "pip install '.[torch]'" in out.stderr
