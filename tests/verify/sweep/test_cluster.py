"""Sweeps on a real dask cluster: a LocalCluster of 2 workers, a worker killed mid-sweep,
and an existing cluster (``dask scheduler`` + ``dask worker`` on 127.0.0.1) via --scheduler."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "distributed", reason="the sweep extra is not installed (pip install '.[sweep]')"
)

from verify.cli.main import main  # noqa: E402
from verify.sweep.runner import (  # noqa: E402
    WORKER_CONFIG,
    open_cluster,
    pending,
    run_sweep,
    worker_notes,
)
from verify.sweep.spec import SweepSpec  # noqa: E402
from verify.sweep.store import SweepStore  # noqa: E402
from verify.sweep.tasks import run_point  # noqa: E402

from .conftest import stored  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_leaked_processes")


def _spec(widths: list[int]) -> SweepSpec:
    """verify fact on tiny networks (d 3, n 12, one output): a few hundredths of a second each."""
    return SweepSpec.from_mapping(
        {
            "name": "tiny",
            "task": "verify-fact",
            "seeds": [0, 1],
            "grid": {"lam": [1e-2, 1e-1], "width": widths},
            "fixed": {"d": 3, "n": 12, "outputs": 1},
        }
    )


def _in_process(spec: SweepSpec) -> dict[str, dict]:
    return {p.key: run_point(spec.task, p.params)["record"] for p in spec.points()}


def test_local_cluster_runs_every_point_once_and_a_rerun_runs_none(tmp_path: Path) -> None:
    """F1: 2 worker processes; every point stored with the record an in-process run gives
    (tasks are pure functions of their parameters); the same spec again has nothing to run."""
    spec = _spec([2, 3])
    path = tmp_path / "s.sqlite"
    with SweepStore(path) as store, open_cluster(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        env = client.run(lambda: os.environ.get("OPENBLAS_NUM_THREADS"))
        assert set(env.values()) == {"1"}  # one BLAS thread per worker
        assert worker_notes(client) == []  # and no MALLOC_TRIM_THRESHOLD_ (4x slower)
        out = run_sweep(spec, store, client)
        assert (out.total, out.skipped, out.stored, out.errors) == (8, 0, 8, [])
        again = run_sweep(spec, store, client)
        assert (again.skipped, again.stored) == (8, 0)
        assert pending(spec, store) == ([], 8)
    assert stored(path) == _in_process(spec)


def test_a_worker_killed_mid_sweep_loses_no_point_and_stores_none_twice(tmp_path: Path) -> None:
    """F1: SIGKILL to a worker that holds tasks, after the second result: the scheduler re-runs
    its tasks elsewhere, and every point is stored exactly once with the right record."""
    spec = _spec([2, 3, 4, 5])
    path = tmp_path / "s.sqlite"
    killed: dict[str, Any] = {}

    def kill(count: int, client: Any) -> None:
        if killed:
            return
        busy = {w: ts for w, ts in client.processing().items() if ts}
        if not busy:
            return
        victim = next(iter(busy))
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        killed.update(worker=victim, tasks=len(busy[victim]), at=count)

    with SweepStore(path) as store, open_cluster(workers=2) as client:
        out = run_sweep(spec, store, client, on_result=kill)
        rows = store.rows()
    assert killed and killed["tasks"] >= 1, "no worker was killed while holding tasks"
    assert out.errors == [] and out.stored == 16 and out.duplicates == 0
    assert len(rows) == 16 == len({r.key for r in rows})
    assert all(r.status == "done" for r in rows)
    assert stored(path) == _in_process(spec)


def _dask() -> str:
    exe = Path(sys.executable).parent / "dask"
    if not exe.exists():
        pytest.skip("the dask command is not next to this Python")
    return str(exe)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_scheduler_option_gives_the_same_store_as_a_local_cluster(tmp_path: Path) -> None:
    """F1: `factcheck sweep SPEC --scheduler tcp://127.0.0.1:PORT` against a separately started
    `dask scheduler` and `dask worker --nworkers 2` gives the same store as the local cluster."""
    spec_file = tmp_path / "tiny.toml"
    spec_file.write_text(_spec([2, 3]).to_toml())
    local, remote = tmp_path / "local.sqlite", tmp_path / "remote.sqlite"
    assert (
        main(
            [
                "sweep",
                str(spec_file),
                "--workers",
                "2",
                "--store",
                str(local),
                "--quiet",
                "--out",
                str(tmp_path / "local"),
            ]
        )
        == 0
    )
    info = tmp_path / "scheduler.json"
    # the workers get the config file the README gives (no MALLOC_TRIM_THRESHOLD_, one BLAS thread)
    (tmp_path / "dask").mkdir()
    (tmp_path / "dask" / "sweep.yaml").write_text(WORKER_CONFIG)
    common: dict[str, Any] = {
        "start_new_session": True,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "env": {**os.environ, "DASK_CONFIG": str(tmp_path / "dask")},
    }
    scheduler = subprocess.Popen(
        [
            _dask(),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(info),
        ],
        **common,
    )
    workers = None
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = subprocess.Popen(
            [
                _dask(),
                "worker",
                address,
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
            ],
            **common,
        )
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            assert worker_notes(client) == []
        assert (
            main(
                [
                    "sweep",
                    str(spec_file),
                    "--scheduler",
                    address,
                    "--store",
                    str(remote),
                    "--quiet",
                    "--out",
                    str(tmp_path / "remote"),
                ]
            )
            == 0
        )
    finally:
        if workers is not None:
            _stop(workers)
        _stop(scheduler)
    assert stored(remote) == stored(local) and len(stored(local)) == 8
    assert (tmp_path / "remote" / "table.txt").read_text() == (
        tmp_path / "local" / "table.txt"
    ).read_text()
