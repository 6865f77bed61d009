"""Keep NumPy's large temporaries in the heap (glibc only): one call at start-up.

Why: glibc serves every allocation above ``M_MMAP_THRESHOLD`` (128 KiB at start, raised
dynamically) with a fresh ``mmap`` and returns it to the kernel on ``free``; it also gives the top
of the heap back (``M_TRIM_THRESHOLD``) whenever that much is free. A gradient of a network with
n = 2000 samples allocates a few dozen arrays of 0.5-16 MiB and frees them again, so every call
page-faults its temporaries back in: at 10^4 parameters 62% of the CPU time of training was page
faults (2,429 per gradient). Raising both thresholds keeps the freed memory in the process for
the next call.

Measured (one BLAS thread, process CPU time, 2-core machine shared with other work), MLP
(100, m, 1), n = 2000, tanh: m = 100 (10^4 parameters) gradient 10.7 -> 4.9 ms, Hessian-vector
product 15.7 -> 5.8 ms; m = 1000 (10^5 parameters) gradient 65 -> 46 ms, Hessian-vector product
91 -> 60 ms; minor page faults of the whole run 57,846 -> 19,155 (the rest: imports). Peak memory
is unchanged (the memory is reused, not added to), and at most ``TRIM`` bytes of freed memory are
kept.

Only the ``factcheck`` command and the benchmarks call :func:`tune_allocator`: it changes a
process-wide setting, which a library imported into someone else's program should not do
silently. It never fails: on another C library or platform, or when ``mallopt`` is missing, it
does nothing and returns False. Standard library only (``ctypes``), so the CLI can call it before
NumPy loads.
"""

from __future__ import annotations

import os
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune_allocator"]

#: 32 MiB, the largest value glibc accepts (HEAP_MAX_SIZE / 2 on 64-bit): a 2000 x 1000 float64
#: array (16 MiB) stays in the heap
MMAP_THRESHOLD = 32 * 1024 * 1024
#: keep up to 512 MiB of freed memory before returning heap top to the kernel (the memory targets
#: of the engine are 1 GiB; the largest benchmark peaks near 300 MiB)
TRIM_THRESHOLD = 512 * 1024 * 1024

# mallopt parameter numbers from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_done: list[bool] = []


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process (module docstring).

    Returns True if both settings were accepted, False if nothing was changed (not Linux with
    glibc, ``mallopt`` unavailable or refused). Later calls return the first call's answer.
    """
    if _done:
        return _done[0]
    ok = False
    try:
        if sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION"):
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            mallopt = libc.mallopt
            mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            mallopt.restype = ctypes.c_int
            ok = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
                mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
            )
    except (OSError, ValueError, AttributeError):  # musl, macOS, no confstr name, no mallopt
        ok = False
    _done.append(ok)
    return ok
