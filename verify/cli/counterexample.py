"""``factcheck counterexample {nfa,fact,balance}``: search, shrink and certify where a claim fails.

With ``--family NAME`` a built-in family (verify.counterexamples.families) is run and its witness
certified; without it, a seeded Hypothesis search (verify.counterexamples.search) runs
``--budget`` examples steered toward larger violation, shrinks the first failure and certifies
it at 50 digits (re-checked at 70). Budgets count examples, never seconds, so a seed gives the
same result on any machine.
``--save FILE.npz`` writes the witness as a run file (re-verify it with ``factcheck check``)
and the certificate as FILE.json.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from theory._errors import bad_input
from theory._verdict import Verdict, to_jsonable

__all__ = ["register", "run"]

EPILOG = (
    "Exit status: 0 the claim held everywhere it was tested, 1 REFUTED (a certified "
    "counterexample), 3 INCONCLUSIVE, 2 bad input. Families: quadratic (nfa, fact), "
    "deep-linear-unbalanced (nfa, balance), dead-relu (nfa), adamw (fact)."
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "counterexample",
        help="search, shrink and certify a counterexample to the NFA, FACT or balancedness",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=EPILOG,
    )
    p.add_argument("claim", metavar="CLAIM", help="nfa, fact or balance")
    p.add_argument("--family", default=None, help="run a built-in family instead of searching")
    p.add_argument("--alpha", type=float, default=None, help="NFA exponent (default: best of "
                   "the grid 1/8..1 plus 1/L)")  # fmt: skip
    p.add_argument("--threshold", type=float, default=0.9, help="NFA correlation threshold in "
                   "(0, 1) (0.9)")  # fmt: skip
    p.add_argument("--budget", type=int, default=None, help="examples to run (search: "
                   "200; with --family: search the family's parameter)")  # fmt: skip
    p.add_argument("--shrink-budget", type=int, default=40, help="trainings spent shrinking "
                   "the first failure (40)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the search (0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--save", default=None, metavar="FILE", help="write FILE.npz and FILE.json")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def _validate(args: argparse.Namespace) -> None:
    from verify.counterexamples import CLAIMS
    from verify.counterexamples.families import FAMILIES

    if args.claim not in CLAIMS:
        raise bad_input("claim", f"be one of {list(CLAIMS)}", args.claim, "Pick a listed claim.")
    if not (isinstance(args.threshold, float) and 0 < args.threshold < 1):
        raise bad_input("--threshold", "be strictly between 0 and 1", args.threshold,
                        "Pass e.g. --threshold 0.9.")  # fmt: skip
    if args.alpha is not None:
        if args.claim != "nfa":
            raise bad_input("--alpha", "be used only with the nfa claim", args.alpha,
                            "Drop --alpha.")  # fmt: skip
        if not (math.isfinite(args.alpha) and 0 < args.alpha <= 1):
            raise bad_input("--alpha", "be in (0, 1]", args.alpha, "Pass e.g. --alpha 0.5.")
    if args.budget is not None and args.budget < 1:
        raise bad_input("--budget", "be >= 1 (examples to run)", args.budget,
                        "Pass e.g. --budget 200.")  # fmt: skip
    if args.shrink_budget < 0:
        raise bad_input("--shrink-budget", "be >= 0 (trainings)", args.shrink_budget,
                        "Pass e.g. --shrink-budget 40.")  # fmt: skip
    if args.family is not None and args.family not in FAMILIES:
        raise bad_input("--family", f"be one of {sorted(FAMILIES)}", args.family,
                        "Pick a listed family, or omit --family to search.")  # fmt: skip
    if args.save is not None and not str(args.save).endswith(".npz"):
        raise bad_input("--save", "end in .npz (a run file; the JSON goes next to it)",
                        args.save, "Pass e.g. --save cx.npz.")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    _validate(args)
    from verify.cli import arguments

    arguments.counterexample(args)
    from verify.counterexamples import make_claim, save_certificate, search
    from verify.counterexamples.families import (
        FAMILY_SPACES,
        family_claim,
        run_family,
        search_family,
    )

    result: Any
    if args.family is not None and args.budget is not None and args.family in FAMILY_SPACES:
        claim = family_claim(args.family, args.claim, args.alpha, args.threshold)
        result = search_family(args.family, claim, budget=args.budget, seed=args.seed)
    elif args.family is not None:
        result = run_family(args.family, args.claim, alpha=args.alpha,
                            threshold=args.threshold, seed=args.seed)  # fmt: skip
    else:
        claim = make_claim(args.claim, alpha=args.alpha, threshold=args.threshold)
        result = search(claim, budget=args.budget or 200, seed=args.seed,
                        shrink_budget=args.shrink_budget, quiet=args.quiet)  # fmt: skip
    saved: list[str] = []
    if args.save:
        if result.certificate is not None:
            saved = list(save_certificate(result.certificate, args.save))
        elif getattr(result, "point", None) is not None:
            saved = list(_save_point(result, args.save))
        else:
            raise bad_input("--save", "have a witness to save", "no witness was found",
                            "Drop --save, or raise --budget.")  # fmt: skip
    if args.json:
        print(json.dumps(to_jsonable({**result.to_dict(), "saved": saved}), indent=2))
    else:
        print(result.to_text())
        for path in saved:
            print(f"written: {path}")
    if result.verdict is Verdict.REFUTED:
        return 1
    return 0 if result.verdict.supports else 3


def _save_point(result: Any, path: str) -> tuple[str, str]:
    """A family without a certified witness (adamw): its end point and the summary."""
    from pathlib import Path

    from verify.base.files import staged_writes
    from verify.engine.runfile import save_run

    problem, theta = result.point
    summary = Path(path).with_suffix(".json")
    with staged_writes() as stage:  # both files, or neither
        save_run(path, problem, theta, {"status": "not_stationary"}, stage=stage)
        stage.write_text(summary, json.dumps(to_jsonable(result.to_dict()), indent=2) + "\n")
    return str(path), str(summary)
