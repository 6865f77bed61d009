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
- fail fast: with ``--dps`` (and without ``--refine``) a stored point whose float64 gradient
  has an entry more than :data:`FAIL_FAST_RATIO` times its own rounding floor (also with its
  switched-off units set to 0, :mod:`verify.engine.switched_off`, as the polish would) is
  reported INCONCLUSIVE at once, without the mpmath Newton (which would refuse such a move).
- ``--certify``: rigorous enclosures by ball arithmetic (python-flint, ``pip install
  '.[certify]'``) at the checked float64 weights and data as exact rationals: FACT is CERTIFIED
  when ||W^T W - FACT||_F / ||W^T W||_F <= ``--epsilon`` in every layer
  (:mod:`verify.claims.enclosure`); the NFA correlation is enclosed at ``--alpha`` and at the
  counterexample grid of exponents.

A run file with lam = 0 is outside FACT's assumptions: FACT is reported as "not applicable:
FACT needs lam > 0" (not an error, not a refutation), while the NFA is scored (and, for the
identity activation, the deep-linear imbalance ||W_{j+1}^T W_{j+1} - W_j W_j^T||, D2). The exit
status is that of the weakest verdict printed (FACT's and the NFA's), so a counterexample file
whose NFA is REFUTED exits 1 even though FACT holds there.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from verify.cli.verify import FACT_NOT_APPLICABLE, emit

if TYPE_CHECKING:  # the run functions import the engine: `factcheck --help` loads no NumPy
    from verify.engine.train import TrainResult

__all__ = ["FAIL_FAST_RATIO", "MAX_POLISH_MOVE", "register"]

#: largest relative change of the weights accepted as a polish (module docstring)
MAX_POLISH_MOVE = 1e-6
#: ``--dps`` answers at once above this ratio max_i |g_i| / floor_i of the float64 gradient.
#: Why MAX_POLISH_MOVE / u: the floor is about u times the terms that cancel in an entry, so
#: ratio * u is the gradient relative to its terms, which is about the relative Newton move on a
#: well-conditioned problem (larger on an ill-conditioned one): above this ratio the polish
#: would move the weights by more than MAX_POLISH_MOVE and be refused after minutes of mpmath.
FAIL_FAST_RATIO = MAX_POLISH_MOVE / (2.0**-53)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="re-verify FACT and score the NFA for a saved run file (.npz)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog="Exit status, from the weakest verdict printed (FACT and the NFA): 0 all "
        "consistent, 1 any REFUTED, 3 any INCONCLUSIVE, 2 bad input.",
    )
    parser.add_argument("file", metavar="FILE", help="run file written in format factcheck-run/1")
    parser.add_argument("--dps", type=int, default=None, help="polish and check at DIGITS")
    parser.add_argument("--refine", action="store_true", help="train from the stored weights")
    parser.add_argument("--no-polish", action="store_true", help="with --dps: do not move")
    parser.add_argument(
        "--certify",
        action="store_true",
        help="rigorous enclosures by ball arithmetic (python-flint: pip install '.[certify]')",
    )
    parser.add_argument(
        "--epsilon",
        type=float,
        default=None,
        help="with --certify: CERTIFIED when FACT's relative defect is <= EPS (1e-6)",
    )
    parser.add_argument("--alpha", type=float, default=0.5, help="NFA exponent to report (0.5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def checked_point(
    run_theta: Any, problem: Any, dps: int | None, refine: bool, polish: bool,
    kink: tuple[Any, Any] | None = None,
) -> TrainResult:  # fmt: skip
    """The point to check: as stored, refined by training, or polished at ``dps`` digits.

    ``kink``: the run file's pinned pairs and slopes (a ReLU point certified on a kink): the
    stored point is certified with them where it lies (:mod:`verify.engine.kink.stored`), and
    with ``dps`` refined on the kink's square system at that precision (``refine`` ignores
    them: training finds its own kink)."""
    from verify.engine.kink import is_pinned
    from verify.engine.network import mp_backend
    from verify.engine.rounding import floor_ratio
    from verify.engine.switched_off import snap_switched_off
    from verify.engine.train import Status, evaluate, gradient_floor, refine_mp, train

    if dps is not None:
        mp_backend(dps)  # validate before any work
    if refine:
        result = train(problem, theta0=run_theta, dps=dps)
        result.reason = "trained from the stored weights (--refine): " + result.reason
        return result
    if kink is not None:
        from verify.engine.kink.certificate import refine_kink
        from verify.engine.kink.stored import evaluate_on_kink

        result = evaluate_on_kink(problem, run_theta, *kink)
        if is_pinned(result.problem):  # certified on the kink with the stored slopes
            return refine_kink(result, dps) if dps is not None else result
        # not certified with them: checked as any other point below (--dps included)
    else:
        result = evaluate(problem, run_theta)
    if dps is None or result.status is Status.NON_FINITE:
        return result
    ratio = floor_ratio(result.grad_norm, result.grad_floor)
    snapped = snap_switched_off(problem, run_theta) if polish else None
    if snapped is not None:  # switched-off units: the polish sets them to 0 first
        ratio = min(ratio, floor_ratio(*gradient_floor(problem, snapped)))
    if polish and not ratio <= FAIL_FAST_RATIO:  # NaN (overflow) fails fast too
        result.reason = (
            f"the stored point is not stationary in float64 ({result.reason}), far above what a "
            f"{dps}-digit polish can fix, so no mpmath Newton was run"
        )
        result.remedy = "use --refine to train from the stored weights, or train longer" + (
            f"; {result.remedy}" if "badly scaled" in result.remedy else ""
        )
        polish = False  # evaluate at dps digits exactly at the stored weights
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
        run_file.theta, run_file.problem, args.dps, args.refine, not args.no_polish, run_file.kink
    )
    args.save = None
    if result.problem.lam > 0:
        fact = check_fact(result)
        nfa = check_nfa(result, alpha=args.alpha)  # re-checked if REFUTED: it sets the status
        enclosure = _certify(result, fact, args) if args.certify else None
        return emit(fact, nfa, args, command=f"check {args.file}", enclosure=enclosure)
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
    enclosure = _certify(result, None, args) if args.certify else None
    return emit(
        None, nfa, args, command=f"check {args.file}", primary="nfa",
        fact_note=FACT_NOT_APPLICABLE, balance=balance, enclosure=enclosure,
    )  # fmt: skip


