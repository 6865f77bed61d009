"""Benchmark the command line's start-up and print a table (not collected by pytest).

    .venv/bin/python benchmarks/bench_startup.py [--repeat N]

Target: ``factcheck --help`` within 1.5x of ``python -c "import numpy, scipy"``. Each command is
run ``--repeat`` times in a fresh interpreter; the table shows the median and the best wall time
(the best is the least disturbed by other load on a shared machine) and the ratio of medians.
``factcheck check FILE`` is timed too, on a small run file written first; it must not import
SymPy (tests/test_layout.py checks that), so its time is NumPy, SciPy, mpmath and the check.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-c", "import sys; from verify.cli.main import main; sys.exit(main())"]


def _time(argv: list[str], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=11, help="runs per command (default 11)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_file = str(Path(tmp) / "run.npz")
        subprocess.run(
            [*CLI, "verify", "fact", "--width", "4", "--n", "16", "--save", run_file],
            check=True,
            capture_output=True,
        )
        rows = [
            ("python -c 'import numpy, scipy'", [sys.executable, "-c", "import numpy, scipy"]),
            ("python -c 'import sympy'", [sys.executable, "-c", "import sympy"]),
            ("factcheck --help", [*CLI, "--help"]),
            ("factcheck --version", [*CLI, "--version"]),
            ("factcheck check run.npz (4-unit net)", [*CLI, "check", run_file]),
        ]
        results = [(name, *_time(argv, args.repeat)) for name, argv in rows]
    base = results[0][1]
    print(f"start-up, {args.repeat} runs each (Python {sys.version.split()[0]})\n")
    print("| command | median s | best s | median / numpy+scipy |")
    print("|---|---|---|---|")
    for name, med, best in results:
        print(f"| {name} | {med:.3f} | {best:.3f} | {med / base:.2f} |")
    help_ratio = results[2][1] / base
    verdict = "yes" if help_ratio <= 1.5 else "NO"
    print(f"\n`factcheck --help` within 1.5x of numpy+scipy: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
