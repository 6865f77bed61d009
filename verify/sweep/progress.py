"""The progress display of a sweep, on stderr: a bar redrawn in place on a terminal, one line
per finished point otherwise (logs, CI, a pipe)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]

_BAR = 24


class Progress:
    """Counts finished points against ``total`` and shows the rate and the time left."""

    def __init__(
        self,
        total: int,
        *,
        label: str = "sweep",
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = enabled and self.stream.isatty()
        self.done = 0
        self.errors = 0
        self.start = time.perf_counter()
        self.width = 0

    def update(self, what: str, outcome: str, seconds: float | None) -> None:
        """One point finished: ``what`` describes it, ``outcome`` is its verdict or 'error'."""
        self.done += 1
        self.errors += outcome == "error"
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done)
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        if self.tty:
            filled = int(_BAR * self.done / max(self.total, 1))
            line = (
                f"[{self.label}] [{'#' * filled}{'.' * (_BAR - filled)}] "
                f"{self.done}/{self.total}, {elapsed:.0f} s, ~{left:.0f} s left"
                f"{f', {self.errors} errors' if self.errors else ''}; {what}: {outcome}"
            )
            pad = max(self.width - len(line), 0)
            self.stream.write("\r" + line + " " * pad)
            self.width = len(line)
        else:
            self.stream.write(
                f"[{self.label}] {self.done}/{self.total} {what}: {outcome}{took}, "
                f"~{left:.0f} s left\n"
            )
        self.stream.flush()

    def message(self, text: str) -> None:
        if self.enabled:
            self.close()
            self.stream.write(f"[{self.label}] {text}\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0
