"""``factcheck check-derivation FILE``: check a hand-written derivation, step by step.

The file (TOML; format in theory/derivation_checker/file.py and the README) declares matrices with
symbolic shapes, scalars, functions, definitions and hypotheses, and lists the steps, each an
expression equal to the previous one. Every step gets its own verdict: PROVED (symbolic, all
sizes), EXACT_AT_SIZES (exact rational agreement at the listed sizes only), REFUTED (with the
smallest exact instance found, as matrices) or INCONCLUSIVE. The first wrong step is named.
"""

from __future__ import annotations

import argparse
from typing import Any

from verify.cli.derive import FORMATS, check_format

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-derivation",
        help="check your own derivation file step by step (first wrong step, counterexample)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog="Exit status: 0 every step supported, 1 a step REFUTED, 3 INCONCLUSIVE, "
        "2 malformed file (one line naming the step and the problem).",
    )
    parser.add_argument("file", metavar="FILE", help="derivation file (.toml)")
    parser.add_argument(
        "--format",
        default="text",
        help=f"one of {', '.join(FORMATS)} (latex: a complete document for pdflatex)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fmt = check_format(args.format)
    from theory._records import Verdict
    from theory.derivation_checker.file import check_derivation_file

    result = check_derivation_file(args.file)
    if fmt == "json":
        print(result.to_json())
    elif fmt == "latex":
        from verify.cli.derive import latex_document

        title = f"check of {args.file}"
        print(latex_document([result.to_latex()], title, f"factcheck check-derivation {args.file}"))
    else:
        print(result.to_text())
    if result.verdict is Verdict.REFUTED:
        return 1
    return 0 if result.verdict.supports else 3
