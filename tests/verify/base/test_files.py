"""Atomic writing: whole or nothing, with the umask's mode, no debris, and a rerun that works."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from verify.base import files
from verify.base.files import atomic_directory, staged_writes, write_bytes_atomic


@pytest.fixture
def umask_022() -> object:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002])
def test_files_and_directories_carry_the_umask(tmp_path: Path, mask: int) -> None:
    """F1 (files): new files are 0666 & ~umask, directories 0777 & ~umask (not mkstemp's 0600)."""
    old = os.umask(mask)
    try:
        write_bytes_atomic(tmp_path / "a.bin", b"x")
        files.save_npz_atomic(tmp_path / "r.npz", {"a": np.zeros(2)})
        with atomic_directory(tmp_path / "rep") as d:
            (d / "r.html").write_text("x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.bin") == 0o666 & ~mask
    assert _mode(tmp_path / "r.npz") == 0o666 & ~mask
    assert _mode(tmp_path / "rep") == 0o777 & ~mask
    assert _mode(tmp_path / "rep" / "r.html") == 0o666 & ~mask


def test_staged_writes_are_all_or_nothing(tmp_path: Path, umask_022: object) -> None:
    """F1 (files): an exception (or Ctrl-C) while staging leaves every previous file as it was."""
    a, b = tmp_path / "cx.npz", tmp_path / "cx.json"
    with staged_writes() as s:
        s.write_bytes(a, b"old npz")
        s.write_text(b, "old json")
    for interrupt in (KeyboardInterrupt, RuntimeError):
        with pytest.raises(interrupt):
            with staged_writes() as s:
                s.write_bytes(a, b"new npz")
                raise interrupt
        assert a.read_bytes() == b"old npz" and b.read_text() == "old json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cx.json", "cx.npz"]  # no .part left
    with staged_writes() as s:
        s.write_bytes(a, b"new npz")
        s.write_text(b, "new json")
    assert a.read_bytes() == b"new npz" and b.read_text() == "new json"


def test_atomic_directory_replaces_whole_or_keeps_previous(tmp_path: Path) -> None:
    """F1 (files): a report directory is swapped in whole; a failure keeps the previous one."""
    out = tmp_path / "report"
    with atomic_directory(out) as d:
        (d / "report.html").write_text("v1")
        (d / "figures").mkdir()
        (d / "figures" / "a.svg").write_text("fig1")
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(out) as d:
            (d / "report.html").write_text("v2 partial")
            raise KeyboardInterrupt
    assert (out / "report.html").read_text() == "v1" and (out / "figures" / "a.svg").exists()
    with atomic_directory(out) as d:
        (d / "report.html").write_text("v2")
    assert (out / "report.html").read_text() == "v2"
    assert not (out / "figures").exists()  # nothing of v1 survives: the directory was replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_swap_without_renameat2_uses_two_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F1 (files): where the file system cannot exchange, two renames give the same result."""
    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    out = tmp_path / "report"
    for version in ("v1", "v2"):
        with atomic_directory(out) as d:
            (d / "report.html").write_text(version)
    assert (out / "report.html").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_leftovers_of_dead_processes_are_removed(tmp_path: Path) -> None:
    """F1 (files): a rerun after SIGKILL removes the killed run's temporary files and folders."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale_file = tmp_path / f".run.npz.{dead}-0123abcd.part"
    stale_dir = tmp_path / f".report.{dead}-89abcdef.part"
    stale_file.write_bytes(b"half")
    stale_dir.mkdir()
    (stale_dir / "report.html").write_text("half")
    alive = tmp_path / f".run.npz.{os.getpid()}-00000000.part"  # ours: still in use
    alive.write_bytes(b"")
    write_bytes_atomic(tmp_path / "run.npz", b"whole")
    with atomic_directory(tmp_path / "report") as d:
        (d / "report.html").write_text("whole")
    assert not stale_file.exists() and not stale_dir.exists() and alive.exists()


def test_signals_are_held_back_while_renaming(tmp_path: Path) -> None:
    """F1 (files): SIGINT arriving during the commit is delivered after the last rename."""
    out = tmp_path / "report"
    renamed: list[bool] = []
    real_swap = files._swap_in
    sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT))

    def slow_swap(stage: Path, target: Path) -> Path | None:
        sender.start()  # from another thread, which holds nothing back itself
        sender.join()
        time.sleep(0.05)  # the signal has arrived: it must wait for the renames
        result = real_swap(stage, target)
        renamed.append(True)
        return result

    files._swap_in = slow_swap  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            with atomic_directory(out) as d:
                (d / "report.html").write_text("complete")
    finally:
        files._swap_in = real_swap  # type: ignore[assignment]
    assert renamed and (out / "report.html").read_text() == "complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
