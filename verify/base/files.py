"""Atomic file writing: a file, a set of files or a whole directory is written whole or not at all.

Every file the toolkit writes goes through these helpers.

- One file (:func:`write_bytes_atomic`) or several that belong together (:func:`staged_writes`,
  e.g. a run file and its certificate): each is written to a temporary file next to its target,
  flushed and fsynced; then all are renamed over their targets (``os.replace``, atomic on POSIX)
  with SIGINT, SIGTERM and SIGHUP held back (:func:`verify.base.interrupt.deferred_signals`),
  so an interruption leaves either every previous file or every new one.
- A directory (:func:`atomic_directory`, the report): built complete in a temporary sibling,
  then swapped with the target in one step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two
  renames with the signals held back), then the previous content is deleted.

Temporary names are ``.NAME.PID-RANDOM.part``; ones left by a process that no longer exists
(killed with SIGKILL, or a power cut) are removed by the next write to the same target, so a
rerun after any interruption works and leaves no debris. Files are created with mode
``0o666 & ~umask`` and directories with ``0o777 & ~umask``, as any other program's files (a
temporary file from ``tempfile.mkstemp`` would be 0600 whatever the umask).
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from verify.base.interrupt import deferred_signals

__all__ = [
    "StagedWrites",
    "atomic_directory",
    "npz_bytes",
    "save_npz_atomic",
    "staged_writes",
    "write_bytes_atomic",
    "write_text_atomic",
]


# -- temporary names -----------------------------------------------------------------------------
def _temp_name(name: str) -> str:
    return f".{name}.{os.getpid()}-{os.urandom(4).hex()}.part"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_stale(directory: Path, name: str) -> None:
    """Remove ``.NAME.PID-RANDOM.part`` left by processes that no longer exist."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(\d+)-[0-9a-f]{{8}}\.part$")
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        m = pattern.match(entry.name)
        if m and not _alive(int(m.group(1))):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover (platforms without directory fds)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover (some file systems refuse fsync on directories)
        pass
    finally:
        os.close(fd)


# -- files ---------------------------------------------------------------------------------------
class StagedWrites:
    """Files written to temporary names, renamed into place together by :meth:`commit`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def write_bytes(self, path: str | os.PathLike[str], data: bytes) -> Path:
        target = Path(path)
        directory = target.parent
        directory.mkdir(parents=True, exist_ok=True)
        _remove_stale(directory, target.name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        while True:
            tmp = directory / _temp_name(target.name)
            try:
                fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
            except FileExistsError:  # pragma: no cover (a 32-bit random collision)
                continue
            break
        self._pending.append((tmp, target))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return target

    def write_text(self, path: str | os.PathLike[str], text: str) -> Path:
        return self.write_bytes(path, text.encode("utf-8"))

    def commit(self) -> None:
        """Rename every staged file over its target, with interrupting signals held back."""
        with deferred_signals():
            for tmp, target in self._pending:
                os.replace(tmp, target)
            directories = {target.parent for _, target in self._pending}
            self._pending.clear()
        for directory in directories:
            _fsync_dir(directory)

    def discard(self) -> None:
        with deferred_signals():
            for tmp, _ in self._pending:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
            self._pending.clear()


@contextmanager
def staged_writes() -> Iterator[StagedWrites]:
    """Write several files all or none: ``with staged_writes() as s: s.write_text(p, t); ...``."""
    stage = StagedWrites()
    try:
        yield stage
        stage.commit()
    finally:
        stage.discard()  # after a commit there is nothing left to discard


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    with staged_writes() as stage:
        return stage.write_bytes(path, data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def npz_bytes(arrays: Mapping[str, Any]) -> bytes:
    """A NumPy ``.npz`` archive in memory. Object arrays are refused (they would need pickle)."""
    import numpy as np  # here, not at the top: the command line imports this module at start

    clean: dict[str, np.ndarray] = {}
    for key, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise TypeError(f"run-file entry {key!r} has dtype object, which would need pickle")
        clean[key] = arr
    buf = io.BytesIO()
    np.savez(buf, **clean)  # type: ignore[arg-type]
    return buf.getvalue()


def save_npz_atomic(path: str | os.PathLike[str], arrays: Mapping[str, Any]) -> Path:
    """Write a NumPy ``.npz`` archive atomically (no pickle)."""
    return write_bytes_atomic(path, npz_bytes(arrays))


# -- directories ---------------------------------------------------------------------------------
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux renameat2); False where unsupported."""
    import ctypes  # here: the command line imports this module at start, and rarely swaps

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(stage: Path, target: Path) -> Path | None:
    """Put ``stage`` at ``target``; returns where the previous content now is (or None)."""
    if not os.path.lexists(target):
        os.rename(stage, target)
        return None
    if _exchange(stage, target):
        return stage
    old = target.parent / _temp_name(target.name)
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)  # put the previous content back
        raise
    return old


def _fsync_tree(root: Path) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


@contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a directory in a temporary sibling and swap it in whole at the end.

    ``with atomic_directory(out) as d: (d / "a.txt").write_text(...)``. Inside the block write
    plainly into ``d``; if the block raises (or is interrupted), ``out`` is left as it was.
    """
    target = Path(path)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(parent, target.name)
    stage = parent / _temp_name(target.name)
    os.mkdir(stage, 0o777)  # the umask applies
    old: Path | None = None
    try:
        yield stage
        _fsync_tree(stage)
        with deferred_signals():
            old = _swap_in(stage, target)
        _fsync_dir(parent)
    finally:  # the unfinished new content, or the previous content after the swap
        with deferred_signals():  # a signal now would leave half of it behind
            for leftover in (stage, old):
                if leftover is not None and os.path.lexists(leftover):
                    shutil.rmtree(leftover, ignore_errors=True)