def _certify(result: TrainResult, fact: Any, args: argparse.Namespace) -> Any:
    """Enclosures at the checked float64 weights; FACT becomes CERTIFIED when they show it
    within epsilon (verify/claims/enclosure.py)."""
    from theory._verdict import Verdict
    from verify.claims.enclosure import DEFAULT_EPSILON, FactEnclosure, enclose_fact, enclose_nfa
    from verify.counterexamples.claims import alpha_grid

    problem, theta = result.problem, result.theta
    depth = problem.net.depth
    grids = {
        layer: tuple(sorted({float(args.alpha), *alpha_grid(depth - layer + 1)}))
        for layer in range(1, depth + 1)
    }
    nfa = enclose_nfa(problem, theta, grids)
    if fact is None:  # lam = 0: the NFA alone
        return _NfaOnly(nfa)
    enc: FactEnclosure = enclose_fact(problem, theta, args.epsilon or DEFAULT_EPSILON)
    enc.nfa = nfa
    if enc.verdict is Verdict.CERTIFIED:
        fact.verdict = Verdict.CERTIFIED
        fact.reason = f"{enc.reason} (interval arithmetic); float64 check: {fact.reason}"
        fact.precision = f"ball arithmetic ({enc.prec} bits, exact float64 inputs)"
    return enc


class _NfaOnly:
    """The NFA enclosures of a run without weight decay (FACT does not apply)."""

    def __init__(self, nfa: list[Any]) -> None:
        self.nfa = nfa

    def to_dict(self) -> dict[str, Any]:
        return {"fact": FACT_NOT_APPLICABLE, "nfa": [x.to_dict() for x in self.nfa]}

    def to_text(self) -> str:
        return "\n".join(x.to_text() for x in self.nfa)
