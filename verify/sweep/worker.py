"""Set-up of the local cluster's worker processes (a dask worker preload).

Ctrl-C in a terminal sends SIGINT to every process of the foreground group, the local cluster's
workers included. The sweep's own process handles it (it cancels the pending points and closes
the cluster, see verify.sweep.runner); the workers ignore it, so they neither die in the middle
of a task nor print tracebacks, and are closed by their nannies.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__ = ["dask_setup"]


def dask_setup(worker: Any) -> None:
    """Called by dask in each worker process as it starts (``preload``)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
