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
Times are wall-clock seconds; the machine this is run on is usually shared, so say how loaded
it was (the script prints the load average).
"""

from __future__ import annotations

import argparse
import os
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


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - t0, out.returncode, out.stdout + out.stderr


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
            cold, rc1, _ = _run(cmd, env, ROOT)
            warm, rc2, out = _run(cmd, env, ROOT)
            summary = out.strip().splitlines()[-1] if out.strip() else ""
            rows.append(("property tests, dev profile, cold cache", f"{cold:.1f} s", "-",
                         "pass" if rc1 == 0 else "FAIL"))  # fmt: skip
            rows.append(("property tests, dev profile, warm cache", f"{warm:.1f} s", "< 60 s",
                         f"{'yes' if warm < 60 and rc2 == 0 else 'no'} ({summary})"))  # fmt: skip
        if "conjecture" in wanted:
            t, rc, out = _run([*factcheck, "conjecture", "NFM - AGOP**(1/2)", "--family",
                               "tanh-mlp", "--quiet"], env, Path(tmp))  # fmt: skip
            _, rc_check, _ = _run([*factcheck, "check", "conjecture-witness.npz"], env, Path(tmp))
            rows.append(('conjecture "NFM - AGOP**(1/2)" --family tanh-mlp', f"{t:.1f} s",
                         "< 60 s", f"{'yes' if t < 60 and rc == 1 else 'no'} (exit {rc}; "
                         f"check of the witness: exit {rc_check})"))  # fmt: skip
        if "conjecture-true" in wanted:
            t, rc, _ = _run([*factcheck, "conjecture", "NFM - FACT", "--quiet"], env, Path(tmp))
            rows.append(('conjecture "NFM - FACT" (default family, budget 100)', f"{t:.1f} s",
                         "-", f"exit {rc} (0 expected)"))  # fmt: skip
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
