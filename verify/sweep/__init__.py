"""Sweeps and phase diagrams: a task over a grid of parameters, on dask.distributed, resumable.

``factcheck sweep SPEC`` runs a task (verify fact/nfa, FACT along training, a counterexample
family, RFM parity or modular addition, one seed of feature emergence) at every point of a
grid, on a local cluster of worker processes or an existing dask cluster, and writes each result
into an SQLite store as it arrives; a rerun skips the points already stored. Tables, JSON,
figures (one heatmap or line plot per recorded quantity) and report entries are read back from
the store.

    tasks/     the registry (names, parameters, quantities) and one adapter per task
    spec       the sweep spec (TOML or command line), its points and their keys
    store      the SQLite store: one transaction per point, keyed by (task, parameters, version)
    runner     execution on dask.distributed (LocalCluster or --scheduler), progress, Ctrl-C
    progress   the progress display on stderr
    table      the results as a text table and as JSON
    figures    one heatmap or line plot per recorded quantity (verify.base.svgplot)
    report     report entries for ``factcheck report --sweep STORE``
    examples   built-in example sweeps

This part sits above the middle layer and emergence (it runs tasks from claims,
counterexamples, rfm and emergence) and below the report. Importing it loads no NumPy and no
dask: the adapters and the cluster are imported when a sweep runs. dask.distributed is the
optional extra ``pip install '.[sweep]'``.
"""

from __future__ import annotations

from verify.sweep.examples import EXAMPLES, example
from verify.sweep.spec import SweepSpec, read_spec
from verify.sweep.store import SweepStore
from verify.sweep.tasks import TASKS

__all__ = ["EXAMPLES", "TASKS", "SweepSpec", "SweepStore", "example", "read_spec"]
