"""Deep-linear subcommands: ``derive nfa-deep-linear`` and ``verify deep-linear-flow``.

Hooks called by verify/cli/derive.py and verify/cli/verify.py when this module exists:
``register_derive(nested)`` and ``register_verify(nested)``; each parser sets ``func``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from theory._errors import bad_input

__all__ = ["register_derive", "register_verify"]

FORMATS = ("text", "latex", "json")


def register_derive(nested: argparse._SubParsersAction) -> None:
    p = nested.add_parser(
        "nfa-deep-linear",
        help="NFA with exponent 1/L from first-order optimality (D4, D5, D6)",
        description="Start from stationarity of L_lam (grad L_lam = 0, lam > 0), derive D_j = 0 "
        "for every j (D1, D4), telescope (W_L..W_j)^T (W_L..W_j) to (W_j^T W_j)^(L-j+1), each "
        "rewrite justified by balancedness or the lemma W^T (W W^T)^m W = (W^T W)^(m+1), and end "
        "at W_j^T W_j = AGOP^(1/(L-j+1)); every step checked symbolically and exactly on "
        "explicit networks. --from balanced starts from balancedness instead.",
    )
    p.add_argument("--depth", type=int, required=True, help="number of layers L, 2..8")
    p.add_argument("--layer", type=int, default=1, help="the layer j in 1..L (default 1)")
    p.add_argument(
        "--format", default="text", help="text, latex (a complete document for pdflatex) or json"
    )
    p.add_argument("--from", dest="start", default="stationarity",
                   help="stationarity (default: D4 then D5) or balanced (D5 only)")  # fmt: skip
    p.set_defaults(func=_run_derive)


def _run_derive(args: argparse.Namespace) -> int:
    from theory.deep_linear.nfa import derive_nfa_balanced, validate_depth_layer
    from theory.deep_linear.optimality import derive_nfa_deep_linear
    from verify.cli.verify import exit_status

    if args.format not in FORMATS:
        raise bad_input("--format", f"be one of {', '.join(FORMATS)}", args.format,
                        "Use --format json.")  # fmt: skip
    if args.start not in ("stationarity", "balanced"):
        raise bad_input("--from", "be stationarity or balanced", args.start,
                        "Use --from stationarity (the default).")  # fmt: skip
    depth, layer = validate_depth_layer(args.depth, args.layer)
    derive = derive_nfa_deep_linear if args.start == "stationarity" else derive_nfa_balanced
    result = derive(depth, layer)
    if args.format == "json":
        print(result.to_json())
    elif args.format == "latex":
        from verify.cli.derive import latex_document

        command = f"factcheck derive nfa-deep-linear --depth {depth} --layer {layer}"
        print(latex_document([result.to_latex()], result.claim.name, command))
    else:
        print(result.to_text())
    return exit_status(result.verdict)


def register_verify(nested: argparse._SubParsersAction) -> None:
    p = nested.add_parser(
        "deep-linear-flow",
        help="gradient flow of a deep linear network: imbalance, NFA defect (D2, D3, D5, D7)",
        description="Integrate dW_k/dt = -grad(l + lam/2 sum ||W||^2) for an MSE deep linear "
        "network (DOP853 at rtol 1e-12, or Gragg-Bulirsch-Stoer in mpmath with --dps) and record "
        "the imbalance norms, the NFA defect ||W_1^T W_1 - AGOP^(1/L)|| / ||W_1^T W_1|| and the "
        "correlations for alpha = 1/L, 1/2, 1.",
    )
    p.add_argument("--depth", type=int, default=3, help="number of layers L, 2..8 (default 3)")
    p.add_argument("--widths", type=int, nargs="+", default=[4],
                   help="input and hidden widths d m_1 .. m_{L-1}, or one width for all "
                   "(default 4)")  # fmt: skip
    p.add_argument("--outputs", type=int, default=2, help="outputs c (default 2; 1 warns)")
    p.add_argument("--lam", type=float, default=0.0, help="weight decay lam >= 0 (default 0)")
    p.add_argument("--init", default="balanced", help="balanced or gaussian (default balanced)")
    p.add_argument("--t-end", type=float, default=20.0, help="final time (default 20)")
    p.add_argument("--times", type=int, default=21, help="recorded times (default 21)")
    p.add_argument("--dps", type=int, default=None, help="integrate in mpmath at DIGITS")
    p.add_argument("--seed", type=int, default=0, help="seed for data and init (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--plot", default=None, metavar="FILE", help="write an SVG figure to FILE")
    p.set_defaults(func=_run_verify)


def _run_verify(args: argparse.Namespace) -> int:
    from verify.cli import arguments

    arguments.flow(args)
    from verify.base.files import write_text_atomic
    from verify.base.svgplot import line_plot
    from verify.deep_linear.flow import ScalarOutputWarning, run_flow

    widths = args.widths[0] if len(args.widths) == 1 else list(args.widths)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalarOutputWarning)
        res = run_flow(
            args.depth, widths, args.outputs, args.lam, init=args.init, t_end=args.t_end,
            n_times=args.times, dps=args.dps, seed=args.seed,
        )  # fmt: skip
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.plot:
        series = {f"||D_{j + 1}||": (res.times, [row[j] for row in res.imbalance])
                  for j in range(len(res.sizes) - 2)}  # fmt: skip
        series["NFA defect (alpha = 1/L)"] = (res.times, res.defect)
        write_text_atomic(args.plot, line_plot(
            series, title=f"Deep linear flow, L = {len(res.sizes) - 1}, init {res.init}, "
            f"lam = {res.lam:g}", xlabel="t", ylabel="norm", logy=True))  # fmt: skip
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
        return 0
    L = len(res.sizes) - 1
    print(f"deep linear flow: sizes {res.sizes}, lam {res.lam:g}, init {res.init}; {res.solver}")
    print(f"  imbalance ||D||: {res.imbalance_total[0]:.3e} -> {res.imbalance_total[-1]:.3e}")
    if res.decay_rate is not None:
        print(f"  fitted decay rate {res.decay_rate:.8f} +- {res.decay_rate_stderr:.1e} "
              f"(D3 predicts 2 lam = {2 * res.lam:g})")  # fmt: skip
    print(f"  NFA defect (alpha = 1/{L}): {res.defect[0]:.3e} -> {res.defect[-1]:.3e}, "
          f"max {max(res.defect):.3e}")  # fmt: skip
    for name, c in res.correlations.items():
        print(f"  alpha = {name:3s}: final Pearson {c['pearson'][-1]:.12f}, "
              f"cosine {c['cosine'][-1]:.12f}")  # fmt: skip
    if res.scalar_output:
        print("  NOTE: one output, exponent not identifiable")
    return 0
