"""Shared helpers of the sweep tests: small specs and a guard against leaked processes.

Without dask.distributed the cluster tests skip with the reason; FACTCHECK_REQUIRE_DASK=1 (set
by .ci/run) turns that into a failure."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from verify.sweep.store import SweepStore

if (
    os.environ.get("FACTCHECK_REQUIRE_DASK") == "1"
    and importlib.util.find_spec("distributed") is None
):
    # CI (.ci/run) sets it: the cluster tests must run there, not skip
    raise ImportError("FACTCHECK_REQUIRE_DASK=1 but dask.distributed is not installed")


@pytest.fixture
def no_leaked_processes() -> Iterator[None]:
    """Fails a test that leaves child processes behind (cluster workers, dask CLIs): the
    machine is shared, every process a test starts must be gone when it ends. Python's own
    multiprocessing helper (one resource tracker per process, started by the first worker
    process and ending with this process) is not a leak."""
    psutil = pytest.importorskip("psutil", reason="psutil comes with dask.distributed")
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    yield
    deadline = time.monotonic() + 20
    while True:
        left = [
            p
            for p in me.children(recursive=True)
            if p.pid not in before
            and p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE
            and not _helper(p)
        ]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"processes left running: {[(p.pid, p.cmdline()) for p in left]}"


def _helper(proc: object) -> bool:
    try:
        return "multiprocessing.resource_tracker" in " ".join(proc.cmdline())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a process that vanished meanwhile is no leak
        return True


def stored(path: Path) -> dict[str, dict]:
    """key -> record of every finished point in a store."""
    with SweepStore(path, create=False) as store:
        return {r.key: r.record for r in store.rows() if r.status == "done"}
