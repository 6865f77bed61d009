"""The package surface: lazy verify, symbolic-only theory, every exported name resolves."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> None:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_import_verify_is_light() -> None:
    """F1: `import verify` loads no NumPy, so the CLI can set BLAS defaults before it loads."""
    _run("import sys, verify; assert 'numpy' not in sys.modules, sorted(sys.modules)")


def test_every_exported_name_resolves() -> None:
    """F1: every name in theory.__all__ and verify.__all__ is importable."""
    _run(
        "import theory, verify\n"
        "for mod in (theory, verify):\n"
        "    missing = [n for n in mod.__all__ if not hasattr(mod, n)]\n"
        "    assert not missing, missing"
    )


def test_cli_sets_one_blas_thread_unless_told() -> None:
    """F1: the CLI defaults BLAS to one thread and leaves an explicit setting alone."""
    _run(
        "import os; os.environ.pop('OPENBLAS_NUM_THREADS', None); import verify.cli.main; "
        "assert os.environ['OPENBLAS_NUM_THREADS'] == '1'"
    )
    _run(
        "import os; os.environ['OPENBLAS_NUM_THREADS'] = '2'; import verify.cli.main; "
        "assert os.environ['OPENBLAS_NUM_THREADS'] == '2'"
    )
