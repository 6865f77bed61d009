"""Benchmark the counterexample targets and print a table (not collected by pytest).

    .venv/bin/python benchmarks/bench_counterexamples.py [--threads N] [--only NAME] [--seed S]

Targets (2 cores):
- ``quadratic``: ``counterexample nfa --family quadratic`` certifies best-alpha correlation
  <= 0.5, FACT relative error <= 1e-40 and ||grad|| <= 1e-45 at 50 digits (seconds reported);
- ``nfa-search``: ``counterexample nfa --threshold 0.8 --budget 200`` finds a certified NFA
  failure with best-alpha correlation <= 0.8 in under 5 minutes (the search stops at the first
  failure of the claim it is given, so the target's 0.8 is the claim's threshold);
- ``fact-search``: ``counterexample fact --budget 200`` finds no certified FACT violation;
- ``families``: the quick report entries (< 15 s) and the full ones (< 60 s).
``--threads`` sets the BLAS thread count before NumPy loads (default 1: on a shared 2-core
machine oversubscribed BLAS threads were measured slower; 0 leaves the library default).
"""

from __future__ import annotations

import argparse
import platform
import time

from verify.base.blas import set_blas_threads

TARGETS = ("quadratic", "nfa-search", "fact-search", "families")


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (0: library default)")
    p.add_argument("--only", choices=TARGETS, default=None)
    p.add_argument("--seed", type=int, default=0, help="search seed (0)")
    return p.parse_args()


def main() -> int:
    args = _args()
    if args.threads > 0:
        set_blas_threads(args.threads, force=True)
    from verify.counterexamples import fact_claim, nfa_claim, report_entries, search
    from verify.counterexamples.families import run_family

    rows: list[tuple[str, str, str, bool]] = []
    wanted = (args.only,) if args.only else TARGETS
    if "quadratic" in wanted:
        t0 = time.perf_counter()
        d = run_family("quadratic", "nfa", seed=args.seed).certificate.to_dict()  # type: ignore[union-attr]
        ok = (d["nfa_best_correlation"] <= 0.5 and d["fact_rel_error_max"] <= 1e-40
              and d["grad_norm_dps"] <= 1e-45)  # fmt: skip
        rows.append(("quadratic family", f"{time.perf_counter() - t0:.1f} s",
                     f"corr {d['nfa_best_correlation']:.4f}, FACT {d['fact_rel_error_max']:.2e}, "
                     f"grad {d['grad_norm_dps']:.2e}", ok))  # fmt: skip
    if "nfa-search" in wanted:
        t0 = time.perf_counter()
        # the Hypothesis search stops at the first certified failure of the claim it is given,
        # so the target "a certified failure with correlation <= 0.8" is the claim at 0.8
        r = search(nfa_claim(None, 0.8), budget=200, seed=args.seed, quiet=True)
        sec = time.perf_counter() - t0
        corr = r.certificate.to_dict()["nfa_best_correlation"] if r.certificate else None
        ok = r.verdict.value == "REFUTED" and corr is not None and corr <= 0.8 and sec < 300
        rows.append(
            (
                "nfa search (threshold 0.8), budget 200",
                f"{sec:.1f} s",
                f"{r.verdict.value}, corr {corr}, {r.converged}/{r.tried} converged",
                ok,
            )
        )
    if "fact-search" in wanted:
        t0 = time.perf_counter()
        r = search(fact_claim("F1"), budget=200, seed=args.seed, quiet=True)
        rows.append(("fact search, budget 200", f"{time.perf_counter() - t0:.1f} s",
                     f"{r.verdict.value}, {r.converged}/{r.tried} converged",
                     r.verdict.value != "REFUTED"))  # fmt: skip
    if "families" in wanted:
        for quick, limit in ((True, 15.0), (False, 60.0)):
            t0 = time.perf_counter()
            entries = report_entries(quick=quick, seed=args.seed)
            sec = time.perf_counter() - t0
            healthy = all((e.verdict != "REFUTED") == e.theorem for e in entries)
            rows.append(
                (
                    f"report entries ({'quick' if quick else 'full'})",
                    f"{sec:.1f} s",
                    f"{len(entries)} entries, limit {limit:g} s",
                    healthy and sec < limit,
                )
            )
    print(f"# counterexample benchmarks ({platform.processor() or platform.machine()}, "
          f"seed {args.seed}, BLAS threads {args.threads or 'default'})")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, sec, what, ok in rows:
        print(f"{name.ljust(width)}  {sec:>8}  {'PASS' if ok else 'FAIL'}  {what}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
