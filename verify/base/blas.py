"""BLAS thread count, set before NumPy is first imported (this module imports nothing heavy).

The toolkit's matrices are small (a few hundred rows at most), where BLAS threading buys nothing;
on the 2-core development machine with other work running, a two-thread OpenBLAS was measured
10-40x slower (RFM benchmark, notebooks) and 2-3x slower on the largest engine benchmark. So
``factcheck``, the test suite and the benchmarks default to one thread. With ``force=False`` an
explicit setting in the environment wins; the benchmarks' ``--threads N`` forces N.
"""

from __future__ import annotations

import os

__all__ = ["BLAS_VARIABLES", "set_blas_threads"]

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def set_blas_threads(threads: int = 1, *, force: bool = False) -> None:
    """Set the BLAS thread variables; call before NumPy is imported or it has no effect."""
    for var in BLAS_VARIABLES:
        if force:
            os.environ[var] = str(threads)
        else:
            os.environ.setdefault(var, str(threads))
