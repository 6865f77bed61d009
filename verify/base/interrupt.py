"""Interruptions: SIGTERM and SIGHUP as exceptions, and signals held back while output is committed.

Python turns SIGINT into :class:`KeyboardInterrupt`, but by default SIGTERM and SIGHUP kill the
process on the spot, so no ``finally`` runs and temporary files stay behind.
:func:`terminate_as_exception` (installed by the command line) makes them raise
:class:`Terminated` instead, so the atomic writers of :mod:`verify.base.files` remove what they
staged. While the writers rename finished files into place, :func:`deferred_signals` blocks these
signals: one that arrives then is delivered right after the last rename, so a run stopped at any
moment leaves either the previous output or the complete new one. (SIGKILL cannot be held;
the writers make that case safe too, see :mod:`verify.base.files`.)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = [
    "HELD_SIGNALS", "Terminated", "deferred_signals", "quiet_worker", "terminate_as_exception",
]  # fmt: skip

#: the signals held back while files are renamed into place
HELD_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (a BaseException, like KeyboardInterrupt: not an error)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def terminate_as_exception() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Terminated` (main thread only; else a no-op)."""
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), _raise)
            except ValueError:  # not the main thread: signals stay as they are
                return


def quiet_worker() -> None:
    """In a worker process: ignore Ctrl-C (the parent stops its workers) and let SIGTERM end
    the worker silently (a forked worker would otherwise inherit the exception handler)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP inside the block; one that arrived is raised after it.

    Python runs signal handlers in the main thread, whichever thread the signal reached, so the
    main thread swaps in handlers that only record the signal, and raises the first recorded
    one again (``signal.raise_signal``) once its own handlers are back. Elsewhere there is
    nothing to hold: no Python handler interrupts a thread other than the main one.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum))
                for s in HELD_SIGNALS}  # fmt: skip
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])
