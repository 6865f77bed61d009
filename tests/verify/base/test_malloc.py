"""Allocator tuning at start-up: safe everywhere, effective on glibc."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        return False


def test_tune_allocator_is_safe_and_idempotent() -> None:
    """Speed (allocator): the call never raises, returns a bool, answers the same twice, and
    imports nothing heavy (the CLI calls it before NumPy loads)."""
    code = (
        "import sys\n"
        "from verify.base.malloc import tune_allocator\n"
        "a, b = tune_allocator(), tune_allocator()\n"
        "assert isinstance(a, bool) and a == b\n"
        "assert 'numpy' not in sys.modules\n"
        "print(a)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(_glibc())


@pytest.mark.skipif(not _glibc(), reason="mallopt exists only in glibc")
def test_tuned_heap_keeps_large_temporaries() -> None:
    """Speed (allocator): the pattern of a gradient at n = 2000 (six 1.6 MB temporaries alive at
    once, then freed) page-faults them in again on every call with glibc's defaults (the freed
    heap top is trimmed back to the kernel), and not at all once the thresholds are raised."""
    code = (
        "import resource, sys\n"
        "from verify.base.malloc import tune_allocator\n"
        "if sys.argv[1] == 'tuned': tune_allocator()\n"
        "import numpy as np\n"
        "def step(): return [np.ones(200_000) for _ in range(6)]\n"
        "step()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(20): step()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    faults = {
        mode: int(
            subprocess.run(
                [sys.executable, "-c", code, mode], capture_output=True, text=True, check=True
            ).stdout
        )  # fmt: skip
        for mode in ("tuned", "default")
    }
    # 20 calls x 6 arrays x 391 pages of 4 KiB = 46,920 faults if every page comes back each time
    assert faults["default"] >= 20_000 and faults["tuned"] <= 1_000
