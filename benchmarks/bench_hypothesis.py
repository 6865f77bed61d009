"""Benchmark the Hypothesis layer and print a table (not collected by pytest).

    .venv/bin/python benchmarks/bench_hypothesis.py [--only NAME] [--threads N]

Targets (2 cores, issue: "Hypothesis at the core"):
- ``properties``: the property tests of the identities (F1, F2, F4, F5, D1, D4, D5/D6, N2, K1,
  K2: tests/verify/claims/test_identities.py, tests/verify/deep_linear/test_identities.py,
  tests/verify/rfm/test_kernel_identities.py) at the "dev" profile with a warm cache of
  converged draws, under 60 s. The script runs them twice: the first run fills the cache (its
  time is reported too), the second is the warm run the target is about;
- ``conjecture``: ``factcheck conjecture "NFM - AGOP**(1/2)" --family tanh-mlp`` finds and
  certifies a counterexample in under 60 s (exit status 1, witness saved and re-checked by
  ``factcheck check``);
- ``conjecture-true``: ``factcheck conjecture "NFM - FACT"`` (default family and budget) finds
  no counterexample (exit 0); no target, reported for scale.
Times are wall-clock seconds and CPU seconds (user + system of the command: what an idle
machine needs); the machine this is run on is usually shared, so say how loaded it was (the
script prints the load average). The goals are wall-clock goals on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("properties", "conjecture", "conjecture-true")
PROPERTY_TESTS = [
    "tests/verify/claims/test_identities.py",
    "tests/verify/deep_linear/test_identities.py",
    "tests/verify/rfm/test_kernel_identities.py",
]


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=TARGETS, default=None)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (1)")
    return p.parse_args()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[str, float, int, str]:
    """(wall and CPU seconds as text, wall seconds, exit status, output). CPU time (user +
    system of the command) is what an idle machine would need at one core per process; the
    wall time depends on how loaded the shared machine was."""
    t0, c0 = time.perf_counter(), _cpu()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    return f"{wall:.1f} s wall, {cpu:.1f} s CPU", wall, out.returncode, out.stdout + out.stderr


def main() -> int:
    args = _args()
    threads = str(args.threads)
    env = os.environ | {"OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads,
                        "HYPOTHESIS_PROFILE": "dev"}  # fmt: skip
    rows: list[tuple[str, str, str, str]] = []
    wanted = (args.only,) if args.only else TARGETS
    factcheck = [sys.executable, "-c", "from verify.cli.main import main; import sys; "
                 "sys.exit(main(sys.argv[1:]))"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        env["FACTCHECK_CACHE_DIR"] = str(Path(tmp) / "cache")
        if "properties" in wanted:
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PROPERTY_TESTS]
            cold, _, rc1, _ = _run(cmd, env, ROOT)
            warm, wall, rc2, out = _run(cmd, env, ROOT)
            summary = out.strip().splitlines()[-1] if out.strip() else ""
            rows.append(("property tests, dev profile, cold cache", cold, "-",
                         "pass" if rc1 == 0 else "FAIL"))  # fmt: skip
            rows.append(("property tests, dev profile, warm cache", warm, "< 60 s",
                         f"{'yes' if wall < 60 and rc2 == 0 else 'no'} ({summary})"))  # fmt: skip
        if "conjecture" in wanted:
            text, t, rc, out = _run([*factcheck, "conjecture", "NFM - AGOP**(1/2)", "--family",
                                     "tanh-mlp", "--quiet"], env, Path(tmp))  # fmt: skip
            _, _, rc_check, _ = _run([*factcheck, "check", "conjecture-witness.npz"], env,
                                     Path(tmp))  # fmt: skip
            rows.append(('conjecture "NFM - AGOP**(1/2)" --family tanh-mlp', text, "< 60 s",
                         f"{'yes' if t < 60 and rc == 1 else 'no'} (exit {rc}; "
                         f"check of the witness: exit {rc_check})"))  # fmt: skip
        if "conjecture-true" in wanted:
            text, _, rc, _ = _run([*factcheck, "conjecture", "NFM - FACT", "--quiet"], env,
                                  Path(tmp))  # fmt: skip
            rows.append(('conjecture "NFM - FACT" (default family, budget 100)', text, "-",
                         f"exit {rc} (0 expected)"))  # fmt: skip
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"# {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"(a shared machine: times are pessimistic), BLAS threads {args.threads}")  # fmt: skip
    print("| target | time | goal | met |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
