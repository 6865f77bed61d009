"""Running a sweep on dask.distributed: a local cluster of processes, or an existing one.

:func:`open_cluster` gives a ``distributed.Client``: by default on a ``LocalCluster`` of worker
processes on 127.0.0.1, one thread each, with one BLAS thread per worker (the BLAS variables of
verify.base.blas set in every worker's environment, also when a worker is restarted, and
dask's MALLOC_TRIM_THRESHOLD_ left out: see :func:`worker_environment`), workers that ignore
Ctrl-C (verify.sweep.worker: this process handles it); with
``scheduler="tcp://HOST:PORT"`` on a running cluster (``dask scheduler`` and ``dask worker``),
whose workers must have this toolkit installed at the same version.

:func:`run_sweep` submits every point the store does not already hold for this version
(verify.sweep.tasks.run_point: a pure function of the task and its parameters, so when a worker
dies the scheduler re-runs its task elsewhere and the result is the same), and writes each
result into the store as it arrives, in arrival order. Only this process writes the store, one
transaction per point, so interrupting it at any moment (Ctrl-C) leaves whole records only; the
futures still pending are cancelled and the next run of the same spec computes the rest.

dask.distributed is an optional extra: ``pip install '.[sweep]'``. Without it everything here
that needs a cluster raises an InputError that says so; the store, table and figures do not need
it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from theory._errors import InputError, bad_input
from verify.base.blas import BLAS_VARIABLES
from verify.base.version import __version__
from verify.sweep.progress import Progress
from verify.sweep.spec import Point, SweepSpec
from verify.sweep.store import SweepStore
from verify.sweep.tasks import run_point

__all__ = [
    "DASK_MISSING",
    "SweepOutcome",
    "check_address",
    "ctrl_c_flag",
    "describe",
    "open_cluster",
    "pending",
    "require_dask",
    "run_sweep",
    "WORKER_CONFIG",
    "worker_environment",
    "worker_notes",
]

DASK_MISSING = (
    "factcheck sweep runs its points on dask.distributed, which is not installed; install the "
    "optional extra from the factcheck source tree: pip install '.[sweep]'"
)
_ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")


def require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError(DASK_MISSING) from None


def check_address(scheduler: str) -> None:
    if not _ADDRESS.match(scheduler):
        raise bad_input(
            "--scheduler",
            "look like tcp://HOST:PORT",
            scheduler,
            "Pass the address `dask scheduler` prints.",
        )


@contextmanager
def open_cluster(
    workers: int = 2, scheduler: str | None = None, connect_timeout: float = 10.0
) -> Iterator[Any]:
    """A ``distributed.Client`` (module docstring); everything it started is closed on exit."""
    require_dask()
    from distributed import Client, LocalCluster

    if scheduler is not None:
        check_address(scheduler)
        try:
            client = Client(scheduler, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise bad_input(
                "--scheduler",
                "be a running dask scheduler",
                scheduler,
                f"Start one with `dask scheduler` and workers with `dask worker "
                f"{scheduler}` ({type(exc).__name__}).",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    if not isinstance(workers, int) or workers < 1:
        raise bad_input("--workers", "be an integer >= 1", workers, "Pass e.g. --workers 2.")
    import dask

    # the worker's statistical profiler (a thread sampling every task's stack every 10 ms, for
    # the dashboard, which a sweep does not start) is switched off: it competes for the GIL
    config = {
        "distributed.nanny.pre-spawn-environ": worker_environment(),
        "distributed.worker.profile.enabled": False,
    }
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # CRITICAL: when a sweep is interrupted the cluster closes while workers still run
            # their current point, and their failed heartbeats would print tracebacks; a
            # point's own failure reaches this process through its future, never the logs
            silence_logs=logging.CRITICAL,
            preload=["verify.sweep.worker"],
        )
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def worker_environment() -> dict[str, Any]:
    """The environment dask's nannies give a worker process as it starts: dask's own defaults,
    one BLAS thread, and without ``MALLOC_TRIM_THRESHOLD_``.

    Why: dask sets MALLOC_TRIM_THRESHOLD_=65536 for its workers; setting it switches off
    glibc's dynamic mmap threshold, so every array of 128 KiB or more is mmap-ed and unmapped
    again, page faults included. The toolkit allocates many such temporaries (one 256 x 64
    float64 array is 128 KiB): a standard-net point took 4x the CPU time in a worker with it
    (6.0 s against 1.4 s in-process) and the same time without it (1.4 s).
    """
    import dask

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    env.update({var: 1 for var in BLAS_VARIABLES})
    return env


#: how to give ``dask worker`` processes the same environment: a dask config file (YAML keeps
#: the variable's upper case, which DASK_* environment variables lose)
WORKER_CONFIG = (
    "distributed:\n  nanny:\n    pre-spawn-environ:\n      MALLOC_TRIM_THRESHOLD_: null\n"
    "      OMP_NUM_THREADS: 1\n      MKL_NUM_THREADS: 1\n      OPENBLAS_NUM_THREADS: 1\n"
)


def worker_notes(client: Any) -> list[str]:
    """Warnings about workers whose environment slows the toolkit down (an existing cluster)."""

    def probe() -> dict[str, str | None]:
        import os

        names = ("MALLOC_TRIM_THRESHOLD_", *BLAS_VARIABLES)
        return {k: os.environ.get(k) for k in names}

    notes = []
    for worker, env in sorted(client.run(probe).items()):
        if env["MALLOC_TRIM_THRESHOLD_"] is not None:
            notes.append(
                f"worker {worker} runs with MALLOC_TRIM_THRESHOLD_ set (dask's default), which "
                "made each point ~4x slower here; start workers with a dask config file (e.g. "
                "in $DASK_CONFIG) that sets distributed.nanny.pre-spawn-environ."
                "MALLOC_TRIM_THRESHOLD_ to null (see the README)"
            )
        if any(env[v] != "1" for v in BLAS_VARIABLES):
            notes.append(
                f"worker {worker} may use several BLAS threads per task; start it "
                "with OPENBLAS_NUM_THREADS=1 (and OMP_, MKL_)"
            )
    return notes


@dataclass
class SweepOutcome:
    """What a run did: points in the spec, already stored, run now, and how it ended."""

    total: int
    skipped: int
    stored: int = 0
    duplicates: int = 0
    errors: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0


def describe(spec: SweepSpec, params: dict[str, Any]) -> str:
    """A point in a few words: its varying axes, and the seed when there are several."""
    names = spec.axes() + (["seed"] if len(spec.seeds) > 1 else [])
    return " ".join(f"{n}={params[n]}" for n in names) or f"seed={params['seed']}"


def _future_key(task: str, point: Point) -> str:
    digest = hashlib.sha1(f"{task}\n{point.key}\n{__version__}".encode()).hexdigest()[:20]
    return f"factcheck-{task}-{digest}"


def pending(spec: SweepSpec, store: SweepStore) -> tuple[list[Point], int]:
    """The points of ``spec`` the store lacks (for this version), and how many it has."""
    points = spec.points()
    done = store.finished(spec.task, __version__)
    todo = [p for p in points if p.key not in done]
    return todo, len(points) - len(todo)


def run_sweep(
    spec: SweepSpec,
    store: SweepStore,
    client: Any,
    *,
    progress: Progress | None = None,
    on_result: Callable[[int, Any], None] | None = None,
) -> SweepOutcome:
    """Run the missing points of ``spec`` on ``client`` and store each as it arrives.

    ``on_result(count, client)`` is called after each stored result (tests use it to kill a
    worker mid-sweep). Ctrl-C returns the outcome with ``interrupted`` set.
    """
    import time

    from distributed import as_completed

    t0 = time.perf_counter()
    todo, skipped = pending(spec, store)
    outcome = SweepOutcome(total=skipped + len(todo), skipped=skipped)
    store.set_meta("spec", spec.to_dict())
    futures: dict[Any, Point] = {}
    with ctrl_c_flag() as stopped:
        try:
            for point in todo:
                _stop_if(stopped)
                key = _future_key(spec.task, point)
                futures[client.submit(run_point, spec.task, point.params, key=key, pure=False)] = (
                    point
                )
            arrivals = as_completed(list(futures))
            while futures:
                _stop_if(stopped)
                batch = arrivals.next_batch(block=False)
                if not batch:
                    time.sleep(0.05)
                for fut in batch:
                    if fut.status in ("lost", "pending"):
                        # its result lived on a worker that died after it finished: the
                        # scheduler computes it again (a pure task, the same record)
                        arrivals.add(fut)
                        continue
                    _store_one(spec, store, fut, futures.pop(fut), outcome, progress)
                    if on_result is not None:
                        on_result(outcome.stored + len(outcome.errors), client)
                    _stop_if(stopped)
        except KeyboardInterrupt:
            outcome.interrupted = True
        finally:
            if futures:
                client.cancel(list(futures))
            if progress is not None:
                progress.close()
            outcome.seconds = time.perf_counter() - t0
    return outcome


@contextmanager
def ctrl_c_flag() -> Iterator[Callable[[], bool]]:
    """Ctrl-C (SIGINT) as a flag while the block runs: ``with ctrl_c_flag() as stopped:``.

    Why: a KeyboardInterrupt raised inside one of dask's blocking calls (a future's result, a
    cancel, the cluster's start or close) can fire before that call has set up its state, and
    dask then logs a NameError traceback from its event loop (distributed.utils.sync). With the
    flag the interrupt is acted on between such calls. Only in the main thread, and never where
    SIGINT is ignored (a background job).
    """
    hits: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    old = signal.getsignal(signal.SIGINT) if main else None
    if not main or old == signal.SIG_IGN:
        yield lambda: False
        return
    signal.signal(signal.SIGINT, lambda signum, frame: hits.append(signum))
    try:
        yield lambda: bool(hits)
    finally:
        signal.signal(signal.SIGINT, old)


def _stop_if(stopped: Callable[[], bool]) -> None:
    if stopped():
        raise KeyboardInterrupt


def _store_one(
    spec: SweepSpec,
    store: SweepStore,
    fut: Any,
    point: Point,
    outcome: SweepOutcome,
    progress: Progress | None,
) -> None:
    what = describe(spec, point.params)
    if fut.status != "finished":
        exc = fut.exception()
        message = f"{type(exc).__name__}: {exc}"
        store.record_error(spec.task, point.key, __version__, message)
        outcome.errors.append((point.params, message))
        if progress is not None:
            progress.update(what, "error", None)
        return
    result = fut.result()
    if result["version"] != __version__:
        raise InputError(
            f"worker {result['worker']} runs factcheck {result['version']}, this process "
            f"{__version__}; install the same version on every worker (pip install . in the same "
            "source tree)."
        )
    record = result["record"]
    if store.record(spec.task, point.key, __version__, record, result["seconds"], result["worker"]):
        outcome.stored += 1
    else:
        outcome.duplicates += 1
    if progress is not None:
        progress.update(what, record["verdict"] or "done", result["seconds"])
