"""``factcheck conjecture EXPR``: property-test your own conjecture on converged networks.

EXPR should vanish in every layer of every stationary point of L_lam, e.g. "NFM - AGOP**(1/2)"
or "NFM*AGOP - AGOP*NFM", or be an equation "NFM = FACT". Names: W, NFM, AGOP, AGOP_centered,
FACT, bFACT, grad_W, H (d x n, inputs as columns) and the scalars n, lam, L, j; operations
+ - * / ** @ .T trace(). A Hypothesis search over the family's networks (trained and certified
stationary by the engine) looks for a layer where EXPR does not vanish, shrinks it to a small
witness and certifies it at 50 digits, re-checked at 70; a refutation is saved as a run file
(``factcheck check`` re-verifies it) with the certificate as JSON next to it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from theory._errors import bad_input
from theory._verdict import Verdict, to_jsonable
from verify.base.validate import check_output_file, check_seed

__all__ = ["register", "run"]

FAMILY_NAMES = ("mlp", "tanh-mlp", "deep-linear", "quadratic")
DEFAULT_SAVE = "conjecture-witness.npz"
EPILOG = (
    "Exit status: 0 no counterexample among the certified examples tried, 1 REFUTED (a "
    "certified counterexample, saved), 3 INCONCLUSIVE, 2 bad input. Families: "
    + ", ".join(FAMILY_NAMES)
    + "."
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "conjecture",
        help="search converged networks for a counterexample to your own conjecture",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=EPILOG,
    )
    p.add_argument("expression", metavar="EXPR", help='e.g. "NFM - AGOP**(1/2)"')
    p.add_argument("--family", default="mlp", help="networks to test on (mlp)")
    p.add_argument("--budget", type=int, default=100, help="examples to run (100)")
    p.add_argument("--shrink-budget", type=int, default=40, help="trainings spent shrinking "
                   "a counterexample (40)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the search (0)")
    p.add_argument("--layer", type=int, action="append", default=None, metavar="J",
                   help="test layer J only (repeatable; default every layer)")  # fmt: skip
    p.add_argument(
        "--save",
        default=DEFAULT_SAVE,
        metavar="FILE",
        help=f"where a counterexample goes (FILE.npz and FILE.json; {DEFAULT_SAVE})",
    )
    p.add_argument("--no-save", action="store_true", help="do not write a counterexample")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def _validate(args: argparse.Namespace) -> None:
    if args.family not in FAMILY_NAMES:
        raise bad_input("--family", f"be one of {list(FAMILY_NAMES)}", args.family,
                        "Pick a listed family, e.g. --family tanh-mlp.")  # fmt: skip
    if args.budget < 1:
        raise bad_input("--budget", "be >= 1 (examples to run)", args.budget,
                        "Pass e.g. --budget 100.")  # fmt: skip
    if args.shrink_budget < 0:
        raise bad_input("--shrink-budget", "be >= 0 (trainings)", args.shrink_budget,
                        "Pass e.g. --shrink-budget 40.")  # fmt: skip
    if args.layer is not None and min(args.layer) < 1:
        raise bad_input("--layer", "be >= 1 (layers count from 1)", args.layer,
                        "Pass e.g. --layer 1.")  # fmt: skip
    check_seed(args.seed)
    if not args.no_save:  # writable now, not after the search (both files: run file and JSON)
        path = check_output_file("--save", args.save, (".npz",), "cx.npz")
        check_output_file("--save (its certificate)", path.with_suffix(".json"), (), "cx.json")


def run(args: argparse.Namespace) -> int:
    _validate(args)
    from verify.counterexamples import save_certificate
    from verify.counterexamples.conjecture import check_conjecture
    from verify.counterexamples.expressions import parse_conjecture

    parse_conjecture(args.expression)  # bad input fails here, before any training
    result = check_conjecture(args.expression, family=args.family, budget=args.budget,
                              seed=args.seed, shrink_budget=args.shrink_budget,
                              layers=args.layer, quiet=args.quiet)  # fmt: skip
    saved: list[str] = []
    cert = result.certificate
    if result.verdict is Verdict.REFUTED and cert is not None and not args.no_save:
        saved = list(save_certificate(cert, args.save))
    if args.json:
        print(json.dumps(to_jsonable({**result.to_dict(), "saved": saved}), indent=2))
    else:
        print(result.to_text())
        for path in saved:
            print(f"written: {path}")
        if saved:
            print(f"re-verify the witness: factcheck check {saved[0]} --dps 50")
    if result.verdict is Verdict.REFUTED:
        return 1
    return 0 if result.verdict.supports else 3
