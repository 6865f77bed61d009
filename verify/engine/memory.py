"""Peak memory of training and checking an MLP, estimated from its sizes before anything exists.

Used by every entry point that builds or loads a network (``factcheck verify``, ``check``,
:func:`verify.engine.train.train`, :func:`synthetic_problem`, :func:`load_run`): a size that
cannot fit is refused with a one-line error (:func:`verify.base.validate.check_memory`) instead
of a MemoryError after a minute. The estimate is a sum of terms, each the size of the arrays a
stage holds at once, in float64 numbers (8 bytes) unless said otherwise; n samples, layer sizes
s_0 = d, ..., s_L = c, p parameters:

- samples:   C_N n (s_0 + ... + s_L): data, pre-activations, activations, slopes and deltas of
  backpropagation and of the Hessian-vector products (R-operator), input Jacobians;
- parameters: C_P p: theta, gradients, L-BFGS's 20 correction pairs, Newton/Lanczos vectors;
- features:  sum over layers of C_IN in_l^2 + C_OUT out_l^2: W^T W, FACT, AGOP (centred and
  not), their powers, eigendecompositions (in x in); bFACT and W W^T (out x out);
- dense Hessian (p <= DENSE_MAX): 3 p^2 (the matrix, its symmetrisation, its eigenvectors);
  above that up to CHOLESKY_MAX, 7 p^2 (one hidden layer: the closed-form Hessian, its
  Cholesky factor and the output Jacobian it is formed from, n c x p with n c <= 4 p); the
  ReLU kink path's square system is of the same order;
- symmetry directions (identity activation: every hidden unit acts linearly): one tangent
  vector of length p per pair of hidden units of a layer, m (m - 1) / 2 of them, 4 copies
  (the list, the stacked array, with the dead-unit directions, the SVD workspace);
- mpmath (``dps``): the same backpropagation and feature terms in mpf objects, MPF_BYTES each
  plus 0.42 bytes per digit (the mantissa), and the dense mpmath Hessian for p <= ROBUST_MAX.

The constants were fitted to the peak resident memory of ``factcheck verify fact`` over widths
8..4000, n up to 1e5, d up to 6000, depth up to 200, identity width 120, and 50- and 300-digit
runs, each rounded up so that the estimate stays above the measurement
(``benchmarks/bench_validate.py --memory``): estimate / measured peak 1.1-1.3 on every row, e.g.
width 4000: 1710 MiB estimated, 1330 MiB measured. BASELINE is the interpreter with NumPy,
SciPy and mpmath loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verify.base.validate import check_memory

if TYPE_CHECKING:  # this module stays light: no NumPy
    from verify.engine.problem import MLP

__all__ = ["SizeSummary", "check_network_memory", "check_training_memory", "training_bytes"]

#: bytes per float64
_F64 = 8
#: float64 numbers per (sample x unit), per parameter, per in^2 and out^2 of a layer (docstring)
C_N, C_P, C_IN, C_OUT = 12, 60, 10, 3
#: bytes of one mpmath mpf object without its mantissa (object header, tuple, exponent)
MPF_BYTES = 200
#: the interpreter with NumPy, SciPy and mpmath imported
BASELINE = 100 * 2**20
#: the dense float64 and mpmath Hessians are formed up to these sizes (verify.engine.hessian,
#: verify.engine.newton_mp; repeated here so that this module stays light)
_DENSE_MAX, _ROBUST_MAX, _MP_MAX = 800, 120, 3200
#: the closed-form Hessian's Cholesky factorization is formed up to this size
#: (verify.engine.newton64.CHOLESKY_MAX, repeated here for the same reason)
_CHOLESKY_MAX = 2000


@dataclass(frozen=True)
class SizeSummary:
    """The aggregates of the layer sizes that the estimate needs (no list of layers kept)."""

    units: int  # s_0 + ... + s_L
    params: int  # p
    squares_in: int  # sum of in_l^2
    squares_out: int  # sum of out_l^2
    pairs: int  # sum over hidden layers of m (m - 1) / 2

    @classmethod
    def of(cls, sizes: Sequence[int], bias: bool = False) -> SizeSummary:
        s = [int(x) for x in sizes]
        pairs = sum(m * (m - 1) // 2 for m in s[1:-1])
        return cls(
            sum(s), sum(a * b + (b if bias else 0) for a, b in zip(s, s[1:], strict=False)),
            sum(a * a for a in s[:-1]), sum(b * b for b in s[1:]), pairs,
        )  # fmt: skip

    @classmethod
    def uniform(cls, d: int, width: int, depth: int, c: int, bias: bool = False) -> SizeSummary:
        """``(d, width, ..., width, c)`` with ``depth`` weight matrices, by formula (no list:
        ``--depth 1000000000`` must not build one)."""
        if depth == 1:
            return cls.of((d, c), bias)
        hidden = depth - 1
        params = d * width + (hidden - 1) * width * width + width * c
        params += hidden * width + c if bias else 0
        return cls(
            d + hidden * width + c, params, d * d + (hidden - 1) * width * width + width * width,
            hidden * width * width + c * c, hidden * (width * (width - 1) // 2),
        )  # fmt: skip


def training_bytes(
    sizes: SizeSummary, n: int, *, activation: str = "tanh", dps: int | None = None
) -> int:
    """Estimated peak bytes of training and checking (module docstring, term by term)."""
    p = sizes.params
    numbers = C_N * n * sizes.units + C_P * p + C_IN * sizes.squares_in + C_OUT * sizes.squares_out
    if p <= _DENSE_MAX:
        numbers += 3 * p * p
    elif p <= _CHOLESKY_MAX:
        numbers += 7 * p * p
    if activation == "identity":
        numbers += 4 * sizes.pairs * p
    total = BASELINE + _F64 * numbers
    if dps is not None and p <= _MP_MAX:
        mp = C_N * n * sizes.units + C_IN * sizes.squares_in + 3 * p * p * (p <= _ROBUST_MAX)
        total += mp * (MPF_BYTES + int(0.42 * dps))
    return int(total)


def _count(x: int) -> str:
    return f"{x:,}" if x < 10**12 else f"{float(min(x, 10**300)):.3g}"


def check_training_memory(
    sizes: SizeSummary, n: int, *, activation: str = "tanh", dps: int | None = None,
    argument: str = "sizes", value: object = None, fix: str = "Use a smaller network or fewer "
    "samples.",
) -> None:  # fmt: skip
    """Refuse (InputError) when :func:`training_bytes` exceeds the memory limit."""
    est = training_bytes(sizes, n, activation=activation, dps=dps)
    what = f"training and checking {_count(sizes.params)} parameters on n = {_count(n)}"
    check_memory(est, argument=argument, value=value, what=what, fix=fix)


def check_network_memory(
    net: MLP, n: int, *, dps: int | None = None, argument: str, value: object
) -> None:
    """:func:`check_training_memory` for a built :class:`~verify.engine.network.MLP`."""
    check_training_memory(
        SizeSummary.of(net.sizes, net.bias), n, activation=net.activation, dps=dps,
        argument=argument, value=value, fix="Use a smaller network or fewer samples.",
    )  # fmt: skip
