"""``factcheck verify {fact,nfa}``: train a network to a certified stationary point and check.

Both commands print FACT and the NFA. ``verify nfa`` judges both; ``verify fact`` judges FACT
and only scores the NFA (its correlations, a Pearson below the threshold read "below threshold
(not re-checked)": the re-check at higher precision that a refutation needs costs ten times the
whole FACT run, and ``verify nfa`` does it). Exit status, from the WEAKEST verdict judged (so it
always matches what the reader sees): 1 if any is REFUTED, else 3 if any is INCONCLUSIVE (e.g.
training did not converge, or a trivial stationary point, where the NFA is undefined), else 0;
2 on bad input (nothing is written). Every REFUTED printed has been re-checked at higher
precision first.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
from typing import TYPE_CHECKING, Any

from theory._errors import bad_input
from theory._verdict import STRENGTH, Verdict, to_jsonable

if TYPE_CHECKING:  # the run functions import the engine: `factcheck --help` loads no NumPy
    from verify.claims.checks import FactCheck, NfaCheck
    from verify.deep_linear.balance import BalanceReport
    from verify.engine.train import TrainResult

__all__ = [
    "FACT_NOT_APPLICABLE",
    "add_network_options",
    "emit",
    "exit_status",
    "register",
]

#: what FACT's entry says for a run without weight decay (outside F1's assumptions, no verdict)
FACT_NOT_APPLICABLE = "not applicable: FACT needs lam > 0"

EPILOG = (
    "Exit status, from the weakest verdict judged: 0 all support their claims, 1 any REFUTED, "
    "3 any INCONCLUSIVE, 2 bad input (`verify fact` judges FACT and only scores the NFA). "
    "Conventions (shapes, loss, objective): see verify/engine/network.py and "
    "verify/engine/runfile.py."
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="train a network to a certified stationary point and check FACT or the NFA",
        description="Train an MLP (L-BFGS, Newton, optional mpmath Newton) and check a claim.",
        epilog=EPILOG,
    )
    nested = parser.add_subparsers(dest="claim", metavar="CLAIM", parser_class=type(parser))
    nested.required = True
    fact = nested.add_parser(
        "fact", help="FACT (F1) in every layer", description="Check F1 in every layer.",
        epilog=EPILOG,
    )  # fmt: skip
    add_network_options(fact)
    fact.add_argument("--alpha", type=float, default=0.5, help="NFA exponent to report (0.5)")
    fact.set_defaults(func=_run_fact)
    nfa = nested.add_parser(
        "nfa", help="the Neural Feature Ansatz (N2) in every layer",
        description="Correlate W^T W with AGOP^alpha (Pearson decides; cosine reported).",
        epilog=EPILOG,
    )  # fmt: skip
    add_network_options(nfa)
    nfa.add_argument("--alpha", type=float, default=None, help="exponent (default: best of grid)")
    nfa.add_argument("--threshold", type=float, default=0.9, help="Pearson threshold (0.9)")
    nfa.add_argument("--centered", action="store_true", help="use the centered AGOP")
    nfa.set_defaults(func=_run_nfa)
    try:  # another command module adds `verify deep-linear-flow`, when it exists
        deep_linear = importlib.import_module("verify.cli.deep_linear")
    except ModuleNotFoundError as exc:
        if exc.name != "verify.cli.deep_linear":
            raise
    else:
        deep_linear.register_verify(nested)


def add_network_options(p: argparse.ArgumentParser) -> None:
    """The options that define the network, data and training (shared by fact and nfa)."""
    p.add_argument("--arch", default="mlp", help="architecture (only 'mlp')")
    p.add_argument("--depth", type=int, default=2, help="number of weight matrices L (2)")
    p.add_argument("--width", type=int, default=8, help="hidden width (8)")
    p.add_argument("--activation", default="tanh", help="identity, relu, tanh, sigmoid, "
                   "softplus, gelu, quadratic (tanh)")  # fmt: skip
    p.add_argument("--bias", action="store_true", help="give every layer a bias")
    p.add_argument("--decay-bias", action="store_true", help="include biases in the decay")
    p.add_argument("--n", type=int, default=32, help="number of samples (32)")
    p.add_argument("--d", type=int, default=4, help="input dimension (4)")
    p.add_argument("--outputs", type=int, default=2, help="number of outputs c (2)")
    p.add_argument("--loss", default="mse", help="mse or cross_entropy (mse)")
    p.add_argument("--lam", type=float, default=1e-2, help="weight decay lam (1e-2)")
    p.add_argument("--seed", type=int, default=0, help="seed for data and initialisation (0)")
    p.add_argument("--max-iter", type=int, default=20_000, help="L-BFGS iteration budget")
    p.add_argument("--dps", type=int, default=None, help="refine and check at DIGITS (mpmath)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--save", default=None, metavar="FILE", help="write the run file (.npz)")


def _trained(args: argparse.Namespace) -> TrainResult:
    from verify.cli import arguments

    arguments.network(args)  # sizes, seed, digits, --save, memory: before any work
    from verify.engine.network import MLP
    from verify.engine.train import synthetic_problem, train

    if args.arch != "mlp":
        raise bad_input("--arch", "be 'mlp'", args.arch, "Only MLPs are built in.")
    if not math.isfinite(args.lam):
        raise bad_input("--lam", "be finite", args.lam, "Pass e.g. 1e-2.")
    sizes = (args.d, *[args.width] * (args.depth - 1), args.outputs)
    net = MLP(sizes, args.activation, args.bias)
    problem = synthetic_problem(
        net, args.n, loss=args.loss, lam=args.lam, seed=args.seed, decay_bias=args.decay_bias
    )
    return train(problem, seed=args.seed, max_iter=args.max_iter, dps=args.dps)


def _run_fact(args: argparse.Namespace) -> int:
    if not math.isfinite(args.lam):
        raise bad_input("--lam", "be finite", args.lam, "Pass e.g. 1e-2.")
    if not args.lam > 0:  # fail before training: FACT needs weight decay
        check_fact_outside(args.lam)
    from verify.claims.checks import check_fact, check_nfa

    result = _trained(args)
    check = check_fact(result)
    nfa = check_nfa(result, alpha=args.alpha, recheck=False)  # scored, not judged (docstring)
    return emit(check, nfa, args, command="verify fact", nfa_judged=False)


def check_fact_outside(lam: float) -> None:
    from theory._errors import OutsideAssumptionsError

    raise OutsideAssumptionsError(
        f"FACT (F1) assumes weight decay lam > 0 (the proof divides by lam); got lam={lam!r}. "
        "Pass --lam 1e-3 or another positive value."
    )


def _run_nfa(args: argparse.Namespace) -> int:
    from verify.claims.checks import check_fact, check_nfa

    result = _trained(args)
    nfa = check_nfa(result, alpha=args.alpha, threshold=args.threshold, centered=args.centered)
    if result.problem.lam > 0:
        return emit(check_fact(result), nfa, args, command="verify nfa", primary="nfa")
    return emit(None, nfa, args, command="verify nfa", primary="nfa", fact_note=FACT_NOT_APPLICABLE)


def emit(
    fact: FactCheck | None,
    nfa: NfaCheck,
    args: argparse.Namespace,
    *,
    command: str,
    primary: str = "fact",
    fact_note: str | None = None,
    balance: BalanceReport | None = None,
    enclosure: Any = None,
    nfa_judged: bool = True,
) -> int:
    """Print JSON or tables, write the run file if asked, return the exit status.

    ``fact_note`` replaces the FACT result when FACT does not apply (lam = 0); ``balance`` adds
    the deep-linear imbalance (D2, a measurement without a verdict); ``enclosure`` the interval
    certificate (``check --certify``, which has already set the FACT verdict). The exit status
    follows the weakest verdict judged, FACT's and, unless ``nfa_judged`` is False, the NFA's
    (module docstring; a trivial point is INCONCLUSIVE either way); ``primary`` only decides
    which check heads the JSON.
    """
    main = fact if primary == "fact" and fact is not None else nfa
    result = main.training
    saved = None
    if getattr(args, "save", None):
        from verify.engine.runfile import save_run

        save_run(
            args.save, result.problem, result.theta,
            {"seed": getattr(args, "seed", 0), "status": result.status.value,
             "grad_norm": result.grad_norm},
        )  # fmt: skip
        saved = args.save
    trivial = nfa.trivial or (fact is not None and fact.trivial)
    judged = [fact.verdict] if fact is not None else []
    judged += [nfa.verdict] if nfa_judged or fact is None else []
    judged += [Verdict.INCONCLUSIVE] if trivial else []  # nothing learned there (TRIVIAL_NOTE)
    overall = min(judged, key=STRENGTH.__getitem__)
    if args.json:
        out = _json(fact, nfa, command, main, saved, nfa_judged)
        out["overall_verdict"] = overall.value
        out["trivial_stationary_point"] = trivial
        if fact_note is not None:
            out["fact_verdict"] = fact_note
        if balance is not None:
            out["balance"] = balance.to_dict()
        if enclosure is not None:
            out["enclosure"] = enclosure.to_dict()
        print(json.dumps(to_jsonable(out), indent=2))
    else:
        net, pb = result.problem.net, result.problem
        print(
            f"factcheck {command}: MLP {net.sizes}, {net.activation}, bias={net.bias}, "
            f"{pb.loss}, n={pb.n}, lam={pb.lam:g}"
        )
        if fact is not None:
            print(fact.to_text())
        elif fact_note is not None:
            print(f"[F1] FACT: {fact_note}")
        print(nfa.to_text(training=fact is None, judged=nfa_judged))
        if balance is not None:
            print(balance.to_text())
        if enclosure is not None:
            print(enclosure.to_text())
        if trivial:
            print(TRIVIAL_NOTE)
        print(
            f"overall: {overall.value} (the weakest verdict judged above; it sets the exit status)"
        )
        if saved:
            print(f"run file written: {saved}")
    return exit_status(overall)


#: printed when a layer's weights are all zero (FACT holds as 0 = 0, the NFA is undefined)
TRIVIAL_NOTE = (
    "TRIVIAL STATIONARY POINT: some layer has all weights zero (W^T W = 0 = FACT = AGOP). FACT "
    "holds there as 0 = 0 and the NFA is undefined; neither says anything about learned features."
)


def exit_status(verdict: Verdict) -> int:
    if verdict is Verdict.REFUTED:
        return 1
    return 0 if verdict.supports else 3


def _json(
    fact: FactCheck | None, nfa: NfaCheck, command: str, main: Any, saved: str | None,
    nfa_judged: bool = True,
) -> dict[str, Any]:  # fmt: skip
    from verify.claims.nfa import shown

    result: TrainResult = main.training
    out: dict[str, Any] = {
        "command": command,
        "tag": "F1" if main is fact else "N2",
        "verdict": main.verdict.value,
        "reason": main.reason,
        "status": result.status.value,
        "grad_norm": result.grad_norm,
        "grad_norm_dps": result.grad_norm_mp,
        "dps": result.dps,
        "precision": main.precision,
        "network": {
            "sizes": list(result.problem.net.sizes),
            "activation": result.problem.net.activation,
            "bias": result.problem.net.bias,
            "loss": result.problem.loss,
            "lam": result.problem.lam,
            "decay_bias": result.problem.decay_bias,
            "n": result.problem.n,
        },
        "training": result.to_dict(),
        "saved": saved,
    }
    layers: list[dict[str, Any]] = []
    for i, nl in enumerate(nfa.layers):
        entry: dict[str, Any] = {"layer": nl.layer}
        if fact is not None:
            entry.update(fact.layers[i].to_dict())
            entry["fact_verdict"] = fact.layers[i].verdict.value
        entry["nfa"] = nl.to_dict(nfa_judged)
        entry["verdict"] = (fact.layers[i] if main is fact and fact else nl).verdict.value
        layers.append(entry)
    out["layers"] = layers
    if fact is not None and main is not fact:
        out["fact_verdict"] = fact.verdict.value
    if main is fact:
        out["nfa_verdict"] = shown(nfa.verdict, nfa_judged)
    return out
