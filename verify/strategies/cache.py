"""On-disk cache of trained points, keyed by the draw, so reruns of property tests are fast.

What is stored: the float64 parameters that training reached from one start on one problem,
nothing else. The key is a SHA-256 of everything that determines that point: the problem's
arrays (X, Y as bytes), architecture, activation, bias, loss, lam, decay of the biases, the
starting parameters (as bytes) and the iteration limit, plus :data:`FORMAT`. The certificate is
never cached: every load re-applies the engine's certificate (verify.engine.train.evaluate) to
the stored point, so a change of the certification rule can never be hidden by a stale cache.

Where: the directory in the environment variable ``FACTCHECK_CACHE_DIR``; without it,
``.hypothesis/factcheck-trained`` under the current directory, next to Hypothesis's own example
database (and ignored by git for the same reason). ``FACTCHECK_CACHE_DIR=""`` turns caching off.

Safe for concurrent runs: each entry is written to a temporary file in the same directory and
renamed over the target (atomic on POSIX, :mod:`verify.base.files`), so a reader sees a whole
entry or none; two writers of one key write the same bytes. A file that cannot be read back as
the right number of finite float64 values is treated as missing (never unpickled:
``np.load(..., allow_pickle=False)``).
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np

from verify.base.files import write_bytes_atomic
from verify.engine.network import Problem

__all__ = ["FORMAT", "cache_dir", "draw_key", "load_point", "store_point"]

#: bump when the meaning of a stored point changes (e.g. a different training routine)
FORMAT = "factcheck-trained/1"
_DEFAULT = Path(".hypothesis") / "factcheck-trained"


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off (``FACTCHECK_CACHE_DIR=""``)."""
    value = os.environ.get("FACTCHECK_CACHE_DIR")
    if value is None:
        return _DEFAULT
    return Path(value) if value.strip() else None


def draw_key(problem: Problem, theta0: np.ndarray, max_iter: int) -> str:
    """SHA-256 of everything that determines the trained point (module docstring)."""
    h = hashlib.sha256()
    net = problem.net
    meta = (FORMAT, net.sizes, net.activation, net.bias, problem.loss, repr(problem.lam),
            problem.decay_bias, int(max_iter))  # fmt: skip
    h.update(repr(meta).encode())
    for arr in (problem.X, problem.Y, np.asarray(theta0, dtype=np.float64)):
        h.update(repr(arr.shape).encode())
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    return h.hexdigest()


def _path(key: str) -> Path | None:
    root = cache_dir()
    return None if root is None else root / key[:2] / f"{key}.npy"


def load_point(key: str, n_params: int) -> np.ndarray | None:
    """The stored point for ``key``, or None (missing, unreadable, wrong size or non-finite)."""
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        theta = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if theta.dtype != np.float64 or theta.shape != (n_params,) or not np.isfinite(theta).all():
        return None
    return theta


def store_point(key: str, theta: np.ndarray) -> None:
    """Store a finite point atomically (nothing is stored when caching is off)."""
    path = _path(key)
    theta = np.asarray(theta, dtype=np.float64)
    if path is None or not np.isfinite(theta).all():
        return
    buf = io.BytesIO()
    np.save(buf, theta, allow_pickle=False)
    try:
        write_bytes_atomic(path, buf.getvalue())
    except OSError:  # a read-only or full disk only costs speed, never a result
        pass
