"""The architecture (:class:`MLP`) and the training problem (:class:`Problem`), validated once.

Conventions: see :mod:`verify.engine.network`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from theory._errors import bad_input
from verify.engine.activations import ACTIVATIONS, LOSSES
from verify.engine.backends import Array, Backend

__all__ = ["MLP", "Problem"]


# -- architecture and problem ------------------------------------------------------------------
@dataclass(frozen=True)
class MLP:
    """Layer sizes ``(d, m_1, ..., m_{L-1}, c)``, activation name, whether layers have biases."""

    sizes: tuple[int, ...]
    activation: str = "tanh"
    bias: bool = False

    def __post_init__(self) -> None:
        sizes = tuple(self.sizes)
        if len(sizes) < 2 or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise bad_input(
                "sizes", "be >= 2 positive integers (d, widths..., c)", self.sizes,
                "Pass e.g. (4, 8, 2) for d=4, one hidden layer of width 8, c=2.",
            )  # fmt: skip
        if self.activation not in ACTIVATIONS:
            raise bad_input(
                "activation", f"be one of {sorted(ACTIVATIONS)}", self.activation,
                "Pick one of the listed names.",
            )  # fmt: skip
        object.__setattr__(self, "sizes", tuple(int(s) for s in sizes))

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    @property
    def shapes(self) -> list[tuple[tuple[int, int], tuple[int, ...] | None]]:
        """``[(W_l shape (out, in), b_l shape or None), ...]``."""
        s = self.sizes
        return [((s[i + 1], s[i]), (s[i + 1],) if self.bias else None) for i in range(self.depth)]

    @cached_property
    def offsets(self) -> tuple[tuple[int, int, int], ...]:
        """Per layer, in the flat parameter vector: ``(start of W_l, end of W_l (row-major) =
        start of b_l, end of b_l)``; without biases the last two are equal."""
        out, k = [], 0
        for (o, i), b in self.shapes:
            w_end = k + o * i
            k = w_end + (b[0] if b else 0)
            out.append((w_end - o * i, w_end, k))
        return tuple(out)

    @property
    def n_params(self) -> int:
        return sum(w[0] * w[1] + (b[0] if b else 0) for w, b in self.shapes)

    def unflatten(self, theta: Array) -> list[tuple[Array, Array | None]]:
        """Views ``[(W_1, b_1), ...]`` into the flat parameter vector."""
        out, k = [], 0
        for (o, i), b in self.shapes:
            w = theta[k : k + o * i].reshape(o, i)
            k += o * i
            bias = None
            if b is not None:
                bias, k = theta[k : k + o], k + o
            out.append((w, bias))
        assert k == len(theta), "theta length does not match the architecture"
        return out

    def flatten(self, params: list[tuple[Array, Array | None]]) -> Array:
        parts = []
        for w, b in params:
            parts.append(np.asarray(w).reshape(-1))
            if b is not None:
                parts.append(np.asarray(b).reshape(-1))
        return np.concatenate(parts)

    def init(self, seed: int | np.random.Generator = 0) -> np.ndarray:
        """Gaussian weights of standard deviation 1/sqrt(fan_in), zero biases (float64)."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        params = [
            (rng.standard_normal(w) / np.sqrt(w[1]), np.zeros(b) if b else None)
            for w, b in self.shapes
        ]
        return self.flatten(params)


@dataclass(frozen=True, eq=False)
class Problem:
    """A training problem: network, data, loss and weight decay (validated on construction)."""

    net: MLP
    X: np.ndarray
    Y: np.ndarray
    loss: str = "mse"
    lam: float = 1e-2
    decay_bias: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        X, Y = _finite_matrix("X", self.X), _finite_matrix("Y", self.Y)
        n, d = X.shape
        if Y.shape[0] != n:
            raise bad_input(
                "Y", f"have one row per sample of X (n = {n})", f"shape {Y.shape}",
                "Pass Y of shape (n, c).",
            )  # fmt: skip
        if (d, Y.shape[1]) != (self.net.sizes[0], self.net.sizes[-1]):
            raise bad_input(
                "net.sizes", f"start with d = {d} and end with c = {Y.shape[1]} (from X, Y)",
                self.net.sizes, "Match the input and output sizes to the data.",
            )  # fmt: skip
        if self.loss not in LOSSES:
            raise bad_input("loss", f"be one of {list(LOSSES)}", self.loss, "Pick a listed name.")
        if self.loss == "cross_entropy":
            # why 1e-9: rows of probabilities written in float64 sum to 1 within a few ulps
            bad = (Y < 0).any(axis=1) | (np.abs(Y.sum(axis=1) - 1) > 1e-9)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise bad_input(
                    f"Y[{i}]", "be a probability row (entries >= 0, sum 1) for cross_entropy",
                    Y[i].tolist(), "Pass one-hot labels or rows of class probabilities.",
                )  # fmt: skip
        lam = float(self.lam)
        if not np.isfinite(lam) or lam < 0:
            raise bad_input("lam", "be a finite number >= 0", self.lam, "Pass e.g. 1e-2.")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", Y)
        object.__setattr__(self, "lam", lam)
        object.__setattr__(self, "decay_bias", bool(self.decay_bias))

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def data(self, be: Backend) -> tuple[Array, Array, Any]:
        """``(X, Y, lam)`` as numbers of ``be`` (exact conversions of the float64 values)."""
        key = be.name  # "float64", "mpmath", "arb": conversions of float64 values are exact
        if key not in self._cache:
            self._cache[key] = (be.asarray(self.X), be.asarray(self.Y), be.asarray(self.lam))
        return self._cache[key]


def _finite_matrix(name: str, a: Any) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise bad_input(name, "be a numeric array", f"dtype {arr.dtype}", "Pass float data.")
    if arr.ndim != 2 or 0 in arr.shape:
        raise bad_input(
            name, "be a non-empty 2-D array (one sample per row)", f"shape {arr.shape}",
            "Reshape to (n, features), e.g. x.reshape(-1, 1).",
        )  # fmt: skip
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise bad_input(
            name, "be finite (no NaN or inf)", f"{arr[idx]} at {idx}", "Clean or drop those rows."
        )
    return arr
