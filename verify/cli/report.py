"""``factcheck report``: re-derive and re-verify everything, write report.html/.md/results.json."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="re-derive and re-verify everything; write report.html, report.md, results.json",
        description="Run every derivation and numeric verification the toolkit knows and write "
        "a self-contained report into DIR.",
    )
    p.add_argument(
        "--out", default="factcheck-report", help="output directory (default ./factcheck-report)"
    )
    p.add_argument("--quick", action="store_true", help="smaller sizes: under a minute")
    p.add_argument(
        "--only", default=None, help="comma-separated tags or sections to run (e.g. F1,F2,D5)"
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed for every random choice")
    p.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="STORE",
        help="add a sweep's store (factcheck sweep) as a section; repeatable; "
        "--only sweeps gives that section alone",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from verify.report.builder import run_report

    return run_report(
        out=args.out,
        quick=args.quick,
        only=args.only,
        jobs=args.jobs,
        seed=args.seed,
        sweeps=args.sweep,
    )
