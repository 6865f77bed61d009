"""Engine benchmarks: CPU seconds of whole ``factcheck verify fact`` processes, against today.

    .venv/bin/python benchmarks/bench_engine.py --baseline-rev 9fb21cb [--only NAME ...]

Each target is one command line, run as its own process from this tree and, with
``--baseline-rev REV`` (a commit of this repository, extracted with ``git archive``) or
``--baseline DIR`` (a checkout), from that code too, one after the other in the same run, so the
ratio compares like with like on the same machine at the same time. What is measured is process
CPU time (user + system, from ``os.wait4``), not wall time: the development machine is shared and
loaded, which stretches wall time by 2-10x but CPU time much less. Peak memory is the child's
``ru_maxrss``. A baseline process that runs past ``--cap`` CPU seconds is stopped (RLIMIT_CPU)
and shown as "> cap", its ratio as a lower bound. Each tree is byte-compiled first (as
``pip install`` does), so no run pays for compiling the toolkit's modules. ``--repeat N`` runs
each command N times, new and old alternating, and reports the run with the median CPU time.

Targets (issue: "three times faster at every size up to 1e5 parameters"):

- std: the standard net, tanh, d = 20, width 64, n = 256, 1 output, lam 1e-3, MSE: certified,
  FACT relative error <= 1e-12, <= 1 s CPU for the whole process;
- relu: the same with ReLU: certified, <= 2 s;
- 1e3, 1e4, 1e5: depth 2, tanh, d = 100, widths 10, 100, 1000, n = 2000, lam 1e-2:
  >= 3x faster than today; 1e4 <= 20 s; 1e5 <= 120 s;
- deep: d = 100, widths 300, 300, n = 2000, lam 1e-2 (120,300 parameters): certified, <= 180 s,
  <= 1 GiB;
- dps50: a 50-digit certificate at about 1,000 parameters (tanh, d = 20, width 48, 1 output,
  n = 64, lam 1e-3; 1,008 parameters): <= 10 s.

One BLAS thread (as ``factcheck``). Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from verify.cli.main import main; sys.exit(main())"
STD = ["--d", "20", "--width", "64", "--n", "256", "--outputs", "1", "--lam", "1e-3"]
BIG = ["--d", "100", "--n", "2000", "--outputs", "1", "--lam", "1e-2"]


@dataclass(frozen=True)
class Target:
    name: str
    what: str
    argv: list[str]
    goal: str
    seconds: float | None  # CPU-second goal, if any
    certify: bool  # the goal includes a certified point
    mib: float | None = None  # memory goal


# fmt: off
TARGETS = [
    Target("std", "tanh 20-64-1, n=256 (1,344 p.)", STD, "certified, <= 1 s", 1.0, True),
    Target("relu", "ReLU 20-64-1, n=256 (1,344 p.)", [*STD, "--activation", "relu"],
           "certified, <= 2 s", 2.0, True),
    Target("1e3", "tanh 100-10-1, n=2000 (1,010 p.)", [*BIG, "--width", "10"], ">= 3x today",
           None, False),
    Target("1e4", "tanh 100-100-1, n=2000 (10,100 p.)", [*BIG, "--width", "100"],
           "<= 20 s, >= 3x today", 20.0, False),
    Target("1e5", "tanh 100-1000-1, n=2000 (101,000 p.)", [*BIG, "--width", "1000"],
           "<= 120 s, >= 3x today", 120.0, False),
    Target("deep", "tanh 100-300-300-1, n=2000 (120,300 p.)",
           [*BIG, "--width", "300", "--depth", "3"], "certified, <= 180 s, <= 1 GiB", 180.0,
           True, 1024.0),
    Target("dps50", "tanh 20-48-1, n=64, 50 digits (1,008 p.)",
           ["--d", "20", "--width", "48", "--n", "64", "--outputs", "1", "--lam", "1e-3",
            "--dps", "50"], "certified at 50 digits, <= 10 s", 10.0, True),
]
# fmt: on


def run_cli(code: Path, argv: list[str], cap: float | None) -> dict[str, Any]:
    """Run ``factcheck verify fact ARGV --json`` from the tree at ``code``; CPU, memory, result."""
    env = dict(os.environ, PYTHONPATH=str(code), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")  # fmt: skip

    def limit() -> None:  # runs in the child before exec
        if cap is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (int(cap) + 1, int(cap) + 2))

    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "verify", "fact", *argv, "--json"], cwd=code, env=env,
            stdout=out, stderr=subprocess.DEVNULL, preexec_fn=limit,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    row: dict[str, Any] = {
        "cpu": usage.ru_utime + usage.ru_stime,
        "mib": usage.ru_maxrss / 1024,
        "exit": proc.returncode,
        "finished": proc.returncode in (0, 1, 3),
    }
    if row["finished"]:
        data = json.loads(text)
        row.update(
            status=data["status"],
            verdict=data["verdict"],
            grad=data["grad_norm_dps"] if data.get("dps") else data["grad_norm"],
            fact=max(layer["fact_rel_error"] for layer in data["layers"]),
        )
    return row


def byte_compile(code: Path) -> None:
    """Compile the packages of the tree at ``code`` to bytecode, as an install does."""
    for package in ("theory", "verify"):
        compileall.compile_dir(code / package, quiet=1)


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["cpu"])[(len(runs) - 1) // 2]


def extract(rev: str, into: Path) -> Path:
    """The tree of commit ``rev`` of this repository, unpacked under ``into``."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    path = into / rev
    path.mkdir()
    tar = into / "tree.tar"
    tar.write_bytes(archive.stdout)
    with tarfile.open(tar) as t:
        t.extractall(path, filter="data")
    return path


