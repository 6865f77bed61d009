"""``factcheck derive``: symbolic derivations, printed as text, LaTeX or JSON.

Subcommands: ``fact`` (F1 with F2, F4, F5) and, when the deep-linear module is present,
``nfa-deep-linear`` (registered by ``verify.cli.deep_linear.register_derive``).
"""

from __future__ import annotations

import argparse
import importlib
import json

from theory._errors import bad_input
from theory._options import ACTIVATIONS, ARCHITECTURES
from verify.cli.verify import exit_status

FORMATS = ("text", "latex", "json")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "derive",
        help="derive an identity symbolically, every step checked",
        description="Derive an identity with SymPy from first-order optimality; every step is "
        "checked symbolically and exactly at explicit sizes.",
    )
    nested = p.add_subparsers(dest="what", metavar="WHAT", parser_class=type(p))
    nested.required = True
    f = nested.add_parser(
        "fact",
        help="FACT (F1) with the off-convergence identity (F2), backward form (F4) and F5",
        description="Derive FACT for one layer: objective -> gradient -> stationarity -> "
        "multiply by W^T -> chain rule -> FACT, with F2, F4 and F5.",
    )
    f.add_argument("--arch", default="mlp", help=f"one of {', '.join(ARCHITECTURES)}")
    f.add_argument(
        "--depth",
        type=int,
        default=None,
        help="number of layers L (default 1 for linear, 3 for deep-linear, 2 for mlp)",
    )
    f.add_argument("--layer", type=int, default=1, help="the layer j in 1..L (default 1)")
    f.add_argument(
        "--activation",
        default="sigma",
        help=f"mlp only: {', '.join(ACTIVATIONS)} (sigma = arbitrary symbolic function)",
    )
    f.add_argument("--bias", action="store_true", help="mlp only: layer has a bias z = W h + b")
    f.add_argument(
        "--format",
        default="text",
        help="text, latex (a complete document: pipe it into a .tex file and run pdflatex) or json",
    )
    f.set_defaults(func=_run_fact)
    try:
        extra = importlib.import_module("verify.cli.deep_linear")
    except ModuleNotFoundError as exc:
        if exc.name != "verify.cli.deep_linear":
            raise
    else:
        extra.register_derive(nested)


def check_format(value: str) -> str:
    if value not in FORMATS:
        raise bad_input("--format", f"be one of {', '.join(FORMATS)}", value, "Use --format json.")
    return value


def latex_document(fragments: list[str], title: str, command: str) -> str:
    """The complete LaTeX document that ``--format latex`` prints (compiles with pdflatex)."""
    from theory.typeset.latex import latex_document as document
    from theory.typeset.prose import tex_escape
    from verify.base.version import __version__

    cmd = tex_escape(command)
    made = rf"\noindent{{\small Written by factcheck {__version__}: \texttt{{{cmd}}}}}"
    return document([made, *fragments], title)


def _run_fact(args: argparse.Namespace) -> int:
    from theory.fact import derive_fact

    fmt = check_format(args.format)
    depth = (
        args.depth if args.depth is not None else {"linear": 1, "deep-linear": 3}.get(args.arch, 2)
    )
    result = derive_fact(args.arch, depth, args.layer, args.bias, args.activation)
    if fmt == "json":
        print(json.dumps(result.to_dict(), indent=2))
    elif fmt == "latex":
        command = f"factcheck derive fact --arch {args.arch} --depth {depth} --layer {args.layer}"
        if args.arch == "mlp":
            command += f" --activation {args.activation}" + (" --bias" if args.bias else "")
        print(latex_document([d.to_latex() for d in result.all], result.f1.claim.name, command))
    else:
        print(result.to_text())
    return exit_status(result.verdict)
