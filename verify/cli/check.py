"""``factcheck check FILE``: re-verify FACT (and score the NFA) for any run file.

The run file may come from ``factcheck verify --save`` or from a user's own training code (see
the convention in :mod:`verify.engine.runfile`). What happens to the stored weights:

- default: evaluated exactly as stored, in float64. If the gradient is at its rounding floor the
  point is certified and FACT gets a verdict; otherwise the verdict is INCONCLUSIVE and the
  reason quotes F2 (the defect is bounded by ||W|| ||grad_W L_lam|| / lam).
- ``--dps D``: the stored point is polished by Newton in mpmath at D digits and checked there.
  A polish that moves the weights by more than 1e-6 (relative) is not a polish but further
  training, so it is refused: the result stays INCONCLUSIVE (use ``--refine``). Why 1e-6: a
  float64 stationary point moves by ~1e-15 under the polish; anything far above that means the
  stored point was not stationary.
- ``--refine``: train from the stored weights (L-BFGS and Newton) before checking; the report
  says so, and the run file is not modified.
- ``--no-polish`` with ``--dps``: evaluate at D digits exactly at the stored weights.

A run file with lam = 0 is outside FACT's assumptions: FACT is reported as "not applicable:
FACT needs lam > 0" (not an error, not a refutation), while the NFA is scored (and, for the
identity activation, the deep-linear imbalance ||W_{j+1}^T W_{j+1} - W_j W_j^T||, D2); the exit
status then follows the NFA verdict.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from verify.cli.verify import FACT_NOT_APPLICABLE, emit

if TYPE_CHECKING:  # the run functions import the engine: `factcheck --help` loads no NumPy
    from verify.engine.train import TrainResult

__all__ = ["MAX_POLISH_MOVE", "register"]

#: largest relative change of the weights accepted as a polish (module docstring)
MAX_POLISH_MOVE = 1e-6


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="re-verify FACT and score the NFA for a saved run file (.npz)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog="Exit status: 0 consistent, 1 REFUTED, 3 INCONCLUSIVE, 2 bad input.",
    )
    parser.add_argument("file", metavar="FILE", help="run file written in format factcheck-run/1")
    parser.add_argument("--dps", type=int, default=None, help="polish and check at DIGITS")
    parser.add_argument("--refine", action="store_true", help="train from the stored weights")
    parser.add_argument("--no-polish", action="store_true", help="with --dps: do not move")
    parser.add_argument("--alpha", type=float, default=0.5, help="NFA exponent to report (0.5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def checked_point(
    run_theta: Any, problem: Any, dps: int | None, refine: bool, polish: bool
) -> TrainResult:
    """The point to check: as stored, refined by training, or polished at ``dps`` digits."""
    from verify.engine.network import mp_backend
    from verify.engine.train import Status, evaluate, gradient_floor, refine_mp, train

    if dps is not None:
        mp_backend(dps)  # validate before any work
    if refine:
        result = train(problem, theta0=run_theta, dps=dps)
        result.reason = "trained from the stored weights (--refine): " + result.reason
        return result
    result = evaluate(problem, run_theta)
    if dps is None or result.status is Status.NON_FINITE:
        return result
    if not polish:
        be = mp_backend(dps)
        result.dps, result.theta_mp = dps, be.asarray(result.theta)
        result.grad_norm_mp, result.grad_floor_mp = gradient_floor(problem, result.theta_mp, be)
        return result
    polished = refine_mp(result, dps)
    if polished.moved > MAX_POLISH_MOVE or not polished.converged:
        result.status = Status.NOT_STATIONARY
        what = f"moved the weights by {polished.moved:.3g}" if polished.converged else "failed"
        result.reason = (
            f"the stored point is not stationary at {dps} digits: the Newton polish {what} "
            f"({polished.reason}); float64: {result.reason}"
        )
        result.remedy = "use --refine to train from the stored weights, or train longer"
        be = mp_backend(dps)
        result.dps, result.theta_mp = dps, be.asarray(result.theta)
        result.grad_norm_mp, result.grad_floor_mp = gradient_floor(problem, result.theta_mp, be)
        return result
    polished.reason = f"stored point polished at {dps} digits (moved {polished.moved:.2g}): " + (
        polished.reason
    )
    return polished


def run(args: argparse.Namespace) -> int:
    from verify.claims.checks import check_fact, check_nfa
    from verify.cli import arguments
    from verify.deep_linear.balance import balance_report
    from verify.engine.network import mp_backend
    from verify.engine.runfile import load_run

    arguments.check_file(args)
    run_file = load_run(args.file)
    arguments.run_file_memory(run_file, args)
    result = checked_point(
        run_file.theta, run_file.problem, args.dps, args.refine, not args.no_polish
    )
    args.save = None
    if result.problem.lam > 0:
        fact = check_fact(result)
        nfa = check_nfa(result, alpha=args.alpha, recheck=False)
        return emit(fact, nfa, args, command=f"check {args.file}")
    # lam = 0: FACT does not apply (F1 divides by lam). The NFA, and for a linear network its
    # balancedness, are still scored; the NFA verdict (re-checked if REFUTED) sets the status.
    nfa = check_nfa(result, alpha=args.alpha)
    balance = None
    if result.problem.net.activation == "identity":
        be = mp_backend(result.dps) if result.theta_mp is not None and result.dps else None
        balance = (
            balance_report(result.problem, result.theta_mp, be)
            if be is not None
            else balance_report(result.problem, result.theta)
        )
    return emit(
        None, nfa, args, command=f"check {args.file}", primary="nfa",
        fact_note=FACT_NOT_APPLICABLE, balance=balance,
    )  # fmt: skip