def _met(t: Target, new: dict[str, Any], old: dict[str, Any] | None) -> str:
    ok = new["finished"] and (t.seconds is None or new["cpu"] <= t.seconds)
    if t.certify:
        ok = ok and new.get("status") == "converged"
    if t.mib is not None:
        ok = ok and new["mib"] <= t.mib
    if t.name in ("1e3", "1e4", "1e5") and old is not None:
        ok = ok and (not old["finished"] or old["cpu"] / new["cpu"] >= 3)
    return "yes" if ok else "NO"


def _fmt(r: dict[str, Any] | None, cap: float | None) -> str:
    if r is None:
        return "not run"
    if not r["finished"]:
        return f"> {cap:.0f} s (stopped)" if cap else f"exit {r['exit']}"
    return f"{r['cpu']:.2f} s, {r['mib']:.0f} MiB, {r['status']}, grad {r['grad']:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-rev", default=None, help="commit to compare with (9fb21cb)")
    parser.add_argument("--baseline", default=None, help="a checkout to compare with")
    parser.add_argument("--only", nargs="*", default=None, help="target names")
    parser.add_argument("--cap", type=float, default=900.0, help="CPU seconds per baseline run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (median shown)")
    args = parser.parse_args()
    targets = [t for t in TARGETS if args.only is None or t.name in args.only]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.baseline) if args.baseline else None
        if args.baseline_rev:
            base = extract(args.baseline_rev, Path(tmp))
        for code in (ROOT, base) if base is not None else (ROOT,):
            byte_compile(code)
        rows = []
        for t in targets:
            news: list[dict[str, Any]] = []
            olds: list[dict[str, Any]] = []
            for _ in range(max(1, args.repeat)):
                news.append(run_cli(ROOT, t.argv, None))
                if base is not None:
                    olds.append(run_cli(base, t.argv, args.cap))
            new, old = _median(news), (_median(olds) if olds else None)
            rows.append((t, new, old))
            print(f"{t.name}: new {_fmt(new, None)}; today {_fmt(old, args.cap)}", flush=True)
    print()
    print("| target | goal | measured (CPU, memory, status) | today | ratio | met |")
    print("|---|---|---|---|---|---|")
    for t, new, old in rows:
        ratio = "-"
        if old is not None and new["finished"]:
            ratio = f"{old['cpu'] / new['cpu']:.1f}x" + ("" if old["finished"] else " (at least)")
        print(
            f"| {t.name}: {t.what} | {t.goal} | {_fmt(new, None)}, FACT {new.get('fact', 0):.0e} "
            f"| {_fmt(old, args.cap)} | {ratio} | {_met(t, new, old)} |"
        )


if __name__ == "__main__":
    main()
