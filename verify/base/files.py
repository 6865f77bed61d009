"""Atomic file writing: a file is either written whole or not at all.

Every file the toolkit writes goes through these helpers: the content goes to a temporary file in
the target's directory, is flushed and fsynced, then renamed over the target (atomic on POSIX), so
an interrupted run never leaves a half-written report, run file or certificate.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["write_bytes_atomic", "write_text_atomic", "save_npz_atomic"]


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def save_npz_atomic(path: str | os.PathLike[str], arrays: Mapping[str, Any]) -> Path:
    """Write a NumPy ``.npz`` archive atomically. Object arrays are refused (no pickle)."""
    import numpy as np  # here, not at the top: the command line imports this module at start

    clean: dict[str, np.ndarray] = {}
    for key, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype == object:
            raise TypeError(f"run-file entry {key!r} has dtype object, which would need pickle")
        clean[key] = arr
    buf = io.BytesIO()
    np.savez(buf, **clean)  # type: ignore[arg-type]
    return write_bytes_atomic(path, buf.getvalue())
