"""The memory estimate's copies of the engine's size limits (verify/engine/memory.py)."""

from __future__ import annotations

from verify.engine import memory
from verify.engine.hessian import DENSE_MAX
from verify.engine.newton64 import CHOLESKY_MAX
from verify.engine.newton_mp import ROBUST_MAX


def test_the_repeated_limits_are_the_engines() -> None:
    """F1: memory.py repeats the sizes up to which dense matrices are formed (it stays light,
    without NumPy); a change to one of them must reach the estimate."""
    assert (memory._DENSE_MAX, memory._ROBUST_MAX, memory._CHOLESKY_MAX) == (
        DENSE_MAX, ROBUST_MAX, CHOLESKY_MAX,
    )  # fmt: skip


def test_the_cholesky_range_counts_its_matrices() -> None:
    """F1: above the dense limit and up to the Cholesky one, the closed-form Hessian, its
    factor and the output Jacobian add ~7 p^2 numbers; above, they are not formed."""
    inside = memory.SizeSummary.of((20, 64, 1))  # 1,344 parameters
    outside = memory.SizeSummary.of((20, 120, 1))  # 2,640
    base = memory.training_bytes(inside, 256) - memory.BASELINE
    lean = 8 * (memory.C_N * 256 * inside.units + memory.C_P * inside.params
                + memory.C_IN * inside.squares_in + memory.C_OUT * inside.squares_out)  # fmt: skip
    assert base - lean == 8 * 7 * inside.params**2
    big = memory.training_bytes(outside, 256) - memory.BASELINE
    assert big == 8 * (
        memory.C_N * 256 * outside.units
        + memory.C_P * outside.params
        + memory.C_IN * outside.squares_in
        + memory.C_OUT * outside.squares_out
    )
